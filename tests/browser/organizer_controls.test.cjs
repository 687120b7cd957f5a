// The organizer's controls at /admin: pause and resume the sale (a fan's hold refused meanwhile),
// the live settings saved with If-Match (and a change made elsewhere in between caught), seats
// blocked and released by clicking them (a fan's map shows them not for sale), and the change
// log; at 1280 px and on a 390 px wide phone.
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

async function openControls(page, concertId) {
  await t.signInOrganizer(page);
  await page.select('#concert-select', concertId);
  await page.waitForSelector('#controls:not([hidden])');
  await t.waitForText(page, '#sale-state', /On sale/);
}

const admin = (path) => t.http.admin(server, '/admin/concerts/' + path);

test('the organizer pauses and resumes the sale, saves settings, and blocks seats by clicking them', async () => {
  const concert = await server.createConcert({ schedules: [{ date: t.DATE, seats: 20, price: 50000, seatsPerRow: 10 }] });
  const id = concert.concertId;
  const organizer = await t.newOrganizer(browser, server);
  const { page } = organizer;
  await openControls(page, id);
  assert.equal(await page.$eval('#s-capacity', (e) => e.value), '100');
  assert.equal(await page.$eval('#s-hold-ttl', (e) => e.value), '300');
  await t.waitForText(page, '#changes-empty', /No changes/);
  await t.screenshot(page, 'controls-1-open');

  // Pause: the server has it, a fan's hold is refused, the page says so; then resume.
  const fan = await t.http.newUser(server, 'Fan');
  assert.equal((await t.http.enqueue(server, fan, id)).status, 'ACTIVE');
  await t.click(page, '#sale-toggle');
  await t.waitForText(page, '#sale-state', /paused/);
  assert.equal((await admin(id)).paused, true);
  const refused = await t.http.call(server, 'POST', '/concerts/' + id + '/dates/' + t.DATE + '/seats/1/hold',
    { token: fan.token, queueToken: fan.queueTokens[id] });
  assert.equal(refused.status, 409);
  assert.equal(refused.body.error.code, 'SALES_PAUSED');
  assert.equal(await t.textOf(page, '#sale-toggle'), 'Resume the sale');
  await t.waitForText(page, '#changes', /Sale paused/);
  await t.screenshot(page, 'controls-2-paused');
  // A fan's page says so, and a hold there is refused in words.
  const fanPage = await t.newFan(browser, server);
  await t.createAccount(fanPage.page, 'Paused fan');
  await t.joinConcert(fanPage.page, concert.title);
  await t.waitForText(fanPage.page, '#queue-detail', /paused the sale: nobody is let in until it resumes/);
  await t.screenshotOf(fanPage.page, '#queue', 'controls-fan-paused');
  fanPage.check();
  await fanPage.close();
  await t.click(page, '#sale-toggle');
  await t.waitForText(page, '#sale-state', /On sale/);
  assert.equal((await admin(id)).paused, false);
  await t.waitForText(page, '#changes', /Sale resumed/);

  // Settings: saved with If-Match, read back from the server.
  await t.fill(page, '#s-capacity', 250);
  await t.fill(page, '#s-hold-ttl', 120);
  const patched = new Promise((resolve) => page.on('request', (r) => { if (r.method() === 'PATCH') resolve(r); }));
  await t.click(page, '#settings-submit');
  const request = await patched;
  assert.deepEqual(JSON.parse(request.postData()), { queue: { activeCapacity: 250 }, holdTtlSeconds: 120 });
  assert.match(request.headers()['if-match'] || '', /^"[0-9a-f]+"$/);
  await t.waitForText(page, '#settings-message', /Saved/);
  const saved = await admin(id);
  assert.equal(saved.queue.activeCapacity, 250);
  assert.equal(saved.holdTtlSeconds, 120);
  await t.waitForText(page, '#changes', /Settings changed/);

  // A change made elsewhere since the page read the concert: 412, shown in words, and the page
  // shows the concert as it now is.
  await t.http.call(server, 'PATCH', '/admin/concerts/' + id, { admin: true, body: { maxTicketsPerUser: 3 } });
  await t.fill(page, '#s-hold-ttl', 90);
  await t.click(page, '#settings-submit');
  await t.waitForText(page, '#settings-error', /changed elsewhere/);
  assert.equal(await page.$eval('#s-max-tickets', (e) => e.value), '3');
  assert.equal((await admin(id)).holdTtlSeconds, 120, 'the stale change was not applied');

  // Blocks: select seats 1 and 2 by clicking, block them for a camera.
  await page.click('input[name="seat-mode"][value="block"]');
  await page.waitForSelector('#block-tools:not([hidden])');
  await t.click(page, '#seat-grid button[data-seat="1"]');
  await t.click(page, '#seat-grid button[data-seat="2"]');
  await t.waitForText(page, '#block-status', /2 seats selected/);
  await t.fill(page, '#block-reason', 'camera');
  await t.click(page, '#block-selected');
  await page.waitForSelector('#seat-grid button[data-seat="2"].blocked');
  assert.equal(await page.$eval('#seat-grid button[data-seat="1"]', (b) => b.getAttribute('aria-label')), 'Row 1, seat 1, blocked');
  await t.waitForText(page, '#changes', /Seats blocked.*1, 2\) — camera/);
  await t.screenshot(page, 'controls-3-blocked');
  // A fan's seat map shows them not for sale.
  const map = await t.http.call(server, 'GET', '/concerts/' + id + '/dates/' + t.DATE + '/seats',
    { token: fan.token, queueToken: fan.queueTokens[id] });
  assert.deepEqual(map.body.seats.filter((s) => s.status === 'BLOCKED').map((s) => s.number), [1, 2]);
  // A held seat cannot be blocked: the server's refusal is shown in words, nothing changes.
  await t.http.hold(server, fan, id, t.DATE, 5);
  await t.click(page, '#seat-grid button[data-seat="5"]');
  await t.click(page, '#block-selected');
  await t.waitForText(page, '#seats-error', /held or sold: nothing was blocked/);
  await t.click(page, '#seat-grid button[data-seat="5"]');
  // Release seat 2.
  await t.click(page, '#seat-grid button[data-seat="2"]');
  await t.click(page, '#release-selected');
  await t.waitForText(page, '#changes', /Seats released/);
  await page.waitForSelector('#seat-grid button[data-seat="2"]:not(.blocked)');
  assert.ok(await page.$('#seat-grid button[data-seat="1"].blocked'));
  const log = await t.http.admin(server, '/admin/concerts/' + id + '/changes');
  assert.deepEqual(log.changes.map((c) => c.type), ['PAUSED', 'RESUMED', 'UPDATED', 'UPDATED', 'SEATS_BLOCKED', 'SEATS_RELEASED']);

  // On a phone: the same controls, no sideways scroll of the page.
  // A change of isMobile reloads the page (puppeteer's setViewport): the key kept in the tab
  // signs it in again and it opens on the same concert; wait for that before measuring.
  await page.setViewport(PHONE);
  await page.waitForSelector('#controls:not([hidden])');
  await t.waitForText(page, '#sale-state', /On sale/);
  await page.waitForSelector('#seat-grid button[data-seat="1"].blocked');
  await page.evaluate(() => document.getElementById('controls').scrollIntoView());
  const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(wide <= 0, 'the page scrolls sideways on a phone by ' + wide + ' px');
  await t.screenshotOf(page, '#controls', 'controls-4-phone');
  organizer.check();
  await organizer.close();
});

test('the organizer creates a concert with a venue from its JSON, and the fans see its grades', async () => {
  const organizer = await t.newOrganizer(browser, server);
  const { page } = organizer;
  await t.signInOrganizer(page);
  const title = 'Stadium ' + Date.now();
  await t.fill(page, '#c-title', title);
  await t.fill(page, '#schedules li:nth-child(1) input[name="date"]', t.DATE);
  // Not JSON: said in words, next to the box.
  await t.fill(page, '#c-layout', '{"grades": ');
  await t.waitForText(page, '#layout-summary', /The preview appears once the JSON is complete/);
  await t.click(page, '#create-submit');
  await t.waitForText(page, '#create-error', /The venue is not valid JSON/);
  await t.fill(page, '#c-layout', JSON.stringify({
    grades: [{ grade: 'VIP', price: 198000 }, { grade: 'R', price: 165000 }],
    layout: { sections: [{ section: 'FLOOR', grade: 'VIP', standing: 500 }, { section: 'A', grade: 'VIP', rows: 2, seatsPerRow: 10 },
      { section: 'B', grade: 'R', rows: [8, 9] }] },
  }));
  // The preview: the sections drawn in layout order, and what they hold in words.
  await t.waitForText(page, '#layout-summary', /^37 seats and 500 standing places in 3 sections; grades VIP 198,000 won, R 165,000 won\.$/);
  assert.deepEqual(await page.$$eval('#layout-drawing .zone-block', (l) => l.map((b) => b.dataset.section + ':' + b.className)),
    ['FLOOR:zone-block standing tier-0', 'A:zone-block tier-0', 'B:zone-block tier-1']);
  await t.screenshotOf(page, '#layout-preview', 'controls-5-layout-preview');
  await t.click(page, '#create-submit');
  await t.waitForText(page, '#create-message', new RegExp('Created “' + title + '”'));
  const { concerts } = await t.http.admin(server, '/concerts');
  const concert = concerts.find((c) => c.title === title);
  assert.deepEqual(concert.grades, [{ grade: 'VIP', price: 198000 }, { grade: 'R', price: 165000 }]);
  assert.equal(concert.schedules[0].seats, 537);  // standing places counted as seats, as in the dates
  await t.screenshotOf(page, '#create', 'controls-5-venue-created');

  // Sales by grade: a fan buys a VIP seat; the page's table shows it against the grade.
  const fan = await t.http.newUser(server, 'Grade fan');
  await t.http.charge(server, fan, 500000);
  assert.equal((await t.http.enqueue(server, fan, concert.concertId)).status, 'ACTIVE');
  const held = await t.http.hold(server, fan, concert.concertId, t.DATE, 1);
  await t.http.pay(server, fan, held.reservationId);
  await page.waitForSelector('#grades-box:not([hidden])');
  await t.waitForText(page, '#grades-body tr[data-grade="VIP"] td[data-field="seatsSold"]', /^1$/, 20000);
  assert.equal(await t.textOf(page, '#grades-body tr[data-grade="VIP"] td[data-field="revenue"]'), '198,000 won');
  assert.equal(await t.textOf(page, '#grades-body tr[data-grade="VIP"] td[data-field="seatsAvailable"]'), '519');
  assert.equal(await t.textOf(page, '#grades-body tr[data-grade="R"] td[data-field="seatsSold"]'), '0');
  await t.screenshotOf(page, '#analytics', 'controls-6-sales-by-grade');
  organizer.check();
  await organizer.close();
});
