// The fan's page: the account (created here, lost when the server no longer knows its token) and
// the wallet: the balance, charges and the history.
import { $, announce, busy, el, enc, formatInstant, setText, won } from './common.js';
import { ERROR_WORDS, S, api, clearError, command, focusHeading, focusHeadingUnlessMoved, persist, shortRef, showError } from './app-state.js';
import { loadReservations, renderHolds } from './app-bookings.js';
import { leaveConcert, renderConcerts } from './app-queue.js';

const HISTORY_PAGE = 10;

// ---- account and wallet ----------------------------------------------------------------------
export function renderAccount() {
  const signedIn = Boolean(S.token);
  $('welcome').hidden = signedIn;
  $('account').hidden = !signedIn;
  $('wallet').hidden = !signedIn;
  $('tickets').hidden = !signedIn;
  setText('who', S.name ? S.name : 'Fan');
}

export function showBalance(balance) {
  setText('balance', won(balance));
  setText('balance-top', won(balance));
}

export async function createAccount(event) {
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

export async function loadAccount() {
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

export function accountLost() {
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

export async function charge(event) {
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

export async function loadHistory(reset) {
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

export async function refreshBalance() {
  const r = await api('GET', '/users/me/balance');
  if (r.ok) showBalance(r.body.balance);
}
