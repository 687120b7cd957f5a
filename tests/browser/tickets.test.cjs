// A paid booking's tickets on the fan's page: each seat and standing place a ticket with its QR
// code (read back here with zbarimg from the page's own image), its seat or zone, gate and entry
// number, large enough to scan from a phone at 390 px; a ticket checked in at the door reads
// Admitted.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

test('a paid booking shows its tickets with QR codes a decoder reads, at 1280 and 390 px', async () => {
  // The show starts in 100 hours: a refund now keeps the 20% tier's fee.
  const concert = await server.createConcert({
    schedules: [{ date: t.DATE, startsAt: new Date(Date.now() + 100 * 3600 * 1000).toISOString() }],
    grades: [{ grade: 'R', price: 90000 }],
    layout: { sections: [{ section: 'A', grade: 'R', rows: 1, seatsPerRow: 6, gate: 'North' }] },
    refundPolicy: { fees: [{ hoursBefore: 240, won: 4000 }, { hoursBefore: 72, percent: 20 }] },
  });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Ticket fan');
  await t.charge(page, 300000);
  await t.joinConcert(page, concert.title);
  await t.waitForTurn(page);
  await t.holdSeats(page, [2, 3]);
  await t.click(page, '#hold-list button[data-action="pay"]');
  await page.waitForSelector('#ticket-list li[data-status="CONFIRMED"] button[data-action="tickets"]');
  await t.waitForText(page, '#map-note:not([hidden])', /turn ended when you paid/);

  // The refund button says what would come back now, and the fee.
  await t.waitForText(page, '#ticket-list li[data-status="CONFIRMED"] button[data-action="refund"]', /^Refund 144,000 won \(fee 36,000 won\)$/);
  await t.click(page, '#ticket-list li[data-status="CONFIRMED"] button[data-action="tickets"]');
  await page.waitForFunction(() => {
    const images = [...document.querySelectorAll('.pass img.qr')];
    return images.length === 2 && images.every((i) => i.complete && i.naturalWidth > 0);
  });
  const captions = await page.$$eval('.pass figcaption', (f) => f.map((x) => x.textContent));
  assert.match(captions[0], /A, row 1, seat 2/);
  assert.match(captions[0], /gate North/);
  assert.match(captions[0], /Valid/);
  assert.match(captions[1], /seat 3/);
  await t.screenshot(page, 'tickets-1-desktop');

  // The QR image the page shows holds the ticket's code: zbarimg reads it back.
  const token = await page.evaluate(() => JSON.parse(localStorage.getItem('encore.state.v1') || '{}').token);
  const reservation = await page.$eval('#ticket-list li[data-status="CONFIRMED"]', (li) => li.dataset.reservation);
  const tickets = await t.http.call(server, 'GET', '/reservations/' + reservation + '/tickets', { token });
  assert.equal(tickets.status, 200, tickets.text);
  const shown = await page.$eval('.pass img.qr', async (img) => {
    const canvas = document.createElement('canvas');
    canvas.width = img.naturalWidth;
    canvas.height = img.naturalHeight;
    canvas.getContext('2d').drawImage(img, 0, 0);
    return canvas.toDataURL('image/png');
  });
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'encore-qr-')), 'ticket.png');
  fs.writeFileSync(file, Buffer.from(shown.split(',')[1], 'base64'));
  const decoded = execFileSync('zbarimg', ['--quiet', '--raw', file], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  assert.equal(decoded, tickets.body.tickets[0].code);

  // At the door: the first ticket checked in; shown again, it reads Admitted.
  const scanned = await t.http.call(server, 'POST', '/admin/concerts/' + concert.concertId + '/checkins',
    { admin: true, body: { code: decoded, date: t.DATE } });
  assert.equal(scanned.status, 200);
  await t.click(page, '#ticket-list li[data-status="CONFIRMED"] button[data-action="tickets"]');
  await t.click(page, '#ticket-list li[data-status="CONFIRMED"] button[data-action="tickets"]');
  await t.waitForText(page, '.pass[data-status="ADMITTED"] figcaption', /Admitted/);

  // A phone: the QR code is at least 250 px wide, within the screen.
  await page.setViewport(t.PHONE);
  await page.waitForSelector('#ticket-list li[data-status="CONFIRMED"] button[data-action="tickets"]');
  await t.click(page, '#ticket-list li[data-status="CONFIRMED"] button[data-action="tickets"]');
  await page.waitForFunction(() => [...document.querySelectorAll('.pass img.qr')].every((i) => i.complete && i.naturalWidth > 0)
    && document.querySelectorAll('.pass img.qr').length === 2);
  const width = await page.$eval('.pass img.qr', (i) => i.getBoundingClientRect().width);
  const right = await page.$eval('.pass img.qr', (i) => i.getBoundingClientRect().right);
  assert.ok(width >= 250, 'QR code ' + width + ' px wide');
  assert.ok(right <= 390, 'QR code past the screen edge: ' + right);
  await t.screenshotOf(page, '.passes', 'tickets-2-phone');
  fan.check();
  await fan.close();
});
