// The fan's web page: account and wallet, concerts, the waiting room (live over Server-Sent
// Events, polling when the stream fails), the seat map by row, holds with a countdown, payment,
// cancellation, refunds and the wallet's history. Served as /app.js; talks only to this origin's
// API (shared/API.md). What a reload must not lose (the user token, the current concert and date,
// the queue tokens) is kept in localStorage.
'use strict';

(() => {
  const STORE_KEY = 'encore.state.v1';
  const SEATS_PER_ROW_DEFAULT = 25;   // API.md: schedules[].seatsPerRow defaults to 25
  const SEAT_POLL_MS = 2000;          // the server frees an expired hold within 2 s
  const QUEUE_POLL_MS = 3000;         // only when the event stream cannot be used
  const STREAM_FAILURES_MAX = 3;      // errors in a row before the stream is given up for polling
  const RESERVATIONS_PAGE = 20;
  const HISTORY_PAGE = 10;
  const TIER_CLASSES = 6;             // app.css has tier-0 .. tier-5
  const SEAT_PX = 44;                 // app.css: a 44 px seat and a 4 px gap
  const SEAT_PITCH_PX = 48;
  const LARGE_MAP_SEATS = 2000;       // past this, rows off screen are not laid out
  const ROW_LABEL_PX = 56;
  const FINAL_STATUSES = new Set(['EXPIRED', 'COMPLETED']);

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  // ---- state -----------------------------------------------------------------------------------
  let saved = {};
  try {
    saved = JSON.parse(localStorage.getItem(STORE_KEY) || '{}') || {};
  } catch (_) {
    saved = {};
  }
  const S = {
    token: saved.token || null,
    userId: saved.userId || null,
    name: saved.name || '',
    concertId: saved.concertId || null,
    queueTokens: saved.queueTokens || {},
    date: saved.date || null,
    prices: saved.prices || {},       // concertId -> {min, max}, from seat maps seen
    concerts: [],
    queue: null,                      // the last queue status of the current concert
    generation: 0,                    // bumped when the concert changes: late answers are dropped
    stream: null,
    queuePollTimer: null,
    seatPollTimer: null,
    datesLoaded: false,
    availableDates: null,             // date -> {availableSeats, totalSeats, ...}
    map: null,                        // {concertId, date, etag, seats, perRow, asOf, stale}
    seatButtons: new Map(),
    seatShown: new Map(),             // number -> what the button last showed
    focusSeat: null,
    selected: new Set(),
    reservations: [],
    reservationsCursor: null,
    history: [],
    historyCursor: null,
    skewMs: 0,                        // server clock minus ours, from fresh holds
    firstPosition: null,
    expiredRefresh: new Set(),        // holds past expiresAt whose release is awaited
    expiredSeen: new Set(),           // ... whose expiry was announced
    warned: new Set(),                // ... whose last minute was announced
  };

  function persist() {
    const kept = {
      token: S.token, userId: S.userId, name: S.name, concertId: S.concertId,
      queueTokens: S.queueTokens, date: S.date, prices: S.prices,
    };
    try {
      localStorage.setItem(STORE_KEY, JSON.stringify(kept));
    } catch (_) {
      // Private mode or a full store: the page still works, it only forgets on reload.
    }
  }

  const now = () => Date.now() + S.skewMs;

  // ---- words -----------------------------------------------------------------------------------
  const ERROR_WORDS = {
    UNAUTHORIZED: 'We could not confirm who you are. Please create your account again.',
    QUEUE_TOKEN_INVALID: 'Your place in the waiting room is not valid for this concert. Please join the waiting room again.',
    QUEUE_TOKEN_EXPIRED: 'Your turn to choose seats has ended. Join the waiting room again to buy more.',
    NOT_YOUR_TURN: 'It is not your turn yet. Please wait in the waiting room; this page will tell you when it is.',
    CONCERT_NOT_FOUND: 'This concert no longer exists.',
    DATE_NOT_FOUND: 'This concert has no such date.',
    DATE_NOT_BOOKABLE: 'This date cannot be booked.',
    INVALID_SEAT: 'That seat does not exist.',
    SEAT_TAKEN: 'Sorry, someone else took that seat a moment ago. Please choose another one.',
    HOLD_LIMIT: 'You are already holding as many seats as this concert allows. Pay for or cancel a hold first.',
    TICKET_LIMIT: 'That would be more tickets than one fan may have for this concert.',
    NO_ADJACENT_SEATS: 'There are not that many free seats together in one row. Try fewer seats, or choose them yourself.',
    INSUFFICIENT_BALANCE: 'Your wallet does not have enough money for this. Add money and pay again; your seats stay held until the timer runs out.',
    ALREADY_PAID: 'This booking is already paid.',
    RESERVATION_CANCELLED: 'This hold was cancelled, so it can no longer be paid.',
    HOLD_EXPIRED: 'This hold ran out of time and its seats were released.',
    RESERVATION_NOT_FOUND: 'We could not find this booking.',
    NOT_PAID: 'Only a paid booking can be refunded.',
    ALREADY_REFUNDED: 'This booking has already been refunded.',
    REFUND_NOT_ALLOWED: 'This booking cannot be refunded: the concert allows no refunds, or the refund period is over.',
    INVALID_AMOUNT: 'Please enter a whole amount from 1 to 1,000,000,000 won.',
    BALANCE_LIMIT: 'That would put more money in your wallet than it can hold.',
    IDEMPOTENCY_KEY_REUSED: 'This request clashed with an earlier one. Please try again.',
    TIMEOUT: 'The server is busy and did not confirm in time. Please try again in a moment.',
    OVERLOADED: 'The server is very busy right now. Please try again in a moment.',
    NOT_READY: 'The service is starting up. Please try again in a moment.',
    PAYLOAD_TOO_LARGE: 'That request was too large.',
    INTERNAL: 'Something went wrong on our side. Please try again.',
    NOT_FOUND: 'This action is not available on this server yet.',
    METHOD_NOT_ALLOWED: 'This action is not available on this server yet.',
    NETWORK: 'We could not reach the server. Check your connection and try again.',
  };

  function words(result) {
    if (ERROR_WORDS[result.code]) return ERROR_WORDS[result.code];
    if (result.status === 400) return 'The server did not accept this request' + (result.message ? ': ' + result.message : '.');
    if (result.status >= 500) return ERROR_WORDS.INTERNAL;
    return 'Something went wrong' + (result.message ? ': ' + result.message : '.');
  }

  const moneyFormat = new Intl.NumberFormat('en-US');
  const won = (amount) => moneyFormat.format(amount) + ' won';

  function formatDate(ymd) {
    const [y, m, d] = String(ymd).split('-').map(Number);
    if (!y || !m || !d) return String(ymd);
    return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', {
      weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
    });
  }

  function formatInstant(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return '';
    return new Date(t).toLocaleString('en-GB', { day: 'numeric', month: 'short', hour: '2-digit', minute: '2-digit' });
  }

  function formatTime(ms) {
    return new Date(ms).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
  }

  function formatClock(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    const minutes = Math.floor(total / 60);
    const seconds = total % 60;
    return minutes + ':' + String(seconds).padStart(2, '0');
  }

  function spokenDuration(ms) {
    const total = Math.max(0, Math.ceil(ms / 1000));
    if (total < 60) return total + (total === 1 ? ' second' : ' seconds');
    const minutes = Math.round(total / 60);
    return minutes + (minutes === 1 ? ' minute' : ' minutes');
  }

  function humanWait(seconds) {
    if (seconds === undefined || seconds === null || Number.isNaN(Number(seconds))) return '';
    const s = Number(seconds);
    if (s <= 0) return 'any moment now';
    if (s < 50) return 'less than a minute';
    const minutes = Math.round(s / 60);
    if (minutes < 60) return 'about ' + minutes + (minutes === 1 ? ' minute' : ' minutes');
    const hours = Math.floor(minutes / 60);
    const rest = minutes % 60;
    return 'about ' + hours + (hours === 1 ? ' hour' : ' hours') + (rest ? ' ' + rest + ' min' : '');
  }

  const shortRef = (id) => String(id || '').replace(/[^A-Za-z0-9]/g, '').slice(-6).toUpperCase();
  const seatsOf = (r) => (Array.isArray(r.seats) && r.seats.length ? r.seats : [r.seat]);

  function concertTitle(concertId) {
    const c = S.concerts.find((x) => x.concertId === concertId);
    return c ? c.title : 'Concert';
  }

  // "Row 1, seats 7, 8" from the seat map of that date when it is loaded, else from the concert's
  // seatsPerRow (GET /concerts' schedules), so that a booking reads the same whichever concert is open.
  function seatsText(r) {
    const seats = seatsOf(r);
    const map = S.map;
    const onMap = map && map.concertId === r.concertId && map.date === r.date;
    const c = S.concerts.find((x) => x.concertId === r.concertId);
    const schedule = c && (c.schedules || []).find((d) => d && d.date === r.date);
    const perRow = schedule && Number(schedule.seatsPerRow);
    if (onMap || perRow) {
      const byRow = new Map();
      for (const n of seats) {
        const row = onMap ? rowOfNumber(n) : Math.ceil(n / perRow);
        if (!byRow.has(row)) byRow.set(row, []);
        byRow.get(row).push(n);
      }
      return [...byRow].map(([row, ns]) => 'Row ' + row + ', ' + (ns.length === 1 ? 'seat ' : 'seats ') + ns.join(', ')).join('; ');
    }
    return (seats.length === 1 ? 'Seat ' : 'Seats ') + seats.join(', ');
  }

  // ---- DOM helpers -----------------------------------------------------------------------------
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else if (k === 'onclick') e.addEventListener('click', v);
        else if (k in e && typeof v !== 'string') e[k] = v;
        else e.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children) {
      if (c === null || c === undefined || c === false) continue;
      e.append(c);
    }
    return e;
  }

  // Draws a list again from `items`, each [key, content, build()]: a child of the same key and the
  // same content is kept as it is, the very element, so that a click under way, the focus, a busy
  // button or an error shown in it survive the redraw; the others are built anew. Children already
  // in their place are not moved, and nothing is touched when nothing changed.
  const drawn = new WeakMap();
  function drawList(list, items) {
    const kept = new Map();
    for (const child of list.children) {
      const d = drawn.get(child);
      if (d) kept.set(d.key, { child, content: d.content });
    }
    const active = document.activeElement;
    const next = items.map(([key, content, build]) => {
      const k = kept.get(key);
      if (k && k.content === content) return k.child;
      const child = build();
      drawn.set(child, { key, content });
      return child;
    });
    next.forEach((child, i) => {
      if (list.children[i] !== child) list.insertBefore(child, list.children[i] || null);
    });
    while (list.children.length > next.length) list.lastElementChild.remove();
    if (active && active !== document.activeElement && active.isConnected) active.focus({ preventScroll: true });
  }

  function setText(id, text) {
    const e = $(id);
    if (e.textContent !== text) e.textContent = text;
  }

  function showError(target, result) {
    const e = typeof target === 'string' ? $(target) : target;
    e.textContent = typeof result === 'string' ? result : words(result);
  }

  function clearError(target) {
    const e = typeof target === 'string' ? $(target) : target;
    e.textContent = '';
  }

  function announce(text) {
    const a = $('announcer');
    a.textContent = '';
    // A fresh text node after a tick, so that a repeated message is announced again.
    setTimeout(() => { a.textContent = text; }, 30);
  }

  function focusHeading(id) {
    const h = $(id);
    if (!h) return;
    h.focus({ preventScroll: false });
  }

  // The same at the end of work started from `from` (a section), unless the user has gone on to a
  // control elsewhere meanwhile: keys typed there must not be lost to a late focus move.
  function focusHeadingUnlessMoved(id, from) {
    const a = document.activeElement;
    if (!a || a === document.body || from.contains(a)) focusHeading(id);
  }

  async function busy(button, label, work) {
    const before = button.textContent;
    button.disabled = true;
    button.setAttribute('aria-busy', 'true');
    if (label) button.textContent = label;
    try {
      return await work();
    } finally {
      button.disabled = false;
      button.removeAttribute('aria-busy');
      if (label && button.isConnected) button.textContent = before;
    }
  }

  // ---- the API ---------------------------------------------------------------------------------
  function newKey() {
    const bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
  }

  async function api(method, path, options = {}) {
    const headers = {};
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (S.token && !options.anonymous) headers.Authorization = 'Bearer ' + S.token;
    if (options.queue) headers['X-Queue-Token'] = options.queue;
    if (options.etag) headers['If-None-Match'] = options.etag;
    if (options.key) headers['Idempotency-Key'] = options.key;
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: 'no-store', credentials: 'omit',
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (_) {
      return { ok: false, status: 0, code: 'NETWORK', message: '' };
    }
    let data = null;
    if (response.status !== 304 && response.status !== 204) {
      try { data = await response.json(); } catch (_) { data = null; }
    }
    const result = { ok: response.ok, status: response.status, body: data, etag: response.headers.get('ETag') };
    if (!response.ok && response.status !== 304) {
      result.code = (data && data.error && data.error.code) || 'HTTP_' + response.status;
      result.message = (data && data.error && data.error.message) || '';
      result.retryAfter = Number(response.headers.get('Retry-After')) || null;
    }
    if (result.status === 401 && S.token && !options.anonymous) setTimeout(() => accountLost(), 0);
    return result;
  }

  // A command carries an Idempotency-Key, so that one retry after a lost answer or a 503 is
  // applied once.
  async function command(method, path, options = {}) {
    const key = newKey();
    let result = await api(method, path, { ...options, key });
    if (result.status === 0 || result.status === 503) {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      result = await api(method, path, { ...options, key });
    }
    return result;
  }

  // ---- account and wallet ----------------------------------------------------------------------
  function renderAccount() {
    const signedIn = Boolean(S.token);
    $('welcome').hidden = signedIn;
    $('account').hidden = !signedIn;
    $('wallet').hidden = !signedIn;
    $('tickets').hidden = !signedIn;
    setText('who', S.name ? S.name : 'Fan');
  }

  function showBalance(balance) {
    setText('balance', won(balance));
    setText('balance-top', won(balance));
  }

  async function createAccount(event) {
    event.preventDefault();
    clearError('welcome-error');
    const name = $('name').value.trim();
    await busy($('create-account'), 'Creating…', async () => {
      const r = await command('POST', '/users', { body: name ? { name } : {}, anonymous: true });
      if (!r.ok) return showError('welcome-error', r);
      S.token = r.body.token;
      S.userId = r.body.userId;
      S.name = name;
      S.queueTokens = {};
      persist();
      renderAccount();
      showBalance(0);
      await Promise.all([loadHistory(true), loadReservations(true)]);
      renderConcerts();
      announce('Account created. Add money to your wallet, then pick a concert.');
      focusHeadingUnlessMoved('concerts-h', $('welcome'));
    });
  }

  async function loadAccount() {
    const r = await api('GET', '/users/me/balance');
    if (r.status === 401) return false;
    if (!r.ok) {
      showError('wallet-error', r);
      return true;
    }
    S.userId = r.body.userId;
    showBalance(r.body.balance);
    await Promise.all([loadHistory(true), loadReservations(true)]);
    return true;
  }

  function accountLost() {
    if (!S.token) return;
    leaveConcert();
    S.token = null;
    S.userId = null;
    S.queueTokens = {};
    S.concertId = null;
    S.date = null;
    S.reservations = [];
    S.history = [];
    persist();
    renderAccount();
    renderHolds();
    renderConcerts();
    $('queue').hidden = true;
    $('booking').hidden = true;
    showError('welcome-error', 'Your saved account is not known to this server any more. Create a new account to continue.');
    focusHeading('welcome-h');
  }

  async function charge(event) {
    event.preventDefault();
    clearError('wallet-error');
    setText('wallet-message', '');
    const amount = Number($('charge-amount').value);
    if (!Number.isInteger(amount) || amount < 1 || amount > 1000000000) return showError('wallet-error', ERROR_WORDS.INVALID_AMOUNT);
    await busy($('charge'), 'Adding…', async () => {
      const r = await command('POST', '/users/me/balance/charge', { body: { amount } });
      if (!r.ok) return showError('wallet-error', r);
      showBalance(r.body.balance);
      setText('wallet-message', 'Added ' + won(amount) + '. Your balance is ' + won(r.body.balance) + '.');
      await loadHistory(true);
    });
  }

  async function loadHistory(reset) {
    if (!S.token) return;
    const cursor = reset ? null : S.historyCursor;
    const r = await api('GET', '/users/me/balance/history?limit=' + HISTORY_PAGE + (cursor ? '&cursor=' + enc(cursor) : ''));
    if (!r.ok) return showError('history-error', r);
    clearError('history-error');
    S.history = reset ? r.body.entries : S.history.concat(r.body.entries);
    S.historyCursor = r.body.nextCursor || null;
    renderHistory();
  }

  function renderHistory() {
    const list = $('history-list');
    list.replaceChildren();
    const labels = { CHARGE: 'Money added', PAYMENT: 'Payment', REFUND: 'Refund' };
    for (const e of S.history) {
      const minus = e.type === 'PAYMENT';
      const what = labels[e.type] || e.type;
      const ref = e.reservationId ? ' · booking ' + shortRef(e.reservationId) : '';
      list.append(el('li', null,
        el('span', null, el('b', { text: what }), el('span', { class: 'muted', text: ' ' + formatInstant(e.at) + ref })),
        el('span', null,
          el('span', { class: minus ? 'amount-minus' : 'amount-plus', text: (minus ? '−' : '+') + won(Math.abs(e.amount)) }),
          el('span', { class: 'muted', text: ' · balance ' + won(e.balanceAfter) }))));
    }
    $('history-empty').hidden = S.history.length > 0;
    $('history-more').hidden = !S.historyCursor;
  }

  // ---- reservations: holds and bookings --------------------------------------------------------
  async function loadReservations(reset) {
    if (!S.token) return;
    const cursor = reset ? null : S.reservationsCursor;
    const r = await api('GET', '/users/me/reservations?limit=' + RESERVATIONS_PAGE + (cursor ? '&cursor=' + enc(cursor) : ''));
    if (!r.ok) return showError('tickets-error', r);
    clearError('tickets-error');
    const page = r.body.reservations || [];
    if (reset) {
      S.reservations = page;
    } else {
      const known = new Set(S.reservations.map((x) => x.reservationId));
      S.reservations = S.reservations.concat(page.filter((x) => !known.has(x.reservationId)));
    }
    S.reservationsCursor = r.body.nextCursor || null;
    renderHolds();
    renderTickets();
    if (S.map) renderMap();
  }

  function heldReservations() {
    return S.reservations.filter((r) => r.status === 'HELD');
  }

  // Seats of the map's date that are this user's: number -> 'HELD' | 'SOLD'.
  function mySeats(concertId, date) {
    const mine = new Map();
    for (const r of S.reservations) {
      if (r.concertId !== concertId || r.date !== date) continue;
      if (r.status === 'HELD' && Date.parse(r.expiresAt) > now() - 3000) for (const n of seatsOf(r)) mine.set(n, 'HELD');
      if (r.status === 'CONFIRMED') for (const n of seatsOf(r)) mine.set(n, 'SOLD');
    }
    return mine;
  }

  function renderHolds() {
    const holds = heldReservations();
    const list = $('hold-list');
    const restore = focusKeeper(list);
    drawList(list, holds.map((r) => [r.reservationId,
      JSON.stringify([r.status, concertTitle(r.concertId), r.date, seatsText(r), r.price, r.expiresAt]), () => holdCard(r)]));
    $('holds').hidden = !S.token || (holds.length === 0 && !$('holds-message').textContent);
    tickTimers();
    restore();
  }

  function holdCard(r) {
    const error = el('p', { class: 'error', role: 'alert' });
    const timer = el('span', { class: 'timer', role: 'timer', 'data-expires': r.expiresAt, 'aria-live': 'off' });
    const payButton = el('button', { type: 'button', 'data-action': 'pay', text: 'Pay ' + won(r.price) });
    const cancelButton = el('button', { type: 'button', class: 'secondary', 'data-action': 'cancel', text: 'Cancel hold' });
    payButton.addEventListener('click', () => pay(r, payButton, error));
    cancelButton.addEventListener('click', () => cancel(r, cancelButton, error));
    return el('li', { class: 'card hold', 'data-reservation': r.reservationId, 'data-status': r.status },
      el('h3', { text: concertTitle(r.concertId) }),
      el('p', { class: 'meta', text: formatDate(r.date) + ' · ' + seatsText(r) }),
      el('p', null, 'Total ', el('b', { text: won(r.price) })),
      el('p', { class: 'countdown' }, 'Time left to pay: ', timer),
      el('div', { class: 'actions' }, payButton, cancelButton),
      error);
  }

  // A list drawn again keeps the focus on the same button of the same reservation, if still there.
  function focusKeeper(list) {
    const active = document.activeElement;
    const card = active && list.contains(active) ? active.closest('[data-reservation]') : null;
    if (!card || !active.dataset.action) return () => {};
    const id = card.dataset.reservation;
    const action = active.dataset.action;
    return () => {
      const again = list.querySelector('[data-reservation="' + CSS.escape(id) + '"] [data-action="' + CSS.escape(action) + '"]');
      if (again) again.focus();
    };
  }

  const STATUS_WORDS = {
    CONFIRMED: 'Confirmed', REFUNDED: 'Refunded', EXPIRED: 'Expired — not paid in time',
    CANCELLED: 'Cancelled', HELD: 'Held',
  };

  function renderTickets() {
    const list = $('ticket-list');
    const restore = focusKeeper(list);
    const bookings = S.reservations.filter((r) => r.status !== 'HELD');
    drawList(list, bookings.map((r) => {
      let when = '';
      if (r.status === 'CONFIRMED' && r.paidAt) when = ' · paid ' + formatInstant(r.paidAt);
      if (r.status === 'REFUNDED' && r.refundedAt) when = ' · refunded ' + formatInstant(r.refundedAt);
      return [r.reservationId, JSON.stringify([r.status, concertTitle(r.concertId), r.date, seatsText(r), r.price, when]), () => ticketCard(r, when)];
    }));
    $('tickets-empty').hidden = bookings.length > 0;
    $('tickets-more').hidden = !S.reservationsCursor;
    restore();
  }

  function ticketCard(r, when) {
    const error = el('p', { class: 'error', role: 'alert' });
    const card = el('li', { class: 'card ticket', 'data-reservation': r.reservationId, 'data-status': r.status },
      el('h3', { text: concertTitle(r.concertId) }),
      el('p', { class: 'meta', text: formatDate(r.date) + ' · ' + seatsText(r) }),
      el('p', null, el('span', { class: 'badge ' + r.status, text: STATUS_WORDS[r.status] || r.status }),
        ' ' + won(r.price) + when, el('span', { class: 'muted', text: ' · booking ' + shortRef(r.reservationId) })));
    if (r.status === 'CONFIRMED') {
      const refundButton = el('button', { type: 'button', class: 'danger', 'data-action': 'refund', text: 'Refund ' + won(r.price) });
      refundButton.addEventListener('click', () => refund(r, refundButton, error));
      card.append(el('div', { class: 'actions' }, refundButton));
    }
    card.append(error);
    return card;
  }

  async function pay(r, button, error) {
    clearError(error);
    setText('holds-message', '');
    const result = await busy(button, 'Paying…', () => command('POST', '/reservations/' + enc(r.reservationId) + '/pay'));
    if (!result.ok) {
      showError(error, result);
      if (result.code === 'INSUFFICIENT_BALANCE') {
        const add = el('button', { type: 'button', class: 'secondary', text: 'Add money' });
        add.addEventListener('click', () => { focusHeading('wallet-h'); $('charge-amount').focus(); });
        error.append(' ', add);
      }
      if (result.code === 'HOLD_EXPIRED' || result.code === 'RESERVATION_CANCELLED' || result.code === 'ALREADY_PAID') {
        setTimeout(() => loadReservations(true), 1500);
      }
      return;
    }
    showBalance(result.body.balance);
    // The seats are SOLD now; the seat map may no longer be readable (the queue token is
    // COMPLETED), so it is updated here.
    if (S.map && S.map.concertId === r.concertId && S.map.date === r.date) {
      for (const s of S.map.seats) if (seatsOf(r).includes(s.number)) s.status = 'SOLD';
    }
    const index = S.reservations.findIndex((x) => x.reservationId === r.reservationId);
    if (index >= 0) S.reservations[index] = { ...S.reservations[index], status: 'CONFIRMED', paidAt: result.body.paidAt };
    setText('tickets-message', 'Paid ' + won(result.body.amount) + '. Your booking for ' + formatDate(r.date) + ' (' + seatsText(r) +
      ') is confirmed.');
    renderHolds();
    renderTickets();
    if (S.map) renderMap();
    focusHeading('tickets-h');
    await Promise.all([loadReservations(true), loadHistory(true)]);
  }

  async function cancel(r, button, error) {
    clearError(error);
    const result = await busy(button, 'Cancelling…', () => command('DELETE', '/reservations/' + enc(r.reservationId)));
    if (!result.ok) {
      showError(error, result);
      if (result.code === 'HOLD_EXPIRED' || result.code === 'ALREADY_PAID') setTimeout(() => loadReservations(true), 1500);
      return;
    }
    setText('holds-message', 'Hold cancelled: ' + seatsText(r) + ' on ' + formatDate(r.date) + ' are free again.');
    await loadReservations(true);
    if (isActive()) loadSeats();
    if (!$('booking').hidden) focusHeading('booking-h');
    else focusHeading('holds-h');
  }

  async function refund(r, button, error) {
    clearError(error);
    setText('tickets-message', '');
    const result = await busy(button, 'Refunding…', () => command('POST', '/reservations/' + enc(r.reservationId) + '/refund'));
    if (!result.ok) return showError(error, result);
    setText('tickets-message', 'Refunded ' + won(result.body.price ?? r.price) + ' to your wallet for ' + formatDate(r.date) + ' (' +
      seatsText(r) + ').');
    if (S.map && S.map.concertId === r.concertId && S.map.date === r.date) {
      for (const s of S.map.seats) if (seatsOf(r).includes(s.number)) s.status = 'AVAILABLE';
    }
    focusHeading('tickets-h');
    await Promise.all([loadReservations(true), loadHistory(true), refreshBalance()]);
    if (isActive()) loadSeats();
  }

  async function refreshBalance() {
    const r = await api('GET', '/users/me/balance');
    if (r.ok) showBalance(r.body.balance);
  }

  // One ticker for every countdown on the page: holds and the admitted user's turn.
  function tickTimers() {
    for (const timer of document.querySelectorAll('.timer[data-expires]')) {
      const left = Date.parse(timer.dataset.expires) - now();
      const text = formatClock(left);
      if (timer.textContent !== text) timer.textContent = text;
      timer.classList.toggle('low', left < 60000);
      const card = timer.closest('[data-reservation]');
      if (!card) continue;
      const id = card.dataset.reservation;
      if (left <= 60000 && left > 58000 && !S.warned.has(id)) {
        S.warned.add(id);
        announce('One minute left to pay for your held seats.');
      }
      if (left <= 0 && !card.dataset.expired) {
        card.dataset.expired = '1';
        const pay = card.querySelector('[data-action="pay"]');
        const cancelButton = card.querySelector('[data-action="cancel"]');
        if (pay) pay.disabled = true;
        if (cancelButton) cancelButton.disabled = true;
        showError(card.querySelector('.error'), 'Time is up: this hold has expired and its seats were released.');
        if (!S.expiredSeen.has(id)) {
          S.expiredSeen.add(id);
          announce('Your hold has expired and its seats were released.');
        }
        refreshAfterExpiry(id);
      }
    }
    if (S.queue && S.queue.status === 'ACTIVE' && S.queue.activeUntil) {
      const left = Date.parse(S.queue.activeUntil) - now();
      setText('queue-detail', left > 0 ? 'Your turn ends at ' + formatTime(Date.parse(S.queue.activeUntil)) + ' (in ' +
        formatClock(left) + '). Holding seats does not stop this clock.' : 'Your turn is ending.');
    }
  }

  // The server frees an expired hold within 2 s of expiresAt: ask until it shows.
  function refreshAfterExpiry(id) {
    if (S.expiredRefresh.has(id)) return;
    S.expiredRefresh.add(id);
    let tries = 0;
    const again = async () => {
      tries += 1;
      await loadReservations(true);
      if (isActive()) await loadSeats();
      const r = S.reservations.find((x) => x.reservationId === id);
      if (r && r.status === 'HELD' && tries < 10) setTimeout(again, 1500);
      else S.expiredRefresh.delete(id);
    };
    setTimeout(again, 1200);
  }

  // ---- concerts --------------------------------------------------------------------------------
  async function loadConcerts() {
    const r = await api('GET', '/concerts', { anonymous: true });
    if (!r.ok) {
      setText('concerts-status', '');
      return showError('concerts-error', r);
    }
    clearError('concerts-error');
    S.concerts = r.body.concerts || [];
    renderConcerts();
  }

  function priceText(c) {
    const prices = [];
    for (const d of (c.dates || []).concat(c.schedules || [])) if (d && typeof d === 'object' && typeof d.price === 'number') prices.push(d.price);
    for (const key of ['minPrice', 'maxPrice', 'price']) if (typeof c[key] === 'number') prices.push(c[key]);
    if (Array.isArray(c.prices)) for (const p of c.prices) if (typeof p === 'number') prices.push(p);
    const seen = S.prices[c.concertId];
    if (seen) prices.push(seen.min, seen.max);
    if (!prices.length) return 'Prices are shown on the seat map when it is your turn.';
    const min = Math.min(...prices);
    const max = Math.max(...prices);
    return min === max ? 'Tickets ' + won(min) : 'Tickets ' + won(min) + ' – ' + won(max);
  }

  const dateOf = (d) => (d && typeof d === 'object' ? d.date : d);

  function renderConcerts() {
    setText('concerts-status', S.concerts.length ? '' : 'No concerts are on sale right now.');
    $('concerts-status').hidden = S.concerts.length > 0;
    drawList($('concert-list'), S.concerts.map((c) => {
      const current = c.concertId === S.concertId && Boolean(S.queueTokens[c.concertId]) && !isFinal();
      const label = current ? 'Go to your place in line' : 'Join the waiting room';
      const dates = (c.dates || []).map((d) => formatDate(dateOf(d))).join(' · ');
      const prices = priceText(c);
      const presale = c.onsaleAt && Date.parse(c.onsaleAt) > Date.now() + S.skewMs
        ? 'On sale from ' + formatInstant(c.onsaleAt) + ' · join the pre-queue now' : '';
      const chosen = c.concertId === S.concertId;
      return [c.concertId, JSON.stringify([c.title, c.venue, dates, prices, presale, label, chosen, Boolean(S.token)]), () => {
        const join = el('button', { type: 'button', 'data-concert': c.concertId, text: label, 'aria-label': label + ' for ' + c.title });
        join.addEventListener('click', () => (current ? resumeQueue(true) : joinQueue(c.concertId, join)));
        return el('li', { class: 'card concert', 'aria-current': chosen ? 'true' : null },
          el('h3', { text: c.title }),
          c.venue ? el('p', { class: 'meta', text: c.venue }) : null,
          el('p', { text: dates }),
          el('p', { class: 'muted', text: prices }),
          presale ? el('p', { class: 'meta', text: presale }) : null,
          S.token ? join : el('p', { class: 'hint', text: 'Create your account above to join.' }));
      }];
    }));
  }

  // ---- the waiting room ------------------------------------------------------------------------
  const isActive = () => Boolean(S.queue && S.queue.status === 'ACTIVE');
  const isFinal = () => Boolean(S.queue && FINAL_STATUSES.has(S.queue.status));

  function closeStream() {
    if (S.stream) {
      S.stream.close();
      S.stream = null;
    }
  }

  function stopQueuePolling() {
    clearTimeout(S.queuePollTimer);
    S.queuePollTimer = null;
  }

  function stopSeatPolling() {
    clearTimeout(S.seatPollTimer);
    S.seatPollTimer = null;
  }

  // Everything tied to the current concert stops: late answers of it are dropped by generation.
  function leaveConcert() {
    S.generation += 1;
    closeStream();
    stopQueuePolling();
    stopSeatPolling();
    S.queue = null;
    S.datesLoaded = false;
    S.availableDates = null;
    S.map = null;
    S.selected.clear();
    S.firstPosition = null;
    S.focusSeat = null;
    $('seat-map').replaceChildren();
    $('seat-map').dataset.key = '';
    $('legend').replaceChildren();
    $('dates').replaceChildren();
    $('map-note').hidden = true;
    clearError('booking-error');
    clearError('queue-error');
    renderSelection();
  }

  function switchConcert(concertId) {
    if (concertId === S.concertId) return;
    leaveConcert();
    S.concertId = concertId;
    S.date = null;
    persist();
    renderConcerts();
  }

  async function joinQueue(concertId, button) {
    switchConcert(concertId);
    $('queue').hidden = false;
    setText('queue-concert', concertTitle(concertId));
    clearError('queue-error');
    $('queue-rejoin').hidden = true;
    const work = async () => {
      const generation = S.generation;
      const r = await command('POST', '/concerts/' + enc(concertId) + '/queue');
      if (generation !== S.generation) return;
      if (!r.ok) return showError('queue-error', r);
      S.queueTokens[concertId] = r.body.queueToken;
      persist();
      renderConcerts();
      S.queue = null;
      S.datesLoaded = false;
      if (S.map) { S.map.etag = null; }
      applyQueue(r.body, { joined: true });
      focusHeading(isActive() ? 'booking-h' : 'queue-h');
      if (!isFinal()) openStream();
    };
    return button ? busy(button, 'Joining…', work) : work();
  }

  // After a reload, or from the concert card: the saved queue token's status.
  async function resumeQueue(focus) {
    const concertId = S.concertId;
    const token = S.queueTokens[concertId];
    if (!concertId || !token) return;
    $('queue').hidden = false;
    setText('queue-concert', concertTitle(concertId));
    if (focus) focusHeading(isActive() ? 'booking-h' : 'queue-h');
    if (S.stream || S.queuePollTimer) return;
    if (!S.queue) $('queue-status').textContent = 'Checking your place in line…';
    const generation = S.generation;
    const r = await api('GET', '/concerts/' + enc(concertId) + '/queue', { queue: token });
    if (generation !== S.generation) return;
    if (!r.ok) return queueRefused(r);
    applyQueue(r.body, { resumed: true });
    if (!isFinal()) openStream();
  }

  function queueRefused(r) {
    if (r.status === 401) return;
    if (r.code === 'QUEUE_TOKEN_INVALID') {
      delete S.queueTokens[S.concertId];
      persist();
      renderConcerts();
    }
    if (r.code === 'QUEUE_TOKEN_EXPIRED') return applyQueue({ status: 'EXPIRED', position: 0 });
    showError('queue-error', r);
    $('queue-rejoin').hidden = false;
  }

  function openStream() {
    closeStream();
    stopQueuePolling();
    const concertId = S.concertId;
    const token = S.queueTokens[concertId];
    if (!concertId || !token || !S.token) return;
    if (typeof EventSource === 'undefined') return startQueuePolling();
    const generation = S.generation;
    const url = '/concerts/' + enc(concertId) + '/queue/stream?token=' + enc(S.token) + '&queueToken=' + enc(token);
    const stream = new EventSource(url);
    let failures = 0;
    S.stream = stream;
    document.documentElement.dataset.queueTransport = 'stream';
    stream.addEventListener('queue', (event) => {
      if (generation !== S.generation || S.stream !== stream) return stream.close();
      failures = 0;
      let q;
      try { q = JSON.parse(event.data); } catch (_) { return; }
      applyQueue(q);
    });
    stream.addEventListener('error', () => {
      if (generation !== S.generation || S.stream !== stream) return stream.close();
      if (isFinal()) return closeStream();
      failures += 1;
      // CLOSED: the server refused the stream (a 403, say); CONNECTING: the browser retries, but
      // a stream that keeps failing is given up for polling.
      if (stream.readyState === EventSource.CLOSED || failures >= STREAM_FAILURES_MAX) {
        closeStream();
        startQueuePolling();
      }
    });
  }

  function startQueuePolling() {
    stopQueuePolling();
    const concertId = S.concertId;
    const token = S.queueTokens[concertId];
    if (!concertId || !token) return;
    const generation = S.generation;
    document.documentElement.dataset.queueTransport = 'poll';
    const tick = async () => {
      if (generation !== S.generation) return;
      const r = await api('GET', '/concerts/' + enc(concertId) + '/queue', { queue: token });
      if (generation !== S.generation) return;
      if (r.ok) {
        clearError('queue-error');
        applyQueue(r.body);
        if (isFinal()) return;
      } else if (r.status === 401 || r.status === 403) {
        return queueRefused(r);
      } else {
        showError('queue-error', r);
      }
      S.queuePollTimer = setTimeout(tick, QUEUE_POLL_MS);
    };
    S.queuePollTimer = setTimeout(tick, 0);
  }

  function applyQueue(q, how = {}) {
    const previous = S.queue ? S.queue.status : null;
    S.queue = q;
    const box = $('queue-status');
    box.className = 'status-box ' + q.status;
    $('queue').hidden = false;
    $('queue-rejoin').hidden = !FINAL_STATUSES.has(q.status);
    if (q.status === 'WAITING') {
      if (q.preQueue) {
        const at = q.onsaleAt ? formatInstant(q.onsaleAt) : 'the start of the sale';
        setBox(box, 'You are in the pre-queue.', null);
        setText('queue-detail', 'The sale opens at ' + at + '. Then everyone in the pre-queue gets a random place in line — joining early or often does not change it. Keep this page open.');
      } else {
        const position = Number(q.position) || 0;
        if (S.firstPosition === null || position > S.firstPosition) S.firstPosition = position;
        const lead = position <= 1 ? 'You are next in line.' : 'Your place in line:';
        setBox(box, lead, position > 1 ? position : null, S.firstPosition ? 1 - (position - 1) / S.firstPosition : 0);
        const wait = humanWait(q.estimatedWaitSeconds);
        setText('queue-detail', (wait ? 'Estimated wait: ' + wait + '. ' : '') + 'This page updates by itself — keep it open and we will take you to the seats when it is your turn.');
      }
      hideBooking('You can choose seats when it is your turn.');
    } else if (q.status === 'ACTIVE') {
      setBox(box, 'It is your turn! Choose your seats below.', null, 1);
      if (previous === 'WAITING' && !how.joined) {
        // Admission is claimed by a command within claimSeconds: joining again answers the
        // same token and keeps the turn.
        command('POST', '/concerts/' + enc(S.concertId) + '/queue');
        announce('It is your turn! Choose your seats.');
        const inQueue = !document.activeElement || document.activeElement === document.body || $('queue').contains(document.activeElement);
        showBooking();
        if (inQueue) focusHeading('booking-h');
      } else {
        showBooking();
      }
      tickTimers();
    } else if (q.status === 'COMPLETED') {
      setBox(box, 'Your purchase is complete. Enjoy the show!', null, 1);
      setText('queue-detail', 'Your turn ended when you paid. To buy more seats, join the waiting room again.');
      hideBooking('Your turn ended when you paid, so this seat map no longer updates.');
    } else if (q.status === 'EXPIRED') {
      setBox(box, 'Your turn has ended.', null, 0);
      setText('queue-detail', 'Your time to choose seats ran out. Seats you still hold stay yours until their timer ends. Join the waiting room again to buy.');
      hideBooking('Your turn has ended, so this seat map no longer updates.');
    }
    if (FINAL_STATUSES.has(q.status)) {
      closeStream();
      stopQueuePolling();
      if (previous !== q.status) renderConcerts();
      if (previous && previous !== q.status) announce(box.textContent);
    }
  }

  function setBox(box, lead, position, progress) {
    const text = lead + (position ? ' ' + position : '');
    if (box.dataset.text === text) return;
    box.dataset.text = text;
    const bar = el('span');
    const children = [el('span', { text: lead })];
    if (position) children.push(el('span', { class: 'position', text: '#' + position }));
    if (progress !== undefined) {
      children.push(el('div', { class: 'progress', 'aria-hidden': 'true' }, bar));
      bar.style.width = Math.round(Math.max(0, Math.min(1, progress)) * 100) + '%';
    }
    box.replaceChildren(...children);
  }

  // ---- dates and the seat map ------------------------------------------------------------------
  function showBooking() {
    $('booking').hidden = false;
    $('best-form').hidden = false;
    $('selection').hidden = false;
    if (S.map && S.map.stale) {
      S.map.stale = false;
      $('map-note').hidden = true;
    }
    if (!S.datesLoaded) {
      S.datesLoaded = true;
      loadDates();
    } else if (S.date && !S.seatPollTimer) {
      pollSeats();
    }
  }

  // Not this user's turn: the map stays on screen as it was last seen, but nothing can be held.
  function hideBooking(note) {
    stopSeatPolling();
    S.datesLoaded = false;
    if (!S.map) {
      $('booking').hidden = true;
      return;
    }
    S.map.stale = true;
    S.selected.clear();
    renderSelection();
    $('best-form').hidden = true;
    $('selection').hidden = true;
    const note_el = $('map-note');
    note_el.textContent = note + ' Seats as of ' + formatTime(S.map.asOf) + '.';
    note_el.hidden = false;
    renderMap();
  }

  function bookingRefused(r) {
    if (r.status === 401) return;
    if (r.code === 'NOT_YOUR_TURN') {
      stopSeatPolling();
      S.queue = { ...(S.queue || {}), status: 'WAITING' };
      return openStream();
    }
    if (r.code === 'QUEUE_TOKEN_EXPIRED' || r.code === 'QUEUE_TOKEN_INVALID') {
      stopSeatPolling();
      if (r.code === 'QUEUE_TOKEN_INVALID') return queueRefused(r);
      // The stream may not have told yet: ask once.
      return refreshQueueOnce();
    }
    showError('booking-error', r);
  }

  async function refreshQueueOnce() {
    const concertId = S.concertId;
    const token = S.queueTokens[concertId];
    if (!token) return;
    const generation = S.generation;
    const r = await api('GET', '/concerts/' + enc(concertId) + '/queue', { queue: token });
    if (generation !== S.generation) return;
    if (r.ok) applyQueue(r.body);
    else queueRefused(r);
  }

  async function loadDates() {
    const concertId = S.concertId;
    const generation = S.generation;
    const r = await api('GET', '/concerts/' + enc(concertId) + '/dates', { queue: S.queueTokens[concertId] });
    if (generation !== S.generation) return;
    if (!r.ok) {
      S.datesLoaded = false;
      return bookingRefused(r);
    }
    clearError('booking-error');
    S.availableDates = new Map((r.body.dates || []).map((d) => [d.date, d]));
    const all = allDates();
    if (!S.date || !all.includes(S.date)) S.date = all.find((d) => S.availableDates.has(d)) || all[0] || null;
    persist();
    renderDates();
    if (S.date) selectDate(S.date, true);
  }

  function allDates() {
    const concert = S.concerts.find((c) => c.concertId === S.concertId);
    const dates = concert ? (concert.dates || []).map(dateOf) : [];
    for (const d of S.availableDates ? S.availableDates.keys() : []) if (!dates.includes(d)) dates.push(d);
    return dates.sort();
  }

  function renderDates() {
    drawList($('dates'), allDates().map((d) => {
      const info = S.availableDates && S.availableDates.get(d);
      const detail = info ? info.availableSeats + ' of ' + info.totalSeats + ' seats left' : 'Sold out';
      const pressed = d === S.date ? 'true' : 'false';
      const disabled = !info && d !== S.date;
      return [d, JSON.stringify([detail, pressed, disabled]), () => {
        const b = el('button', { type: 'button', 'aria-pressed': pressed, 'data-date': d }, formatDate(d), el('small', { text: detail }));
        b.disabled = disabled;
        b.addEventListener('click', () => selectDate(d, false));
        return b;
      }];
    }));
  }

  function selectDate(date, restoring) {
    const changed = date !== S.date || !S.map || S.map.date !== date || S.map.concertId !== S.concertId;
    S.date = date;
    persist();
    for (const b of $('dates').querySelectorAll('button')) b.setAttribute('aria-pressed', b.dataset.date === date ? 'true' : 'false');
    if (changed) {
      S.selected.clear();
      S.map = null;
      S.focusSeat = null;
      renderSelection();
      renderMap();
    }
    pollSeats();
    if (!restoring && changed) announce('Showing seats for ' + formatDate(date) + '.');
  }

  function pollSeats() {
    stopSeatPolling();
    const generation = S.generation;
    const date = S.date;
    const tick = async () => {
      if (generation !== S.generation || date !== S.date || !isActive()) return;
      const ok = await loadSeats();
      if (!ok || generation !== S.generation || date !== S.date || !isActive()) return;
      S.seatPollTimer = setTimeout(tick, SEAT_POLL_MS);
    };
    S.seatPollTimer = setTimeout(tick, 0);
  }

  async function loadSeats() {
    const concertId = S.concertId;
    const date = S.date;
    const generation = S.generation;
    if (!concertId || !date) return false;
    const same = S.map && S.map.concertId === concertId && S.map.date === date;
    const r = await api('GET', '/concerts/' + enc(concertId) + '/dates/' + enc(date) + '/seats',
      { queue: S.queueTokens[concertId], etag: same ? S.map.etag : null });
    if (generation !== S.generation || date !== S.date) return false;
    if (r.status === 304) {
      S.map.asOf = Date.now();
      return true;
    }
    if (!r.ok) {
      bookingRefused(r);
      return false;
    }
    clearError('booking-error');
    const info = S.availableDates && S.availableDates.get(date);
    const perRow = Number(r.body.seatsPerRow) || Number(info && info.seatsPerRow) || SEATS_PER_ROW_DEFAULT;
    S.map = { concertId, date, etag: r.etag, seats: r.body.seats || [], perRow, asOf: Date.now(), stale: false };
    rememberPrices(concertId, S.map.seats);
    updateDateCount();
    renderMap();
    return true;
  }

  function rememberPrices(concertId, seats) {
    if (!seats.length) return;
    let min = Infinity;
    let max = -Infinity;
    for (const s of seats) {
      if (s.price < min) min = s.price;
      if (s.price > max) max = s.price;
    }
    const known = S.prices[concertId];
    const next = known ? { min: Math.min(known.min, min), max: Math.max(known.max, max) } : { min, max };
    if (!known || known.min !== next.min || known.max !== next.max) {
      S.prices[concertId] = next;
      persist();
      renderConcerts();
    }
  }

  function updateDateCount() {
    const m = S.map;
    if (!m || !S.availableDates) return;
    const info = S.availableDates.get(m.date) || { date: m.date, totalSeats: m.seats.length };
    info.availableSeats = m.seats.filter((s) => s.status === 'AVAILABLE').length;
    info.totalSeats = m.seats.length;
    S.availableDates.set(m.date, info);
    const b = $('dates').querySelector('button[data-date="' + CSS.escape(m.date) + '"] small');
    if (b) b.textContent = info.availableSeats + ' of ' + info.totalSeats + ' seats left';
  }

  function rowOf(seat) {
    if (seat.row !== undefined && seat.row !== null) return seat.row;
    return rowOfNumber(seat.number);
  }

  function rowOfNumber(n) {
    const m = S.map;
    if (m) {
      const seat = m.byNumber ? m.byNumber.get(n) : null;
      if (seat && seat.row !== undefined && seat.row !== null) return seat.row;
    }
    return Math.ceil(n / ((m && m.perRow) || SEATS_PER_ROW_DEFAULT));
  }

  function tiersOf(seats) {
    const prices = [...new Set(seats.map((s) => s.price))].sort((a, b) => b - a);
    return new Map(prices.map((p, i) => [p, i]));
  }

  // Builds the rows once per date (and seat count); later maps only update what changed.
  function renderMap() {
    const box = $('seat-map');
    const m = S.map;
    if (!m) {
      box.replaceChildren();
      box.dataset.key = '';
      $('legend').replaceChildren();
      S.seatButtons.clear();
      S.seatShown.clear();
      return;
    }
    m.byNumber = new Map(m.seats.map((s) => [s.number, s]));
    const tiers = tiersOf(m.seats);
    const key = m.concertId + '/' + m.date + '/' + m.seats.length + '/' + m.perRow + '/' + m.seats.some((s) => s.row !== undefined);
    if (box.dataset.key !== key) buildMap(box, m, key);
    const mine = mySeats(m.concertId, m.date);
    // A selected seat someone else took is dropped from the selection, and the fan told.
    const lost = [];
    for (const n of S.selected) {
      const s = m.byNumber.get(n);
      if (!s || s.status !== 'AVAILABLE' || mine.has(n)) {
        S.selected.delete(n);
        if (!mine.has(n)) lost.push(n);
      }
    }
    if (lost.length) showError('booking-error', (lost.length === 1 ? 'Seat ' + lost[0] + ' was' : 'Seats ' + lost.join(', ') + ' were') +
      ' just taken by someone else and removed from your selection.');
    for (const s of m.seats) {
      const b = S.seatButtons.get(s.number);
      if (!b) continue;
      const own = mine.get(s.number);
      const status = own === 'SOLD' ? 'SOLD' : own === 'HELD' ? 'HELD' : s.status;
      const selected = S.selected.has(s.number);
      const tier = tiers.get(s.price) % TIER_CLASSES;
      const shown = status + '|' + (own || '') + '|' + selected + '|' + tier + '|' + s.price + '|' + m.stale;
      if (S.seatShown.get(s.number) === shown) continue;
      S.seatShown.set(s.number, shown);
      b.className = 'seat ' + status + ' tier-' + tier + (own ? ' mine' : '') + (selected ? ' selected' : '');
      b.dataset.status = status;
      let state;
      if (own === 'SOLD') state = 'sold to you';
      else if (own === 'HELD') state = 'held by you';
      else if (status === 'AVAILABLE') state = selected ? 'selected' : 'available';
      else state = status === 'SOLD' ? 'sold' : 'held by someone else';
      b.setAttribute('aria-label', 'Row ' + rowOf(s) + ', seat ' + s.number + ', ' + won(s.price) + ', ' + state);
      const selectable = status === 'AVAILABLE' && !own && !m.stale;
      if (selectable) {
        b.removeAttribute('aria-disabled');
        b.setAttribute('aria-pressed', selected ? 'true' : 'false');
      } else {
        b.setAttribute('aria-disabled', 'true');
        b.removeAttribute('aria-pressed');
      }
    }
    renderLegend(tiers, mine);
    renderSelection();
  }

  function buildMap(box, m, key) {
    const hadFocus = box.contains(document.activeElement) ? S.focusSeat : null;
    box.dataset.key = key;
    S.seatButtons.clear();
    S.seatShown.clear();
    const rows = new Map();
    for (const s of m.seats) {
      const row = rowOf(s);
      if (!rows.has(row)) rows.set(row, []);
      rows.get(row).push(s);
    }
    const large = m.seats.length > LARGE_MAP_SEATS;
    box.classList.toggle('large', large);
    const fragment = document.createDocumentFragment();
    fragment.append(el('div', { class: 'stage', 'aria-hidden': 'true', text: 'STAGE' }));
    for (const [row, seats] of rows) {
      const line = el('div', { class: 'seat-row', role: 'group', 'aria-label': 'Row ' + row, 'data-row': String(row) },
        el('span', { class: 'row-label', 'aria-hidden': 'true', text: 'Row ' + row }));
      // In a large hall rows off screen are not laid out (content-visibility): this is the size
      // they will take.
      if (large) line.style.containIntrinsicSize = 'auto ' + (ROW_LABEL_PX + seats.length * SEAT_PITCH_PX) + 'px auto ' + SEAT_PX + 'px';
      for (const s of seats) {
        const b = el('button', { type: 'button', class: 'seat', 'data-seat': String(s.number), tabindex: '-1', text: String(s.number) });
        S.seatButtons.set(s.number, b);
        line.append(b);
      }
      fragment.append(line);
    }
    box.replaceChildren(fragment);
    if (!S.seatButtons.has(S.focusSeat)) {
      const first = m.seats.find((s) => s.status === 'AVAILABLE') || m.seats[0];
      S.focusSeat = first ? first.number : null;
    }
    const current = S.seatButtons.get(S.focusSeat);
    if (current) current.tabIndex = 0;
    if (hadFocus !== null && current) current.focus();
    // Holds and bookings of this date can now name their rows.
    renderHolds();
    renderTickets();
  }

  function renderLegend(tiers, mine) {
    const items = [];
    const tierList = [...tiers].sort((a, b) => a[1] - b[1]);
    for (const [price, index] of tierList) {
      const cls = index % TIER_CLASSES === 0 ? 'available' : 'tier-' + (index % TIER_CLASSES);
      items.push(el('span', null, el('i', { class: cls, 'aria-hidden': 'true' }), 'Available · ' + won(price)));
    }
    items.push(el('span', null, el('i', { class: 'selected', 'aria-hidden': 'true' }), 'Selected'));
    if ([...mine.values()].includes('HELD')) items.push(el('span', null, el('i', { class: 'mine', 'aria-hidden': 'true' }), 'Held by you'));
    if ([...mine.values()].includes('SOLD')) items.push(el('span', null, el('i', { class: 'mine-sold', 'aria-hidden': 'true' }), 'Yours'));
    items.push(el('span', null, el('i', { class: 'HELD', 'aria-hidden': 'true' }), 'Held'));
    items.push(el('span', null, el('i', { class: 'SOLD', 'aria-hidden': 'true' }), 'Sold'));
    const legend = $('legend');
    const text = items.map((i) => i.textContent).join('|');
    if (legend.dataset.text === text) return;
    legend.dataset.text = text;
    legend.replaceChildren(...items);
  }

  function moveSeatFocus(button) {
    const previous = S.seatButtons.get(S.focusSeat);
    if (previous) previous.tabIndex = -1;
    S.focusSeat = Number(button.dataset.seat);
    button.tabIndex = 0;
    button.focus();
    button.scrollIntoView({ block: 'nearest', inline: 'nearest' });
  }

  function seatKeydown(event) {
    const b = event.target.closest && event.target.closest('button.seat');
    if (!b) return;
    const row = b.parentElement;
    const inRow = [...row.querySelectorAll('button.seat')];
    const index = inRow.indexOf(b);
    const rowAt = (offset) => {
      let r = row;
      for (let i = 0; i < Math.abs(offset) && r; i++) r = offset > 0 ? r.nextElementSibling : r.previousElementSibling;
      return r && r.classList.contains('seat-row') ? r : null;
    };
    let target = null;
    switch (event.key) {
      case 'ArrowRight': {
        const next = rowAt(1);
        target = inRow[index + 1] || (next && next.querySelector('button.seat'));
        break;
      }
      case 'ArrowLeft': {
        const prev = rowAt(-1);
        target = inRow[index - 1] || (prev && [...prev.querySelectorAll('button.seat')].pop());
        break;
      }
      case 'ArrowDown':
      case 'ArrowUp':
      case 'PageDown':
      case 'PageUp': {
        const step = { ArrowDown: 1, ArrowUp: -1, PageDown: 5, PageUp: -5 }[event.key];
        let other = rowAt(step);
        if (!other) {
          // Past the first or last row: go as far as there is.
          for (let s = step; s !== 0 && !other; s -= Math.sign(step)) other = rowAt(s);
        }
        if (other) {
          const seats = [...other.querySelectorAll('button.seat')];
          target = seats[Math.min(index, seats.length - 1)];
        }
        break;
      }
      case 'Home':
        target = inRow[0];
        break;
      case 'End':
        target = inRow[inRow.length - 1];
        break;
      default:
        return;
    }
    event.preventDefault();
    if (target) moveSeatFocus(target);
  }

  function seatClick(event) {
    const b = event.target.closest && event.target.closest('button.seat');
    if (!b || !S.map) return;
    const n = Number(b.dataset.seat);
    if (S.focusSeat !== n) moveSeatFocus(b);
    if (b.getAttribute('aria-disabled') === 'true') {
      const own = b.classList.contains('mine') ? ' by you' : '';
      const why = S.map.stale ? 'cannot be chosen now: it is not your turn' : (b.dataset.status === 'SOLD' ? 'is sold' : 'is held') + own;
      setText('selection-text', 'Seat ' + n + ' ' + why + '. ' + selectionSummary());
      return;
    }
    if (S.selected.has(n)) S.selected.delete(n);
    else S.selected.add(n);
    clearError('booking-error');
    renderMap();
  }

  function selectionSummary() {
    if (!S.selected.size || !S.map) return 'No seats selected.';
    const seats = [...S.selected].sort((a, b) => a - b);
    const total = seats.reduce((sum, n) => sum + ((S.map.byNumber.get(n) || {}).price || 0), 0);
    const names = seats.map((n) => 'row ' + rowOfNumber(n) + ' seat ' + n);
    return (seats.length === 1 ? '1 seat selected: ' : seats.length + ' seats selected: ') + names.join(', ') + '. Total ' + won(total) + '.';
  }

  function renderSelection() {
    setText('selection-text', selectionSummary());
    const count = S.selected.size;
    const hold = $('hold-selected');
    if (!hold.hasAttribute('aria-busy')) {
      hold.disabled = count === 0;
      hold.textContent = count > 1 ? 'Hold these ' + count + ' seats' : count === 1 ? 'Hold this seat' : 'Hold selected seats';
    }
    $('clear-selection').disabled = count === 0;
  }

  // ---- holding seats ---------------------------------------------------------------------------
  const holdsPath = () => '/concerts/' + enc(S.concertId) + '/dates/' + enc(S.date) + '/holds';
  // Several seats go in one hold: all of them or none (POST .../holds).
  async function holdSelected() {
    const seats = [...S.selected].sort((a, b) => a - b);
    if (!seats.length) return;
    clearError('booking-error');
    await busy($('hold-selected'), 'Holding…', async () => {
      await afterHold(await command('POST', holdsPath(), { body: { seats }, queue: S.queueTokens[S.concertId] }));
    });
    renderSelection();
  }

  // Best available: the server picks `count` seats side by side in the lowest row it can.
  async function holdBest(event) {
    event.preventDefault();
    const count = Number($('best-count').value);
    clearError('booking-error');
    await busy($('hold-best'), 'Finding seats…', async () => {
      await afterHold(await command('POST', holdsPath(), { body: { count }, queue: S.queueTokens[S.concertId] }));
    });
  }

  // The answer to a hold: the reservation is shown with its countdown, or the refusal in words.
  async function afterHold(r) {
    if (!r.ok) {
      if (r.status === 401) return;
      if (['NOT_YOUR_TURN', 'QUEUE_TOKEN_EXPIRED', 'QUEUE_TOKEN_INVALID'].includes(r.code)) bookingRefused(r);
      showError('booking-error', words(r));
    } else {
      if (r.body.heldAt) S.skewMs = Date.parse(r.body.heldAt) - Date.now();
      S.reservations = [r.body].concat(S.reservations.filter((x) => x.reservationId !== r.body.reservationId));
      S.selected.clear();
      setText('holds-message', '');
      renderHolds();
      renderMap();
      const seats = seatsOf(r.body);
      const left = Date.parse(r.body.expiresAt) - Date.parse(r.body.heldAt);
      announce((seats.length === 1 ? 'Seat ' : 'Seats ') + seats.join(', ') + ' held for you. Pay within ' + spokenDuration(left) + '.');
      focusHeading('holds-h');
    }
    await loadReservations(true);
    if (isActive()) await loadSeats();
  }

  // ---- start -----------------------------------------------------------------------------------
  function bind() {
    $('welcome-form').addEventListener('submit', createAccount);
    $('charge-form').addEventListener('submit', charge);
    $('best-form').addEventListener('submit', holdBest);
    $('hold-selected').addEventListener('click', holdSelected);
    $('clear-selection').addEventListener('click', () => {
      S.selected.clear();
      renderMap();
      const focus = S.seatButtons.get(S.focusSeat);
      if (focus) focus.focus();
    });
    $('seat-map').addEventListener('keydown', seatKeydown);
    $('seat-map').addEventListener('click', seatClick);
    $('queue-rejoin').addEventListener('click', () => joinQueue(S.concertId, $('queue-rejoin')));
    $('history-more').addEventListener('click', () => busy($('history-more'), 'Loading…', () => loadHistory(false)));
    $('tickets-more').addEventListener('click', () => busy($('tickets-more'), 'Loading…', () => loadReservations(false)));
    $('balance-link').addEventListener('click', (event) => {
      event.preventDefault();
      $('wallet').scrollIntoView();
      focusHeading('wallet-h');
    });
    // A page brought back from the background: the stream may have been dropped meanwhile.
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && S.concertId && S.queueTokens[S.concertId] && !isFinal() && !S.stream && !S.queuePollTimer) {
        openStream();
      }
    });
  }

  async function start() {
    bind();
    renderAccount();
    renderSelection();
    const concerts = loadConcerts();
    if (S.token) {
      const known = await loadAccount();
      if (!known) {
        await concerts;
        return accountLost();
      }
    } else {
      $('welcome').hidden = false;
    }
    await concerts;
    if (S.token && S.concertId && S.queueTokens[S.concertId]) await resumeQueue(false);
    document.documentElement.dataset.ready = 'true';
  }

  setInterval(tickTimers, 500);
  start();
})();
