// The fan's page: the concerts on sale and the waiting room of the one chosen, live over
// Server-Sent Events, polled when the stream fails.
import { $, announce, busy, drawList, el, enc, formatDate, formatInstant, setText, won } from './common.js';
import { S, api, clearError, command, concertTitle, focusHeading, persist, showError } from './app-state.js';
import { tickTimers } from './app-bookings.js';
import { hideBooking, showBooking } from './app-dates.js';
import { renderSelection } from './app-seats.js';
import { loadPhases, notEligibleText } from './app-phases.js';

const QUEUE_POLL_MS = 3000;         // only when the event stream cannot be used
const STREAM_FAILURES_MAX = 3;      // errors in a row before the stream is given up for polling
const FINAL_STATUSES = new Set(['EXPIRED', 'COMPLETED']);

// ---- concerts --------------------------------------------------------------------------------
export async function loadConcerts() {
  const r = await api('GET', '/concerts', { anonymous: true });
  if (!r.ok) {
    setText('concerts-status', '');
    return showError('concerts-error', r);
  }
  clearError('concerts-error');
  S.concerts = r.body.concerts || [];
  renderConcerts();
}

function priceText(c) {
  const prices = [];
  for (const d of (c.dates || []).concat(c.schedules || [])) if (d && typeof d === 'object' && typeof d.price === 'number') prices.push(d.price);
  for (const key of ['minPrice', 'maxPrice', 'price']) if (typeof c[key] === 'number') prices.push(c[key]);
  if (Array.isArray(c.prices)) for (const p of c.prices) if (typeof p === 'number') prices.push(p);
  const seen = S.prices[c.concertId];
  if (seen) prices.push(seen.min, seen.max);
  if (!prices.length) return 'Prices are shown on the seat map when it is your turn.';
  const min = Math.min(...prices);
  const max = Math.max(...prices);
  return min === max ? 'Tickets ' + won(min) : 'Tickets ' + won(min) + ' – ' + won(max);
}

export const dateOf = (d) => (d && typeof d === 'object' ? d.date : d);

export function renderConcerts() {
  setText('concerts-status', S.concerts.length ? '' : 'No concerts are on sale right now.');
  $('concerts-status').hidden = S.concerts.length > 0;
  drawList($('concert-list'), S.concerts.map((c) => {
    const current = c.concertId === S.concertId && Boolean(S.queueTokens[c.concertId]) && !isFinal();
    const label = current ? 'Go to your place in line' : 'Join the waiting room';
    const dates = (c.dates || []).map((d) => formatDate(dateOf(d))).join(' · ');
    const prices = priceText(c);
    let presale = c.onsaleAt && Date.parse(c.onsaleAt) > Date.now() + S.skewMs
      ? 'On sale from ' + formatInstant(c.onsaleAt) + ' · join the pre-queue now' : '';
    // Sale phases: each one's name and when it opens ("Fan club presale from …").
    if (Array.isArray(c.salePhases) && c.salePhases.length) {
      presale = c.salePhases.map((p) => (p.name || p.phase) + (p.eligibility === 'LIST' ? ' (list)' : '') + ' from ' + formatInstant(p.opensAt)).join(' · ');
    }
    const chosen = c.concertId === S.concertId;
    return [c.concertId, JSON.stringify([c.title, c.venue, dates, prices, presale, label, chosen, Boolean(S.token)]), () => {
      const join = el('button', { type: 'button', 'data-concert': c.concertId, text: label, 'aria-label': label + ' for ' + c.title });
      join.addEventListener('click', () => (current ? resumeQueue(true) : joinQueue(c.concertId, join)));
      return el('li', { class: 'card concert', 'aria-current': chosen ? 'true' : null },
        el('h3', { text: c.title }),
        c.venue ? el('p', { class: 'meta', text: c.venue }) : null,
        el('p', { text: dates }),
        el('p', { class: 'muted', text: prices }),
        presale ? el('p', { class: 'meta', text: presale }) : null,
        S.token ? join : el('p', { class: 'hint', text: 'Create your account above to join.' }));
    }];
  }));
}

// ---- the waiting room ------------------------------------------------------------------------
// "about 5 minutes": the server's estimate of the wait, in words.
function humanWait(seconds) {
  if (seconds === undefined || seconds === null || Number.isNaN(Number(seconds))) return '';
  const s = Number(seconds);
  if (s <= 0) return 'any moment now';
  if (s < 50) return 'less than a minute';
  const minutes = Math.round(s / 60);
  if (minutes < 60) return 'about ' + minutes + (minutes === 1 ? ' minute' : ' minutes');
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  return 'about ' + hours + (hours === 1 ? ' hour' : ' hours') + (rest ? ' ' + rest + ' min' : '');
}

export const isActive = () => Boolean(S.queue && S.queue.status === 'ACTIVE');
export const isFinal = () => Boolean(S.queue && FINAL_STATUSES.has(S.queue.status));

function closeStream() {
  if (S.stream) {
    S.stream.close();
    S.stream = null;
  }
}

function stopQueuePolling() {
  clearTimeout(S.queuePollTimer);
  S.queuePollTimer = null;
}

export function stopSeatPolling() {
  clearTimeout(S.seatPollTimer);
  S.seatPollTimer = null;
}

// Everything tied to the current concert stops: late answers of it are dropped by generation.
export function leaveConcert() {
  S.generation += 1;
  closeStream();
  stopQueuePolling();
  stopSeatPolling();
  S.queue = null;
  S.datesLoaded = false;
  S.availableDates = null;
  S.map = null;
  S.selected.clear();
  S.firstPosition = null;
  S.focusSeat = null;
  $('seat-map').replaceChildren();
  $('seat-map').dataset.key = '';
  $('legend').replaceChildren();
  $('dates').replaceChildren();
  $('map-note').hidden = true;
  clearError('booking-error');
  clearError('queue-error');
  renderSelection();
}

function switchConcert(concertId) {
  if (concertId === S.concertId) return;
  leaveConcert();
  S.concertId = concertId;
  S.date = null;
  persist();
  renderConcerts();
}

export async function joinQueue(concertId, button) {
  switchConcert(concertId);
  $('queue').hidden = false;
  setText('queue-concert', concertTitle(concertId));
  clearError('queue-error');
  $('queue-rejoin').hidden = true;
  const work = async () => {
    const generation = S.generation;
    const r = await command('POST', '/concerts/' + enc(concertId) + '/queue');
    if (generation !== S.generation) return;
    if (r.code === 'NOT_ELIGIBLE') {
      showError('queue-error', notEligibleText(r));
      return loadPhases();
    }
    if (!r.ok) return showError('queue-error', r);
    S.queueTokens[concertId] = r.body.queueToken;
    persist();
    renderConcerts();
    S.queue = null;
    S.datesLoaded = false;
    if (S.map) { S.map.etag = null; }
    applyQueue(r.body, { joined: true });
    loadPhases();
    focusHeading(isActive() ? 'booking-h' : 'queue-h');
    if (!isFinal()) openStream();
  };
  return button ? busy(button, 'Joining…', work) : work();
}

// After a reload, or from the concert card: the saved queue token's status.
export async function resumeQueue(focus) {
  const concertId = S.concertId;
  const token = S.queueTokens[concertId];
  if (!concertId || !token) return;
  $('queue').hidden = false;
  setText('queue-concert', concertTitle(concertId));
  if (focus) focusHeading(isActive() ? 'booking-h' : 'queue-h');
  if (S.stream || S.queuePollTimer) return;
  if (!S.queue) $('queue-status').textContent = 'Checking your place in line…';
  const generation = S.generation;
  const r = await api('GET', '/concerts/' + enc(concertId) + '/queue', { queue: token });
  if (generation !== S.generation) return;
  if (!r.ok) return queueRefused(r);
  applyQueue(r.body, { resumed: true });
  if (!isFinal()) openStream();
}

export function queueRefused(r) {
  if (r.status === 401) return;
  if (r.code === 'QUEUE_TOKEN_INVALID') {
    delete S.queueTokens[S.concertId];
    persist();
    renderConcerts();
  }
  if (r.code === 'QUEUE_TOKEN_EXPIRED') return applyQueue({ status: 'EXPIRED', position: 0 });
  showError('queue-error', r);
  $('queue-rejoin').hidden = false;
}

export function openStream() {
  closeStream();
  stopQueuePolling();
  const concertId = S.concertId;
  const token = S.queueTokens[concertId];
  if (!concertId || !token || !S.token) return;
  if (typeof EventSource === 'undefined') return startQueuePolling();
  const generation = S.generation;
  const url = '/concerts/' + enc(concertId) + '/queue/stream?token=' + enc(S.token) + '&queueToken=' + enc(token);
  const stream = new EventSource(url);
  let failures = 0;
  S.stream = stream;
  document.documentElement.dataset.queueTransport = 'stream';
  stream.addEventListener('queue', (event) => {
    if (generation !== S.generation || S.stream !== stream) return stream.close();
    failures = 0;
    let q;
    try { q = JSON.parse(event.data); } catch (_) { return; }
    applyQueue(q);
  });
  stream.addEventListener('error', () => {
    if (generation !== S.generation || S.stream !== stream) return stream.close();
    if (isFinal()) return closeStream();
    failures += 1;
    // CLOSED: the server refused the stream (a 403, say); CONNECTING: the browser retries, but
    // a stream that keeps failing is given up for polling.
    if (stream.readyState === EventSource.CLOSED || failures >= STREAM_FAILURES_MAX) {
      closeStream();
      startQueuePolling();
    }
  });
}

function startQueuePolling() {
  stopQueuePolling();
  const concertId = S.concertId;
  const token = S.queueTokens[concertId];
  if (!concertId || !token) return;
  const generation = S.generation;
  document.documentElement.dataset.queueTransport = 'poll';
  const tick = async () => {
    if (generation !== S.generation) return;
    const r = await api('GET', '/concerts/' + enc(concertId) + '/queue', { queue: token });
    if (generation !== S.generation) return;
    if (r.ok) {
      clearError('queue-error');
      applyQueue(r.body);
      if (isFinal()) return;
    } else if (r.status === 401 || r.status === 403) {
      return queueRefused(r);
    } else {
      showError('queue-error', r);
    }
    S.queuePollTimer = setTimeout(tick, QUEUE_POLL_MS);
  };
  S.queuePollTimer = setTimeout(tick, 0);
}

export function applyQueue(q, how = {}) {
  const previous = S.queue ? S.queue.status : null;
  S.queue = q;
  const box = $('queue-status');
  box.className = 'status-box ' + q.status;
  $('queue').hidden = false;
  $('queue-rejoin').hidden = !FINAL_STATUSES.has(q.status);
  if (q.status === 'WAITING') {
    if (q.preQueue) {
      const at = q.onsaleAt ? formatInstant(q.onsaleAt) : 'the start of the sale';
      setBox(box, 'You are in the pre-queue.', null);
      setText('queue-detail', 'The sale opens at ' + at + '. Then everyone in the pre-queue gets a random place in line — joining early or often does not change it. Keep this page open.');
    } else {
      const position = Number(q.position) || 0;
      if (S.firstPosition === null || position > S.firstPosition) S.firstPosition = position;
      const lead = position <= 1 ? 'You are next in line.' : 'Your place in line:';
      setBox(box, lead, position > 1 ? position : null, S.firstPosition ? 1 - (position - 1) / S.firstPosition : 0);
      const wait = humanWait(q.estimatedWaitSeconds);
      setText('queue-detail', q.paused
        ? 'The organizer has paused the sale: nobody is let in until it resumes, and your place in line is kept. This page updates by itself — keep it open.'
        : (wait ? 'Estimated wait: ' + wait + '. ' : '') + 'This page updates by itself — keep it open and we will take you to the seats when it is your turn.');
    }
    hideBooking('You can choose seats when it is your turn.');
  } else if (q.status === 'ACTIVE') {
    setBox(box, 'It is your turn! Choose your seats below.', null, 1);
    setText('queue-detail', q.paused ? 'The organizer has paused the sale for a moment: seats cannot be held until it resumes, and your turn is kept.' : '');
    if (previous === 'WAITING' && !how.joined) {
      // Admission is claimed by a command within claimSeconds: joining again answers the
      // same token and keeps the turn.
      command('POST', '/concerts/' + enc(S.concertId) + '/queue');
      announce('It is your turn! Choose your seats.');
      const inQueue = !document.activeElement || document.activeElement === document.body || $('queue').contains(document.activeElement);
      showBooking();
      if (inQueue) focusHeading('booking-h');
    } else {
      showBooking();
    }
    tickTimers();
  } else if (q.status === 'COMPLETED') {
    setBox(box, 'Your purchase is complete. Enjoy the show!', null, 1);
    setText('queue-detail', 'Your turn ended when you paid. To buy more seats, join the waiting room again.');
    hideBooking('Your turn ended when you paid, so this seat map no longer updates.');
  } else if (q.status === 'EXPIRED') {
    setBox(box, 'Your turn has ended.', null, 0);
    setText('queue-detail', 'Your time to choose seats ran out. Seats you still hold stay yours until their timer ends. Join the waiting room again to buy.');
    hideBooking('Your turn has ended, so this seat map no longer updates.');
  }
  if (FINAL_STATUSES.has(q.status)) {
    closeStream();
    stopQueuePolling();
    if (previous !== q.status) renderConcerts();
    if (previous && previous !== q.status) announce(box.textContent);
  }
}

function setBox(box, lead, position, progress) {
  const text = lead + (position ? ' ' + position : '');
  if (box.dataset.text === text) return;
  box.dataset.text = text;
  const bar = el('span');
  const children = [el('span', { text: lead })];
  if (position) children.push(el('span', { class: 'position', text: '#' + position }));
  if (progress !== undefined) {
    children.push(el('div', { class: 'progress', 'aria-hidden': 'true' }, bar));
    bar.style.width = Math.round(Math.max(0, Math.min(1, progress)) * 100) + '%';
  }
  box.replaceChildren(...children);
}
