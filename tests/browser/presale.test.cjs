// A fan club presale (API.md "Sale phases"): the organizer uploads the list from a CSV file with
// progress; a fan not on it is told so, with when the general sale opens; a fan with a code proves
// it once (a wrong code said in words), joins the presale and holds a seat of the grade it sells;
// at 1280 px and on a 390 px wide phone.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

const { PHONE } = t;
const HOUR_MS = 3600 * 1000;

function presaleConcert() {
  const now = Date.now();
  return server.createConcert({
    schedules: [{ date: t.DATE }],
    grades: [{ grade: 'VIP', price: 150000 }, { grade: 'R', price: 90000 }],
    layout: { sections: [{ section: 'A', grade: 'VIP', rows: 1, seatsPerRow: 6 }, { section: 'B', grade: 'R', rows: 1, seatsPerRow: 6 }] },
    salePhases: [
      { phase: 'fanclub', name: 'Fan club presale', opensAt: new Date(now - 60000).toISOString(),
        closesAt: new Date(now + 2 * HOUR_MS).toISOString(), eligibility: 'LIST', grades: ['VIP'], maxTicketsPerUser: 2 },
      { phase: 'general', name: 'General sale', opensAt: new Date(now + 3 * HOUR_MS).toISOString() },
    ],
  });
}

test('the organizer uploads a presale list from a CSV file, with progress', async () => {
  const concert = await presaleConcert();
  const organizer = await t.newOrganizer(browser, server);
  const { page } = organizer;
  await t.signInOrganizer(page);
  await page.select('#concert-select', concert.concertId);
  await page.waitForSelector('#phase-lists:not([hidden]) form.list-upload[data-phase="fanclub"]');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'encore-list-'));
  const bad = path.join(dir, 'bad.csv');
  fs.writeFileSync(bad, 'id\nFCBROWSER0001\nnot an id\n');
  const input = await page.$('#list-file-fanclub');
  await input.uploadFile(bad);
  await t.click(page, 'form.list-upload[data-phase="fanclub"] button');
  await t.waitForText(page, '#list-file-fanclub-error', /Line 3 is not an id/);
  const good = path.join(dir, 'members.csv');
  fs.writeFileSync(good, 'id,name\nFCBROWSER0001,Kim\nFCBROWSER0002,Lee\n"FCBROWSER0003",Park\n');
  await input.uploadFile(good);
  await t.click(page, 'form.list-upload[data-phase="fanclub"] button');
  await t.waitForText(page, '#list-file-fanclub-progress', /Uploaded 3 ids: 3 new\. The list has 3 ids\./);
  await t.screenshot(page, 'presale-1-list-uploaded');
  // Sent again: nothing new.
  await t.click(page, 'form.list-upload[data-phase="fanclub"] button');
  await t.waitForText(page, '#list-file-fanclub-progress', /Uploaded 3 ids: 0 new\. The list has 3 ids\./);

  // The general sale, still to come, is moved a day later; the open presale has no such form.
  assert.equal(await page.$('form.phase-times[data-phase="fanclub"]'), null);
  const original = (await t.http.admin(server, '/admin/concerts/' + concert.concertId)).salePhases;
  const later = new Date(Date.parse(original[1].opensAt) + 24 * HOUR_MS);
  const pad = (n) => String(n).padStart(2, '0');
  const local = later.getFullYear() + '-' + pad(later.getMonth() + 1) + '-' + pad(later.getDate()) + 'T' + pad(later.getHours()) + ':' + pad(later.getMinutes());
  await t.fill(page, '#phase-opens-general', local);
  await t.click(page, 'form.phase-times[data-phase="general"] button');
  await page.waitForFunction((at) => document.querySelector('#phase-opens-general') &&
    document.querySelector('#phase-opens-general').value === at && !document.querySelector('form.phase-times[data-phase="general"] button').disabled, {}, local);
  const moved = (await t.http.admin(server, '/admin/concerts/' + concert.concertId)).salePhases;
  assert.equal(Date.parse(moved[1].opensAt), Math.floor(later.getTime() / 60000) * 60000);
  assert.deepEqual(moved[0], original[0]);
  const log = await t.http.admin(server, '/admin/concerts/' + concert.concertId + '/changes');
  assert.deepEqual(log.changes.map((c) => c.type), ['UPDATED']);
  assert.equal(log.changes[0].fields.salePhases[1].opensAt, moved[1].opensAt);
  // The cards were drawn again; what the upload said is still there.
  assert.match(await t.textOf(page, '#list-file-fanclub-progress'), /Uploaded 3 ids: 0 new\. The list has 3 ids\./);
  await t.screenshotOf(page, '#phase-lists', 'presale-1b-phase-moved');
  organizer.check();
  await organizer.close();
});

for (const [name, viewport] of [['1280', null], ['390', PHONE]]) {
  test('a fan proves a place on the fan club list and buys in the presale (' + name + ' px)', async () => {
    const concert = await presaleConcert();
    await t.http.call(server, 'POST', '/admin/concerts/' + concert.concertId + '/phases/fanclub/eligible',
      { admin: true, body: { ids: ['FCPAGE-' + name + '-0001', 'FCPAGE-' + name + '-0002'] } });
    const fan = await t.newFan(browser, server, viewport ? { viewport } : {});
    const { page } = fan;
    await t.createAccount(page, 'Club member');
    await t.charge(page, 500000);
    // Not on the list yet: told so, with when the general sale opens, and the claim form.
    await t.joinConcert(page, concert.title);
    await t.waitForText(page, '#queue-error', /for a list of people .* You can join from/);
    await page.waitForSelector('#phases:not([hidden]) form.claim[data-phase="fanclub"]');
    await t.waitForText(page, '#phase-list', /Fan club presale/);
    await t.waitForText(page, '#phase-list', /Sells VIP\. Up to 2 tickets each\./);
    await t.screenshot(page, 'presale-2-not-on-list-' + name);
    // A wrong code, then the right one.
    await t.fill(page, '#claim-fanclub', 'FCPAGE-WRONG-0000');
    await t.click(page, 'form.claim[data-phase="fanclub"] button');
    await t.waitForText(page, '#claim-fanclub-error', /not on the list/);
    await t.fill(page, '#claim-fanclub', 'FCPAGE-' + name + '-0001');
    await t.click(page, 'form.claim[data-phase="fanclub"] button');
    await t.waitForText(page, '#phase-list', /You are on the list\./);
    assert.equal(await page.$('form.claim[data-phase="fanclub"]'), null, 'the claim form is gone once the claim is made');
    // Now the waiting room lets the fan in; the presale sells VIP only.
    await t.click(page, '#queue-rejoin');
    await t.waitForTurn(page);
    await t.click(page, t.seatSelector(1));
    await t.click(page, '#hold-selected');
    await page.waitForSelector('#hold-list li.hold');
    await t.waitForText(page, '#hold-list', /Pay 150,000 won/);
    // R is not on sale in the presale: its seats are greyed out, and choosing one says why.
    await t.waitForSeat(page, 7, 'OFFSALE');
    assert.match(await page.$eval(t.seatSelector(7), (b) => b.getAttribute('aria-label')), /, R, 90,000 won, not on sale now$/);
    await t.click(page, t.seatSelector(7));
    await t.waitForText(page, '#selection-text', /Seat 7 is not on sale in this phase of the sale\./);
    await t.waitForText(page, '#legend', /Not on sale now: R/);
    await t.screenshot(page, 'presale-3-holding-' + name);
    fan.check();
    await fan.close();
  });
}
