// The waiting room live: with one active slot, a second fan waits with a position and an
// estimate, and is admitted over the event stream, without a reload, when the first one pays.
'use strict';

const { test } = require('node:test');
const assert = require('node:assert/strict');
const t = require('./support.cjs');

let server;
let browser;
t.serveAndBrowse((s, b) => {
  [server, browser] = [s, b];
});

test('a waiting fan sees their position and is admitted live (event stream, no reload) when the slot frees', async () => {
  const concert = await server.createConcert({ queue: { activeCapacity: 1, activeTtlSeconds: 600 } });
  const first = await t.newFan(browser, server);
  const second = await t.newFan(browser, server);
  await t.createAccount(first.page, 'First');
  await t.charge(first.page, 100000);
  await t.joinConcert(first.page, concert.title);
  await t.waitForTurn(first.page);

  await t.createAccount(second.page, 'Second');
  await t.joinConcert(second.page, concert.title);
  await second.page.waitForSelector('#queue-status.WAITING');
  await t.waitForText(second.page, '#queue-status', /next in line/);
  await t.waitForText(second.page, '#queue-detail', /Estimated wait: (about \d+ minutes?|less than a minute|any moment now)/);
  assert.equal(await second.page.$eval('#queue-status', (e) => e.getAttribute('aria-live')), 'polite');
  assert.ok(await second.page.$('#booking[hidden]'), 'no seat map while waiting');
  const streams = () => second.requests.filter((r) => new URL(r.url).pathname.endsWith('/queue/stream'));
  const polls = () => second.requests.filter((r) => r.method === 'GET' && new URL(r.url).pathname.endsWith('/queue'));
  await second.page.waitForFunction(() => document.documentElement.dataset.queueTransport === 'stream');
  assert.equal(streams().length, 1);
  const navigations = [];
  second.page.on('framenavigated', (f) => navigations.push(f.url()));

  await t.holdSeats(first.page, [1]);
  await t.click(first.page, '#hold-list button[data-action="pay"]');
  await first.page.waitForSelector('#ticket-list li[data-status="CONFIRMED"]');

  await second.page.waitForSelector('#queue-status.ACTIVE');
  await t.waitForText(second.page, '#queue-status', /your turn/i);
  await second.page.waitForSelector('#seat-map button.seat');
  await t.waitForSeat(second.page, 1, 'SOLD');
  assert.deepEqual(navigations, [], 'the page was not reloaded');
  assert.equal(polls().length, 0, 'admitted by the stream, not by polling');
  assert.equal(streams().length, 1, 'one stream, not reconnected');
  // Admission is claimed (joining again answers the same token) and focus moves to the seats.
  await second.page.waitForFunction(() => document.activeElement && document.activeElement.id === 'booking-h');

  // A final status closes the stream: after paying, no reconnection.
  await t.charge(second.page, 100000);
  await t.holdSeats(second.page, [2]);
  await t.click(second.page, '#hold-list button[data-action="pay"]');
  await t.waitForText(second.page, '#queue-status', /purchase is complete/);
  await t.sleep(4000);
  assert.equal(streams().length, 1, 'the stream was opened again after a final status');
  assert.equal(polls().length, 0);
  first.check();
  second.check();
  await first.close();
  await second.close();
});

test('before onsaleAt a fan waits in the pre-queue without a place, and is admitted live when the sale opens', async () => {
  // The page must be in the pre-queue before the sale opens: a new browser page, an account and the
  // join take a few seconds, and many more on a loaded machine, so the sale opens 20 s from now.
  const onsale = new Date(Date.now() + 20000);
  const concert = await server.createConcert({ onsaleAt: onsale.toISOString() });
  const fan = await t.newFan(browser, server);
  const { page } = fan;
  await t.createAccount(page, 'Early');
  await t.waitForText(page, '#concert-list', /On sale from .* join the pre-queue now/);
  await t.waitForText(page, '#concert-list', /Tickets 80,000 won/);
  await t.joinConcert(page, concert.title);
  await page.waitForSelector('#queue-status.WAITING');
  await t.waitForText(page, '#queue-status', /pre-queue/);
  await t.waitForText(page, '#queue-detail', /The sale opens at .*random place in line/);
  assert.ok(Date.now() < onsale.getTime(), 'the fan joined before the sale opened (the setup took too long)');
  assert.equal(await page.$('#queue-status .position'), null, 'no place shown before the sale opens');
  assert.ok(await page.$('#booking[hidden]'), 'no seat map before the sale opens');
  await t.screenshot(page, 'prequeue-1-waiting');
  // At onsaleAt the server places and admits the pre-queue; the page follows with no reload.
  await page.waitForSelector('#queue-status.ACTIVE', { timeout: 60000 });
  assert.ok(Date.now() >= onsale.getTime(), 'admitted at onsaleAt, not before');
  await t.waitForText(page, '#queue-status', /your turn/i);
  await page.waitForSelector('#seat-map button.seat');
  await t.screenshot(page, 'prequeue-2-admitted');
  fan.check();
  await fan.close();
});
