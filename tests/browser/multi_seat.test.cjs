// Several seats in one hold, and the server's best-available pick, through
// POST /concerts/{c}/dates/{d}/holds: one request, one reservation.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

const multiHolds = (fan) => fan.responses.filter((r) => r.method === 'POST' && /\/dates\/[^/]+\/holds$/.test(new URL(r.url).pathname));

test('several chosen seats are held together in one reservation and paid at once', async () => {
  const concert = await server.createConcert({ schedules: [{ date: t.DATE, seats: 50, price: 70000 }] });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Group');
  await t.charge(page, 300000);
  await t.joinConcert(page, concert.title);
  await t.waitForTurn(page);
  await t.click(page, t.seatSelector(31));
  await t.click(page, t.seatSelector(32));
  await t.click(page, t.seatSelector(33));
  await t.waitForText(page, '#selection-text', /3 seats selected: row 2 seat 31, row 2 seat 32, row 2 seat 33\. Total 210,000 won\./);
  await t.waitForText(page, '#hold-selected', /Hold these 3 seats/);
  await t.screenshot(page, 'multi-1-three-selected');
  await t.click(page, '#hold-selected');
  await page.waitForSelector('#hold-list li.hold');
  assert.deepEqual(multiHolds(fan).map((r) => r.status), [201], 'one POST .../holds answered 201');
  assert.equal(await page.$$eval('#hold-list li.hold', (l) => l.length), 1, 'one reservation for the three seats');
  await t.waitForText(page, '#hold-list', /Row 2, seats 31, 32, 33/);
  await t.waitForText(page, '#hold-list', /Pay 210,000 won/);
  for (const n of [31, 32, 33]) await t.waitForSeat(page, n, 'HELD mine');
  await t.screenshot(page, 'multi-2-one-hold-of-three');
  await t.click(page, '#hold-list button[data-action="pay"]');
  await page.waitForSelector('#ticket-list li[data-status="CONFIRMED"]');
  await t.waitForText(page, '#balance', /^90,000 won$/);
  for (const n of [31, 32, 33]) await t.waitForSeat(page, n, 'SOLD mine');
  await t.screenshot(page, 'multi-3-paid');
  fan.check();
  await fan.close();
});

test('best available: the server picks N seats together in the lowest row and the map shows them as yours', async () => {
  const concert = await server.createConcert({ schedules: [{ date: t.DATE, seats: 50, price: 50000, seatsPerRow: 10 }] });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Best');
  await t.joinConcert(page, concert.title);
  await t.waitForTurn(page);
  // seatsPerRow from the server: rows of 10.
  await page.waitForFunction(() => document.querySelectorAll('#seat-map .seat-row').length === 5);
  await page.select('#best-count', '3');
  await t.click(page, '#hold-best');
  await page.waitForSelector('#hold-list li.hold');
  assert.deepEqual(multiHolds(fan).map((r) => r.status), [201], 'one POST .../holds answered 201');
  const mine = await page.$$eval('#seat-map button.seat.mine', (l) => l.map((b) => Number(b.dataset.seat)));
  assert.equal(mine.length, 3);
  assert.ok(mine.every((n) => n >= 1 && n <= 10), 'in row 1: ' + mine);
  assert.deepEqual(mine, [mine[0], mine[0] + 1, mine[0] + 2], 'side by side: ' + mine);
  await t.waitForText(page, '#hold-list', /Row 1, seats /);
  await t.screenshot(page, 'best-1-three-together');
  fan.check();
  await fan.close();
});
