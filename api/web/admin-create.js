// The organizer's page: the form that creates a concert with every field of POST /admin/concerts.
import { $, announce, busy, count, el, sentOnce, setText, won } from './common.js';
import { SEATS_PER_ROW_DEFAULT, adminApi, clearError, showError, words } from './admin-state.js';
import { loadConcerts } from './admin-live.js';

const SCHEDULES_MAX = 366;          // the server's limit of dates per concert

// ---- create a concert ------------------------------------------------------------------------
let scheduleSerial = 0;

export function addSchedule(values = {}) {
  const list = $('schedules');
  if (list.children.length >= SCHEDULES_MAX) return null;
  const n = ++scheduleSerial;
  const field = (label, name, attributes, hint) => {
    const id = 's' + n + '-' + name;
    return el('p', { class: 'field' },
      el('label', { for: id }, label, hint ? el('span', { class: 'hint', text: ' ' + hint }) : null),
      el('input', { id, name, ...attributes }));
  };
  const item = el('li', { class: 'schedule' });
  const legend = el('legend');
  const remove = el('button', { type: 'button', class: 'danger', 'data-action': 'remove-schedule', text: 'Remove' });
  item.append(el('fieldset', null, legend,
    el('div', { class: 'fields' },
      field('Date', 'date', { type: 'date', value: values.date || '', required: true }),
      field('Seats', 'seats', { type: 'number', inputmode: 'numeric', min: 1, max: 100000, step: 1, value: values.seats || 50, required: true }),
      field('Price', 'price', { type: 'number', inputmode: 'numeric', min: 0, max: 1000000000, step: 1, value: values.price ?? 80000, required: true }, '(won)'),
      field('Seats per row', 'seatsPerRow', { type: 'number', inputmode: 'numeric', min: 1, max: 1000, step: 1, value: values.seatsPerRow || SEATS_PER_ROW_DEFAULT })),
    remove));
  list.append(item);
  numberSchedules();
  return item;
}

function numberSchedules() {
  const items = [...$('schedules').children];
  items.forEach((item, i) => {
    item.querySelector('legend').textContent = 'Date ' + (i + 1);
    const remove = item.querySelector('[data-action="remove-schedule"]');
    remove.setAttribute('aria-label', 'Remove date ' + (i + 1));
    remove.disabled = items.length === 1;
  });
  $('add-schedule').disabled = items.length >= SCHEDULES_MAX;
}

export function scheduleClick(event) {
  const button = event.target.closest('[data-action="remove-schedule"]');
  if (!button || button.disabled) return;
  const item = button.closest('li');
  const next = item.nextElementSibling || item.previousElementSibling;
  item.remove();
  numberSchedules();
  const focus = next && next.querySelector('input');
  if (focus) focus.focus();
  announce('Date removed.');
}

// The value of an <input type="number">: a whole number, or null when empty; NaN when it is not
// a whole number.
export function wholeNumber(input) {
  const text = input.value.trim();
  if (text === '') return input.validity && input.validity.badInput ? NaN : null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : NaN;
}

// datetime-local ("2030-12-24T19:00", in this browser's time zone) as an RFC 3339 UTC instant.
export function instantOf(input) {
  if (!input.value) return null;
  const t = new Date(input.value);
  return Number.isNaN(t.getTime()) ? NaN : t.toISOString();
}

// The form as API.md's body, or a sentence saying what to fix (and the field to focus).
function concertBody() {
  const form = $('create-form');
  const problem = (text, input) => ({ problem: text, input });
  const title = $('c-title').value.trim();
  if (!title) return problem('Give the concert a title.', $('c-title'));
  const body = { title };
  const venue = $('c-venue').value.trim();
  if (venue) body.venue = venue;
  // The venue, as JSON (grades and layout, API.md "The venue"): then a date is its day only.
  const venueText = $('c-layout').value.trim();
  let venueJson = null;
  if (venueText) {
    try {
      venueJson = JSON.parse(venueText);
    } catch (e) {
      return problem('The venue is not valid JSON: ' + e.message + '.', $('c-layout'));
    }
    if (!venueJson || typeof venueJson !== 'object' || Array.isArray(venueJson) || !venueJson.grades || !venueJson.layout)
      return problem('The venue must be an object with "grades" and "layout", as in the example.', $('c-layout'));
    body.grades = venueJson.grades;
    body.layout = venueJson.layout;
    // Sale phases (API.md "Sale phases") may come with the venue: then they replace onsaleAt.
    if (venueJson.salePhases) body.salePhases = venueJson.salePhases;
  }
  body.schedules = [];
  const items = [...$('schedules').children];
  for (let i = 0; i < items.length; i++) {
    const get = (name) => items[i].querySelector('input[name="' + name + '"]');
    const where = ' for date ' + (i + 1);
    if (!get('date').value) return problem('Choose the day' + where + '.', get('date'));
    const schedule = { date: get('date').value };
    if (venueJson) {
      body.schedules.push(schedule);  // the layout gives the seats, the grades the prices
      continue;
    }
    for (const [name, words, required] of [['seats', 'The number of seats', true], ['price', 'The price', true],
      ['seatsPerRow', 'Seats per row', false]]) {
      const n = wholeNumber(get(name));
      if (n === null && required) return problem(words + where + ' is needed.', get(name));
      if (Number.isNaN(n)) return problem(words + where + ' must be a whole number.', get(name));
      if (n !== null) schedule[name] = n;
    }
    body.schedules.push(schedule);
  }
  const queue = {};
  for (const [id, name, words] of [['c-capacity', 'activeCapacity', 'Fans choosing seats at once'],
    ['c-active-ttl', 'activeTtlSeconds', 'The turn length'], ['c-claim', 'claimSeconds', 'The time to claim a turn']]) {
    const n = wholeNumber($(id));
    if (Number.isNaN(n)) return problem(words + ' must be a whole number of seconds or fans.', $(id));
    if (n !== null) queue[name] = n;
  }
  if (Object.keys(queue).length) body.queue = queue;
  for (const [id, name, words] of [['c-hold-ttl', 'holdTtlSeconds', 'The hold time'],
    ['c-max-holds', 'maxHoldsPerUser', 'Holds per fan'], ['c-max-tickets', 'maxTicketsPerUser', 'Tickets per fan']]) {
    const n = wholeNumber($(id));
    if (Number.isNaN(n)) return problem(words + ' must be a whole number.', $(id));
    if (n !== null) body[name] = n;
  }
  for (const [id, name, words] of [['c-onsale', 'onsaleAt', 'The on-sale time'], ['c-refunds', 'refundsUntil', 'The refund deadline']]) {
    const at = instantOf($(id));
    if (Number.isNaN(at)) return problem(words + ' is not a valid date and time.', $(id));
    if (at) body[name] = at;
  }
  if (body.salePhases && body.onsaleAt) return problem('Sale phases each have their opensAt: leave the on-sale time empty.', $('c-onsale'));
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  return { body };
}

export async function createConcert(event) {
  event.preventDefault();
  clearError('create-error');
  setText('create-message', '');
  $('create-form').querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  const { body, problem, input } = concertBody();
  if (problem) {
    showError('create-error', problem);
    if (input) {
      input.setAttribute('aria-invalid', 'true');
      input.focus();
    }
    return;
  }
  await busy($('create-submit'), 'Creating…', async () => {
    // One key for this concert: a retry after a lost answer or a 503 creates it once.
    const r = await sentOnce((idempotencyKey) => adminApi('POST', '/admin/concerts', 'create-error', { body, idempotencyKey }));
    if (r.status === 401) return;
    if (!r.ok) {
      return showError('create-error', r.status === 400
        ? 'The server did not accept this concert: ' + (r.message || 'check the fields') + '.' : words(r));
    }
    const id = r.body.concertId;
    setText('create-message', 'Created “' + body.title + '” (' + id + '). It is now the concert followed below.');
    resetCreateForm();
    await loadConcerts(id);
    announce('Concert created: ' + body.title + '.');
  });
}

function resetCreateForm() {
  $('create-form').reset();
  $('schedules').replaceChildren();
  addSchedule();
}

// ---- the venue's preview ----------------------------------------------------------------------
const TIER_CLASSES = 6;             // app.css has tier-0 .. tier-5

// Draws the venue JSON as it is typed: the stage, then each section in layout order as a block in
// its grade's colour (dearest first), sized by its rows and seats; standing zones dashed. Says in
// words what it holds, or why nothing is drawn.
export function previewLayout() {
  const box = $('layout-preview');
  const text = $('c-layout').value.trim();
  const drawing = $('layout-drawing');
  box.hidden = !text;
  if (!text) return drawing.replaceChildren();
  let venue;
  try {
    venue = JSON.parse(text);
  } catch (_) {
    drawing.replaceChildren();
    return setText('layout-summary', 'The preview appears once the JSON is complete.');
  }
  const grades = venue && Array.isArray(venue.grades) ? venue.grades : [];
  const sections = venue && venue.layout && Array.isArray(venue.layout.sections) ? venue.layout.sections : [];
  if (!grades.length || !sections.length) {
    drawing.replaceChildren();
    return setText('layout-summary', 'The preview needs "grades" and "layout": {"sections": [...]}.');
  }
  const prices = new Map(grades.filter((g) => g && typeof g.grade === 'string').map((g) => [g.grade, Number(g.price) || 0]));
  const order = [...new Set([...prices.values()])].sort((a, b) => b - a);
  let seats = 0;
  let places = 0;
  const unknown = [];
  const blocks = sections.map((z) => {
    const name = String((z && z.section) || '?');
    const price = prices.get(z && z.grade);
    if (price === undefined) unknown.push(name);
    const tier = price === undefined ? 0 : order.indexOf(price) % TIER_CLASSES;
    if (z && z.standing) {
      places += Number(z.standing) || 0;
      return el('div', { class: 'zone-block standing tier-' + tier, 'data-section': name },
        el('b', { text: name }), z.grade + ' · standing ' + count(Number(z.standing) || 0));
    }
    const rows = Array.isArray(z && z.rows) ? z.rows.map(Number) : Array.from({ length: Number(z && z.rows) || 0 }, () => Number(z.seatsPerRow) || 0);
    const n = rows.reduce((a, b) => a + (b || 0), 0);
    seats += n;
    const widest = Math.max(0, ...rows);
    const block = el('div', { class: 'zone-block tier-' + tier, 'data-section': name },
      el('b', { text: name }), (z && z.grade) + ' · ' + count(rows.length) + (rows.length === 1 ? ' row, ' : ' rows, ') + count(n) + ' seats');
    // Wider and taller with its rows, within bounds: a glance at the shape, not a seat plan.
    block.style.width = Math.min(16, 4.5 + widest / 8) + 'rem';
    block.style.minHeight = Math.min(8, 2.5 + rows.length / 5) + 'rem';
    return block;
  });
  drawing.replaceChildren(el('div', { class: 'stage-line' }, el('div', { class: 'stage', 'aria-hidden': 'true', text: 'STAGE' })), ...blocks);
  const gradeWords = grades.map((g) => g.grade + ' ' + won(Number(g.price) || 0)).join(', ');
  setText('layout-summary', count(seats) + ' seats' + (places ? ' and ' + count(places) + ' standing places' : '') + ' in ' +
    sections.length + (sections.length === 1 ? ' section' : ' sections') + '; grades ' + gradeWords + '.' +
    (unknown.length ? ' Sections naming no grade of the list: ' + unknown.join(', ') + '.' : ''));
}
