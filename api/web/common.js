// What the fan's page and the organizer's share: the call to this origin's API (shared/API.md),
// DOM helpers, formatters of money, counts and times, and the keyboard of a seat grid. Served as
// /common.js, imported by the modules of both pages; it keeps no state of either page.

// ---- the API ---------------------------------------------------------------------------------
export const enc = encodeURIComponent;
const RETRY_AFTER_MS = 1000;         // a command is tried once more after a lost answer or a 503

export function newKey() {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// One call; it never throws. The answer is {ok, status, body, etag}, and when it failed also
// {code, message, retryAfter} from the Error body (code NETWORK, status 0, when the server could not
// be reached). A 304 or 204 has no body.
export async function request(method, path, headers, body) {
  const sent = { ...headers };
  if (body !== undefined) sent['Content-Type'] = 'application/json';
  let response;
  try {
    response = await fetch(path, {
      method, headers: sent, cache: 'no-store', credentials: 'omit',
      body: body === undefined ? undefined : JSON.stringify(body),
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
  return result;
}

// A command: `send(idempotencyKey)` is called with one new key, and once more with the same key
// after a network error or a 503, so that the server applies it once.
export async function sentOnce(send) {
  const key = newKey();
  let result = await send(key);
  if (result.status === 0 || result.status === 503) {
    await sleep(RETRY_AFTER_MS);
    result = await send(key);
  }
  return result;
}

// ---- DOM helpers -----------------------------------------------------------------------------
export const $ = (id) => document.getElementById(id);

// An element with attributes (`class` and `text` set className and textContent; true is an empty
// attribute; undefined, null and false are left out) and children (the same three left out).
export function el(tag, attributes, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attributes || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') e.className = v;
    else if (k === 'text') e.textContent = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) {
    if (c !== null && c !== undefined && c !== false) e.append(c);
  }
  return e;
}

// The text of an element (or of the one with this id), written only when it changes.
export function setText(target, text) {
  const e = typeof target === 'string' ? $(target) : target;
  if (e.textContent !== text) e.textContent = text;
}

// Said by screen readers through the page's #announcer (aria-live): a fresh text node after a
// tick, so that a repeated message is announced again.
export function announce(text) {
  const a = $('announcer');
  a.textContent = '';
  setTimeout(() => { a.textContent = text; }, 30);
}

// The button is disabled and says `label` (if any) while `work` runs, then comes back as it was.
export async function busy(button, label, work) {
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

// Draws a list again from `items`, each [key, content, build()]: a child of the same key and the
// same content is kept as it is, the very element, so that a click under way, the focus, a busy
// button or an error shown in it survive the redraw; the others are built anew. Children already
// in their place are not moved, and nothing is touched when nothing changed.
const drawn = new WeakMap();
export function drawList(list, items) {
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

// ---- words for numbers and times -------------------------------------------------------------
const numberFormat = new Intl.NumberFormat('en-US');
export const count = (n) => numberFormat.format(n);
export const won = (n) => numberFormat.format(n) + ' won';
export const plural = (n, one, many) => count(n) + ' ' + (n === 1 ? one : many);

// "Tue, 24 Dec 2030" for "2030-12-24" (a day, in no time zone).
export function formatDate(ymd) {
  const [y, m, d] = String(ymd).split('-').map(Number);
  if (!y || !m || !d) return String(ymd);
  return new Date(Date.UTC(y, m - 1, d)).toLocaleDateString('en-GB', {
    weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', timeZone: 'UTC',
  });
}

// "24 Dec, 19:00" (with the year: "24 Dec 2030, 19:00") in this browser's time zone; '' when
// `iso` is not an instant.
export function formatInstant(iso, { year = false } = {}) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return '';
  return new Date(t).toLocaleString('en-GB', { day: 'numeric', month: 'short', year: year ? 'numeric' : undefined, hour: '2-digit', minute: '2-digit' });
}

// "19:00", or "19:00:05" with the seconds.
export function clockTime(ms, withSeconds = false) {
  return new Date(ms).toLocaleTimeString('en-GB', withSeconds ? { hour: '2-digit', minute: '2-digit', second: '2-digit' }
    : { hour: '2-digit', minute: '2-digit' });
}

// A countdown: "4:05".
export function formatClock(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  const minutes = Math.floor(total / 60);
  const seconds = total % 60;
  return minutes + ':' + String(seconds).padStart(2, '0');
}

// "45 seconds", "5 minutes" (rounded): how long something lasts, to be spoken.
export function spokenDuration(ms) {
  const total = Math.max(0, Math.ceil(ms / 1000));
  if (total < 60) return total + (total === 1 ? ' second' : ' seconds');
  const minutes = Math.round(total / 60);
  return minutes + (minutes === 1 ? ' minute' : ' minutes');
}

// "1 hour 5 minutes", "3 minutes 20 seconds": a duration in seconds, exact to the second.
export function durationInWords(seconds) {
  const s = Math.round(Number(seconds) || 0);
  if (s < 60) return plural(s, 'second', 'seconds');
  const m = Math.floor(s / 60);
  const rest = s % 60;
  if (m < 60) return plural(m, 'minute', 'minutes') + (rest ? ' ' + plural(rest, 'second', 'seconds') : '');
  const h = Math.floor(m / 60);
  return plural(h, 'hour', 'hours') + (m % 60 ? ' ' + plural(m % 60, 'minute', 'minutes') : '');
}

// "just now", "40 seconds ago", "3 minutes ago".
export function ago(ms) {
  const s = Math.round(ms / 1000);
  if (s < 10) return 'just now';
  if (s < 60) return s + ' seconds ago';
  const m = Math.round(s / 60);
  if (m < 60) return plural(m, 'minute', 'minutes') + ' ago';
  const h = Math.round(m / 60);
  if (h < 48) return plural(h, 'hour', 'hours') + ' ago';
  return plural(Math.round(h / 24), 'day', 'days') + ' ago';
}

// "12:27:43 on Wed, 2 Dec 2026, 3 minutes ago"
export function momentInWords(iso) {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return String(iso);
  const day = new Date(t).toLocaleDateString('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric' });
  return clockTime(t, true) + ' on ' + day + ', ' + ago(Date.now() - t);
}

// ---- the keyboard of a seat grid -------------------------------------------------------------
// Both pages draw seats as rows of buttons (button.seat, data-seat) in one box that is a single
// tab stop (a roving tabindex). The keys, the same on both: ArrowLeft and ArrowRight go to the
// seat before or after, on to the row before or after at a row's end; ArrowUp and ArrowDown to the
// same place in the row above or below (its last seat when that row is shorter); PageUp and
// PageDown SEAT_PAGE_ROWS rows, or as far as there are rows; Home and End to the row's first and
// last seat. Enter and Space press the button, which the page handles as a click.
export const SEAT_PAGE_ROWS = 5;

// Where the seats are, which may be more than the buttons drawn (the organizer's grid draws a page
// of rows at a time): {count, seats(i), indexOf(n)} with rows counted from 0, seats(i) the numbers of
// row i in order, indexOf(n) the row of seat n (-1 for none).
export function listedRows(lists) {
  const rowOf = new Map();
  lists.forEach((seats, i) => seats.forEach((n) => rowOf.set(n, i)));
  return { count: lists.length, seats: (i) => lists[i], indexOf: (n) => (rowOf.has(n) ? rowOf.get(n) : -1) };
}

// Seats 1..total, `perRow` a row.
export function numberedRows(total, perRow) {
  return {
    count: Math.ceil(total / perRow),
    seats: (i) => Array.from({ length: Math.min(perRow, total - i * perRow) }, (_, k) => i * perRow + k + 1),
    indexOf: (n) => (n >= 1 && n <= total ? Math.floor((n - 1) / perRow) : -1),
  };
}

// The seat `key` moves to from `seat`: a number, null when there is nowhere to go, undefined when
// the key is not one of the grid's.
export function seatKeyTarget(key, rows, seat) {
  const step = { ArrowDown: 1, ArrowUp: -1, PageDown: SEAT_PAGE_ROWS, PageUp: -SEAT_PAGE_ROWS }[key];
  if (step === undefined && !['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(key)) return undefined;
  const row = rows.indexOf(seat);
  if (row < 0) return null;
  const inRow = rows.seats(row);
  const index = inRow.indexOf(seat);
  if (key === 'ArrowRight') return index + 1 < inRow.length ? inRow[index + 1] : row + 1 < rows.count ? rows.seats(row + 1)[0] : null;
  if (key === 'ArrowLeft') return index > 0 ? inRow[index - 1] : row > 0 ? rows.seats(row - 1).at(-1) : null;
  if (key === 'Home') return inRow[0];
  if (key === 'End') return inRow[inRow.length - 1];
  const other = Math.max(0, Math.min(rows.count - 1, row + step));
  if (other === row) return null;
  const seats = rows.seats(other);
  return seats[Math.min(index, seats.length - 1)];
}

// The keys above on the grid `box`: `rows()` is its layout now, `move(n)` moves to seat n.
export function onSeatKeys(box, rows, move) {
  box.addEventListener('keydown', (event) => {
    const button = event.target.closest && event.target.closest('button.seat');
    if (!button) return;
    const target = seatKeyTarget(event.key, rows(), Number(button.dataset.seat));
    if (target === undefined) return;
    event.preventDefault();
    if (target !== null) move(target);
  });
}

// The grid's one tab stop goes from button `from` to button `to`, and the focus with it when asked.
export function roveTo(from, to, focus = true) {
  if (from && from !== to) from.tabIndex = -1;
  to.tabIndex = 0;
  if (!focus) return;
  to.focus();
  to.scrollIntoView({ block: 'nearest', inline: 'nearest' });
}
