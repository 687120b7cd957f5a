// A stadium of 50,000 seats on the fan's page: it opens on an overview (the stage, the standing
// zones, each section a block in its grade's colour with the seats left) and draws one section's
// rows at a time. The test measures, in the page, from the click to the frame that shows it, that
// the overview of a date and a section's seats are usable within a second; then seats are chosen
// with the keyboard as in any map and held; at 1280 px and on a 390 px wide phone.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

const { PHONE } = t;
const USABLE_MS = 1000;
const SECOND_DATE = '2030-12-25';

// 40 sections of 25 rows of 50 seats (VIP, R, S, A: ten each) and two standing zones of 5,000.
function stadium() {
  const grades = [['VIP', 198000], ['R', 165000], ['S', 143000], ['A', 110000]];
  const sections = [{ section: 'FLOOR-1', grade: 'VIP', standing: 5000, gate: 'G1' }, { section: 'FLOOR-2', grade: 'VIP', standing: 5000, gate: 'G1' }];
  for (let i = 0; i < 40; ++i) {
    sections.push({ section: grades[Math.floor(i / 10)][0] + '-' + (i % 10 + 1), grade: grades[Math.floor(i / 10)][0], rows: 25, seatsPerRow: 50, gate: 'G' + (2 + i % 4) });
  }
  return {
    title: 'Stadium ' + Date.now(),
    schedules: [{ date: t.DATE }, { date: SECOND_DATE }],
    grades: grades.map(([grade, price]) => ({ grade, price })),
    layout: { sections },
  };
}

// Clicks `clicked` in the page and waits there, frame by frame, until `shown` is drawn: the
// milliseconds between the two (no round trip of the test's own in between).
function timeToShow(page, clicked, shown) {
  return page.evaluate(async (c, s) => {
    const start = performance.now();
    document.querySelector(c).click();
    await new Promise((resolve) => {
      const look = () => (document.querySelector(s) ? resolve() : requestAnimationFrame(look));
      look();
    });
    // The frame that shows it.
    await new Promise((resolve) => requestAnimationFrame(() => resolve()));
    return performance.now() - start;
  }, clicked, shown);
}

test('a 50,000-seat stadium opens on its sections and draws one at a time, each within a second', async () => {
  const concert = await server.createConcert(stadium());
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Stadium fan');
  await t.charge(page, 1000000);
  await t.joinConcert(page, concert.title);
  await page.waitForSelector('#queue-status.ACTIVE');
  // The overview: the stage, 42 blocks, standing zones first as the layout lists them; no seat drawn.
  await page.waitForSelector('#overview:not([hidden]) #overview-blocks button.block[data-section="A-10"]');
  const blocks = await page.$$eval('#overview-blocks button.block', (l) => l.map((b) => b.dataset.section));
  assert.equal(blocks.length, 42);
  assert.deepEqual(blocks.slice(0, 3), ['FLOOR-1', 'FLOOR-2', 'VIP-1']);
  assert.equal(await page.$$eval('#seat-map button.seat', (l) => l.length), 0);
  await t.waitForText(page, '#seat-map', /Choose a section above/);
  assert.equal(await page.$eval('#overview-blocks button[data-section="R-3"]', (b) => b.getAttribute('aria-label')),
    'Section R-3, R, 165,000 won, 1,250 seats left');
  assert.equal(await page.$eval('#overview-blocks button[data-section="FLOOR-2"]', (b) => b.getAttribute('aria-label')),
    'Section FLOOR-2, standing, VIP, 198,000 won, 5,000 places left');
  await t.waitForText(page, '#legend', /VIP · 198,000 won/);
  await t.waitForText(page, '#dates', /60000 of 60000 seats left/);

  // The other date's overview, and then a section of it: each usable within a second.
  // (The click clears the first date's overview at once: what appears is the second's.)
  const overviewMs = await timeToShow(page, '#dates button[data-date="' + SECOND_DATE + '"]',
    '#overview:not([hidden]) #overview-blocks button.block[data-section="A-10"]');
  assert.equal(await page.$eval('#dates button[aria-pressed="true"]', (b) => b.dataset.date), SECOND_DATE);
  const sectionMs = await timeToShow(page, '#overview-blocks button[data-section="S-4"]', '#seat-map button.seat[data-seat]');
  console.log(JSON.stringify({ overview_ms: Math.round(overviewMs), section_ms: Math.round(sectionMs) }));
  assert.ok(overviewMs < USABLE_MS, 'the overview took ' + overviewMs + ' ms');
  assert.ok(sectionMs < USABLE_MS, 'the section took ' + sectionMs + ' ms');
  // S-4 alone: 25 rows of 50, numbered after the 23 sections before it (seats 28,751..30,000).
  assert.equal(await page.$$eval('#seat-map button.seat', (l) => l.length), 1250);
  const rows = await page.$$eval('#seat-map .seat-row .row-label', (l) => l.map((x) => x.textContent));
  assert.equal(rows.length, 25);
  assert.equal(rows[0], 'S-4 · Row 1');
  assert.equal(await page.$eval('#overview-blocks button[data-section="S-4"]', (b) => b.getAttribute('aria-pressed')), 'true');
  // Each seat shows its place in the row; the legend survived the change of date.
  assert.equal(await page.$eval('#seat-map button.seat[data-seat="28800"]', (b) => b.textContent), '50');
  await t.waitForText(page, '#legend', /S · 143,000 won/);
  assert.equal(await page.$eval('#seat-map button.seat[data-seat="28751"]', (b) => b.getAttribute('aria-label')),
    'Section S-4, row 1, seat 28751, S, 143,000 won, available');
  await t.screenshot(page, 'stadium-1-section');

  // The keyboard as in any map: one tab stop, arrows, Space; then the hold.
  await page.focus('#seat-map button.seat[tabindex="0"]');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.seat), '28751');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press(' ');
  await page.keyboard.press('ArrowDown');
  await page.keyboard.press(' ');
  assert.equal(await page.evaluate(() => document.activeElement.dataset.seat), '28802');
  await t.waitForText(page, '#selection-text', /2 seats selected: section S-4 row 1 seat 28752, section S-4 row 2 seat 28802\. Total 286,000 won\./);
  await t.click(page, '#hold-selected');
  await page.waitForSelector('#hold-list li.hold');
  await t.waitForText(page, '#hold-list', /S-4 · Row 1, seat 28752; S-4 · Row 2, seat 28802/);
  // The overview counts them as gone.
  await t.waitForText(page, '#overview-blocks button[data-section="S-4"]', /1,248 seats left/);

  // Best available by grade, in a section not drawn: the hold names its seats by number.
  await page.select('#best-grade', 'A');
  await page.select('#best-count', '2');
  await t.click(page, '#hold-best');
  await t.waitForText(page, '#hold-list', /Seats 37501, 37502/);
  await t.waitForText(page, '#overview-blocks button[data-section="A-1"]', /1,248 seats left/);

  // On a phone: the overview's blocks fit the screen; the map scrolls inside its own box.
  await page.setViewport(PHONE);  // isMobile: the page reloads, and opens on the same date
  await page.waitForSelector('#overview-blocks button.block[data-section="A-10"]');
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(wide <= 0, 'the page scrolls sideways on a phone by ' + wide + ' px');
  assert.deepEqual(await t.smallControls(page), []);
  await t.screenshotOf(page, '#overview', 'stadium-2-phone-overview');
  fan.check();
  await fan.close();
});
