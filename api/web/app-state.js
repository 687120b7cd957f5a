// The fan's page: its state (what a reload keeps is in localStorage), the API with the user's
// token, errors in words and what several screens show (a booking's seats in words).
import { $, request, sentOnce } from './common.js';
import { accountLost } from './app-wallet.js';
import { rowLabelOfNumber } from './app-seats.js';

const STORE_KEY = 'encore.state.v1';
export const SEATS_PER_ROW_DEFAULT = 25;   // API.md: schedules[].seatsPerRow defaults to 25

// ---- state -----------------------------------------------------------------------------------
let saved = {};
try {
  saved = JSON.parse(localStorage.getItem(STORE_KEY) || '{}') || {};
} catch (_) {
  saved = {};
}
export const S = {
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
  map: null,                        // {concertId, date, etag, seats, sections, perRow, asOf, stale, sectioned, section, query}
  mapSection: null,                 // a large venue: the section drawn (null: its overview alone)
  phases: null,                     // GET /concerts/{c}/phases of phasesConcert
  phasesConcert: null,
  seatButtons: new Map(),
  seatRows: null,                   // the map's rows of seat numbers, for the keyboard (common.js)
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

export function persist() {
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

export const now = () => Date.now() + S.skewMs;

// ---- words -----------------------------------------------------------------------------------
export const ERROR_WORDS = {
  UNAUTHORIZED: 'We could not confirm who you are. Please create your account again.',
  QUEUE_TOKEN_INVALID: 'Your place in the waiting room is not valid for this concert. Please join the waiting room again.',
  QUEUE_TOKEN_EXPIRED: 'Your turn to choose seats has ended. Join the waiting room again to buy more.',
  NOT_YOUR_TURN: 'It is not your turn yet. Please wait in the waiting room; this page will tell you when it is.',
  CONCERT_NOT_FOUND: 'This concert no longer exists.',
  DATE_NOT_FOUND: 'This concert has no such date.',
  DATE_NOT_BOOKABLE: 'This date cannot be booked.',
  INVALID_SEAT: 'That seat does not exist.',
  SEAT_TAKEN: 'Sorry, someone else took that seat a moment ago. Please choose another one.',
  NOT_ELIGIBLE: 'This part of the sale is for a list of people (a fan club\u2019s presale), and you have not proved you are on it.',
  GRADE_NOT_ON_SALE: 'Those seats are not on sale in this part of the sale. Choose seats of a grade it sells.',
  NOT_ON_LIST: 'That code is not on the list. Check it against the message you received.',
  ALREADY_CLAIMED: 'Someone else already used that code. Each code admits one person.',
  ALREADY_ELIGIBLE: 'You are already on this list with another code.',
  RATE_LIMITED: 'Too many codes that are not on the list.',
  SECTION_FULL: 'That standing zone has fewer places left than you asked for. Try fewer places, or another zone.',
  SALES_PAUSED: 'The organizer has paused the sale for a moment. Your turn is kept: try again when it resumes.',
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
  REFUND_NOT_ALLOWED: 'This booking cannot be refunded: the concert allows no refunds, the refund period is over, or the show is too near.',
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

export function words(result) {
  if (ERROR_WORDS[result.code]) return ERROR_WORDS[result.code];
  if (result.status === 400) return 'The server did not accept this request' + (result.message ? ': ' + result.message : '.');
  if (result.status >= 500) return ERROR_WORDS.INTERNAL;
  return 'Something went wrong' + (result.message ? ': ' + result.message : '.');
}

export const shortRef = (id) => String(id || '').replace(/[^A-Za-z0-9]/g, '').slice(-6).toUpperCase();
// A reservation's seats; none for places of a standing zone.
export const seatsOf = (r) => (r.standing ? [] : Array.isArray(r.seats) && r.seats.length ? r.seats : [r.seat]);

// "FLOOR, standing, 2 places (entry no. 153, 154)".
export function placesText(r) {
  const z = r.standing;
  const entries = r.entryNumbers && r.entryNumbers.length ? ' (entry no. ' + r.entryNumbers.join(', ') + ')' : '';
  return z.section + ', standing, ' + z.places + (z.places === 1 ? ' place' : ' places') + entries;
}

// What a refund of a CONFIRMED booking would keep now under its concert's refund policy (API.md
// "Refund fees"): {fee} or {closed: true} under the last tier; null when its date has no startsAt
// or the concert no policy (refundsUntil decides, fee-free). The policy is today's: a booking paid
// before a change keeps its own, and the server's answer says what was kept.
export function refundQuote(r) {
  const c = S.concerts.find((x) => x.concertId === r.concertId);
  const policy = c && c.refundPolicy;
  const schedule = c && (c.schedules || []).find((d) => d && d.date === r.date);
  if (!policy || !schedule || !schedule.startsAt) return null;
  const hour = 3600 * 1000;
  const left = Date.parse(schedule.startsAt) - now();
  const index = policy.fees.findIndex((t) => left >= t.hoursBefore * hour);
  if (index < 0) return { closed: true };
  const tier = policy.fees[index];
  const places = r.standing ? r.standing.places : seatsOf(r).length;
  if (index === 0 && r.paidAt && now() - Date.parse(r.paidAt) < (policy.freeWithinHours || 0) * hour) return { fee: 0 };
  const fee = tier.percent !== undefined ? Math.floor(r.price * tier.percent / 100) : tier.won * places;
  return { fee: Math.min(fee, r.price) };
}

export function concertTitle(concertId) {
  const c = S.concerts.find((x) => x.concertId === concertId);
  return c ? c.title : 'Concert';
}

// "Row 1, seats 7, 8" from the seat map of that date when it is loaded, else from the concert's
// seatsPerRow (GET /concerts' schedules), so that a booking reads the same whichever concert is open.
export function seatsText(r) {
  if (r.standing) return placesText(r);
  const seats = seatsOf(r);
  const map = S.map;
  const onMap = map && map.concertId === r.concertId && map.date === r.date;
  const c = S.concerts.find((x) => x.concertId === r.concertId);
  const schedule = c && (c.schedules || []).find((d) => d && d.date === r.date);
  const perRow = schedule && Number(schedule.seatsPerRow);
  if (onMap || perRow) {
    const byRow = new Map();
    for (const n of seats) {
      const row = (onMap ? rowLabelOfNumber(n) : 'Row ' + Math.ceil(n / perRow)) || '';
      if (!byRow.has(row)) byRow.set(row, []);
      byRow.get(row).push(n);
    }
    // A seat whose row is not known here (a large venue's section not drawn) goes by its number.
    return [...byRow].map(([row, ns]) => (row ? row + ', ' + (ns.length === 1 ? 'seat ' : 'seats ') : (ns.length === 1 ? 'Seat ' : 'Seats ')) +
      ns.join(', ')).join('; ');
  }
  return (seats.length === 1 ? 'Seat ' : 'Seats ') + seats.join(', ');
}

// ---- errors and focus ------------------------------------------------------------------------
export function showError(target, result) {
  const e = typeof target === 'string' ? $(target) : target;
  e.textContent = typeof result === 'string' ? result : words(result);
}

export function clearError(target) {
  const e = typeof target === 'string' ? $(target) : target;
  e.textContent = '';
}

export function focusHeading(id) {
  const h = $(id);
  if (!h) return;
  h.focus({ preventScroll: false });
}

// The same at the end of work started from `from` (a section), unless the user has gone on to a
// control elsewhere meanwhile: keys typed there must not be lost to a late focus move.
export function focusHeadingUnlessMoved(id, from) {
  const a = document.activeElement;
  if (!a || a === document.body || from.contains(a)) focusHeading(id);
}

// ---- the API ---------------------------------------------------------------------------------
// A call with the user's token (unless `anonymous`), the queue token, an ETag to revalidate and an
// Idempotency-Key as asked; a 401 to a user with a token means the server no longer knows them.
export async function api(method, path, options = {}) {
  const headers = {};
  if (S.token && !options.anonymous) headers.Authorization = 'Bearer ' + S.token;
  if (options.queue) headers['X-Queue-Token'] = options.queue;
  if (options.etag) headers['If-None-Match'] = options.etag;
  if (options.key) headers['Idempotency-Key'] = options.key;
  const result = await request(method, path, headers, options.body);
  if (result.status === 401 && S.token && !options.anonymous) setTimeout(() => accountLost(), 0);
  return result;
}

// A command carries an Idempotency-Key, so that one retry after a lost answer or a 503 is
// applied once.
export const command = (method, path, options = {}) => sentOnce((key) => api(method, path, { ...options, key }));
