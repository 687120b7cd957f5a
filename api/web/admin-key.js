// The organizer's page: the admin key, asked for first, checked with a read, forgotten on demand
// or when the server stops accepting it.
import { $, announce, busy, enc } from './common.js';
import { ERROR_WORDS, S, api, clearError, persist, showError, words } from './admin-state.js';
import { loadConcerts, stopRefresh } from './admin-live.js';

// ---- the admin key ---------------------------------------------------------------------------
// The key is tried on a read: the analytics of the first concert listed (200 with a good key,
// 401 with a bad one), or of a made-up id while there is none (404 CONCERT_NOT_FOUND with a
// good key). Nothing is written.
const PROBE_CONCERT = 'c-0000000000000000';

export async function checkKey(key) {
  const list = await api('GET', '/concerts', { adminKey: null });
  const first = list.ok && list.body && list.body.concerts && list.body.concerts[0];
  const r = await api('GET', '/analytics/concerts/' + enc(first ? first.concertId : PROBE_CONCERT), { adminKey: key });
  if (r.ok || (r.status === 404 && r.code === 'CONCERT_NOT_FOUND')) return { ok: true };
  return r;
}

export async function signIn(event) {
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

export function keyRefused(errorId) {
  if (errorId) showError(errorId, ERROR_WORDS.UNAUTHORIZED);
  if (!S.key) return;
  S.key = null;
  persist();
  stopRefresh();
  $('key').hidden = false;
  $('signed-in').hidden = true;
  showError('key-error', 'The server stopped accepting the admin key this tab had. Enter it again.');
}

export function forgetKey() {
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

export async function openDesk() {
  $('key').hidden = true;
  $('desk').hidden = false;
  $('signed-in').hidden = false;
  await loadConcerts();
}
