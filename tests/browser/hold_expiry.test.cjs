// A hold that is not paid runs out on screen: the countdown reaches 0:00, the page says so in
// words, the hold leaves "Your held seats" for the bookings as EXPIRED, and the seat is AVAILABLE.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

test('a hold expires on screen: the countdown reaches zero and the seat is AVAILABLE again', async () => {
  // Holds of 15 s: the hold is the last thing made, and the page must show it (seat, countdown)
  // before it runs out, however slowly a busy machine draws.
  const concert = await server.createConcert({ holdTtlSeconds: 15 });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Slow');
  await t.joinConcert(page, concert.title);
  await t.waitForTurn(page);
  await t.holdSeats(page, [9]);
  await t.waitForSeat(page, 9, 'HELD mine');
  await t.waitForText(page, '#hold-list .timer', /^0:(0[1-9]|1[0-5])$/);
  assert.equal(await page.$eval('#hold-list .timer', (e) => e.getAttribute('role')), 'timer');
  await t.waitForText(page, '#hold-list .timer', /^0:00$/, 40000);
  await t.waitForText(page, '#hold-list .error', /Time is up/);
  assert.ok(await page.$eval('#hold-list button[data-action="pay"]', (b) => b.disabled), 'pay is disabled once the time is up');
  await t.waitForSeat(page, 9, 'AVAILABLE', 30000);
  await page.waitForSelector('#ticket-list li[data-status="EXPIRED"]', { timeout: 30000 });
  await page.waitForFunction(() => !document.querySelector('#hold-list li.hold'));
  // The seat can be chosen again.
  await t.click(page, t.seatSelector(9));
  await t.waitForText(page, '#selection-text', /1 seat selected: row 1 seat 9/);
  fan.check();
  await fan.close();
});
