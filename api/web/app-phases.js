// The fan's page: a concert's sale phases (a fan club's presale, then the general sale), whether
// the fan is on each one's list, and the form that claims a place on it with the id the fan club
// handed out (POST /concerts/{c}/phases/{p}/claim).
import { $, announce, busy, el, enc, formatInstant, setText } from './common.js';
import { S, api, clearError, command, showError, words } from './app-state.js';
import { renderMap } from './app-seats.js';

// The concert's phases as GET /concerts lists them (none: a sale without phases).
const phasesOf = (concertId) => ((S.concerts.find((c) => c.concertId === concertId) || {}).salePhases || []);

// GET /concerts/{c}/phases: which is open, and whether the fan may join each.
export async function loadPhases() {
  const concertId = S.concertId;
  $('phases').hidden = phasesOf(concertId).length === 0 || !S.token;
  if ($('phases').hidden) return;
  const r = await api('GET', '/concerts/' + enc(concertId) + '/phases');
  if (concertId !== S.concertId) return;
  if (!r.ok) return showError('phases-error', r);
  clearError('phases-error');
  S.phases = r.body.phases || [];
  S.phasesConcert = concertId;
  renderPhases();
  // The grades on sale follow the open phase: the map greys out the others.
  renderMap();
}

// The grades the open phase does not sell (none: every grade is on sale).
export function offSaleGrades() {
  const concert = S.concerts.find((c) => c.concertId === S.concertId) || {};
  const open = S.phasesConcert === S.concertId ? (S.phases || []).find((p) => p.open) : null;
  if (!open || !Array.isArray(open.grades) || !open.grades.length) return new Set();
  return new Set((concert.grades || []).map((g) => g.grade).filter((g) => !open.grades.includes(g)));
}

function when(p) {
  const opens = Date.parse(p.opensAt);
  const closes = p.closesAt ? Date.parse(p.closesAt) : null;
  const now = Date.now() + S.skewMs;
  if (p.open) return closes ? 'On sale now, until ' + formatInstant(p.closesAt) : 'On sale now';
  if (opens > now) return 'Opens ' + formatInstant(p.opensAt) + (closes ? ', until ' + formatInstant(p.closesAt) : '');
  return 'Closed';
}

export function renderPhases() {
  const list = $('phase-list');
  const phases = S.phases || [];
  const text = JSON.stringify(phases);
  if (list.dataset.text === text) return;
  list.dataset.text = text;
  const now = Date.now() + S.skewMs;
  list.replaceChildren(...phases.map((p) => {
    const closed = !p.open && (p.closesAt ? Date.parse(p.closesAt) <= now : false);
    const who = p.eligibility === 'LIST' ? (p.eligible ? 'You are on the list.' : 'For the list\u2019s members only.') : 'Open to everyone.';
    const grades = Array.isArray(p.grades) && p.grades.length ? 'Sells ' + p.grades.join(', ') + '. ' : '';
    const cap = p.maxTicketsPerUser ? 'Up to ' + p.maxTicketsPerUser + (p.maxTicketsPerUser === 1 ? ' ticket' : ' tickets') + ' each. ' : '';
    const item = el('li', { class: 'card phase' + (p.open ? ' open' : ''), 'data-phase': p.phase },
      el('h4', { text: p.name || p.phase }),
      el('p', { class: 'meta', text: when(p) }),
      el('p', { text: grades + cap + who }));
    if (p.eligibility === 'LIST' && !p.eligible && !closed) {
      const id = 'claim-' + p.phase;
      const input = el('input', { id, name: 'id', autocomplete: 'off', spellcheck: 'false', minlength: '12', maxlength: '64', required: true });
      const form = el('form', { class: 'row-form claim', 'data-phase': p.phase },
        el('label', { for: id, text: 'Your presale code' }), input,
        el('button', { type: 'submit', text: 'Prove I am on the list' }));
      item.append(form, el('p', { class: 'error', role: 'alert', id: id + '-error' }));
    }
    return item;
  }));
}

// A claim: one id, one person, for good.
export async function claimPlace(event) {
  const form = event.target.closest('form.claim');
  if (!form) return;
  event.preventDefault();
  const phase = form.dataset.phase;
  const id = form.querySelector('input').value.trim();
  const error = $('claim-' + phase + '-error');
  error.textContent = '';
  if (id.length < 12) {
    error.textContent = 'A presale code has at least 12 characters: check it against the message you received.';
    return;
  }
  const r = await busy(form.querySelector('button'), 'Checking…', () =>
    command('POST', '/concerts/' + enc(S.concertId) + '/phases/' + enc(phase) + '/claim', { body: { id } }));
  if (!r.ok) {
    error.textContent = r.code === 'RATE_LIMITED' && r.retryAfter
      ? words(r) + ' Try again in ' + Math.ceil(r.retryAfter / 60) + ' minutes.' : words(r);
    return;
  }
  const name = (S.phases.find((p) => p.phase === phase) || {}).name || phase;
  announce('You are on the list for ' + name + '. Join the waiting room when it opens.');
  setText('queue-error', '');
  $('queue-rejoin').hidden = false;
  await loadPhases();
}

// The words for a join refused NOT_ELIGIBLE: when the fan may join next, if ever.
export function notEligibleText(r) {
  const opensAt = r.body && r.body.error && r.body.error.opensAt;
  return words(r) + (opensAt ? ' You can join from ' + formatInstant(opensAt) + '.' : '');
}
