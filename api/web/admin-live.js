// The organizer's page: the concert followed, its timeline drawn as SVG charts and its sales by
// date, refreshed every few seconds while the tab is visible.
import { $, clockTime, count, durationInWords, el, enc, formatDate, formatInstant, plural, setText, won } from './common.js';
import { S, adminApi, api, clearError, persist, showError } from './admin-state.js';
import { closeHistory, renderGridRange, setupSeatDates } from './admin-seats.js';
import { loadControls } from './admin-controls.js';
import { loadDoor, setupDoor } from './admin-door.js';

const REFRESH_MS = 5000;            // charts and analytics, while the tab is visible
const WINDOW_BUCKETS = 60;          // the charts show the last 60 buckets up to now

const CHART_HEIGHT = 190;
const CHART_MARGIN = { top: 16, right: 28, bottom: 30, left: 48 };
const X_LABELS_MAX = 6;
const SVG_NS = 'http://www.w3.org/2000/svg';

const compactFormat = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 1 });
const percent = (x) => Math.round(x * 100) + '%';

const bucketWords = (seconds) => ({ 10: '10 seconds', 60: 'minute', 300: '5 minutes' }[seconds] || seconds + ' seconds');

function svg(tag, attributes, text) {
  const e = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attributes || {})) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// ---- the concerts ----------------------------------------------------------------------------
export async function loadConcerts(choose) {
  const r = await api('GET', '/concerts');
  if (!r.ok) return showError('pick-error', r);
  clearError('pick-error');
  S.concerts = (r.body && r.body.concerts) || [];
  if (choose) S.concertId = choose;
  if (!S.concerts.some((c) => c.concertId === S.concertId)) S.concertId = S.concerts.length ? S.concerts[0].concertId : null;
  const select = $('concert-select');
  select.replaceChildren(...S.concerts.map((c) => el('option', { value: c.concertId, text: c.title + (c.venue ? ' — ' + c.venue : '') })));
  select.value = S.concertId || '';
  select.hidden = !S.concerts.length;
  document.querySelector('label[for="concert-select"]').hidden = !S.concerts.length;
  $('concerts-empty').hidden = S.concerts.length > 0;
  persist();
  await followConcert();
}

export const currentConcert = () => S.concerts.find((c) => c.concertId === S.concertId) || null;

function renderFacts(c) {
  const facts = $('concert-facts');
  facts.replaceChildren();
  if (!c) return;
  const add = (term, value) => facts.append(el('div', null, el('dt', { text: term }), el('dd', { text: value })));
  add('Concert id', c.concertId);
  add('Venue', c.venue || '—');
  const schedules = c.schedules || (c.dates || []).map((date) => ({ date }));
  add(schedules.length === 1 ? 'Date' : 'Dates', schedules.map((s) => formatDate(s.date) +
    (s.seats ? ' (' + plural(s.seats, 'seat', 'seats') + (s.price !== undefined ? ' at ' + won(s.price) : '') + ')' : '')).join('; '));
  if (c.holdTtlSeconds) add('Hold time', durationInWords(c.holdTtlSeconds));
  if (c.maxHoldsPerUser) add('Holds per fan', count(c.maxHoldsPerUser));
  if (c.maxTicketsPerUser) add('Tickets per fan', count(c.maxTicketsPerUser));
  add('Refunds', c.refundsUntil ? 'until ' + formatInstant(c.refundsUntil, { year: true }) : 'none');
  if (c.refundPolicy) add('Refund fees', refundPolicyText(c.refundPolicy));
}

// "free within 168 h of payment; ₩4,000 a ticket from 240 h before the show, 10% from 168 h…"
export function refundPolicyText(policy) {
  const tiers = policy.fees.map((t) => (t.percent !== undefined ? t.percent + '%' : won(t.won) + ' a ticket') +
    ' from ' + t.hoursBefore + ' h before the show');
  const last = policy.fees[policy.fees.length - 1];
  const free = policy.freeWithinHours ? 'free within ' + policy.freeWithinHours + ' h of payment; ' : '';
  return free + tiers.join(', ') + '; no refund under ' + last.hoursBefore + ' h (dates with a start time)';
}

export async function followConcert() {
  S.generation++;
  S.buckets = null;
  S.analytics = null;
  stopRefresh();
  const c = currentConcert();
  renderFacts(c);
  for (const id of ['controls', 'live', 'analytics', 'door', 'seats']) $(id).hidden = !c;
  S.controls = { concert: null, etag: null, changes: [], blocked: new Map(), mode: S.controls.mode, selected: new Set() };
  $('changes').replaceChildren();
  $('charts').replaceChildren();
  $('dates-body').replaceChildren();
  $('dates-foot').replaceChildren();
  $('grades-body').replaceChildren();
  $('grades-box').hidden = true;
  $('queue-figures').replaceChildren();
  for (const id of ['live-error', 'analytics-error', 'seats-error', 'controls-error', 'settings-error']) clearError(id);
  closeHistory();
  if (!c) return;
  setupSeatDates(c);
  setupDoor();
  await refresh();
  scheduleRefresh();
}

// ---- live: timeline charts and analytics -----------------------------------------------------
export function scheduleRefresh() {
  stopRefresh();
  if (S.paused || !S.key || !S.concertId) return;
  S.timer = setTimeout(async () => {
    S.timer = null;
    if (document.visibilityState !== 'hidden') await refresh();
    scheduleRefresh();
  }, REFRESH_MS);
}

export function stopRefresh() {
  if (S.timer) clearTimeout(S.timer);
  S.timer = null;
}

export async function refresh() {
  if (S.refreshing || !S.key || !S.concertId) return;
  S.refreshing = true;
  try {
    // The door after the controls: its gate choices come from the concert the controls read.
    await Promise.all([loadTimeline(), loadAnalytics(), loadControls().then(loadDoor)]);
  } finally {
    S.refreshing = false;
  }
}

export async function loadTimeline() {
  const generation = S.generation;
  const b = S.bucketSeconds;
  const now = Date.now();
  const from = Math.floor(now / 1000 / b) * b * 1000 - (WINDOW_BUCKETS - 1) * b * 1000;
  // The instants go as they are: ':' is allowed in a query, and the server reads its parameters
  // without percent-decoding them.
  const path = '/analytics/concerts/' + enc(S.concertId) + '/timeline?bucketSeconds=' + b +
    '&from=' + new Date(from).toISOString() + '&to=' + new Date(now).toISOString();
  const r = await adminApi('GET', path, 'live-error');
  if (generation !== S.generation || b !== S.bucketSeconds) return;
  if (!r.ok) return r.status === 401 ? undefined : showError('live-error', r);
  clearError('live-error');
  S.buckets = fillWindow(r.body.buckets || [], from, b);
  drawCharts();
  setText('live-status', 'The last ' + WINDOW_BUCKETS + ' ' + (b === 60 ? 'minutes' : 'bars of ' + bucketWords(b)) +
    ', as of ' + clockTime(now, true) + (S.paused ? '. Updates are paused.' : '. Updated every ' + REFRESH_MS / 1000 + ' seconds.'));
}

// Every bucket of the window, oldest first: the server's where it sent one, else empty (with
// the waiting count carried on from the bucket before).
function fillWindow(buckets, fromMs, b) {
  const byStart = new Map(buckets.map((x) => [Date.parse(x.start), x]));
  const out = [];
  let waiting = 0;
  for (let i = 0; i < WINDOW_BUCKETS; i++) {
    const start = fromMs + i * b * 1000;
    const x = byStart.get(start);
    if (x) waiting = x.waitingAtEnd || 0;
    out.push(x ? { ...x, startMs: start } : {
      startMs: start, queueJoined: 0, queueAdmitted: 0, waitingAtEnd: waiting, holdsPlaced: 0, holdsExpired: 0,
      holdsCancelled: 0, seatsSold: 0, refunds: 0, revenue: 0,
    });
  }
  return out;
}

const CHARTS = [
  { series: 'waitingAtEnd', title: 'Waiting in the queue', unit: ['fan waiting', 'fans waiting'], kind: 'line', gauge: true },
  { series: 'queueAdmitted', title: 'Admitted from the queue', unit: ['fan admitted', 'fans admitted'], kind: 'bars' },
  { series: 'holdsPlaced', title: 'Holds placed', unit: ['hold placed', 'holds placed'], kind: 'bars' },
  { series: 'seatsSold', title: 'Seats sold', unit: ['seat sold', 'seats sold'], kind: 'bars' },
  { series: 'revenue', title: 'Revenue', unit: ['won', 'won'], kind: 'bars', money: true },
];

function niceMax(max) {
  if (max <= 4) return Math.max(1, Math.ceil(max));
  const magnitude = 10 ** Math.floor(Math.log10(max));
  for (const step of [1, 2, 2.5, 5, 10]) {
    if (step * magnitude >= max) return step * magnitude;
  }
  return 10 * magnitude;
}

export function drawCharts() {
  const box = $('charts');
  if (!S.buckets) return;
  for (const spec of CHARTS) {
    let figure = box.querySelector('figure[data-series="' + spec.series + '"]');
    if (!figure) {
      figure = el('figure', { class: 'chart', 'data-series': spec.series });
      figure.append(el('figcaption', null, el('span', { class: 'chart-title', text: spec.title }), ' ',
        el('span', { class: 'chart-total' })));
      box.append(figure);
    }
    drawChart(figure, spec, S.buckets);
  }
}

function valueWords(spec, v) {
  if (spec.money) return won(v);
  return count(v) + ' ' + (v === 1 ? spec.unit[0] : spec.unit[1]);
}

function drawChart(figure, spec, buckets) {
  const b = S.bucketSeconds;
  const withSeconds = b < 60;
  const values = buckets.map((x) => Number(x[spec.series]) || 0);
  const max = Math.max(0, ...values);
  const top = niceMax(max);
  const total = values.reduce((a, v) => a + v, 0);
  const peak = values.indexOf(max);
  const first = buckets[0].startMs;
  const last = buckets[buckets.length - 1].startMs;
  const range = clockTime(first, withSeconds) + ' to ' + clockTime(last + b * 1000, withSeconds);

  // Words for the caption and for screen readers.
  let summary;
  if (spec.gauge) {
    const now = values[values.length - 1];
    summary = 'Now ' + valueWords(spec, now) + (max > 0 ? '; at most ' + count(max) + ' at ' + clockTime(buckets[peak].startMs, withSeconds) : '') + '.';
  } else {
    summary = (total > 0 ? valueWords(spec, total) + ' in this window; at most ' + (spec.money ? won(max) : count(max)) +
      ' in one ' + bucketWords(b) + ', at ' + clockTime(buckets[peak].startMs, withSeconds) : 'None in this window') + '.';
  }
  const totalLabel = figure.querySelector('.chart-total');
  totalLabel.textContent = summary;
  totalLabel.dataset.total = String(spec.gauge ? values[values.length - 1] : total);

  // Drawn at the width of the figure's content box, so that text stays at its CSS size.
  const style = getComputedStyle(figure);
  const inner = figure.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
  const width = Math.max(260, Math.floor(inner || 600));
  const height = CHART_HEIGHT;
  const m = CHART_MARGIN;
  const plotW = width - m.left - m.right;
  const plotH = height - m.top - m.bottom;
  const step = plotW / buckets.length;
  const y = (v) => m.top + plotH - (v / top) * plotH;
  const x = (i) => m.left + i * step;

  const id = 'chart-' + spec.series;
  const root = svg('svg', {
    class: 'chart-svg ' + spec.kind, width, height, viewBox: '0 0 ' + width + ' ' + height, role: 'img',
    'aria-labelledby': id + '-title ' + id + '-desc', 'data-series': spec.series, 'data-max': top,
  });
  root.append(svg('title', { id: id + '-title' }, spec.title + ' per ' + bucketWords(b) + ', ' + range));
  root.append(svg('desc', { id: id + '-desc' }, summary));

  // The y axis: 0, half and the top, with grid lines; the unit above it.
  const axis = svg('g', { class: 'axis y-axis', 'aria-hidden': 'true' });
  for (const v of [0, top / 2, top]) {
    if (v !== 0 && v !== top && !Number.isInteger(v)) continue;
    axis.append(svg('line', { class: 'grid', x1: m.left, x2: width - m.right, y1: y(v), y2: y(v) }));
    const label = spec.money || v >= 10000 ? compactFormat.format(v) : count(v);
    axis.append(svg('text', { x: m.left - 6, y: y(v) + 4, 'text-anchor': 'end' }, label));
  }
  axis.append(svg('text', { class: 'unit', x: 4, y: 10 }, spec.money ? 'won' : spec.unit[1].split(' ')[0]));
  root.append(axis);

  // The x axis: a few bucket starts in local time.
  const xAxis = svg('g', { class: 'axis x-axis', 'aria-hidden': 'true' });
  xAxis.append(svg('line', { class: 'baseline', x1: m.left, x2: width - m.right, y1: y(0), y2: y(0) }));
  // Counted back from the latest bucket, so that "now" always has its label.
  const every = Math.ceil(buckets.length / Math.max(2, Math.min(X_LABELS_MAX, Math.floor(plotW / (withSeconds ? 90 : 70)))));
  for (let i = buckets.length - 1; i >= 0; i -= every) {
    const at = x(i) + step / 2;
    xAxis.append(svg('line', { class: 'tick', x1: at, x2: at, y1: y(0), y2: y(0) + 4 }));
    xAxis.append(svg('text', { x: at, y: height - m.bottom + 18, 'text-anchor': 'middle' },
      clockTime(buckets[i].startMs, withSeconds)));
  }
  root.append(xAxis);

  const marks = svg('g', { class: 'marks' });
  if (spec.kind === 'line') {
    const points = values.map((v, i) => (x(i) + step / 2).toFixed(1) + ',' + y(v).toFixed(1));
    marks.append(svg('polygon', { class: 'area', points: (x(0) + step / 2) + ',' + y(0) + ' ' + points.join(' ') + ' ' +
      (x(values.length - 1) + step / 2) + ',' + y(0) }));
    marks.append(svg('polyline', { class: 'line', points: points.join(' ') }));
  }
  values.forEach((v, i) => {
    if (v <= 0) return;
    const when = clockTime(buckets[i].startMs, withSeconds);
    const mark = spec.kind === 'line'
      ? svg('circle', { class: 'point', cx: x(i) + step / 2, cy: y(v), r: 3 })
      : svg('rect', { class: 'bar', x: x(i) + Math.min(1, step * 0.1), y: y(v), width: Math.max(1, step - Math.min(2, step * 0.2)), height: y(0) - y(v) });
    mark.setAttribute('data-start', new Date(buckets[i].startMs).toISOString());
    mark.setAttribute('data-value', String(v));
    mark.append(svg('title', {}, when + ': ' + valueWords(spec, v)));
    marks.append(mark);
  });
  root.append(marks);

  const old = figure.querySelector('svg');
  if (old) old.replaceWith(root);
  else figure.insertBefore(root, figure.firstChild);
}

async function loadAnalytics() {
  const generation = S.generation;
  const r = await adminApi('GET', '/analytics/concerts/' + enc(S.concertId), 'analytics-error');
  if (generation !== S.generation) return;
  if (!r.ok) return r.status === 401 ? undefined : showError('analytics-error', r);
  clearError('analytics-error');
  S.analytics = r.body;
  renderAnalytics();
  renderGridRange();
}

const DATE_COLUMNS = [
  ['seatsSold', count], ['seatsHeld', count], ['seatsAvailable', count], ['revenue', won],
  ['holdsPlaced', count], ['holdsExpired', count], ['holdsCancelled', count], ['holdToPaymentConversion', percent],
];

function renderAnalytics() {
  const a = S.analytics;
  const dates = (a && a.dates) || [];
  const rows = dates.map((d) => el('tr', { 'data-date': d.date },
    el('th', { scope: 'row', text: formatDate(d.date) }),
    ...DATE_COLUMNS.map(([field, format]) => el('td', { class: 'num', 'data-field': field, 'data-value': d[field] ?? '',
      text: d[field] === undefined || d[field] === null ? '—' : format(d[field]) }))));
  $('dates-body').replaceChildren(...rows);
  const foot = $('dates-foot');
  foot.replaceChildren();
  if (dates.length > 1) {
    const sum = (field) => dates.reduce((acc, d) => acc + (Number(d[field]) || 0), 0);
    foot.append(el('tr', null, el('th', { scope: 'row', text: 'All dates' }),
      ...DATE_COLUMNS.map(([field, format]) => el('td', { class: 'num', 'data-field': field,
        text: field === 'holdToPaymentConversion' ? '' : format(sum(field)) }))));
  }
  // A venue's sales per grade and date.
  const byGrade = dates.flatMap((d) => (d.grades || []).map((g) => el('tr', { 'data-date': d.date, 'data-grade': g.grade },
    el('th', { scope: 'row', text: formatDate(d.date) }), el('td', { text: g.grade }),
    ...[['seatsSold', count], ['seatsHeld', count], ['seatsAvailable', count], ['revenue', won]].map(([field, format]) =>
      el('td', { class: 'num', 'data-field': field, 'data-value': g[field] ?? '', text: format(g[field] || 0) })))));
  $('grades-box').hidden = byGrade.length === 0;
  $('grades-body').replaceChildren(...byGrade);
  const q = (a && a.queue) || {};
  const figures = $('queue-figures');
  const add = (field, term, text) => figures.append(el('div', { 'data-field': field },
    el('dt', { text: term }), el('dd', { 'data-value': q[field] ?? '', text })));
  figures.replaceChildren();
  add('waiting', 'Waiting now', count(q.waiting || 0));
  add('active', 'Choosing seats now', count(q.active || 0));
  add('admittedTotal', 'Admitted in all', count(q.admittedTotal || 0));
  add('medianWaitSeconds', 'Median wait', (q.admittedTotal || 0) > 0 ? durationInWords(q.medianWaitSeconds || 0) : 'nobody admitted yet');
}
