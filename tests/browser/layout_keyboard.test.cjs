// The page on a 390 px wide phone (no horizontal scroll, every control at least 44 x 44 px,
// screenshots kept), and seats chosen and held with the keyboard alone.
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

async function fitsTheScreen(page, step) {
  const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: window.innerWidth }));
  assert.ok(scroll <= width, step + ': the page scrolls sideways (' + scroll + ' > ' + width + ')');
  assert.deepEqual(await t.smallControls(page), [], step + ': controls under 44 x 44 px');
  return t.screenshot(page, 'phone-390-' + step);
}

test('at 390 px wide the whole purchase fits the screen, with touch targets of 44 x 44 px', async () => {
  const concert = await server.createConcert({
    title: 'Phone Night',
    schedules: [{ date: t.DATE, seats: 100, price: 99000 }, { date: '2030-12-25', seats: 40, price: 66000, seatsPerRow: 8 }],
  });
  const fan = await t.newFan(browser, server, { viewport: PHONE });
  const { page } = fan;
  const shots = [];
  shots.push(await fitsTheScreen(page, '1-welcome'));
  await t.createAccount(page, 'Phone');
  await t.charge(page, 250000);
  shots.push(await fitsTheScreen(page, '2-concerts'));
  await t.joinConcert(page, concert.title);
  await t.waitForTurn(page);
  // The map scrolls sideways inside its own box; the page does not.
  const map = await page.$eval('#seat-map', (e) => ({ scroll: e.scrollWidth, client: e.clientWidth }));
  assert.ok(map.scroll > map.client, 'a row of 25 seats is wider than the phone');
  await page.tap(t.seatSelector(2));
  await page.tap(t.seatSelector(3));
  shots.push(await fitsTheScreen(page, '3-seat-map'));
  await page.tap('#hold-selected');
  await page.waitForSelector('#hold-list li.hold');
  shots.push(await fitsTheScreen(page, '4-hold'));
  // Both seats are one hold: one payment of 198,000 won.
  await page.tap('#hold-list button[data-action="pay"]');
  await page.waitForSelector('#ticket-list li[data-status="CONFIRMED"]');
  shots.push(await fitsTheScreen(page, '5-confirmed'));
  console.log('screenshots:\n  ' + shots.join('\n  '));
  fan.check();
  await fan.close();
});

// Tab until the focused element satisfies `is` (evaluated in the page), at most `max` times.
async function tabTo(page, is, what, max = 80) {
  for (let i = 0; i < max; i++) {
    if (await page.evaluate(is)) return;
    await page.keyboard.press('Tab');
  }
  throw new Error('Tab never reached ' + what);
}

test('keyboard only: reach the seat map, move with the arrow keys, select with Space and Enter, hold, pay', async () => {
  const concert = await server.createConcert({ title: 'Keyboard Night' });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  const focused = () => page.evaluate(() => document.activeElement && (document.activeElement.id || document.activeElement.dataset.seat ||
    document.activeElement.getAttribute('aria-label') || document.activeElement.tagName));

  await tabTo(page, () => document.activeElement.id === 'name', 'the name field');
  await page.keyboard.type('Keys');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#account:not([hidden])');
  assert.equal(await focused(), 'concerts-h', 'focus moves to the concerts');
  await tabTo(page, () => (document.activeElement.getAttribute('aria-label') || '').includes('Keyboard Night'), 'the join button');
  await page.keyboard.press('Enter');
  await t.waitForTurn(page);
  assert.equal(await focused(), 'booking-h', 'focus moves to the seats when it is your turn');

  // One tab stop for the whole map (roving tabindex): Tab lands on seat 1.
  await tabTo(page, () => Boolean(document.activeElement.dataset.seat), 'a seat');
  assert.equal(await focused(), '1');
  assert.equal(await page.$$eval('#seat-map button.seat[tabindex="0"]', (l) => l.length), 1);
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  assert.equal(await focused(), '3');
  await page.keyboard.press(' ');
  await page.keyboard.press('ArrowDown');
  assert.equal(await focused(), '28');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('Enter');
  await page.keyboard.press('End');
  assert.equal(await focused(), '50');
  await page.keyboard.press('Home');
  assert.equal(await focused(), '26');
  await page.keyboard.press('ArrowUp');
  assert.equal(await focused(), '1');
  assert.equal(await page.$eval(t.seatSelector(3), (b) => b.getAttribute('aria-pressed')), 'true');
  assert.equal(await page.$eval(t.seatSelector(29), (b) => b.getAttribute('aria-pressed')), 'true');
  await t.waitForText(page, '#selection-text', /2 seats selected: row 1 seat 3, row 2 seat 29/);
  // Space again unselects, Space once more selects.
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press(' ');
  assert.equal(await page.$eval(t.seatSelector(3), (b) => b.getAttribute('aria-pressed')), 'false');
  await page.keyboard.press(' ');

  await tabTo(page, () => document.activeElement.id === 'hold-selected', 'the hold button');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#hold-list li.hold');
  assert.equal(await focused(), 'holds-h', 'focus moves to the held seats');
  await t.waitForSeat(page, 3, 'HELD mine');
  await t.waitForSeat(page, 29, 'HELD mine');
  // Not enough money: the error says what to do, next to the button.
  await tabTo(page, () => document.activeElement.dataset.action === 'pay', 'a pay button');
  await page.keyboard.press('Enter');
  await t.waitForText(page, '#hold-list .error', /not have enough money/);
  fan.check();
  await fan.close();
});
