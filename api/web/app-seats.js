// The fan's page: the seat map drawn by row with its price tiers and legend, the seats selected
// (by click or with the keyboard of common.js) and held. A large venue opens on an overview of its
// sections and draws the rows of the one the fan chooses.
import { $, announce, busy, count, el, enc, listedRows, roveTo, setText, spokenDuration, won } from './common.js';
import { S, SEATS_PER_ROW_DEFAULT, clearError, command, focusHeading, placesText, seatsOf, showError, words } from './app-state.js';
import { loadReservations, mySeats, renderHolds, renderTickets } from './app-bookings.js';
import { isActive } from './app-queue.js';
import { bookingRefused, loadSeats } from './app-dates.js';
import { offSaleGrades } from './app-phases.js';

const TIER_CLASSES = 6;             // app.css has tier-0 .. tier-5
const SEAT_PX = 44;                 // app.css: a 44 px seat and a 4 px gap
const SEAT_PITCH_PX = 48;
const LARGE_MAP_SEATS = 2000;       // past this, rows off screen are not laid out
const ROW_LABEL_PX = 56;

function rowOf(seat) {
  if (seat.row !== undefined && seat.row !== null) return seat.row;
  return rowOfNumber(seat.number);
}

// "Row 3", or with a venue "A · Row 3", for a seat number of the date shown; null for a seat of a
// venue's section not drawn since the page opened (its row is not known here).
export function rowLabelOfNumber(n) {
  const m = S.map;
  const seat = m && m.byNumber ? m.byNumber.get(n) : null;
  if (seat) return rowName(seat);
  if (m && m.sections && m.sections.length) return rowsSeen(m.concertId, m.date).get(n) || null;
  return 'Row ' + rowOfNumber(n);
}

// The rows of the seats of a venue's sections drawn so far, per concert and date.
const seen = new Map();
function rowsSeen(concertId, date) {
  const key = concertId + '/' + date;
  if (!seen.has(key)) seen.set(key, new Map());
  return seen.get(key);
}

export function rowOfNumber(n) {
  const m = S.map;
  if (m) {
    const seat = m.byNumber ? m.byNumber.get(n) : null;
    if (seat && seat.row !== undefined && seat.row !== null) return seat.row;
  }
  return Math.ceil(n / ((m && m.perRow) || SEATS_PER_ROW_DEFAULT));
}

// A seat's row as a fan reads it: "Row 3", or with a venue "A · Row 3" (rows are per section).
function rowName(seat) {
  return (seat.section ? seat.section + ' · ' : '') + 'Row ' + rowOf(seat);
}

// Price tiers, dearest first: of the venue's sections when the map has them (so that a section
// drawn alone keeps its colour), else of the seats.
function tiersOf(m) {
  const priced = m.sections && m.sections.length ? m.sections : m.seats;
  const prices = [...new Set(priced.map((s) => s.price))].sort((a, b) => b - a);
  return new Map(prices.map((p, i) => [p, i]));
}

// Builds the rows once per date (and seat count); later maps only update what changed.
export function renderMap() {
  const box = $('seat-map');
  const m = S.map;
  const offSale = offSaleGrades();
  renderStanding(offSale);
  renderOverview(offSale);
  renderGradePicker(offSale);
  if (!m || (m.sectioned && !m.section)) {
    // Nothing yet, or a large venue's overview alone: no seat is drawn.
    box.replaceChildren(...(m ? [el('p', { class: 'hint', text: 'Choose a section above: its seats are drawn here.' })] : []));
    box.dataset.key = '';
    box.classList.remove('large');
    if (m) renderLegend(tiersOf(m), mySeats(m.concertId, m.date), offSale);
    else {
      $('legend').replaceChildren();
      $('legend').dataset.text = '';
    }
    S.seatButtons.clear();
    S.seatShown.clear();
    S.seatRows = null;
    return;
  }
  if (!m.byNumber) {
    m.byNumber = new Map(m.seats.map((s) => [s.number, s]));
    if (m.sectioned) {
      const rows = rowsSeen(m.concertId, m.date);
      for (const s of m.seats) rows.set(s.number, rowName(s));
    }
  }
  const tiers = tiersOf(m);
  const key = m.concertId + '/' + m.date + '/' + (m.section || '') + '/' + m.seats.length + '/' + m.perRow + '/' + m.seats.some((s) => s.row !== undefined);
  if (box.dataset.key !== key) buildMap(box, m, key);
  const mine = mySeats(m.concertId, m.date);
  // A selected seat someone else took is dropped from the selection, and the fan told.
  const lost = [];
  for (const n of S.selected) {
    const s = m.byNumber.get(n);
    if (!s && m.sectioned) continue;  // in another section than the one drawn
    if (!s || s.status !== 'AVAILABLE' || mine.has(n)) {
      S.selected.delete(n);
      if (!mine.has(n)) lost.push(n);
    }
  }
  if (lost.length) showError('booking-error', (lost.length === 1 ? 'Seat ' + lost[0] + ' was' : 'Seats ' + lost.join(', ') + ' were') +
    ' just taken by someone else and removed from your selection.');
  for (const s of m.seats) {
    const b = S.seatButtons.get(s.number);
    if (!b) continue;
    const own = mine.get(s.number);
    // An available seat of a grade the open phase does not sell cannot be chosen either.
    const status = own === 'SOLD' ? 'SOLD' : own === 'HELD' ? 'HELD' : s.status === 'AVAILABLE' && offSale.has(s.grade) ? 'OFFSALE' : s.status;
    const selected = S.selected.has(s.number);
    const tier = tiers.get(s.price) % TIER_CLASSES;
    const shown = status + '|' + (own || '') + '|' + selected + '|' + tier + '|' + s.price + '|' + m.stale;
    if (S.seatShown.get(s.number) === shown) continue;
    S.seatShown.set(s.number, shown);
    b.className = 'seat ' + status + ' tier-' + tier + (own ? ' mine' : '') + (selected ? ' selected' : '');
    b.dataset.status = status;
    let state;
    if (own === 'SOLD') state = 'sold to you';
    else if (own === 'HELD') state = 'held by you';
    else if (status === 'AVAILABLE') state = selected ? 'selected' : 'available';
    else state = status === 'SOLD' ? 'sold' : status === 'BLOCKED' ? 'not for sale' : status === 'OFFSALE' ? 'not on sale now' : 'held by someone else';
    const where = s.section ? 'Section ' + s.section + ', row ' + rowOf(s) + ', seat ' + s.number + ', ' + s.grade
      : 'Row ' + rowOf(s) + ', seat ' + s.number;
    b.setAttribute('aria-label', where + ', ' + won(s.price) + ', ' + state);
    const selectable = status === 'AVAILABLE' && !own && !m.stale;
    if (selectable) {
      b.removeAttribute('aria-disabled');
      b.setAttribute('aria-pressed', selected ? 'true' : 'false');
    } else {
      b.setAttribute('aria-disabled', 'true');
      b.removeAttribute('aria-pressed');
    }
  }
  renderLegend(tiers, mine, offSale);
  renderSelection();
}

function buildMap(box, m, key) {
  const hadFocus = box.contains(document.activeElement) ? S.focusSeat : null;
  box.dataset.key = key;
  S.seatButtons.clear();
  S.seatShown.clear();
  const rows = new Map();
  for (const s of m.seats) {
    const row = rowName(s);
    if (!rows.has(row)) rows.set(row, []);
    rows.get(row).push(s);
  }
  const large = m.seats.length > LARGE_MAP_SEATS;
  box.classList.toggle('large', large);
  const fragment = document.createDocumentFragment();
  // A large venue's stage is drawn in its overview, above the sections.
  if (!m.sectioned) fragment.append(el('div', { class: 'stage', 'aria-hidden': 'true', text: 'STAGE' }));
  for (const [row, seats] of rows) {
    const line = el('div', { class: 'seat-row', role: 'group', 'aria-label': row, 'data-row': row.replace(/^.* · /, '').replace('Row ', '') },
      el('span', { class: 'row-label', 'aria-hidden': 'true', text: row }));
    if (seats[0].section) line.dataset.section = seats[0].section;
    // In a large hall rows off screen are not laid out (content-visibility): this is the size
    // they will take.
    if (large) line.style.containIntrinsicSize = 'auto ' + (ROW_LABEL_PX + seats.length * SEAT_PITCH_PX) + 'px auto ' + SEAT_PX + 'px';
    for (const s of seats) {
      // A large venue's seats go by their place in the row (their names say their numbers).
      const text = m.sectioned && s.seatInRow ? String(s.seatInRow) : String(s.number);
      const b = el('button', { type: 'button', class: 'seat', 'data-seat': String(s.number), tabindex: '-1', text });
      S.seatButtons.set(s.number, b);
      line.append(b);
    }
    fragment.append(line);
  }
  box.replaceChildren(fragment);
  S.seatRows = listedRows([...rows.values()].map((seats) => seats.map((s) => s.number)));
  if (!S.seatButtons.has(S.focusSeat)) {
    const first = m.seats.find((s) => s.status === 'AVAILABLE') || m.seats[0];
    S.focusSeat = first ? first.number : null;
  }
  const current = S.seatButtons.get(S.focusSeat);
  if (current) current.tabIndex = 0;
  if (hadFocus !== null && current) current.focus();
  // Holds and bookings of this date can now name their rows.
  renderHolds();
  renderTickets();
}

// ---- standing zones --------------------------------------------------------------------------
const PLACES_PICK_MAX = 8;

// Each standing zone of the date: its grade and price, the places left, and a count to hold.
function renderStanding(offSale) {
  const zones = S.map && S.map.sections ? S.map.sections.filter((s) => s.standing) : [];
  const box = $('standing');
  box.hidden = zones.length === 0;
  const list = $('standing-list');
  const text = JSON.stringify([zones, S.map && S.map.stale, [...offSale]]);
  if (list.dataset.text === text) return;
  list.dataset.text = text;
  // A count the fan chose survives a refresh of the map.
  const chosen = new Map([...list.querySelectorAll('select')].map((s) => [s.dataset.section, s.value]));
  list.replaceChildren(...zones.map((z) => {
    const id = 'places-' + z.section;
    const left = z.available;
    const options = [];
    for (let n = 1; n <= Math.min(PLACES_PICK_MAX, Math.max(left, 1)); ++n) {
      options.push(el('option', { value: String(n), text: n + (n === 1 ? ' place' : ' places') }));
    }
    const select = el('select', { id, 'data-section': z.section }, ...options);
    if (chosen.has(z.section) && Number(chosen.get(z.section)) <= left) select.value = chosen.get(z.section);
    const off = offSale.has(z.grade);
    const full = left === 0 || S.map.stale || off;
    const button = el('button', { type: 'submit', class: 'hold-places', text: left === 0 ? 'Sold out' : off ? 'Not on sale now' : 'Hold places' });
    if (full) button.disabled = true;
    return el('li', { class: 'zone' + (left === 0 ? ' full' : ''), 'data-section': z.section },
      el('p', { class: 'zone-name' }, el('b', { text: z.section }), ' · ' + z.grade + ' · ' + won(z.price) + ' a place' + (z.gate ? ' · gate ' + z.gate : '')),
      el('p', { class: 'zone-left', text: left === 0 ? 'No places left' : left + (left === 1 ? ' place left' : ' places left') + ' of ' + z.standing }),
      el('form', { class: 'row-form', 'data-section': z.section },
        el('label', { for: id, text: 'Places in ' + z.section }), select, button));
  }));
}

// Places of a standing zone, all or none: POST .../holds {count, section}.
export async function holdPlaces(event) {
  const form = event.target.closest('form');
  if (!form) return;
  event.preventDefault();
  const section = form.dataset.section;
  const count = Number(form.querySelector('select').value);
  clearError('booking-error');
  await busy(form.querySelector('button'), 'Holding…', async () => {
    await afterHold(await command('POST', holdsPath(), { body: { count, section }, queue: S.queueTokens[S.concertId] }));
  });
}

function renderLegend(tiers, mine, offSale) {
  const items = [];
  const tierList = [...tiers].sort((a, b) => a[1] - b[1]);
  // With a venue, each price is named by its grades (VIP, R…).
  const gradesAt = new Map();
  const m = S.map;
  for (const s of (!m ? [] : m.sections && m.sections.length ? m.sections : m.seats)) {
    if (!s.grade) continue;
    if (!gradesAt.has(s.price)) gradesAt.set(s.price, new Set());
    gradesAt.get(s.price).add(s.grade);
  }
  for (const [price, index] of tierList) {
    const cls = index % TIER_CLASSES === 0 ? 'available' : 'tier-' + (index % TIER_CLASSES);
    const grades = gradesAt.has(price) ? [...gradesAt.get(price)].join(', ') + ' · ' : 'Available · ';
    items.push(el('span', null, el('i', { class: cls, 'aria-hidden': 'true' }), grades + won(price)));
  }
  items.push(el('span', null, el('i', { class: 'selected', 'aria-hidden': 'true' }), 'Selected'));
  if ([...mine.values()].includes('HELD')) items.push(el('span', null, el('i', { class: 'mine', 'aria-hidden': 'true' }), 'Held by you'));
  if ([...mine.values()].includes('SOLD')) items.push(el('span', null, el('i', { class: 'mine-sold', 'aria-hidden': 'true' }), 'Yours'));
  items.push(el('span', null, el('i', { class: 'HELD', 'aria-hidden': 'true' }), 'Held'));
  items.push(el('span', null, el('i', { class: 'SOLD', 'aria-hidden': 'true' }), 'Sold'));
  if (S.map && S.map.seats.some((s) => s.status === 'BLOCKED')) items.push(el('span', null, el('i', { class: 'BLOCKED', 'aria-hidden': 'true' }), 'Not for sale'));
  if (offSale.size) items.push(el('span', null, el('i', { class: 'OFFSALE', 'aria-hidden': 'true' }), 'Not on sale now: ' + [...offSale].join(', ')));
  const legend = $('legend');
  const text = items.map((i) => i.textContent).join('|');
  if (legend.dataset.text === text) return;
  legend.dataset.text = text;
  legend.replaceChildren(...items);
}

// The map's one tab stop, and the focus, go to seat `n` (by click or by a key of common.js).
export function moveSeatFocus(n) {
  const button = S.seatButtons.get(n);
  if (!button) return;
  roveTo(S.seatButtons.get(S.focusSeat), button);
  S.focusSeat = n;
}

export function seatClick(event) {
  const b = event.target.closest && event.target.closest('button.seat');
  if (!b || !S.map) return;
  const n = Number(b.dataset.seat);
  if (S.focusSeat !== n) moveSeatFocus(n);
  if (b.getAttribute('aria-disabled') === 'true') {
    const own = b.classList.contains('mine') ? ' by you' : '';
    const why = S.map.stale ? 'cannot be chosen now: it is not your turn'
      : ({ SOLD: 'is sold', BLOCKED: 'is not for sale', OFFSALE: 'is not on sale in this phase of the sale' }[b.dataset.status] || 'is held') + own;
    setText('selection-text', 'Seat ' + n + ' ' + why + '. ' + selectionSummary());
    return;
  }
  if (S.selected.has(n)) S.selected.delete(n);
  else S.selected.add(n);
  clearError('booking-error');
  renderMap();
}

function selectionSummary() {
  if (!S.selected.size || !S.map) return 'No seats selected.';
  const seats = [...S.selected].sort((a, b) => a - b);
  const total = seats.reduce((sum, n) => sum + ((S.map.byNumber.get(n) || {}).price || 0), 0);
  const names = seats.map((n) => {
    const seat = S.map.byNumber.get(n);
    return (seat && seat.section ? 'section ' + seat.section + ' ' : '') + 'row ' + rowOfNumber(n) + ' seat ' + n;
  });
  return (seats.length === 1 ? '1 seat selected: ' : seats.length + ' seats selected: ') + names.join(', ') + '. Total ' + won(total) + '.';
}

export function renderSelection() {
  setText('selection-text', selectionSummary());
  const count = S.selected.size;
  const hold = $('hold-selected');
  if (!hold.hasAttribute('aria-busy')) {
    hold.disabled = count === 0;
    hold.textContent = count > 1 ? 'Hold these ' + count + ' seats' : count === 1 ? 'Hold this seat' : 'Hold selected seats';
  }
  $('clear-selection').disabled = count === 0;
}

// ---- holding seats ---------------------------------------------------------------------------
const holdsPath = () => '/concerts/' + enc(S.concertId) + '/dates/' + enc(S.date) + '/holds';
// Several seats go in one hold: all of them or none (POST .../holds).
export async function holdSelected() {
  const seats = [...S.selected].sort((a, b) => a - b);
  if (!seats.length) return;
  clearError('booking-error');
  await busy($('hold-selected'), 'Holding…', async () => {
    await afterHold(await command('POST', holdsPath(), { body: { seats }, queue: S.queueTokens[S.concertId] }));
  });
  renderSelection();
}

// Best available: the server picks `count` seats side by side in the lowest row it can.
export async function holdBest(event) {
  event.preventDefault();
  const n = Number($('best-count').value);
  const grade = $('best-grade').hidden ? '' : $('best-grade').value;
  clearError('booking-error');
  await busy($('hold-best'), 'Finding seats…', async () => {
    await afterHold(await command('POST', holdsPath(), { body: grade ? { count: n, grade } : { count: n }, queue: S.queueTokens[S.concertId] }));
  });
}

// ---- a large venue: the overview of its sections ---------------------------------------------
// The stage, then a block per section in its grade's colour with the seats or places left. A
// seated block draws that section's rows in the map below; a standing one goes to its places.
function renderOverview(offSale) {
  const box = $('overview');
  const m = S.map;
  box.hidden = !(m && m.sectioned);
  const blocks = $('overview-blocks');
  if (box.hidden) {
    blocks.replaceChildren();
    blocks.dataset.text = '';
    return;
  }
  const text = JSON.stringify([m.sections, m.section, m.stale, [...offSale]]);
  if (blocks.dataset.text === text) return;
  blocks.dataset.text = text;
  const focused = blocks.contains(document.activeElement) ? document.activeElement.dataset.section : null;
  const tiers = tiersOf(m);
  const group = el('div', { class: 'blocks', role: 'group', 'aria-label': 'Sections' }, ...m.sections.map((z) => {
    const left = z.available;
    const off = offSale.has(z.grade);
    const unit = z.standing ? (left === 1 ? 'place' : 'places') : (left === 1 ? 'seat' : 'seats');
    const state = off ? 'not on sale now' : left === 0 ? 'sold out' : count(left) + ' ' + unit + ' left';
    const b = el('button', { type: 'button', 'data-section': z.section,
      class: 'block tier-' + (tiers.get(z.price) % TIER_CLASSES) + (z.standing ? ' standing' : '') + (off || left === 0 ? ' gone' : '') },
    el('b', { text: z.section }), el('span', { text: z.grade + ' · ' + won(z.price) }), el('small', { text: (z.standing ? 'Standing · ' : '') + state }));
    b.setAttribute('aria-label', 'Section ' + z.section + (z.standing ? ', standing' : '') + ', ' + z.grade + ', ' + won(z.price) + ', ' + state);
    if (!z.standing) b.setAttribute('aria-pressed', String(z.section === m.section));
    return b;
  }));
  blocks.replaceChildren(el('div', { class: 'stage', 'aria-hidden': 'true', text: 'STAGE' }), group);
  if (focused) {
    const again = group.querySelector('[data-section="' + CSS.escape(focused) + '"]');
    if (again) again.focus();
  }
}

export async function overviewClick(event) {
  const b = event.target.closest && event.target.closest('button.block');
  if (!b || !S.map) return;
  const name = b.dataset.section;
  const zone = S.map.sections.find((z) => z.section === name);
  if (zone && zone.standing) {
    const select = $('places-' + name);
    if (select) {
      select.scrollIntoView({ block: 'center' });
      select.focus();
    }
    return;
  }
  if (S.mapSection === name) return;
  // One section's seats at a time: a selection in another one is let go.
  S.mapSection = name;
  S.selected.clear();
  S.focusSeat = null;
  renderSelection();
  for (const other of $('overview-blocks').querySelectorAll('button.block[aria-pressed]')) other.setAttribute('aria-pressed', String(other === b));
  if (await loadSeats()) {
    const left = zone ? zone.available : 0;
    announce('Section ' + name + ': ' + (left === 1 ? '1 seat' : count(left) + ' seats') + ' left. Its seats are drawn below the sections.');
  }
}

// Best available by grade: the seated grades on sale, when the venue has more than one.
function renderGradePicker(offSale) {
  const select = $('best-grade');
  const m = S.map;
  const grades = m && m.sections ? [...new Set(m.sections.filter((z) => !z.standing && !offSale.has(z.grade)).map((z) => z.grade))] : [];
  const text = grades.join('|');
  if (select.dataset.text === text) return;
  select.dataset.text = text;
  const chosen = select.value;
  select.replaceChildren(el('option', { value: '', text: 'Any grade' }), ...grades.map((g) => el('option', { value: g, text: g + ' seats' })));
  if (grades.includes(chosen)) select.value = chosen;
  select.hidden = grades.length < 2;
}

// The answer to a hold: the reservation is shown with its countdown, or the refusal in words.
async function afterHold(r) {
  if (!r.ok) {
    if (r.status === 401) return;
    if (['NOT_YOUR_TURN', 'QUEUE_TOKEN_EXPIRED', 'QUEUE_TOKEN_INVALID'].includes(r.code)) bookingRefused(r);
    showError('booking-error', words(r));
  } else {
    if (r.body.heldAt) S.skewMs = Date.parse(r.body.heldAt) - Date.now();
    S.reservations = [r.body].concat(S.reservations.filter((x) => x.reservationId !== r.body.reservationId));
    S.selected.clear();
    setText('holds-message', '');
    renderHolds();
    renderMap();
    const seats = seatsOf(r.body);
    const left = Date.parse(r.body.expiresAt) - Date.parse(r.body.heldAt);
    const what = r.body.standing ? placesText(r.body) : (seats.length === 1 ? 'Seat ' : 'Seats ') + seats.join(', ');
    announce(what + ' held for you. Pay within ' + spokenDuration(left) + '.');
    focusHeading('holds-h');
  }
  await loadReservations(true);
  if (isActive()) await loadSeats();
}
