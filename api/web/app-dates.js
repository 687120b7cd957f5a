// The fan's page: the booking section while it is the user's turn: the dates of the concert and
// the seat map loaded (and polled with If-None-Match) for the date chosen.
import { $, announce, clockTime, drawList, el, enc, formatDate } from './common.js';
import { S, SEATS_PER_ROW_DEFAULT, api, clearError, persist, showError } from './app-state.js';
import { applyQueue, dateOf, isActive, openStream, queueRefused, renderConcerts, stopSeatPolling } from './app-queue.js';
import { renderMap, renderSelection } from './app-seats.js';

const SEAT_POLL_MS = 2000;          // the server frees an expired hold within 2 s
const LARGE_VENUE_SEATS = 2000;     // past this a venue opens on its overview, one section drawn at a time

// ---- dates and the seat map ------------------------------------------------------------------
export function showBooking() {
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
export function hideBooking(note) {
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
  note_el.textContent = note + ' Seats as of ' + clockTime(S.map.asOf) + '.';
  note_el.hidden = false;
  renderMap();
}

export function bookingRefused(r) {
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
    S.mapSection = null;
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

// A large venue (a layout of more than LARGE_VENUE_SEATS seats and places on that date) is shown
// by section: GET .../seats?overview=true until the fan chooses one, then ?section=X, whose body
// has the overview too. A date /dates does not list (sold out) is known large after one full map.
function sectioned(concertId, date) {
  const concert = S.concerts.find((c) => c.concertId === concertId);
  if (!concert || !Array.isArray(concert.grades) || !concert.grades.length) return false;
  if (S.map && S.map.concertId === concertId && S.map.date === date && S.map.sectioned) return true;
  const info = S.availableDates && S.availableDates.get(date);
  return !!info && info.totalSeats > LARGE_VENUE_SEATS;
}

export async function loadSeats() {
  const concertId = S.concertId;
  const date = S.date;
  const generation = S.generation;
  if (!concertId || !date) return false;
  const large = sectioned(concertId, date);
  const section = large ? S.mapSection : null;
  const query = !large ? '' : section ? '?section=' + enc(section) : '?overview=true';
  const same = S.map && S.map.concertId === concertId && S.map.date === date && S.map.query === query;
  const r = await api('GET', '/concerts/' + enc(concertId) + '/dates/' + enc(date) + '/seats' + query,
    { queue: S.queueTokens[concertId], etag: same ? S.map.etag : null });
  // A late answer: another concert, date or section was chosen meanwhile.
  if (generation !== S.generation || date !== S.date || (large && S.mapSection !== section)) return false;
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
  const seats = r.body.seats || [];
  const sections = r.body.sections || [];
  S.map = { concertId, date, etag: r.etag, seats, sections, perRow, asOf: Date.now(), stale: false, query, section,
    sectioned: large || (sections.length > 0 && seats.length > LARGE_VENUE_SEATS) };
  rememberPrices(concertId, sections.length ? sections : seats);
  updateDateCount();
  renderMap();
  return true;
}

// The cheapest and dearest prices seen, for the concert's card: of its seats, or its sections.
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
  if (!m || !S.availableDates || (m.sectioned && !S.availableDates.has(m.date))) return;
  const info = S.availableDates.get(m.date) || { date: m.date, totalSeats: m.seats.length };
  // Standing places count as seats, as in GET /dates.
  const zones = (m.sections || []).filter((z) => z.standing);
  if (m.sectioned) {
    // One section's seats are drawn: the sections say what is left; the total is /dates'.
    info.availableSeats = m.sections.reduce((n, z) => n + z.available, 0);
  } else {
    info.availableSeats = m.seats.filter((s) => s.status === 'AVAILABLE').length + zones.reduce((n, z) => n + z.available, 0);
    info.totalSeats = m.seats.length + zones.reduce((n, z) => n + z.standing, 0);
  }
  S.availableDates.set(m.date, info);
  const b = $('dates').querySelector('button[data-date="' + CSS.escape(m.date) + '"] small');
  if (b) b.textContent = info.availableSeats + ' of ' + info.totalSeats + ' seats left';
}
