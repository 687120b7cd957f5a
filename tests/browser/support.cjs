// What every browser test shares: a real `encore serve` on a temporary data directory (a port
// read back from its first line of stdout, like tests/integration/server_process), concerts made
// and traffic driven over HTTP (`http`: users, charges, the waiting room, holds, payments), and
// Debian's Chromium driven by puppeteer-core, headless, with a fresh profile per browser and an
// incognito context per fan (or organizer).
'use strict';

const { spawn } = require('node:child_process');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const readline = require('node:readline');
const assert = require('node:assert/strict');
const puppeteer = require('puppeteer-core');
const { before, after } = require('node:test');

const BINARY = process.env.ENCORE_BINARY || path.resolve(__dirname, '../../build/encore');
const CHROMIUM = process.env.ENCORE_CHROMIUM || '/usr/bin/chromium';
const OUTPUT_DIR = process.env.ENCORE_BROWSER_OUTPUT || path.resolve(__dirname, '../../build/browser-tests/screenshots');
const ADMIN_KEY = 'browser-test-admin-key';
const DATE = '2030-12-24';
const WAIT_MS = 15000;

const servers = new Set();
process.on('exit', () => {
  for (const s of servers) s.child.kill('SIGKILL');
});

// One server and one browser for a test file: started before its first test (handed to `use`),
// closed after its last.
function serveAndBrowse(use) {
  let server;
  let browser;
  before(async () => {
    [server, browser] = await Promise.all([startServer(), launchBrowser()]);
    use(server, browser);
  });
  after(async () => {
    await browser?.close();
    await server?.stop();
  });
}

async function startServer() {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'encore-browser-'));
  const stderrPath = path.join(root, 'stderr.log');
  const stderr = fs.openSync(stderrPath, 'a');
  const child = spawn(BINARY, ['serve', '--data-dir', path.join(root, 'data'), '--listen', '127.0.0.1:0',
    '--admin-key', ADMIN_KEY, '--partitions', '2', '--http-threads', '2'], { stdio: ['ignore', 'pipe', stderr] });
  fs.closeSync(stderr);
  const server = { child, root, stderrPath };
  servers.add(server);
  const tail = () => fs.readFileSync(stderrPath, 'utf8').slice(-4000);
  const firstLine = await new Promise((resolve, reject) => {
    const lines = readline.createInterface({ input: child.stdout });
    const timer = setTimeout(() => reject(new Error('encore serve printed nothing in 30 s; its stderr:\n' + tail())), 30000);
    lines.once('line', (line) => { clearTimeout(timer); resolve(line); });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error('encore serve exited (' + code + '); its stderr:\n' + tail())); });
  });
  child.stdout.resume();
  // "encore serving on http://127.0.0.1:PORT (data in ..., N partitions)"
  const match = /http:\/\/([0-9.]+):([0-9]+)/.exec(firstLine);
  if (!match) throw new Error('cannot read the port from: ' + firstLine);
  server.url = 'http://' + match[1] + ':' + match[2];
  for (let i = 0; ; i++) {
    const ready = await fetch(server.url + '/readyz').then((r) => r.status).catch(() => 0);
    if (ready === 200) break;
    if (i > 300) throw new Error('encore serve never became ready; its stderr:\n' + tail());
    await sleep(100);
  }
  server.stop = async () => {
    servers.delete(server);
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10000);
      await exited;
      clearTimeout(timer);
    }
    fs.rmSync(root, { recursive: true, force: true });
  };
  server.stderrTail = tail;
  server.createConcert = (overrides = {}) => createConcert(server, overrides);
  return server;
}

// One HTTP call to the server, as a client other than the browser would make it: `token` a user
// token, `queueToken` an admission, `admin` true for the admin key. The answer's status and JSON.
async function call(server, method, path, { body, token, queueToken, admin } = {}) {
  const headers = {};
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (token) headers.Authorization = 'Bearer ' + token;
  if (queueToken) headers['X-Queue-Token'] = queueToken;
  if (admin) headers['X-Admin-Key'] = ADMIN_KEY;
  const r = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch (_) { json = null; }
  return { status: r.status, body: json, text };
}

async function expectCall(server, method, path, options, status) {
  const r = await call(server, method, path, options);
  assert.equal(r.status, status, method + ' ' + path + ': ' + r.status + ' ' + r.text);
  return r.body;
}

// Traffic over HTTP, for the pages to show: users, their wallets, the waiting room, holds and
// payments (API.md), each step checked.
const http = {
  call,
  async newUser(server, name) {
    const user = await expectCall(server, 'POST', '/users', { body: name ? { name } : {} }, 201);
    return { ...user, queueTokens: {} };
  },
  async charge(server, user, amount) {
    return expectCall(server, 'POST', '/users/me/balance/charge', { token: user.token, body: { amount } }, 200);
  },
  // Joins the concert's waiting room; the answer (status, position...) is returned.
  async enqueue(server, user, concertId) {
    const r = await call(server, 'POST', '/concerts/' + concertId + '/queue', { token: user.token });
    assert.ok(r.status === 201 || r.status === 200, 'POST queue: ' + r.status + ' ' + r.text);
    user.queueTokens[concertId] = r.body.queueToken;
    return r.body;
  },
  async hold(server, user, concertId, date, seat) {
    return expectCall(server, 'POST', '/concerts/' + concertId + '/dates/' + date + '/seats/' + seat + '/hold',
      { token: user.token, queueToken: user.queueTokens[concertId] }, 201);
  },
  async cancel(server, user, reservationId) {
    return expectCall(server, 'DELETE', '/reservations/' + reservationId, { token: user.token }, 200);
  },
  async pay(server, user, reservationId) {
    return expectCall(server, 'POST', '/reservations/' + reservationId + '/pay', { token: user.token }, 201);
  },
  async admin(server, path) {
    return expectCall(server, 'GET', path, { admin: true }, 200);
  },
};

async function createConcert(server, overrides) {
  const body = {
    title: 'Concert ' + Math.random().toString(36).slice(2, 8),
    venue: 'Olympic Hall',
    schedules: [{ date: DATE, seats: 50, price: 80000 }],
    queue: { activeCapacity: 100, activeTtlSeconds: 600 },
    holdTtlSeconds: 300,
    maxHoldsPerUser: 4,
    ...overrides,
  };
  const created = await expectCall(server, 'POST', '/admin/concerts', { admin: true, body }, 201);
  return { ...body, concertId: created.concertId };
}

async function launchBrowser() {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    // puppeteer-core gives every launch a new empty --user-data-dir of its own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

// A fan: a page of its own incognito context (its own localStorage). Page errors, failed
// scripts and Content-Security-Policy refusals are collected and fail the test in `check`.
// `options.path` opens another page than the fan's (`/admin`), `options.timezone` sets the
// browser's time zone (an IANA name).
async function newFan(browser, server, options = {}) {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  page.setDefaultTimeout(WAIT_MS);
  await page.setViewport(options.viewport || { width: 1280, height: 900 });
  if (options.timezone) await page.emulateTimezone(options.timezone);
  const problems = [];
  page.on('pageerror', (e) => problems.push('page error: ' + e.message));
  // Every console error, for a test that expects none at all (a failed request is one too).
  const consoleErrors = [];
  page.on('console', (m) => {
    const text = m.text();
    if (m.type() === 'error') consoleErrors.push(text);
    if (m.type() === 'error' && /Content Security Policy|Refused to|Uncaught/.test(text)) problems.push('console: ' + text);
  });
  const requests = [];
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));
  const responses = [];
  page.on('response', (r) => responses.push({ method: r.request().method(), url: r.url(), status: r.status() }));
  await page.goto(server.url + (options.path || '/'), { waitUntil: 'load' });
  await page.waitForSelector('html[data-ready="true"]');
  return {
    page, context, problems, consoleErrors, requests, responses,
    check() { assert.deepEqual(problems, [], 'the page reported problems'); },
    close: () => context.close(),
  };
}

// The organizer: the page at /admin, in a context of its own (its own sessionStorage).
const newOrganizer = (browser, server, options = {}) => newFan(browser, server, { ...options, path: '/admin' });

// Signs the organizer's page in with the admin key and waits until the desk is ready: the page
// loads the concerts and then moves the focus to the create form; keys typed before that move
// would go elsewhere.
async function signInOrganizer(page) {
  await fill(page, '#admin-key', ADMIN_KEY);
  await click(page, '#key-submit');
  await page.waitForSelector('#desk:not([hidden])');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'create-h');
}

// Sets a form field's value as a user's input would (date and datetime-local fields included) and
// fires its input and change events.
async function fill(page, selector, value) {
  await page.waitForSelector(selector);
  await page.$eval(selector, (e, v) => {
    e.focus();
    e.value = v;
    e.dispatchEvent(new Event('input', { bubbles: true }));
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }, String(value));
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

async function textOf(page, selector) {
  return page.$eval(selector, (e) => e.textContent);
}

async function waitForText(page, selector, pattern, timeout = WAIT_MS) {
  try {
    await page.waitForFunction((sel, source, flags) => {
      const e = document.querySelector(sel);
      return e && new RegExp(source, flags).test(e.textContent);
    }, { timeout }, selector, pattern.source, pattern.flags);
  } catch (e) {
    const now = await page.$eval(selector, (x) => x.textContent).catch(() => '<no such element>');
    throw new Error('waiting for ' + selector + ' to match ' + pattern + '; it says: ' + JSON.stringify(now));
  }
}

async function createAccount(page, name) {
  await page.type('#name', name);
  await click(page, '#create-account');
  await page.waitForSelector('#account:not([hidden])');
  await waitForText(page, '#who', new RegExp(name));
}

async function charge(page, amount) {
  await page.$eval('#charge-amount', (e) => { e.value = ''; });
  await page.type('#charge-amount', String(amount));
  await click(page, '#charge');
  await waitForText(page, '#wallet-message', /Added/);
}

async function joinConcert(page, title) {
  const selector = 'button[aria-label="Join the waiting room for ' + title + '"]';
  await click(page, selector);
}

async function waitForTurn(page) {
  await page.waitForSelector('#queue-status.ACTIVE');
  await page.waitForSelector('#seat-map button.seat');
}

const seatSelector = (n) => '#seat-map button[data-seat="' + n + '"]';

async function seatStatus(page, n) {
  return page.$eval(seatSelector(n), (b) => b.dataset.status + (b.classList.contains('mine') ? ' mine' : ''));
}

async function waitForSeat(page, n, status, timeout = WAIT_MS) {
  try {
    await page.waitForFunction((sel, want) => {
      const b = document.querySelector(sel);
      return b && (b.dataset.status + (b.classList.contains('mine') ? ' mine' : '')) === want;
    }, { timeout }, seatSelector(n), status);
  } catch (e) {
    throw new Error('seat ' + n + ' never showed ' + status + '; it shows ' + (await seatStatus(page, n).catch(() => '<none>')));
  }
}

// A click that waits for the element to be there, shown and enabled, and starts again from the
// selector whenever a step fails (the page drew the element anew meanwhile: lists are redrawn when
// the reservations change). Puppeteer's locator is not used: once it has scrolled an element into
// view, it waits on that element handle for good, and a list drawn again at that moment left it
// waiting on a detached node until its timeout. When it gives up, it says what the page had under
// the selector, and keeps a screenshot.
async function click(page, selector) {
  const deadline = Date.now() + WAIT_MS;
  let why = null;
  while (Date.now() < deadline) {
    try {
      const handle = await page.waitForSelector(selector, { visible: true, timeout: Math.max(1, deadline - Date.now()) });
      if (await handle.evaluate((e) => e.disabled === true)) throw new Error(selector + ' is disabled');
      await handle.click();
      return;
    } catch (e) {
      why = e;
      await sleep(100);
    }
  }
  const found = await page.$$eval(selector, (all) => all.map((x) => {
    const r = x.getBoundingClientRect();
    return { text: x.textContent.trim().slice(0, 60), disabled: Boolean(x.disabled), shown: x.offsetParent !== null,
      box: [r.x, r.y, r.width, r.height].map(Math.round) };
  })).catch((e) => String(e));
  const shot = await screenshot(page, 'failed-click-' + Date.now()).catch(() => '');
  throw new Error('could not click ' + selector + ' in ' + WAIT_MS + ' ms (last: ' + (why && why.message) + '); the page has ' +
    JSON.stringify(found) + ' (' + shot + ')');
}

async function holdSeats(page, seats) {
  for (const n of seats) await click(page, seatSelector(n));
  await click(page, '#hold-selected');
  try {
    await page.waitForSelector('#hold-list li.hold');
  } catch (e) {
    const shot = await screenshot(page, 'failed-hold-' + seats.join('-') + '-' + Date.now()).catch(() => '');
    throw new Error('no hold of seats ' + seats + ' showed; the page says: ' + JSON.stringify(await textOf(page, '#booking-error')) +
      ' and "' + (await textOf(page, '#selection-text')) + '" (' + shot + ')');
  }
}

// Fails unless every visible control is at least 44 x 44 CSS pixels.
async function smallControls(page) {
  return page.$$eval('button, input, select, a[href]', (controls) => controls
    .filter((e) => e.offsetParent !== null && !e.classList.contains('skip'))
    .map((e) => ({ e, r: e.getBoundingClientRect() }))
    .filter(({ r }) => r.width < 44 || r.height < 44)
    .map(({ e, r }) => (e.id || e.textContent.trim().slice(0, 30)) + ' ' + Math.round(r.width) + 'x' + Math.round(r.height)));
}

async function screenshot(page, name) {
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, name + '.png');
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

// One element of the page alone (a section of a long page at phone width, say).
async function screenshotOf(page, selector, name) {
  fs.mkdirSync(OUTPUT_DIR, { recursive: true });
  const file = path.join(OUTPUT_DIR, name + '.png');
  const element = await page.waitForSelector(selector);
  await element.screenshot({ path: file });
  return file;
}

// A phone as the tests hold one: 390 px wide, touch. Set after the page is open, isMobile makes
// puppeteer reload it.
const PHONE = { width: 390, height: 844, deviceScaleFactor: 1, isMobile: true, hasTouch: true };

module.exports = {
  ADMIN_KEY, DATE, PHONE, click, fill, http, signInOrganizer, startServer, launchBrowser, newFan, newOrganizer, sleep, textOf, waitForText, createAccount, charge, joinConcert, waitForTurn,
  serveAndBrowse, seatSelector, seatStatus, waitForSeat, holdSeats, smallControls, screenshot, screenshotOf, OUTPUT_DIR,
};
