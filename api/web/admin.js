// The organizer's page: the admin key (kept in sessionStorage, sent as X-Admin-Key), a form that
// creates a concert, and for the concert chosen: charts of its timeline drawn here as SVG,
// refreshed every few seconds, the analytics per date and the history of any seat. Served as
// /admin.js; talks only to this origin's API (shared/API.md).
'use strict';

(() => {
  const STORE_KEY = 'encore.admin.v1';
  const REFRESH_MS = 5000;            // charts and analytics, while the tab is visible
  const WINDOW_BUCKETS = 60;          // the charts show the last 60 buckets up to now
  const BUCKET_CHOICES = [10, 60, 300];
  const SEATS_PER_ROW_DEFAULT = 25;   // API.md: schedules[].seatsPerRow defaults to 25
  const SEAT_BUTTONS_MAX = 2000;      // a page of the seat grid draws at most this many buttons
  const HISTORY_PAGE = 20;
  const SCHEDULES_MAX = 366;          // the server's limit of dates per concert
  const CHART_HEIGHT = 190;
  const CHART_MARGIN = { top: 16, right: 28, bottom: 30, left: 48 };
  const X_LABELS_MAX = 6;
  const SVG_NS = 'http://www.w3.org/2000/svg';

  const $ = (id) => document.getElementById(id);
  const enc = encodeURIComponent;

  // ---- state -----------------------------------------------------------------------------------
  let saved = {};
  try {
    saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || '{}') || {};
  } catch (_) {
    saved = {};
  }
  const S = {
    key: saved.key || null,
    concertId: saved.concertId || null,
    bucketSeconds: BUCKET_CHOICES.includes(saved.bucketSeconds) ? saved.bucketSeconds : 60,
    concerts: [],
    generation: 0,                    // bumped when the concert changes: late answers are dropped
    timer: null,
    paused: false,
    refreshing: false,
    buckets: null,                    // the last timeline window drawn
    analytics: null,
    grid: { date: null, firstRow: 1 },
    focusSeat: null,
    history: { date: null, seat: null, entries: [], cursor: null, generation: 0 },
  };

  function persist() {
    try {
      sessionStorage.setItem(STORE_KEY, JSON.stringify({ key: S.key, concertId: S.concertId, bucketSeconds: S.bucketSeconds }));
    } catch (_) {
      // A full or disabled store: the page still works, it only asks for the key again on reload.
    }
  }

  // ---- words -----------------------------------------------------------------------------------
  const ERROR_WORDS = {
    UNAUTHORIZED: 'This server did not accept the admin key. Sign in again with the key it was started with.',
    CONCERT_NOT_FOUND: 'This concert does not exist on this server.',
    DATE_NOT_FOUND: 'This concert has no such date.',
    SEAT_NOT_FOUND: 'This date has no seat with that number.',
    IDEMPOTENCY_KEY_REUSED: 'This request clashed with an earlier one. Please try again.',
    TIMEOUT: 'The server is busy and did not confirm in time. The concert may still be created: refresh the list before trying again.',
    OVERLOADED: 'The server is very busy right now. Please try again in a moment.',
    NOT_READY: 'The server is starting up. Please try again in a moment.',
    PAYLOAD_TOO_LARGE: 'That request was too large.',
    INTERNAL: 'Something went wrong on the server. Please try again.',
    NETWORK: 'The server could not be reached. Check the connection and try again.',
  };

  function words(result) {
    if (ERROR_WORDS[result.code]) return ERROR_WORDS[result.code];
    if (result.status === 400) return 'The server did not accept this' + (result.message ? ': ' + result.message + '.' : '.');
    if (result.status >= 500) return ERROR_WORDS.INTERNAL;
    return 'Something went wrong' + (result.message ? ': ' + result.message + '.' : '.');
  }

  const numberFormat = new Intl.NumberFormat('en-US');
  const count = (n) => numberFormat.format(n);
  const won = (n) => numberFormat.format(n) + ' won';
  const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
  const percent = (x) => Math.round(x * 100) + '%';
  const plural = (n, one, many) => count(n) + ' ' + (n === 1 ? one : many);

  function formatDate(ymd) {
    const [y, m, d] = String(ymd).split('-').map(Number);
    if (!y || !m || !d) return String(ymd);
    return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', {
      weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
    });
  }

  function formatInstant(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    return new Date(t).toLocaleString('en-GB', { day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function clockLabel(ms, withSeconds) {
    return new Date(ms).toLocaleTimeString('en-GB', withSeconds ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
      : { hour: '2-digit', minute: '2-digit' });
  }

  // "12:27:43 on Wed 2 Dec 2026, 3 minutes ago"
  function momentInWords(iso) {
    const t = Date.parse(iso);
    if (Number.isNaN(t)) return String(iso);
    const day = new Date(t).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
    return clockLabel(t, true) + ' on ' + day + ', ' + ago(Date.now() - t);
  }

  function ago(ms) {
    const s = Math.round(ms / 1000);
    if (s < 0) return 'just now';
    if (s < 10) return 'just now';
    if (s < 60) return s + ' seconds ago';
    const m = Math.round(s / 60);
    if (m < 60) return plural(m, 'minute', 'minutes') + ' ago';
    const h = Math.round(m / 60);
    if (h < 48) return plural(h, 'hour', 'hours') + ' ago';
    return plural(Math.round(h / 24), 'day', 'days') + ' ago';
  }

  function durationInWords(seconds) {
    const s = Math.round(Number(seconds) || 0);
    if (s < 60) return plural(s, 'second', 'seconds');
    const m = Math.floor(s / 60);
    const rest = s % 60;
    if (m < 60) return plural(m, 'minute', 'minutes') + (rest ? ' ' + plural(rest, 'second', 'seconds') : '');
    const h = Math.floor(m / 60);
    return plural(h, 'hour', 'hours') + (m % 60 ? ' ' + plural(m % 60, 'minute', 'minutes') : '');
  }

  const bucketWords = (seconds) => ({ 10: '10 seconds', 60: 'minute', 300: '5 minutes' }[seconds] || seconds + ' seconds');

  // ---- DOM helpers -----------------------------------------------------------------------------
  function el(tag, props, ...children) {
    const e = document.createElement(tag);
    if (props) {
      for (const [k, v] of Object.entries(props)) {
        if (v === undefined || v === null || v === false) continue;
        if (k === 'class') e.className = v;
        else if (k === 'text') e.textContent = v;
        else e.setAttribute(k, v === true ? '' : v);
      }
    }
    for (const c of children) {
      if (c !== null && c !== undefined && c !== false) e.append(c);
    }
    return e;
  }

  function svg(tag, attributes, text) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attributes || {})) e.setAttribute(k, v);
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function setText(id, text) {
    const e = $(id);
    if (e.textContent !== text) e.textContent = text;
  }

  function showError(id, result) {
    setText(id, typeof result === 'string' ? result : words(result));
  }

  const clearError = (id) => setText(id, '');

  function announce(text) {
    const a = $('announcer');
    a.textContent = '';
    setTimeout(() => { a.textContent = text; }, 30);
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
      if (label) button.textContent = before;
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
    const key = options.adminKey !== undefined ? options.adminKey : S.key;
    if (key) headers['X-Admin-Key'] = key;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
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
    try { data = await response.json(); } catch (_) { data = null; }
    const result = { ok: response.ok, status: response.status, body: data };
    if (!response.ok) {
      result.code = (data && data.error && data.error.code) || 'HTTP_' + response.status;
      result.message = (data && data.error && data.error.message) || '';
    }
    return result;
  }

  // An admin call: a 401 means the key is no longer good, which is said where it happened and
  // brings the sign-in back.
  async function adminApi(method, path, errorId, options) {
    const r = await api(method, path, options);
    if (r.status === 401) keyRefused(errorId);
    return r;
  }

  // ---- the admin key ---------------------------------------------------------------------------
  // The key is tried on a read: the analytics of the first concert listed (200 with a good key,
  // 401 with a bad one), or of a made-up id while there is none (404 CONCERT_NOT_FOUND with a
  // good key). Nothing is written.
  const PROBE_CONCERT = 'c-0000000000000000';

  async function checkKey(key) {
    const list = await api('GET', '/concerts', { adminKey: null });
    const first = list.ok && list.body && list.body.concerts && list.body.concerts[0];
    const r = await api('GET', '/analytics/concerts/' + enc(first ? first.concertId : PROBE_CONCERT), { adminKey: key });
    if (r.ok || (r.status === 404 && r.code === 'CONCERT_NOT_FOUND')) return { ok: true };
    return r;
  }

  async function signIn(event) {
    event.preventDefault();
    clearError('key-error');
    const input = $('admin-key');
    const key = input.value.trim();
    if (!key) {
      input.setAttribute('aria-invalid', 'true');
      showError('key-error', 'Enter the admin key first.');
      return input.focus();
    }
    await busy($('key-submit'), 'Checking…', async () => {
      const r = await checkKey(key);
      if (!r.ok) {
        input.setAttribute('aria-invalid', 'true');
        showError('key-error', r.status === 401
          ? 'That admin key was not accepted. Check it (it is case-sensitive) and try again.' : words(r));
        input.select();
        return input.focus();
      }
      input.removeAttribute('aria-invalid');
      input.value = '';
      S.key = key;
      persist();
      await openDesk();
      announce('Signed in. Create a concert or choose one to follow.');
      $('create-h').focus();
    });
  }

  function keyRefused(errorId) {
    if (errorId) showError(errorId, ERROR_WORDS.UNAUTHORIZED);
    if (!S.key) return;
    S.key = null;
    persist();
    stopRefresh();
    $('key').hidden = false;
    $('signed-in').hidden = true;
    showError('key-error', 'The server stopped accepting the admin key this tab had. Enter it again.');
  }

  function forgetKey() {
    S.key = null;
    persist();
    stopRefresh();
    $('desk').hidden = true;
    $('signed-in').hidden = true;
    $('key').hidden = false;
    clearError('key-error');
    announce('The admin key is forgotten.');
    $('admin-key').focus();
  }

  async function openDesk() {
    $('key').hidden = true;
    $('desk').hidden = false;
    $('signed-in').hidden = false;
    await loadConcerts();
  }

  // ---- create a concert ------------------------------------------------------------------------
  let scheduleSerial = 0;

  function addSchedule(values = {}) {
    const list = $('schedules');
    if (list.children.length >= SCHEDULES_MAX) return null;
    const n = ++scheduleSerial;
    const field = (label, name, attributes, hint) => {
      const id = 's' + n + '-' + name;
      return el('p', { class: 'field' },
        el('label', { for: id }, label, hint ? el('span', { class: 'hint', text: ' ' + hint }) : null),
        el('input', { id, name, ...attributes }));
    };
    const item = el('li', { class: 'schedule' });
    const legend = el('legend');
    const remove = el('button', { type: 'button', class: 'danger', 'data-action': 'remove-schedule', text: 'Remove' });
    item.append(el('fieldset', null, legend,
      el('div', { class: 'fields' },
        field('Date', 'date', { type: 'date', value: values.date || '', required: true }),
        field('Seats', 'seats', { type: 'number', inputmode: 'numeric', min: 1, max: 100000, step: 1, value: values.seats || 50, required: true }),
        field('Price', 'price', { type: 'number', inputmode: 'numeric', min: 0, max: 1000000000, step: 1, value: values.price ?? 80000, required: true }, '(won)'),
        field('Seats per row', 'seatsPerRow', { type: 'number', inputmode: 'numeric', min: 1, max: 1000, step: 1, value: values.seatsPerRow || SEATS_PER_ROW_DEFAULT })),
      remove));
    list.append(item);
    numberSchedules();
    return item;
  }

  function numberSchedules() {
    const items = [...$('schedules').children];
    items.forEach((item, i) => {
      item.querySelector('legend').textContent = 'Date ' + (i + 1);
      const remove = item.querySelector('[data-action="remove-schedule"]');
      remove.setAttribute('aria-label', 'Remove date ' + (i + 1));
      remove.disabled = items.length === 1;
    });
    $('add-schedule').disabled = items.length >= SCHEDULES_MAX;
  }

  function scheduleClick(event) {
    const button = event.target.closest('[data-action="remove-schedule"]');
    if (!button || button.disabled) return;
    const item = button.closest('li');
    const next = item.nextElementSibling || item.previousElementSibling;
    item.remove();
    numberSchedules();
    const focus = next && next.querySelector('input');
    if (focus) focus.focus();
    announce('Date removed.');
  }

  // The value of an <input type="number">: a whole number, or null when empty; NaN when it is not
  // a whole number.
  function wholeNumber(input) {
    const text = input.value.trim();
    if (text === '') return input.validity && input.validity.badInput ? NaN : null;
    const n = Number(text);
    return Number.isSafeInteger(n) ? n : NaN;
  }

  // datetime-local ("2030-12-24T19:00", in this browser's time zone) as an RFC 3339 UTC instant.
  function instantOf(input) {
    if (!input.value) return null;
    const t = new Date(input.value);
    return Number.isNaN(t.getTime()) ? NaN : t.toISOString();
  }

  // The form as API.md's body, or a sentence saying what to fix (and the field to focus).
  function concertBody() {
    const form = $('create-form');
    const problem = (text, input) => ({ problem: text, input });
    const title = $('c-title').value.trim();
    if (!title) return problem('Give the concert a title.', $('c-title'));
    const body = { title };
    const venue = $('c-venue').value.trim();
    if (venue) body.venue = venue;
    body.schedules = [];
    const items = [...$('schedules').children];
    for (let i = 0; i < items.length; i++) {
      const get = (name) => items[i].querySelector('input[name="' + name + '"]');
      const where = ' for date ' + (i + 1);
      if (!get('date').value) return problem('Choose the day' + where + '.', get('date'));
      const schedule = { date: get('date').value };
      for (const [name, words, required] of [['seats', 'The number of seats', true], ['price', 'The price', true],
        ['seatsPerRow', 'Seats per row', false]]) {
        const n = wholeNumber(get(name));
        if (n === null && required) return problem(words + where + ' is needed.', get(name));
        if (Number.isNaN(n)) return problem(words + where + ' must be a whole number.', get(name));
        if (n !== null) schedule[name] = n;
      }
      body.schedules.push(schedule);
    }
    const queue = {};
    for (const [id, name, words] of [['c-capacity', 'activeCapacity', 'Fans choosing seats at once'],
      ['c-active-ttl', 'activeTtlSeconds', 'The turn length'], ['c-claim', 'claimSeconds', 'The time to claim a turn']]) {
      const n = wholeNumber($(id));
      if (Number.isNaN(n)) return problem(words + ' must be a whole number of seconds or fans.', $(id));
      if (n !== null) queue[name] = n;
    }
    if (Object.keys(queue).length) body.queue = queue;
    for (const [id, name, words] of [['c-hold-ttl', 'holdTtlSeconds', 'The hold time'],
      ['c-max-holds', 'maxHoldsPerUser', 'Holds per fan'], ['c-max-tickets', 'maxTicketsPerUser', 'Tickets per fan']]) {
      const n = wholeNumber($(id));
      if (Number.isNaN(n)) return problem(words + ' must be a whole number.', $(id));
      if (n !== null) body[name] = n;
    }
    for (const [id, name, words] of [['c-onsale', 'onsaleAt', 'The on-sale time'], ['c-refunds', 'refundsUntil', 'The refund deadline']]) {
      const at = instantOf($(id));
      if (Number.isNaN(at)) return problem(words + ' is not a valid date and time.', $(id));
      if (at) body[name] = at;
    }
    form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
    return { body };
  }

  async function createConcert(event) {
    event.preventDefault();
    clearError('create-error');
    setText('create-message', '');
    $('create-form').querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
    const { body, problem, input } = concertBody();
    if (problem) {
      showError('create-error', problem);
      if (input) {
        input.setAttribute('aria-invalid', 'true');
        input.focus();
      }
      return;
    }
    await busy($('create-submit'), 'Creating…', async () => {
      // One key for this concert: a retry after a lost answer or a 503 creates it once.
      const idempotencyKey = newKey();
      let r = await adminApi('POST', '/admin/concerts', 'create-error', { body, idempotencyKey });
      if (r.status === 0 || r.status === 503) {
        await new Promise((resolve) => setTimeout(resolve, 1000));
        r = await adminApi('POST', '/admin/concerts', 'create-error', { body, idempotencyKey });
      }
      if (r.status === 401) return;
      if (!r.ok) {
        return showError('create-error', r.status === 400
          ? 'The server did not accept this concert: ' + (r.message || 'check the fields') + '.' : words(r));
      }
      const id = r.body.concertId;
      setText('create-message', 'Created “' + body.title + '” (' + id + '). It is now the concert followed below.');
      resetCreateForm();
      await loadConcerts(id);
      announce('Concert created: ' + body.title + '.');
    });
  }

  function resetCreateForm() {
    $('create-form').reset();
    $('schedules').replaceChildren();
    addSchedule();
  }

  // ---- the concerts ----------------------------------------------------------------------------
  async function loadConcerts(choose) {
    const r = await api('GET', '/concerts');
    if (!r.ok) return showError('pick-error', r);
    clearError('pick-error');
    S.concerts = (r.body && r.body.concerts) || [];
    if (choose) S.concertId = choose;
    if (!S.concerts.some((c) => c.concertId === S.concertId)) S.concertId = S.concerts.length ? S.concerts[0].concertId : null;
    const select = $('concert-select');
    select.replaceChildren(...S.concerts.map((c) => el('option', { value: c.concertId, text: c.title + (c.venue ? ' — ' + c.venue : '') })));
    select.value = S.concertId || '';
    select.hidden = !S.concerts.length;
    document.querySelector('label[for="concert-select"]').hidden = !S.concerts.length;
    $('concerts-empty').hidden = S.concerts.length > 0;
    persist();
    await followConcert();
  }

  const currentConcert = () => S.concerts.find((c) => c.concertId === S.concertId) || null;

  function renderFacts(c) {
    const facts = $('concert-facts');
    facts.replaceChildren();
    if (!c) return;
    const add = (term, value) => facts.append(el('div', null, el('dt', { text: term }), el('dd', { text: value })));
    add('Concert id', c.concertId);
    add('Venue', c.venue || '—');
    const schedules = c.schedules || (c.dates || []).map((date) => ({ date }));
    add(schedules.length === 1 ? 'Date' : 'Dates', schedules.map((s) => formatDate(s.date) +
      (s.seats ? ' (' + plural(s.seats, 'seat', 'seats') + (s.price !== undefined ? ' at ' + won(s.price) : '') + ')' : '')).join('; '));
    if (c.holdTtlSeconds) add('Hold time', durationInWords(c.holdTtlSeconds));
    if (c.maxHoldsPerUser) add('Holds per fan', count(c.maxHoldsPerUser));
    if (c.maxTicketsPerUser) add('Tickets per fan', count(c.maxTicketsPerUser));
    add('Refunds', c.refundsUntil ? 'until ' + formatInstant(c.refundsUntil) : 'none');
  }

  async function followConcert() {
    S.generation++;
    S.buckets = null;
    S.analytics = null;
    stopRefresh();
    const c = currentConcert();
    renderFacts(c);
    for (const id of ['live', 'analytics', 'seats']) $(id).hidden = !c;
    $('charts').replaceChildren();
    $('dates-body').replaceChildren();
    $('dates-foot').replaceChildren();
    $('queue-figures').replaceChildren();
    for (const id of ['live-error', 'analytics-error', 'seats-error']) clearError(id);
    closeHistory();
    if (!c) return;
    setupSeatDates(c);
    await refresh();
    scheduleRefresh();
  }

  // ---- live: timeline charts and analytics -----------------------------------------------------
  function scheduleRefresh() {
    stopRefresh();
    if (S.paused || !S.key || !S.concertId) return;
    S.timer = setTimeout(async () => {
      S.timer = null;
      if (document.visibilityState !== 'hidden') await refresh();
      scheduleRefresh();
    }, REFRESH_MS);
  }

  function stopRefresh() {
    if (S.timer) clearTimeout(S.timer);
    S.timer = null;
  }

  async function refresh() {
    if (S.refreshing || !S.key || !S.concertId) return;
    S.refreshing = true;
    try {
      await Promise.all([loadTimeline(), loadAnalytics()]);
    } finally {
      S.refreshing = false;
    }
  }

  async function loadTimeline() {
    const generation = S.generation;
    const b = S.bucketSeconds;
    const now = Date.now();
    const from = Math.floor(now / 1000 / b) * b * 1000 - (WINDOW_BUCKETS - 1) * b * 1000;
    // The instants go as they are: ':' is allowed in a query, and the server reads its parameters
    // without percent-decoding them.
    const path = '/analytics/concerts/' + enc(S.concertId) + '/timeline?bucketSeconds=' + b +
      '&from=' + new Date(from).toISOString() + '&to=' + new Date(now).toISOString();
    const r = await adminApi('GET', path, 'live-error');
    if (generation !== S.generation || b !== S.bucketSeconds) return;
    if (!r.ok) return r.status === 401 ? undefined : showError('live-error', r);
    clearError('live-error');
    S.buckets = fillWindow(r.body.buckets || [], from, b);
    drawCharts();
    setText('live-status', 'The last ' + WINDOW_BUCKETS + ' ' + (b === 60 ? 'minutes' : 'bars of ' + bucketWords(b)) +
      ', as of ' + clockLabel(now, true) + (S.paused ? '. Updates are paused.' : '. Updated every ' + REFRESH_MS / 1000 + ' seconds.'));
  }

  // Every bucket of the window, oldest first: the server's where it sent one, else empty (with
  // the waiting count carried on from the bucket before).
  function fillWindow(buckets, fromMs, b) {
    const byStart = new Map(buckets.map((x) => [Date.parse(x.start), x]));
    const out = [];
    let waiting = 0;
    for (let i = 0; i < WINDOW_BUCKETS; i++) {
      const start = fromMs + i * b * 1000;
      const x = byStart.get(start);
      if (x) waiting = x.waitingAtEnd || 0;
      out.push(x ? { ...x, startMs: start } : {
        startMs: start, queueJoined: 0, queueAdmitted: 0, waitingAtEnd: waiting, holdsPlaced: 0, holdsExpired: 0,
        holdsCancelled: 0, seatsSold: 0, refunds: 0, revenue: 0,
      });
    }
    return out;
  }

  const CHARTS = [
    { series: 'waitingAtEnd', title: 'Waiting in the queue', unit: ['fan waiting', 'fans waiting'], kind: 'line', gauge: true },
    { series: 'queueAdmitted', title: 'Admitted from the queue', unit: ['fan admitted', 'fans admitted'], kind: 'bars' },
    { series: 'holdsPlaced', title: 'Holds placed', unit: ['hold placed', 'holds placed'], kind: 'bars' },
    { series: 'seatsSold', title: 'Seats sold', unit: ['seat sold', 'seats sold'], kind: 'bars' },
    { series: 'revenue', title: 'Revenue', unit: ['won', 'won'], kind: 'bars', money: true },
  ];

  function niceMax(max) {
    if (max <= 4) return Math.max(1, Math.ceil(max));
    const magnitude = 10 ** Math.floor(Math.log10(max));
    for (const step of [1, 2, 2.5, 5, 10]) {
      if (step * magnitude >= max) return step * magnitude;
    }
    return 10 * magnitude;
  }

  function drawCharts() {
    const box = $('charts');
    if (!S.buckets) return;
    for (const spec of CHARTS) {
      let figure = box.querySelector('figure[data-series="' + spec.series + '"]');
      if (!figure) {
        figure = el('figure', { class: 'chart', 'data-series': spec.series });
        figure.append(el('figcaption', null, el('span', { class: 'chart-title', text: spec.title }), ' ',
          el('span', { class: 'chart-total' })));
        box.append(figure);
      }
      drawChart(figure, spec, S.buckets);
    }
  }

  function valueWords(spec, v) {
    if (spec.money) return won(v);
    return count(v) + ' ' + (v === 1 ? spec.unit[0] : spec.unit[1]);
  }

  function drawChart(figure, spec, buckets) {
    const b = S.bucketSeconds;
    const withSeconds = b < 60;
    const values = buckets.map((x) => Number(x[spec.series]) || 0);
    const max = Math.max(0, ...values);
    const top = niceMax(max);
    const total = values.reduce((a, v) => a + v, 0);
    const peak = values.indexOf(max);
    const first = buckets[0].startMs;
    const last = buckets[buckets.length - 1].startMs;
    const range = clockLabel(first, withSeconds) + ' to ' + clockLabel(last + b * 1000, withSeconds);

    // Words for the caption and for screen readers.
    let summary;
    if (spec.gauge) {
      const now = values[values.length - 1];
      summary = 'Now ' + valueWords(spec, now) + (max > 0 ? '; at most ' + count(max) + ' at ' + clockLabel(buckets[peak].startMs, withSeconds) : '') + '.';
    } else {
      summary = (total > 0 ? valueWords(spec, total) + ' in this window; at most ' + (spec.money ? won(max) : count(max)) +
        ' in one ' + bucketWords(b) + ', at ' + clockLabel(buckets[peak].startMs, withSeconds) : 'None in this window') + '.';
    }
    const totalLabel = figure.querySelector('.chart-total');
    totalLabel.textContent = summary;
    totalLabel.dataset.total = String(spec.gauge ? values[values.length - 1] : total);

    // Drawn at the width of the figure's content box, so that text stays at its CSS size.
    const style = getComputedStyle(figure);
    const inner = figure.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const width = Math.max(260, Math.floor(inner || 600));
    const height = CHART_HEIGHT;
    const m = CHART_MARGIN;
    const plotW = width - m.left - m.right;
    const plotH = height - m.top - m.bottom;
    const step = plotW / buckets.length;
    const y = (v) => m.top + plotH - (v / top) * plotH;
    const x = (i) => m.left + i * step;

    const id = 'chart-' + spec.series;
    const root = svg('svg', {
      class: 'chart-svg ' + spec.kind, width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img',
      'aria-labelledby': id + '-title ' + id + '-desc', 'data-series': spec.series, 'data-max': top,
    });
    root.append(svg('title', { id: id + '-title' }, spec.title + ' per ' + bucketWords(b) + ', ' + range));
    root.append(svg('desc', { id: id + '-desc' }, summary));

    // The y axis: 0, half and the top, with grid lines; the unit above it.
    const axis = svg('g', { class: 'axis y-axis', 'aria-hidden': 'true' });
    for (const v of [0, top / 2, top]) {
      if (v !== 0 && v !== top && !Number.isInteger(v)) continue;
      axis.append(svg('line', { class: 'grid', x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }));
      const label = spec.money || v >= 10000 ? compactFormat.format(v) : count(v);
      axis.append(svg('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, label));
    }
    axis.append(svg('text', { class: 'unit', x: 4, y: 10 }, spec.money ? 'won' : spec.unit[1].split(' ')[0]));
    root.append(axis);

    // The x axis: a few bucket starts in local time.
    const xAxis = svg('g', { class: 'axis x-axis', 'aria-hidden': 'true' });
    xAxis.append(svg('line', { class: 'baseline', x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }));
    // Counted back from the latest bucket, so that "now" always has its label.
    const every = Math.ceil(buckets.length / Math.max(2, Math.min(X_LABELS_MAX, Math.floor(plotW / (withSeconds ? 90 : 70)))));
    for (let i = buckets.length - 1; i >= 0; i -= every) {
      const at = x(i) + step / 2;
      xAxis.append(svg('line', { class: 'tick', x1: at, x2: at, y1: y(0), y2: y(0) + 4 }));
      xAxis.append(svg('text', { x: at, y: height - m.bottom + 18, 'text-anchor': 'middle' },
        clockLabel(buckets[i].startMs, withSeconds)));
    }
    root.append(xAxis);

    const marks = svg('g', { class: 'marks' });
    if (spec.kind === 'line') {
      const points = values.map((v, i) => (x(i) + step / 2).toFixed(1) + ',' + y(v).toFixed(1));
      marks.append(svg('polygon', { class: 'area', points: (x(0) + step / 2) + ',' + y(0) + ' ' + points.join(' ') + ' ' +
        (x(values.length - 1) + step / 2) + ',' + y(0) }));
      marks.append(svg('polyline', { class: 'line', points: points.join(' ') }));
    }
    values.forEach((v, i) => {
      if (v <= 0) return;
      const when = clockLabel(buckets[i].startMs, withSeconds);
      const mark = spec.kind === 'line'
        ? svg('circle', { class: 'point', cx: x(i) + step / 2, cy: y(v), r: 3 })
        : svg('rect', { class: 'bar', x: x(i) + Math.min(1, step * 0.1), y: y(v), width: Math.max(1, step - Math.min(2, step * 0.2)), height: y(0) - y(v) });
      mark.setAttribute('data-start', new Date(buckets[i].startMs).toISOString());
      mark.setAttribute('data-value', String(v));
      mark.append(svg('title', {}, when + ': ' + valueWords(spec, v)));
      marks.append(mark);
    });
    root.append(marks);

    const old = figure.querySelector('svg');
    if (old) old.replaceWith(root);
    else figure.insertBefore(root, figure.firstChild);
  }

  async function loadAnalytics() {
    const generation = S.generation;
    const r = await adminApi('GET', '/analytics/concerts/' + enc(S.concertId), 'analytics-error');
    if (generation !== S.generation) return;
    if (!r.ok) return r.status === 401 ? undefined : showError('analytics-error', r);
    clearError('analytics-error');
    S.analytics = r.body;
    renderAnalytics();
    renderGridRange();
  }

  const DATE_COLUMNS = [
    ['seatsSold', count], ['seatsHeld', count], ['seatsAvailable', count], ['revenue', won],
    ['holdsPlaced', count], ['holdsExpired', count], ['holdsCancelled', count], ['holdToPaymentConversion', percent],
  ];

  function renderAnalytics() {
    const a = S.analytics;
    const dates = (a && a.dates) || [];
    const rows = dates.map((d) => el('tr', { 'data-date': d.date },
      el('th', { scope: 'row', text: formatDate(d.date) }),
      ...DATE_COLUMNS.map(([field, format]) => el('td', { class: 'num', 'data-field': field, 'data-value': d[field] ?? '',
        text: d[field] === undefined || d[field] === null ? '—' : format(d[field]) }))));
    $('dates-body').replaceChildren(...rows);
    const foot = $('dates-foot');
    foot.replaceChildren();
    if (dates.length > 1) {
      const sum = (field) => dates.reduce((acc, d) => acc + (Number(d[field]) || 0), 0);
      foot.append(el('tr', null, el('th', { scope: 'row', text: 'All dates' }),
        ...DATE_COLUMNS.map(([field, format]) => el('td', { class: 'num', 'data-field': field,
          text: field === 'holdToPaymentConversion' ? '' : format(sum(field)) }))));
    }
    const q = (a && a.queue) || {};
    const figures = $('queue-figures');
    const add = (field, term, text) => figures.append(el('div', { 'data-field': field },
      el('dt', { text: term }), el('dd', { 'data-value': q[field] ?? '', text })));
    figures.replaceChildren();
    add('waiting', 'Waiting now', count(q.waiting || 0));
    add('active', 'Choosing seats now', count(q.active || 0));
    add('admittedTotal', 'Admitted in all', count(q.admittedTotal || 0));
    add('medianWaitSeconds', 'Median wait', (q.admittedTotal || 0) > 0 ? durationInWords(q.medianWaitSeconds || 0) : 'nobody admitted yet');
  }

  // ---- seat history ----------------------------------------------------------------------------
  function setupSeatDates(c) {
    const select = $('seat-date');
    const dates = (c.schedules || []).map((s) => s.date).concat((c.dates || []).filter((d) => !(c.schedules || []).some((s) => s.date === d)));
    select.replaceChildren(...dates.map((d) => el('option', { value: d, text: formatDate(d) })));
    S.grid = { date: dates[0] || null, firstRow: 1 };
    select.value = S.grid.date || '';
    S.focusSeat = 1;
    renderGrid();
  }

  function dateLayout(date) {
    const c = currentConcert();
    const schedule = c && (c.schedules || []).find((s) => s.date === date);
    const perRow = (schedule && schedule.seatsPerRow) || SEATS_PER_ROW_DEFAULT;
    let seats = schedule && schedule.seats;
    if (!seats && S.analytics) {
      const d = (S.analytics.dates || []).find((x) => x.date === date);
      if (d) seats = (d.seatsSold || 0) + (d.seatsHeld || 0) + (d.seatsAvailable || 0);
    }
    return { perRow, seats: seats || 0, rows: Math.ceil((seats || 0) / perRow) };
  }

  const rowsPerPage = (perRow) => Math.max(1, Math.floor(SEAT_BUTTONS_MAX / perRow));

  function renderGridRange() {
    if (!S.grid.date) return;
    const layout = dateLayout(S.grid.date);
    if (!layout.seats) return setText('grid-range', 'The number of seats of this date is not known yet.');
    const lastRow = Math.min(layout.rows, S.grid.firstRow + rowsPerPage(layout.perRow) - 1);
    const firstSeat = (S.grid.firstRow - 1) * layout.perRow + 1;
    const lastSeat = Math.min(layout.seats, lastRow * layout.perRow);
    setText('grid-range', (layout.rows > 1 ? 'Rows ' + count(S.grid.firstRow) + '–' + count(lastRow) + ' of ' + count(layout.rows) + ': s'
      : 'S') + 'eats ' + count(firstSeat) + '–' + count(lastSeat) + ' of ' + count(layout.seats) + ', ' +
      plural(layout.perRow, 'seat', 'seats') + ' a row.');
    $('rows-earlier').hidden = $('rows-later').hidden = layout.rows <= rowsPerPage(layout.perRow);
    $('rows-earlier').disabled = S.grid.firstRow <= 1;
    $('rows-later').disabled = lastRow >= layout.rows;
    $('seat-number').max = String(layout.seats);
  }

  function renderGrid() {
    const grid = $('seat-grid');
    const layout = dateLayout(S.grid.date);
    const lastRow = Math.min(layout.rows, S.grid.firstRow + rowsPerPage(layout.perRow) - 1);
    const firstSeat = (S.grid.firstRow - 1) * layout.perRow + 1;
    const lastSeat = Math.min(layout.seats, lastRow * layout.perRow);
    if (!(S.focusSeat >= firstSeat && S.focusSeat <= lastSeat)) S.focusSeat = firstSeat;
    const shown = S.history.date === S.grid.date ? S.history.seat : null;
    const rows = [];
    for (let row = S.grid.firstRow; row <= lastRow; row++) {
      const line = el('div', { class: 'seat-row', 'data-row': row }, el('span', { class: 'row-label', 'aria-hidden': 'true', text: 'Row ' + row }));
      const end = Math.min(layout.seats, row * layout.perRow);
      for (let n = (row - 1) * layout.perRow + 1; n <= end; n++) {
        line.append(el('button', {
          type: 'button', class: 'seat', 'data-seat': n, tabindex: n === S.focusSeat ? '0' : '-1',
          'aria-label': 'Row ' + row + ', seat ' + n, 'aria-pressed': n === shown ? 'true' : 'false', text: String(n),
        }));
      }
      rows.push(line);
    }
    grid.replaceChildren(...rows);
    // Wide enough for the longest seat number and row label of the page, so that none wraps.
    grid.style.setProperty('--seat-width', Math.max(44, 12 + 8 * String(lastSeat).length) + 'px');
    grid.style.setProperty('--row-label-width', (2.6 + 0.55 * String(lastRow).length).toFixed(2) + 'rem');
    renderGridRange();
  }

  function seatButton(n) {
    return $('seat-grid').querySelector('button[data-seat="' + n + '"]');
  }

  function moveFocus(n, focus = true) {
    const layout = dateLayout(S.grid.date);
    if (n < 1 || n > layout.seats) return;
    const row = Math.ceil(n / layout.perRow);
    const perPage = rowsPerPage(layout.perRow);
    if (row < S.grid.firstRow || row >= S.grid.firstRow + perPage) {
      S.grid.firstRow = Math.floor((row - 1) / perPage) * perPage + 1;
      S.focusSeat = n;
      renderGrid();
    }
    const before = seatButton(S.focusSeat);
    if (before) before.tabIndex = -1;
    S.focusSeat = n;
    const button = seatButton(n);
    if (!button) return;
    button.tabIndex = 0;
    if (focus) button.focus();
  }

  function gridKeydown(event) {
    const button = event.target.closest('button.seat');
    if (!button) return;
    const n = Number(button.dataset.seat);
    const layout = dateLayout(S.grid.date);
    const rowStart = Math.floor((n - 1) / layout.perRow) * layout.perRow + 1;
    const rowEnd = Math.min(layout.seats, rowStart + layout.perRow - 1);
    const moves = {
      ArrowLeft: n - 1, ArrowRight: n + 1, ArrowUp: n - layout.perRow, ArrowDown: Math.min(n + layout.perRow, layout.seats),
      Home: rowStart, End: rowEnd,
    };
    if (!(event.key in moves)) return;
    event.preventDefault();
    const to = moves[event.key];
    if (to >= 1 && to <= layout.seats && (event.key !== 'ArrowDown' || to > n)) moveFocus(to);
  }

  function gridClick(event) {
    const button = event.target.closest('button.seat');
    if (!button) return;
    const n = Number(button.dataset.seat);
    moveFocus(n, false);
    showHistory(S.grid.date, n, false);
  }

  function seatFormSubmit(event) {
    event.preventDefault();
    clearError('seats-error');
    const input = $('seat-number');
    const n = wholeNumber(input);
    const layout = dateLayout(S.grid.date);
    if (n === null || Number.isNaN(n) || n < 1 || (layout.seats && n > layout.seats)) {
      input.setAttribute('aria-invalid', 'true');
      return showError('seats-error', 'Enter a seat number from 1 to ' + count(layout.seats || 1) + '.');
    }
    input.removeAttribute('aria-invalid');
    moveFocus(n, false);
    const button = seatButton(n);
    if (button) button.scrollIntoView({ block: 'nearest', inline: 'nearest' });
    showHistory(S.grid.date, n, true);
  }

  function pageRows(delta) {
    const layout = dateLayout(S.grid.date);
    const perPage = rowsPerPage(layout.perRow);
    const first = S.grid.firstRow + delta * perPage;
    if (first < 1 || first > layout.rows) return;
    S.grid.firstRow = first;
    S.focusSeat = (first - 1) * layout.perRow + 1;
    renderGrid();
    announce('Showing ' + $('grid-range').textContent);
  }

  function closeHistory() {
    S.history = { date: null, seat: null, entries: [], cursor: null, generation: S.history.generation + 1 };
    $('history').hidden = true;
    $('history-list').replaceChildren();
  }

  async function showHistory(date, seat, focusHeading) {
    const layout = dateLayout(date);
    S.history = { date, seat, entries: [], cursor: null, generation: S.history.generation + 1 };
    $('seat-grid').querySelectorAll('button.seat[aria-pressed="true"]').forEach((b) => b.setAttribute('aria-pressed', 'false'));
    const button = seatButton(seat);
    if (button) button.setAttribute('aria-pressed', 'true');
    setText('history-h', 'Seat ' + count(seat) + ', row ' + count(Math.ceil(seat / layout.perRow)) + ' — ' + formatDate(date));
    $('history-list').replaceChildren();
    $('history-empty').hidden = true;
    $('history-more').hidden = true;
    clearError('history-error');
    $('history').hidden = false;
    $('history').setAttribute('aria-busy', 'true');
    await loadHistory();
    if (focusHeading) $('history-h').focus();
  }

  async function loadHistory() {
    const h = S.history;
    const generation = h.generation;
    const path = '/admin/concerts/' + enc(S.concertId) + '/dates/' + enc(h.date) + '/seats/' + h.seat + '/history?limit=' + HISTORY_PAGE +
      (h.cursor ? '&cursor=' + enc(h.cursor) : '');
    const r = await adminApi('GET', path, 'history-error');
    if (generation !== S.history.generation) return;
    $('history').removeAttribute('aria-busy');
    if (!r.ok) return r.status === 401 ? undefined : showError('history-error', r);
    const entries = r.body.entries || [];
    h.entries = h.entries.concat(entries);
    h.cursor = r.body.nextCursor || null;
    const list = $('history-list');
    for (const e of entries) list.append(historyItem(e));
    $('history-empty').hidden = h.entries.length > 0;
    $('history-more').hidden = !h.cursor;
  }

  const TYPE_WORDS = {
    HELD: 'Held', SOLD: 'Sold', EXPIRED: 'Hold expired', CANCELLED: 'Hold cancelled', REFUNDED: 'Refunded',
  };

  function historyItem(e) {
    return el('li', { 'data-type': e.type },
      el('span', { class: 'badge ' + e.type, text: TYPE_WORDS[e.type] || e.type }), ' ',
      el('time', { datetime: e.at, text: momentInWords(e.at) }),
      el('span', { class: 'ids' },
        el('span', null, 'Reservation ', el('code', { text: e.reservationId || '—' })),
        el('span', null, 'User ', el('code', { text: e.userId || '—' }))));
  }

  // ---- start -----------------------------------------------------------------------------------
  function bind() {
    $('key-form').addEventListener('submit', signIn);
    $('forget-key').addEventListener('click', forgetKey);
    $('create-form').addEventListener('submit', createConcert);
    $('schedules').addEventListener('click', scheduleClick);
    $('add-schedule').addEventListener('click', () => {
      const item = addSchedule();
      if (item) {
        item.querySelector('input').focus();
        announce('Date ' + $('schedules').children.length + ' added.');
      }
    });
    $('concert-select').addEventListener('change', async (event) => {
      S.concertId = event.target.value;
      persist();
      await followConcert();
    });
    $('concerts-refresh').addEventListener('click', () => busy($('concerts-refresh'), 'Refreshing…', () => loadConcerts()));
    $('bucket').addEventListener('change', async (event) => {
      S.bucketSeconds = Number(event.target.value);
      persist();
      $('charts').replaceChildren();
      stopRefresh();
      await loadTimeline();
      scheduleRefresh();
    });
    $('live-toggle').addEventListener('click', async () => {
      S.paused = !S.paused;
      $('live-toggle').setAttribute('aria-pressed', String(S.paused));
      $('live-toggle').textContent = S.paused ? 'Resume updates' : 'Pause updates';
      if (S.paused) {
        stopRefresh();
        const status = $('live-status').textContent.replace(/ Updated every .*$/, '');
        setText('live-status', status + (status.endsWith('paused.') ? '' : ' Updates are paused.'));
      } else {
        await refresh();
        scheduleRefresh();
      }
    });
    $('seat-date').addEventListener('change', (event) => {
      S.grid = { date: event.target.value, firstRow: 1 };
      S.focusSeat = 1;
      closeHistory();
      renderGrid();
    });
    $('seat-form').addEventListener('submit', seatFormSubmit);
    $('rows-earlier').addEventListener('click', () => pageRows(-1));
    $('rows-later').addEventListener('click', () => pageRows(1));
    $('seat-grid').addEventListener('keydown', gridKeydown);
    $('seat-grid').addEventListener('click', gridClick);
    $('history-more').addEventListener('click', () => busy($('history-more'), 'Loading…', loadHistory));
    let resizeFrame = 0;
    window.addEventListener('resize', () => {
      cancelAnimationFrame(resizeFrame);
      resizeFrame = requestAnimationFrame(drawCharts);
    });
    document.addEventListener('visibilitychange', () => {
      if (document.visibilityState === 'visible' && S.key && S.concertId && !S.paused) refresh();
    });
  }

  async function start() {
    bind();
    addSchedule();
    $('bucket').value = String(S.bucketSeconds);
    const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone) setText('zone-hint', 'Times are in your time zone (' + zone + ') and sent to the server in UTC.');
    if (S.key) {
      const r = await checkKey(S.key);
      if (r.ok) {
        await openDesk();
      } else {
        S.key = null;
        persist();
        if (r.status === 401) showError('key-error', 'The admin key this tab had is no longer accepted. Enter it again.');
        else showError('key-error', words(r));
      }
    }
    document.documentElement.dataset.ready = 'true';
  }

  start();
})();
