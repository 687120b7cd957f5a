// The organizer's page: the door of the concert followed. Its scanners (each with its gate and its
// key, to hand to the door staff; added and removed here) and the tickets admitted per gate, in all
// and minute by minute, refreshed with the rest of the live figures.

import { $, el, enc, setText } from './common.js';
import { S, adminApi, clearError, showError } from './admin-state.js';

const MINUTES_SHOWN = 30;

// The venue's gates, each once, in the order its sections name them.
function gatesOf(concert) {
  const gates = [];
  for (const s of (concert && concert.layout && concert.layout.sections) || []) {
    if (s.gate && !gates.includes(s.gate)) gates.push(s.gate);
  }
  return gates;
}

export function setupDoor() {
  $('scanner-gate').replaceChildren(el('option', { value: '', text: 'Every gate' }));
  $('door-body').replaceChildren();
  $('scanner-list').replaceChildren();
  setText('scanner-added', '');
  clearError('door-error');
}

export async function loadDoor() {
  const concert = S.concertId;
  if (!concert) return;
  const [scanners, checkins] = await Promise.all([
    adminApi('GET', '/admin/concerts/' + enc(concert) + '/scanners', 'door-error'),
    adminApi('GET', '/admin/concerts/' + enc(concert) + '/checkins?bucketSeconds=60', 'door-error'),
  ]);
  if (concert !== S.concertId) return;
  if (!scanners.ok || !checkins.ok) return showError('door-error', scanners.ok ? checkins : scanners);
  // The gates, once the concert's layout is read (the controls read GET /admin/concerts/{id}).
  const select = $('scanner-gate');
  const gates = gatesOf(S.controls && S.controls.concert);
  if (select.options.length === 1 && gates.length) select.append(...gates.map((g) => el('option', { value: g, text: 'Gate ' + g })));
  drawScanners(scanners.body.scanners);
  drawAdmissions(checkins.body);
}

function drawScanners(scanners) {
  const live = scanners.filter((s) => !s.removed);
  $('scanner-list').replaceChildren(...live.map((s) => {
    const remove = el('button', { type: 'button', class: 'secondary', 'data-action': 'remove-scanner', text: 'Remove' });
    remove.addEventListener('click', () => removeScanner(s, remove));
    return el('li', { 'data-scanner': s.scannerId },
      el('strong', { text: s.name }), ' · ' + (s.gate ? 'gate ' + s.gate : 'every gate') + ' · key ',
      el('code', { class: 'scanner-key', text: s.key }), ' ', remove);
  }));
  $('scanners-empty').hidden = live.length > 0;
}

// A table of gates: admitted in all, and a bar for each of the last minutes.
function drawAdmissions(figures) {
  const now = Math.floor(Date.now() / 60000) * 60000;
  const first = now - (MINUTES_SHOWN - 1) * 60000;
  const byGate = new Map();
  for (const g of figures.gates) byGate.set(g.gate, { total: g.admitted, minutes: new Array(MINUTES_SHOWN).fill(0) });
  for (const b of figures.buckets) {
    const at = Math.round((Date.parse(b.start) - first) / 60000);
    if (at >= 0 && at < MINUTES_SHOWN && byGate.has(b.gate)) byGate.get(b.gate).minutes[at] += b.admitted;
  }
  const peak = Math.max(1, ...[...byGate.values()].flatMap((g) => g.minutes));
  $('door-body').replaceChildren(...[...byGate.entries()].map(([gate, g]) => {
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 ' + MINUTES_SHOWN * 4 + ' 20');
    svg.setAttribute('class', 'spark');
    svg.setAttribute('role', 'img');
    svg.setAttribute('aria-label', 'admissions at ' + (gate || 'no gate') + ' by minute, the last ' + MINUTES_SHOWN + ' minutes');
    g.minutes.forEach((n, i) => {
      if (!n) return;
      const bar = document.createElementNS('http://www.w3.org/2000/svg', 'rect');
      const h = Math.max(1, Math.round((n / peak) * 20));
      bar.setAttribute('x', String(i * 4));
      bar.setAttribute('y', String(20 - h));
      bar.setAttribute('width', '3');
      bar.setAttribute('height', String(h));
      svg.append(bar);
    });
    return el('tr', { 'data-gate': gate }, el('th', { scope: 'row', text: gate ? 'Gate ' + gate : 'No gate named' }),
      el('td', { class: 'number', text: String(g.total) }), el('td', null, svg));
  }));
  $('door-empty').hidden = byGate.size > 0;
}

async function addScanner(event) {
  event.preventDefault();
  clearError('door-error');
  const name = $('scanner-name').value.trim();
  if (!name) return showError('door-error', 'Name the scanner (where it is used, or who holds it).');
  const body = { name };
  if ($('scanner-gate').value) body.gate = $('scanner-gate').value;
  const r = await adminApi('POST', '/admin/concerts/' + enc(S.concertId) + '/scanners', 'door-error', { body });
  if (!r.ok) return showError('door-error', r);
  $('scanner-name').value = '';
  setText('scanner-added', 'Scanner "' + r.body.name + '" added. Its key is in the list below; the door page is /scan.');
  await loadDoor();
}

async function removeScanner(scanner, button) {
  clearError('door-error');
  button.disabled = true;
  const r = await adminApi('DELETE', '/admin/concerts/' + enc(S.concertId) + '/scanners/' + enc(scanner.scannerId), 'door-error');
  if (!r.ok) {
    button.disabled = false;
    return showError('door-error', r);
  }
  setText('scanner-added', 'Scanner "' + scanner.name + '" removed: its key no longer works.');
  await loadDoor();
}

export function bindDoor() {
  $('scanner-form').addEventListener('submit', addScanner);
}
