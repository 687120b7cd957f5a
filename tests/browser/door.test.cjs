// The door's page at /scan: a scanner key, the concert and the date; codes checked in online
// (green with the holder, seat and entry number; red for a second scan); then the network cut:
// the page verifies signatures itself (WebCrypto Ed25519), admits once, refuses another gate's
// section and a ticket it admitted already, keeps its scans and uploads them on reconnect.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

// A fan who bought `seats` (seat numbers) of the date: their tickets' codes.
async function bought(concert, name, seats) {
  const user = await t.http.newUser(server, name);
  await t.http.charge(server, user, 1000000);
  await t.http.enqueue(server, user, concert.concertId);
  const tickets = [];
  // Every hold first: a payment ends the turn (holds placed stay payable).
  const holds = [];
  for (const seat of seats) holds.push(await t.http.hold(server, user, concert.concertId, t.DATE, seat));
  for (const held of holds) {
    await t.http.pay(server, user, held.reservationId);
    const r = await t.http.call(server, 'GET', '/reservations/' + held.reservationId + '/tickets', { token: user.token });
    assert.equal(r.status, 200, r.text);
    tickets.push(...r.body.tickets);
  }
  return tickets;
}

async function scan(page, code) {
  await page.$eval('#verdict', (v) => { v.hidden = true; });
  await t.fill(page, '#scan-code', code);
  await t.click(page, '#scan-check');
  await page.waitForSelector('#verdict:not([hidden])');
  return page.$eval('#verdict', (v) => ({ ok: v.dataset.ok === 'true', text: v.textContent.replace(/\s+/g, ' ').trim() }));
}

test('the door checks tickets in online, goes on offline and uploads its scans on reconnect', async () => {
  const concert = await server.createConcert({
    schedules: [{ date: t.DATE }],
    grades: [{ grade: 'R', price: 50000 }],
    layout: { sections: [{ section: 'A', grade: 'R', rows: 1, seatsPerRow: 6, gate: 'North' },
      { section: 'B', grade: 'R', rows: 1, seatsPerRow: 6, gate: 'South' }] },
  });
  const north = await t.http.call(server, 'POST', '/admin/concerts/' + concert.concertId + '/scanners',
    { admin: true, body: { name: 'North 1', gate: 'North' } });
  assert.equal(north.status, 201, north.text);
  const minji = await bought(concert, 'Minji', [1, 2]);
  const jisoo = await bought(concert, 'Jisoo', [3, 8]);  // seat 8 is section B's, gate South

  const door = await t.newFan(browser, server, { path: '/scan' });
  const { page } = door;
  await t.fill(page, '#s-concert', concert.concertId);
  await t.fill(page, '#s-key', north.body.key);
  await t.fill(page, '#s-date', t.DATE);
  await t.click(page, '#s-start');
  await page.waitForSelector('#scanner:not([hidden])');
  await t.waitForText(page, '#scanner-facts', /gate North · 3 tickets on the list/);

  // Online: admitted with the holder and the seat; the same code again is refused.
  let v = await scan(page, minji[0].code);
  assert.equal(v.ok, true, v.text);
  assert.match(v.text, /Admitted.*Minji.*A, row 1, seat 1/);
  await t.screenshot(page, 'door-1-admitted');
  v = await scan(page, minji[0].code);
  assert.equal(v.ok, false);
  assert.match(v.text, /Already admitted/);
  v = await scan(page, 'not a ticket');
  assert.equal(v.ok, false);
  assert.match(v.text, /Not a ticket/);

  // Offline: the page decides alone.
  await page.setOfflineMode(true);
  await page.waitForFunction(() => !navigator.onLine);
  v = await scan(page, minji[1].code);
  assert.equal(v.ok, true, v.text);
  assert.match(v.text, /Admitted.*offline/);
  v = await scan(page, minji[1].code);
  assert.equal(v.ok, false);
  assert.match(v.text, /Already admitted/);
  v = await scan(page, jisoo[1].code);
  assert.equal(v.ok, false);
  assert.match(v.text, /Other gate/);
  v = await scan(page, minji[0].code);  // admitted online before the network went
  assert.equal(v.ok, false);
  assert.match(v.text, /Already admitted/);
  const forged = jisoo[0].code.slice(0, -4) + (jisoo[0].code.endsWith('AAAA') ? 'BBBB' : 'AAAA');
  v = await scan(page, forged);
  assert.equal(v.ok, false);
  assert.match(v.text, /Not a ticket/);
  v = await scan(page, jisoo[0].code);
  assert.equal(v.ok, true, v.text);
  await t.waitForText(page, '#pending', /2 scans made offline/);
  await t.screenshot(page, 'door-2-offline');
  // The server has not seen them.
  const before = await t.http.call(server, 'GET', '/admin/concerts/' + concert.concertId + '/checkins', { admin: true });
  assert.equal(before.body.gates.reduce((n, g) => n + g.admitted, 0), 1);

  // Back online: the scans are uploaded and the server admits them.
  await page.setOfflineMode(false);
  await t.waitForText(page, '#door-line', /2 offline scans sent/, 20000);
  await t.waitForText(page, '#pending', /^Online\.$/);
  const after = await t.http.call(server, 'GET', '/admin/concerts/' + concert.concertId + '/checkins', { admin: true });
  assert.equal(after.body.gates.reduce((n, g) => n + g.admitted, 0), 3);
  const list = await t.http.call(server, 'GET', '/admin/concerts/' + concert.concertId + '/dates/' + t.DATE + '/tickets', { admin: true });
  const admitted = list.body.tickets.filter((x) => x.status === 'ADMITTED').map((x) => x.seat).sort();
  assert.deepEqual(admitted, [1, 2, 3]);

  // A phone: the verdict fills the width.
  await page.setViewport(t.PHONE);
  await page.waitForSelector('#scanner:not([hidden])');
  v = await scan(page, jisoo[0].code);
  assert.equal(v.ok, false);
  const width = await page.$eval('#verdict', (e) => e.getBoundingClientRect().width);
  assert.ok(width >= 300, 'verdict ' + width + ' px wide');
  await t.screenshot(page, 'door-3-phone');
  door.check();
  await door.close();
});

test('the organizer adds a scanner at a gate, sees its key and the admissions per gate, and removes it', async () => {
  const concert = await server.createConcert({
    schedules: [{ date: t.DATE }],
    grades: [{ grade: 'R', price: 50000 }],
    layout: { sections: [{ section: 'A', grade: 'R', rows: 1, seatsPerRow: 6, gate: 'North' },
      { section: 'B', grade: 'R', rows: 1, seatsPerRow: 6, gate: 'South' }] },
  });
  const tickets = await bought(concert, 'Minji', [1]);
  const organizer = await t.newOrganizer(browser, server);
  const { page } = organizer;
  await t.signInOrganizer(page);
  await page.select('#concert-select', concert.concertId);
  await page.waitForSelector('#door:not([hidden])');
  await page.waitForFunction(() => [...document.querySelectorAll('#scanner-gate option')].some((o) => o.value === 'South'));
  await t.fill(page, '#scanner-name', 'North 1');
  await page.select('#scanner-gate', 'North');
  await t.click(page, '#scanner-add');
  await t.waitForText(page, '#scanner-added', /Scanner "North 1" added/);
  await t.waitForText(page, '#scanner-list', /North 1 · gate North · key s-/);
  const key = await page.$eval('#scanner-list .scanner-key', (c) => c.textContent);

  // The key works at the door; the admission shows at gate North.
  const checkIn = () => fetch(server.url + '/admin/concerts/' + concert.concertId + '/checkins', {
    method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Scanner-Key': key }, body: JSON.stringify({ code: tickets[0].code, date: t.DATE }),
  });
  assert.equal((await checkIn()).status, 200, 'the scanner key the page shows checks a ticket in');
  await t.waitForText(page, '#door-body tr[data-gate="North"]', /Gate North\s*1/, 20000);
  await t.screenshotOf(page, '#door', 'door-4-organizer');

  // Removed: gone from the list, and its key refused.
  await t.click(page, '#scanner-list button[data-action="remove-scanner"]');
  await t.waitForText(page, '#scanner-added', /removed: its key no longer works/);
  await page.waitForSelector('#scanners-empty:not([hidden])');
  assert.equal((await checkIn()).status, 401);
  organizer.check();
  await organizer.close();
});
