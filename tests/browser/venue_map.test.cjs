// A concert with a venue on the fan's page: the seat map drawn by section and row, coloured by
// grade with the grades and their prices in the legend, a seat's name saying its section and
// grade, and a hold across two grades priced as the sum of their grades.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

test('the seat map of a venue: sections, rows within them, grades and their prices', async () => {
  const concert = await server.createConcert({
    schedules: [{ date: t.DATE }],
    grades: [{ grade: 'VIP', price: 150000 }, { grade: 'R', price: 90000 }],
    layout: { sections: [{ section: 'A', grade: 'VIP', rows: 2, seatsPerRow: 8 }, { section: 'B', grade: 'R', rows: [6, 8, 10] }] },
  });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Venue fan');
  await t.charge(page, 300000);
  await t.joinConcert(page, concert.title);
  await t.waitForTurn(page);
  const rows = await page.$$eval('#seat-map .seat-row .row-label', (l) => l.map((x) => x.textContent));
  assert.deepEqual(rows, ['A · Row 1', 'A · Row 2', 'B · Row 1', 'B · Row 2', 'B · Row 3']);
  await t.waitForText(page, '#legend', /VIP · 150,000 won/);
  await t.waitForText(page, '#legend', /R · 90,000 won/);
  assert.equal(await page.$eval(t.seatSelector(17), (b) => b.getAttribute('aria-label')), 'Section B, row 1, seat 17, R, 90,000 won, available');
  // A VIP seat and an R seat: the selection says where, the total adds the grades' prices.
  await t.click(page, t.seatSelector(8));
  await t.click(page, t.seatSelector(17));
  await t.waitForText(page, '#selection-text', /section A row 1 seat 8, section B row 1 seat 17\. Total 240,000 won\./);
  await t.screenshot(page, 'venue-1-map');
  await t.click(page, '#hold-selected');
  await page.waitForSelector('#hold-list li.hold');
  await t.waitForText(page, '#hold-list', /A · Row 1, seat 8; B · Row 1, seat 17/);
  await t.waitForText(page, '#hold-list', /Pay 240,000 won/);
  await t.screenshot(page, 'venue-2-held');
  fan.check();
  await fan.close();
});
