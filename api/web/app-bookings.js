// The fan's page: holds (a countdown each, pay, cancel) and bookings (refund), and the one ticker
// of every countdown.
import { $, announce, busy, clockTime, drawList, el, enc, formatClock, formatDate, formatInstant, setText, won } from './common.js';
import { S, api, clearError, command, concertTitle, focusHeading, now, refundQuote, seatsOf, seatsText, shortRef, showError } from './app-state.js';
import { loadHistory, refreshBalance, showBalance } from './app-wallet.js';
import { isActive } from './app-queue.js';
import { loadSeats } from './app-dates.js';
import { renderMap } from './app-seats.js';

const RESERVATIONS_PAGE = 20;

// ---- reservations: holds and bookings --------------------------------------------------------
export async function loadReservations(reset) {
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
export function mySeats(concertId, date) {
  const mine = new Map();
  for (const r of S.reservations) {
    if (r.concertId !== concertId || r.date !== date) continue;
    if (r.status === 'HELD' && Date.parse(r.expiresAt) > now() - 3000) for (const n of seatsOf(r)) mine.set(n, 'HELD');
    if (r.status === 'CONFIRMED') for (const n of seatsOf(r)) mine.set(n, 'SOLD');
  }
  return mine;
}

export function renderHolds() {
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

export function renderTickets() {
  const list = $('ticket-list');
  const restore = focusKeeper(list);
  const bookings = S.reservations.filter((r) => r.status !== 'HELD');
  drawList(list, bookings.map((r) => {
    let when = '';
    if (r.status === 'CONFIRMED' && r.paidAt) when = ' · paid ' + formatInstant(r.paidAt);
    if (r.status === 'REFUNDED' && r.refundedAt) when = ' · refunded ' + formatInstant(r.refundedAt);
    if (r.status === 'REFUNDED' && r.refund) when += ' · ' + won(r.refund.amount) + ' back' + (r.refund.fee ? ', fee ' + won(r.refund.fee) : '');
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
    // Under a refund policy the button says what would come back now, and the fee.
    const quote = refundQuote(r);
    const label = quote && quote.fee ? 'Refund ' + won(r.price - quote.fee) + ' (fee ' + won(quote.fee) + ')' : 'Refund ' + won(r.price);
    const refundButton = el('button', { type: 'button', class: 'danger', 'data-action': 'refund', text: label });
    refundButton.addEventListener('click', () => refund(r, refundButton, error));
    const showTickets = el('button', { type: 'button', class: 'secondary', 'data-action': 'tickets', 'aria-expanded': 'false', text: 'Show tickets' });
    const passes = el('div', { class: 'passes', hidden: '' });
    showTickets.addEventListener('click', () => toggleTickets(r, showTickets, passes, error));
    const actions = el('div', { class: 'actions' }, showTickets, refundButton);
    card.append(passes);
    if (quote && quote.closed) {
      refundButton.disabled = true;
      actions.append(el('span', { class: 'muted', 'data-refund': 'closed', text: ' Refunds closed: the show is too near.' }));
    }
    card.append(actions);
  }
  card.append(error);
  return card;
}

// A paid booking's tickets, each with its QR code (fetched with the user's token and shown from a
// blob), seat or zone, gate and entry number: what the fan shows at the door.
async function toggleTickets(r, button, box, error) {
  clearError(error);
  if (!box.hidden) {
    box.hidden = true;
    button.setAttribute('aria-expanded', 'false');
    button.textContent = 'Show tickets';
    return;
  }
  const result = await busy(button, 'Loading…', () => api('GET', '/reservations/' + enc(r.reservationId) + '/tickets'));
  if (!result.ok) return showError(error, result);
  for (const img of box.querySelectorAll('img[src^="blob:"]')) URL.revokeObjectURL(img.src);
  box.replaceChildren(...result.body.tickets.map(passCard));
  box.hidden = false;
  button.setAttribute('aria-expanded', 'true');
  button.textContent = 'Hide tickets';
  for (const pass of box.querySelectorAll('[data-ticket]')) loadQr(pass);
}

const PASS_WORDS = { VALID: 'Valid', ADMITTED: 'Admitted', REVOKED: 'Revoked — refunded' };

function passCard(t) {
  const where = [];
  if (t.section) where.push(t.section);
  if (t.row) where.push('row ' + t.row);
  if (t.seatInRow) where.push('seat ' + t.seatInRow);
  else if (t.seat) where.push('seat ' + t.seat);
  if (t.entryNumber) where.push('entry no. ' + t.entryNumber);
  const qr = el('img', { class: 'qr', alt: 'QR code of ticket ' + t.ticketId, width: '280', height: '280' });
  return el('figure', { class: 'pass', 'data-ticket': t.ticketId, 'data-status': t.status },
    qr,
    el('figcaption', null,
      el('strong', { text: where.join(', ') || 'General admission' }),
      el('span', { text: formatDate(t.date) + (t.gate ? ' · gate ' + t.gate : '') }),
      el('span', { class: 'badge ' + t.status, text: PASS_WORDS[t.status] || t.status }),
      el('span', { class: 'muted', text: t.holder ? 'for ' + t.holder : '' })));
}

async function loadQr(pass) {
  const id = pass.dataset.ticket;
  const response = await fetch('/tickets/' + enc(id) + '/qr.svg', { headers: { Authorization: 'Bearer ' + S.token } });
  if (!response.ok) return;
  pass.querySelector('img.qr').src = URL.createObjectURL(await response.blob());
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
  const back = result.body.refund ? result.body.refund.amount : r.price;
  const fee = result.body.refund ? result.body.refund.fee : 0;
  setText('tickets-message', 'Refunded ' + won(back) + ' to your wallet for ' + formatDate(r.date) + ' (' +
    seatsText(r) + ')' + (fee ? '; the refund fee was ' + won(fee) : '') + '.');
  if (S.map && S.map.concertId === r.concertId && S.map.date === r.date) {
    for (const s of S.map.seats) if (seatsOf(r).includes(s.number)) s.status = 'AVAILABLE';
  }
  focusHeading('tickets-h');
  await Promise.all([loadReservations(true), loadHistory(true), refreshBalance()]);
  if (isActive()) loadSeats();
}

// One ticker for every countdown on the page: holds and the admitted user's turn.
export function tickTimers() {
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
    setText('queue-detail', left > 0 ? 'Your turn ends at ' + clockTime(Date.parse(S.queue.activeUntil)) + ' (in ' +
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
