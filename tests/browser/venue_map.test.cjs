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

test('a standing zone: places left, a count held all or none, entry numbers once paid', async () => {
  const concert = await server.createConcert({
    schedules: [{ date: t.DATE }],
    grades: [{ grade: 'VIP', price: 150000 }, { grade: 'R', price: 90000 }],
    layout: { sections: [{ section: 'FLOOR', grade: 'VIP', standing: 3, gate: 'G1' }, { section: 'A', grade: 'R', rows: 1, seatsPerRow: 6 }] },
  });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Floor fan');
  await t.charge(page, 500000);
  await t.joinConcert(page, concert.title);
  await t.waitForTurn(page);
  await page.waitForSelector('#standing:not([hidden]) li.zone[data-section="FLOOR"]');
  await t.waitForText(page, '#standing-list', /FLOOR · VIP · 150,000 won a place · gate G1/);
  await t.waitForText(page, '#standing-list', /3 places left of 3/);
  // Four places are more than the zone has: the picker offers three at most.
  const offered = await page.$$eval('#places-FLOOR option', (o) => o.map((x) => x.value));
  assert.deepEqual(offered, ['1', '2', '3']);
  await page.select('#places-FLOOR', '2');
  await t.screenshot(page, 'venue-3-standing');
  await t.click(page, '#standing-list li[data-section="FLOOR"] button.hold-places');
  await page.waitForSelector('#hold-list li.hold');
  await t.waitForText(page, '#hold-list', /FLOOR, standing, 2 places/);
  await t.waitForText(page, '#hold-list', /Pay 300,000 won/);
  await t.waitForText(page, '#standing-list', /1 place left of 3/);
  await t.click(page, '#hold-list button[data-action="pay"]');
  await t.waitForText(page, '#ticket-list', /FLOOR, standing, 2 places \(entry no\. 1, 2\)/);
  await t.screenshot(page, 'venue-4-entry-numbers');
  fan.check();
  await fan.close();
});
