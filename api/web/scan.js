// The door's page (GET /scan): a scanner key, a concert and a date; codes typed, pasted or read by
// the camera (where the browser has BarcodeDetector). Online, each code is checked in by the server
// (POST .../checkins). The page keeps the date's ticket list for its gate and the concert's public
// key, so when the network drops it goes on: it verifies a code's signature itself (WebCrypto
// Ed25519), refuses other dates, other gates' sections, revoked tickets and tickets it admitted
// already, keeps its scans in this browser and uploads them (POST .../checkins/batch) when the
// network is back.

import { $, enc, request, setText } from './common.js';

const STORE_KEY = 'encore.door.v1';
const UPLOAD_EVERY_MS = 5000;

const D = {
  concert: '', key: '', date: '', gate: '',
  list: {},      // ticketId -> {holder, section, seat, row, seatInRow, entryNumber, status}
  queue: [],     // offline scans not uploaded yet
  publicKey: '', // base64url
  verifier: null,
  counter: 0,
};

function save() {
  localStorage.setItem(STORE_KEY, JSON.stringify({
    concert: D.concert, key: D.key, date: D.date, gate: D.gate, list: D.list, queue: D.queue, publicKey: D.publicKey, counter: D.counter,
  }));
}

function restore() {
  try {
    Object.assign(D, JSON.parse(localStorage.getItem(STORE_KEY) || '{}'));
  } catch (_) { /* a damaged store starts afresh */ }
}

const headers = () => ({ 'X-Scanner-Key': D.key });

function bytesOf(base64url) {
  const b64 = base64url.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((base64url.length + 3) % 4);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}

async function importKey() {
  D.verifier = await crypto.subtle.importKey('raw', bytesOf(D.publicKey), { name: 'Ed25519' }, false, ['verify']);
}

// The claims of a code whose signature verifies under the concert's key; null otherwise.
async function verifyOffline(code) {
  const parts = code.split('.');
  if (parts.length !== 3 || !D.verifier) return null;
  try {
    const header = JSON.parse(new TextDecoder().decode(bytesOf(parts[0])));
    if (header.alg !== 'EdDSA') return null;
    const ok = await crypto.subtle.verify({ name: 'Ed25519' }, D.verifier, bytesOf(parts[2]),
      new TextEncoder().encode(parts[0] + '.' + parts[1]));
    return ok ? JSON.parse(new TextDecoder().decode(bytesOf(parts[1]))) : null;
  } catch (_) {
    return null;
  }
}

async function loadList() {
  const list = {};
  let cursor = '';
  for (;;) {
    const page = await request('GET', '/admin/concerts/' + enc(D.concert) + '/dates/' + enc(D.date) + '/tickets?limit=1000' +
      (cursor ? '&cursor=' + enc(cursor) : ''), headers());
    if (!page.ok) return page;
    if (page.body.gate !== undefined) D.gate = page.body.gate;
    for (const t of page.body.tickets) list[t.ticketId] = t;
    if (!page.body.nextCursor) break;
    cursor = page.body.nextCursor;
  }
  D.list = list;
  return { ok: true };
}

async function start(event) {
  event.preventDefault();
  setText('setup-error', '');
  const concert = $('s-concert').value.trim(), key = $('s-key').value.trim(), date = $('s-date').value;
  if (!concert || !key || !date) return setText('setup-error', 'Enter the concert id, the scanner key and the date.');
  const same = D.concert === concert && D.date === date && D.publicKey;
  Object.assign(D, { concert, key, date });
  if (!same) Object.assign(D, { list: {}, gate: '', publicKey: '' });
  const keyAnswer = await request('GET', '/concerts/' + enc(concert) + '/ticket-key', {});
  if (keyAnswer.ok) D.publicKey = keyAnswer.body.publicKey;
  else if (keyAnswer.status !== 0 || !same) return setText('setup-error', keyAnswer.status === 404 ? 'No such concert.' : 'The server cannot be reached.');
  const listed = await loadList();
  if (!listed.ok && listed.status !== 0) {
    return setText('setup-error', listed.status === 401 ? 'This key does not work for this concert.' :
      listed.status === 404 ? 'The concert has no such date.' : 'The ticket list could not be read.');
  }
  if (!listed.ok && !same) return setText('setup-error', 'The server cannot be reached, and this scanner has no ticket list yet.');
  await importKey();
  save();
  showScanner();
}

function showScanner() {
  $('setup').hidden = true;
  $('scanner').hidden = false;
  const count = Object.keys(D.list).length;
  setText('scanner-facts', 'Concert ' + D.concert + ' · ' + D.date + ' · ' + (D.gate ? 'gate ' + D.gate : 'every gate') + ' · ' +
    count + (count === 1 ? ' ticket' : ' tickets') + ' on the list');
  $('scan-camera').hidden = !('BarcodeDetector' in window);
  showPending();
  $('scan-code').focus();
}

function showPending() {
  const n = D.queue.length;
  setText('pending', n === 0 ? (navigator.onLine ? 'Online.' : 'Offline.') : n + (n === 1 ? ' scan' : ' scans') + ' made offline, to send when the network is back.');
  setText('door-line', navigator.onLine ? 'Online' : 'Offline — checking tickets on this device');
}

function where(t) {
  const parts = [];
  if (t.section) parts.push(t.section);
  if (t.row) parts.push('row ' + t.row);
  if (t.seatInRow) parts.push('seat ' + t.seatInRow);
  else if (t.seat) parts.push('seat ' + t.seat);
  if (t.entryNumber) parts.push('entry no. ' + t.entryNumber);
  return parts.join(', ');
}

function verdict(ok, word, ticket = null, note = '') {
  const box = $('verdict');
  box.hidden = false;
  box.dataset.ok = String(ok);
  setText('verdict-word', word);
  setText('verdict-who', ticket && ticket.holder ? ticket.holder : note);
  setText('verdict-where', ticket ? where(ticket) + (note && ticket.holder ? ' · ' + note : '') : '');
}

const REFUSALS = {
  ALREADY_ADMITTED: 'Already admitted', WRONG_GATE: 'Other gate', WRONG_DATE: 'Other date',
  TICKET_REVOKED: 'Revoked', INVALID_TICKET: 'Not a ticket', UNAUTHORIZED: 'Scanner key no longer works',
};

async function check(event) {
  if (event) event.preventDefault();
  const code = $('scan-code').value.trim();
  $('scan-code').value = '';
  $('scan-code').focus();
  if (!code) return;
  const scanId = 'door-' + (++D.counter) + '-' + Date.now().toString(36);
  save();
  if (navigator.onLine) {
    const answer = await request('POST', '/admin/concerts/' + enc(D.concert) + '/checkins', headers(), { code, date: D.date, scanId });
    if (answer.status !== 0) return online(answer);
  }
  await offline(code, scanId);
}

function online(answer) {
  if (answer.ok) {
    const t = answer.body.ticket;
    D.list[t.ticketId] = { ...(D.list[t.ticketId] || {}), ...t, status: 'ADMITTED' };
    save();
    return verdict(true, 'Admitted', t);
  }
  const known = answer.body && answer.body.error;
  let note = '';
  if (answer.code === 'ALREADY_ADMITTED' && known) note = 'at ' + new Date(known.admittedAt).toLocaleTimeString() + (known.gate ? ', gate ' + known.gate : '');
  verdict(false, REFUSALS[answer.code] || 'Refused', null, note || answer.message);
}

async function offline(code, scanId) {
  const claims = await verifyOffline(code);
  if (!claims || claims.cid !== D.concert) return verdict(false, 'Not a ticket', null, 'the signature does not verify (offline)');
  const t = D.list[claims.tid] || { section: claims.sec, seat: claims.seat, entryNumber: claims.en };
  if (claims.date !== D.date) return verdict(false, 'Other date', t);
  if (D.gate && claims.gate && claims.gate !== D.gate) return verdict(false, 'Other gate', t, 'gate ' + claims.gate);
  if (t.status === 'REVOKED') return verdict(false, 'Revoked', t);
  if (t.status === 'ADMITTED') return verdict(false, 'Already admitted', t);
  D.list[claims.tid] = { ...t, status: 'ADMITTED' };
  D.queue.push({ code, date: D.date, scannedAt: new Date().toISOString(), scanId });
  save();
  showPending();
  verdict(true, 'Admitted', t, 'offline');
}

let uploading = false;
async function upload() {
  if (uploading || D.queue.length === 0 || !navigator.onLine) return showPending();
  uploading = true;
  const scans = D.queue.slice(0, 1000);
  const answer = await request('POST', '/admin/concerts/' + enc(D.concert) + '/checkins/batch', headers(), { scans });
  uploading = false;
  if (!answer.ok) return showPending();
  D.queue.splice(0, scans.length);
  save();
  const duplicates = answer.body.results.filter((r) => r.result === 'DUPLICATE').length;
  showPending();
  setText('door-line', 'Online — ' + scans.length + (scans.length === 1 ? ' offline scan sent' : ' offline scans sent') +
    (duplicates ? ', ' + duplicates + ' already admitted elsewhere' : ''));
}

async function useCamera() {
  const video = $('camera');
  const detector = new window.BarcodeDetector({ formats: ['qr_code'] });
  try {
    video.srcObject = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' } });
  } catch (_) {
    return verdict(false, 'No camera', null, 'the browser did not allow the camera');
  }
  video.hidden = false;
  await video.play();
  let last = '';
  const look = async () => {
    if (video.hidden) return;
    try {
      const found = await detector.detect(video);
      if (found.length && found[0].rawValue !== last) {
        last = found[0].rawValue;
        $('scan-code').value = last;
        await check();
      }
    } catch (_) { /* a frame not ready */ }
    requestAnimationFrame(look);
  };
  look();
}

function stop() {
  const video = $('camera');
  if (video.srcObject) for (const track of video.srcObject.getTracks()) track.stop();
  video.hidden = true;
  $('scanner').hidden = true;
  $('setup').hidden = false;
  $('s-concert').focus();
}

restore();
$('s-concert').value = D.concert || new URLSearchParams(location.search).get('concert') || '';
$('s-date').value = D.date || new URLSearchParams(location.search).get('date') || '';
$('setup-form').addEventListener('submit', start);
$('scan-form').addEventListener('submit', check);
$('scan-camera').addEventListener('click', useCamera);
$('stop').addEventListener('click', stop);
window.addEventListener('online', upload);
window.addEventListener('offline', showPending);
setInterval(upload, UPLOAD_EVERY_MS);

if (D.concert && D.key && D.date && D.publicKey) {
  // A scanner set up before (a reload, or a restart with the network down): it goes on at once.
  importKey().then(showScanner, () => {});
}
document.documentElement.dataset.ready = 'true';
