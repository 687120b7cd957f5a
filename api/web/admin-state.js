// The organizer's page: its state (the admin key, the concert followed and the bucket size are
// kept in sessionStorage, for the tab only), the API with the admin key, and errors in words.
import { request, setText } from './common.js';
import { keyRefused } from './admin-key.js';

const STORE_KEY = 'encore.admin.v1';
const BUCKET_CHOICES = [10, 60, 300];
export const SEATS_PER_ROW_DEFAULT = 25;   // API.md: schedules[].seatsPerRow defaults to 25

// ---- state -----------------------------------------------------------------------------------
let saved = {};
try {
  saved = JSON.parse(sessionStorage.getItem(STORE_KEY) || '{}') || {};
} catch (_) {
  saved = {};
}
export const S = {
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
  // The controls (admin-controls.js): the concert as GET /admin/concerts/{id} gave it, its ETag,
  // its change log, the blocked seats by date, and the seat grid's click mode and selection.
  controls: { concert: null, etag: null, changes: [], blocked: new Map(), mode: 'history', selected: new Set() },
};

export function persist() {
  try {
    sessionStorage.setItem(STORE_KEY, JSON.stringify({ key: S.key, concertId: S.concertId, bucketSeconds: S.bucketSeconds }));
  } catch (_) {
    // A full or disabled store: the page still works, it only asks for the key again on reload.
  }
}

// ---- words -----------------------------------------------------------------------------------
export const ERROR_WORDS = {
  UNAUTHORIZED: 'This server did not accept the admin key. Sign in again with the key it was started with.',
  CONCERT_NOT_FOUND: 'This concert does not exist on this server.',
  DATE_NOT_FOUND: 'This concert has no such date.',
  SEAT_NOT_FOUND: 'This date has no seat with that number.',
  IDEMPOTENCY_KEY_REUSED: 'This request clashed with an earlier one. Please try again.',
  TIMEOUT: 'The server is busy and did not confirm in time. The concert may still be created: refresh the list before trying again.',
  OVERLOADED: 'The server is very busy right now. Please try again in a moment.',
  NOT_READY: 'The server is starting up. Please try again in a moment.',
  PRECONDITION_FAILED: 'The concert was changed elsewhere since this page read it. Check it and try again.',
  PHASE_STARTED: 'That phase has opened meanwhile: a phase that has opened stays as it is. The page now shows the phases as they are.',
  PAYLOAD_TOO_LARGE: 'That request was too large.',
  INTERNAL: 'Something went wrong on the server. Please try again.',
  NETWORK: 'The server could not be reached. Check the connection and try again.',
};

export function words(result) {
  if (ERROR_WORDS[result.code]) return ERROR_WORDS[result.code];
  if (result.status === 400) return 'The server did not accept this' + (result.message ? ': ' + result.message + '.' : '.');
  if (result.status >= 500) return ERROR_WORDS.INTERNAL;
  return 'Something went wrong' + (result.message ? ': ' + result.message + '.' : '.');
}

export function showError(id, result) {
  setText(id, typeof result === 'string' ? result : words(result));
}

export const clearError = (id) => setText(id, '');

// ---- the API ---------------------------------------------------------------------------------
// A call with the tab's admin key (or `adminKey`, null for none) and an Idempotency-Key as asked.
export function api(method, path, options = {}) {
  const headers = {};
  const key = options.adminKey !== undefined ? options.adminKey : S.key;
  if (key) headers['X-Admin-Key'] = key;
  if (options.idempotencyKey) headers['Idempotency-Key'] = options.idempotencyKey;
  Object.assign(headers, options.headers || {});
  return request(method, path, headers, options.body);
}

// An admin call: a 401 means the key is no longer good, which is said where it happened and
// brings the sign-in back.
export async function adminApi(method, path, errorId, options) {
  const r = await api(method, path, options);
  if (r.status === 401) keyRefused(errorId);
  return r;
}
