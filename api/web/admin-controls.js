// The organizer's page: the controls of the concert followed. Pause and resume the sale, change
// the live settings (PATCH with If-Match: a change made meanwhile elsewhere is not overwritten),
// block and release seats by clicking them in the seat grid, and the change log. The blocked
// seats of each date are read from the change log, which lists every block and release.
import { $, announce, count, durationInWords, el, enc, formatDate, momentInWords, newKey, plural, setText } from './common.js';
import { S, adminApi, clearError, showError } from './admin-state.js';
import { wholeNumber } from './admin-create.js';
import { renderPhaseLists } from './admin-phases.js';

const CHANGES_PAGE = 1000;
const CHANGES_SHOWN = 50;           // the log shows the newest ones

const SETTINGS = [
  // [input id, PATCH field path, the concert's value]
  ['s-capacity', ['queue', 'activeCapacity'], (c) => c.queue.activeCapacity],
  ['s-hold-ttl', ['holdTtlSeconds'], (c) => c.holdTtlSeconds],
  ['s-max-tickets', ['maxTicketsPerUser'], (c) => c.maxTicketsPerUser],
];

export const blockedSeats = (date) => (S.controls.blocked.get(date) || new Set());

// Reads the concert (its settings, pause and ETag) and its whole change log.
export async function loadControls() {
  const generation = S.generation;
  const path = '/admin/concerts/' + enc(S.concertId);
  const [concert, changes] = await Promise.all([adminApi('GET', path, 'controls-error'), loadChanges(path)]);
  if (generation !== S.generation) return;
  if (!concert.ok) return concert.status === 401 ? undefined : showError('controls-error', concert);
  clearError('controls-error');
  S.controls.concert = concert.body;
  S.controls.etag = concert.etag || null;
  if (changes) {
    S.controls.changes = changes;
    S.controls.blocked = blockedFrom(changes);
  }
  renderControls();
}

async function loadChanges(path) {
  let all = [];
  let cursor = null;
  do {
    const r = await adminApi('GET', path + '/changes?limit=' + CHANGES_PAGE + (cursor ? '&cursor=' + enc(cursor) : ''), 'controls-error');
    if (!r.ok) return null;
    all = all.concat(r.body.changes || []);
    cursor = r.body.nextCursor || null;
  } while (cursor);
  return all;
}

function blockedFrom(changes) {
  const blocked = new Map();
  for (const c of changes) {
    if (c.type !== 'SEATS_BLOCKED' && c.type !== 'SEATS_RELEASED') continue;
    const set = blocked.get(c.fields.date) || new Set();
    for (const n of c.fields.seats) (c.type === 'SEATS_BLOCKED' ? set.add(n) : set.delete(n));
    blocked.set(c.fields.date, set);
  }
  return blocked;
}

function renderControls() {
  const c = S.controls.concert;
  if (!c) return;
  renderPhaseLists();
  $('controls').dataset.paused = String(c.paused);
  setText('sale-state', c.paused ? 'The sale is paused: fans wait in the queue and nobody can hold a seat.'
    : 'On sale: the waiting room admits fans and they hold seats.');
  $('sale-toggle').textContent = c.paused ? 'Resume the sale' : 'Pause the sale';
  for (const [id, , value] of SETTINGS) {
    const input = $(id);
    if (document.activeElement !== input && !input.dataset.edited) input.value = String(value(c) ?? '');
  }
  const list = $('changes');
  const shown = S.controls.changes.slice(-CHANGES_SHOWN).reverse();
  list.replaceChildren(...shown.map(changeItem));
  $('changes-empty').hidden = shown.length > 0;
  markBlocked();
}

const CHANGE_WORDS = {
  PAUSED: 'Sale paused', RESUMED: 'Sale resumed', SEATS_BLOCKED: 'Seats blocked', SEATS_RELEASED: 'Seats released',
  UPDATED: 'Settings changed', DATES_ADDED: 'Dates added',
};

function changeDetails(c) {
  const f = c.fields || {};
  switch (c.type) {
    case 'RESUMED': return 'after ' + durationInWords(Math.round(f.pausedSeconds || 0));
    case 'SEATS_BLOCKED':
    case 'SEATS_RELEASED':
      return formatDate(f.date) + ': ' + plural(f.seats.length, 'seat', 'seats') + ' (' + f.seats.join(', ') + ')' + (f.reason ? ' — ' + f.reason : '');
    case 'UPDATED': {
      const parts = [];
      for (const [k, v] of Object.entries(f)) {
        if (k === 'queue') for (const [q, w] of Object.entries(v)) parts.push(q + ' ' + (w === null ? 'default' : w));
        else parts.push(k + ' ' + (v === null ? 'none' : v));
      }
      return parts.join(', ');
    }
    case 'DATES_ADDED': return (f.schedules || []).map((s) => formatDate(s.date)).join(', ');
    default: return '';
  }
}

function changeItem(c) {
  return el('li', { 'data-type': c.type },
    el('span', { class: 'badge ' + c.type, text: CHANGE_WORDS[c.type] || c.type }), ' ',
    el('time', { datetime: c.at, text: momentInWords(c.at) }),
    el('span', { class: 'ids', text: changeDetails(c) }));
}

// ---- pause and resume ------------------------------------------------------------------------
export async function toggleSale() {
  const c = S.controls.concert;
  if (!c) return;
  clearError('controls-error');
  const r = await adminApi('POST', '/admin/concerts/' + enc(S.concertId) + (c.paused ? '/resume' : '/pause'), 'controls-error',
    { idempotencyKey: newKey() });
  if (!r.ok) return r.status === 401 ? undefined : showError('controls-error', r);
  announce(r.body.paused ? 'The sale is paused.' : 'The sale is on again.');
  await loadControls();
}

// ---- settings --------------------------------------------------------------------------------
export async function saveSettings(event) {
  event.preventDefault();
  clearError('settings-error');
  setText('settings-message', '');
  const c = S.controls.concert;
  if (!c) return;
  const body = {};
  for (const [id, [a, b], value] of SETTINGS) {
    const input = $(id);
    const n = wholeNumber(input);
    if (n === null || Number.isNaN(n) || n < Number(input.min) || n > Number(input.max)) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
      return showError('settings-error', 'Enter a whole number from ' + count(Number(input.min)) + ' to ' + count(Number(input.max)) + '.');
    }
    input.removeAttribute('aria-invalid');
    if (n === value(c)) continue;
    if (b) body[a] = Object.assign(body[a] || {}, { [b]: n });
    else body[a] = n;
  }
  if (!Object.keys(body).length) return setText('settings-message', 'Nothing to save: the settings are as they were.');
  const headers = S.controls.etag ? { 'If-Match': S.controls.etag } : {};
  const r = await adminApi('PATCH', '/admin/concerts/' + enc(S.concertId), 'settings-error', { idempotencyKey: newKey(), body, headers });
  if (r.status === 412) {
    for (const [id] of SETTINGS) delete $(id).dataset.edited;
    await loadControls();
    return showError('settings-error', 'The concert was changed elsewhere since this page read it. The page now shows it as it is: check and save again.');
  }
  if (!r.ok) return r.status === 401 ? undefined : showError('settings-error', r);
  for (const [id] of SETTINGS) delete $(id).dataset.edited;
  setText('settings-message', 'Saved. They apply from now on: nobody holding more, or choosing seats, is turned away.');
  await loadControls();
}

// ---- blocking seats --------------------------------------------------------------------------
export const blockMode = () => S.controls.mode === 'block';

export function setMode(mode) {
  for (const b of $('seat-grid').querySelectorAll('button.seat')) b.setAttribute('aria-pressed', 'false');
  S.controls.mode = mode;
  S.controls.selected.clear();
  $('block-tools').hidden = mode !== 'block';
  setText('grid-help', mode === 'block'
    ? 'Arrow keys move between seats, Home and End to a row\u2019s ends; Enter or Space selects a seat to block or release.'
    : 'Arrow keys move between seats, Home and End to a row\u2019s ends; Enter or Space shows a seat\u2019s history.');
  markBlocked();
}

// A click in block mode: the seat joins or leaves the selection.
export function toggleSelected(n) {
  const selected = S.controls.selected;
  if (selected.has(n)) selected.delete(n);
  else selected.add(n);
  markBlocked();
}

// Marks the blocked and the selected seats of the grid drawn.
export function markBlocked() {
  const blocked = blockedSeats(S.grid.date);
  for (const b of $('seat-grid').querySelectorAll('button.seat')) {
    const n = Number(b.dataset.seat);
    const isBlocked = blocked.has(n);
    b.classList.toggle('blocked', isBlocked);
    b.classList.toggle('picked', blockMode() && S.controls.selected.has(n));
    if (blockMode()) b.setAttribute('aria-pressed', String(S.controls.selected.has(n)));
    const label = b.getAttribute('aria-label').replace(/, blocked$/, '');
    b.setAttribute('aria-label', label + (isBlocked ? ', blocked' : ''));
  }
  const n = S.controls.selected.size;
  setText('block-status', n ? plural(n, 'seat', 'seats') + ' selected.' : 'No seat selected: click seats to select them.');
  $('block-selected').disabled = $('release-selected').disabled = n === 0;
}

export async function applyBlocks(block) {
  clearError('seats-error');
  const seats = [...S.controls.selected].sort((a, b) => a - b);
  if (!seats.length) return;
  const body = { seats };
  const reason = $('block-reason').value.trim();
  if (block && reason) body.reason = reason;
  const path = '/admin/concerts/' + enc(S.concertId) + '/dates/' + enc(S.grid.date) + '/blocks';
  const r = await adminApi(block ? 'POST' : 'DELETE', path, 'seats-error', { idempotencyKey: newKey(), body });
  if (!r.ok) {
    if (r.status === 401) return;
    if (r.code === 'SEAT_TAKEN') return showError('seats-error', 'A seat selected is held or sold: nothing was blocked. Deselect it and try again.');
    if (r.code === 'NOT_BLOCKED') return showError('seats-error', 'A seat selected is not blocked: nothing was released.');
    return showError('seats-error', r);
  }
  S.controls.selected.clear();
  announce(plural(seats.length, 'seat', 'seats') + (block ? ' blocked.' : ' released.'));
  await loadControls();
}
