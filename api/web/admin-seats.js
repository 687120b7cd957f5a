// The organizer's page: the seat grid of a date, a page of rows at a time (the keyboard of
// common.js), and the history of the seat chosen.
import { $, announce, count, el, enc, formatDate, momentInWords, numberedRows, plural, roveTo, setText } from './common.js';
import { S, SEATS_PER_ROW_DEFAULT, adminApi, clearError, showError } from './admin-state.js';
import { wholeNumber } from './admin-create.js';
import { currentConcert } from './admin-live.js';
import { blockMode, markBlocked, toggleSelected } from './admin-controls.js';

const SEAT_BUTTONS_MAX = 2000;      // a page of the seat grid draws at most this many buttons
const HISTORY_PAGE = 20;

// ---- seat history ----------------------------------------------------------------------------
export function setupSeatDates(c) {
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

export function renderGridRange() {
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

export function renderGrid() {
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
  markBlocked();
  // Wide enough for the longest seat number and row label of the page, so that none wraps.
  grid.style.setProperty('--seat-width', Math.max(44, 12 + 8 * String(lastSeat).length) + 'px');
  grid.style.setProperty('--row-label-width', (2.6 + 0.55 * String(lastRow).length).toFixed(2) + 'rem');
  renderGridRange();
}

function seatButton(n) {
  return $('seat-grid').querySelector('button[data-seat="' + n + '"]');
}

// The grid's one tab stop, and the focus when asked, go to seat `n`, its page of rows drawn first
// when n is on another (a click, a key of common.js, the seat-number field).
export function moveFocus(n, focus = true) {
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
  S.focusSeat = n;
  const button = seatButton(n);
  if (button) roveTo(before, button, focus);
}

// Every seat of the date by row, not only the page drawn: the keys go on to the next page.
export function gridRows() {
  const layout = dateLayout(S.grid.date);
  return numberedRows(layout.seats, layout.perRow);
}

export function gridClick(event) {
  const button = event.target.closest('button.seat');
  if (!button) return;
  const n = Number(button.dataset.seat);
  moveFocus(n, false);
  if (blockMode()) return toggleSelected(n);
  showHistory(S.grid.date, n, false);
}

export function seatFormSubmit(event) {
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

export function pageRows(delta) {
  const layout = dateLayout(S.grid.date);
  const perPage = rowsPerPage(layout.perRow);
  const first = S.grid.firstRow + delta * perPage;
  if (first < 1 || first > layout.rows) return;
  S.grid.firstRow = first;
  S.focusSeat = (first - 1) * layout.perRow + 1;
  renderGrid();
  announce('Showing ' + $('grid-range').textContent);
}

export function closeHistory() {
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

export async function loadHistory() {
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
