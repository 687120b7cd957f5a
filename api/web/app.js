// The fan's web page: account and wallet, concerts, the waiting room (live over Server-Sent
// Events, polling when the stream fails), the seat map by row, holds with a countdown, payment,
// cancellation, refunds and the wallet's history. Served as /app.js, an ES module that starts the
// page; the screens are the app-*.js modules it imports, with common.js. Talks only to this
// origin's API (shared/API.md).
import { $, busy, listedRows, onSeatKeys } from './common.js';
import { S, focusHeading } from './app-state.js';
import { accountLost, charge, createAccount, loadAccount, loadHistory, renderAccount } from './app-wallet.js';
import { loadReservations, tickTimers } from './app-bookings.js';
import { isFinal, joinQueue, loadConcerts, openStream, resumeQueue } from './app-queue.js';
import { holdBest, holdPlaces, holdSelected, moveSeatFocus, overviewClick, renderMap, renderSelection, seatClick } from './app-seats.js';
import { claimPlace, loadPhases } from './app-phases.js';

// ---- start -----------------------------------------------------------------------------------
function bind() {
  $('welcome-form').addEventListener('submit', createAccount);
  $('charge-form').addEventListener('submit', charge);
  $('best-form').addEventListener('submit', holdBest);
  $('standing-list').addEventListener('submit', holdPlaces);
  $('phase-list').addEventListener('submit', claimPlace);
  $('hold-selected').addEventListener('click', holdSelected);
  $('clear-selection').addEventListener('click', () => {
    S.selected.clear();
    renderMap();
    const focus = S.seatButtons.get(S.focusSeat);
    if (focus) focus.focus();
  });
  onSeatKeys($('seat-map'), () => S.seatRows || listedRows([]), moveSeatFocus);
  $('seat-map').addEventListener('click', seatClick);
  $('overview-blocks').addEventListener('click', overviewClick);
  $('queue-rejoin').addEventListener('click', () => joinQueue(S.concertId, $('queue-rejoin')));
  $('history-more').addEventListener('click', () => busy($('history-more'), 'Loading…', () => loadHistory(false)));
  $('tickets-more').addEventListener('click', () => busy($('tickets-more'), 'Loading…', () => loadReservations(false)));
  $('balance-link').addEventListener('click', (event) => {
    event.preventDefault();
    $('wallet').scrollIntoView();
    focusHeading('wallet-h');
  });
  // A page brought back from the background: the stream may have been dropped meanwhile.
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && S.concertId && S.queueTokens[S.concertId] && !isFinal() && !S.stream && !S.queuePollTimer) {
      openStream();
    }
  });
}

async function start() {
  bind();
  renderAccount();
  renderSelection();
  const concerts = loadConcerts();
  if (S.token) {
    const known = await loadAccount();
    if (!known) {
      await concerts;
      return accountLost();
    }
  } else {
    $('welcome').hidden = false;
  }
  await concerts;
  if (S.token && S.concertId && S.queueTokens[S.concertId]) await resumeQueue(false);
  if (S.token && S.concertId) await loadPhases();
  document.documentElement.dataset.ready = 'true';
}

setInterval(tickTimers, 500);
start();
