// The organizer's page: a concert's sale phases, a card each. A phase still to come may be moved
// (its opensAt and closesAt: PATCH of the whole list, with If-Match); one that has opened is shown
// as it is. The list of a LIST phase (a fan club's presale) is uploaded from a CSV file in batches
// of 10,000 ids (one request each, with its own Idempotency-Key), with the progress said as it
// goes. An id is a line's first column: 12 to 64 printable characters; a header line or an empty
// one is skipped, and any other line that is no id stops the upload before anything is sent. Ids
// already on the list are not counted twice, so an upload cut short is simply sent again.
import { $, announce, el, enc, formatInstant, newKey, setText } from './common.js';
import { S, adminApi, showError } from './admin-state.js';
import { instantOf } from './admin-create.js';
import { loadControls } from './admin-controls.js';

export const BATCH = 10000;
const ID = /^[!-~]{12,64}$/;

// The ids of a CSV text, or the first line that is none.
export function idsOf(text) {
  const ids = [];
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const cell = lines[i].split(',')[0].trim().replace(/^"(.*)"$/, '$1');
    if (!cell) continue;
    if (ID.test(cell)) {
      ids.push(cell);
    } else if (ids.length || i > 0) {
      return { ids: [], bad: i + 1 };
    }  // else the header
  }
  return { ids, bad: 0 };
}

// An instant as a datetime-local value in this browser's time zone ("2030-12-24T19:00").
function localValue(iso) {
  const d = new Date(iso);
  const pad = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + pad(d.getMonth() + 1) + '-' + pad(d.getDate()) + 'T' + pad(d.getHours()) + ':' + pad(d.getMinutes());
}

// One card per phase of the concert followed: when it runs (a form to move it while it is to
// come), and for a LIST phase the upload of its list.
export function renderPhaseLists() {
  const c = S.controls.concert;
  const phases = c && Array.isArray(c.salePhases) ? c.salePhases : [];
  const box = $('phase-lists');
  box.hidden = phases.length === 0;
  const list = $('phase-list-cards');
  const now = Date.now();
  const key = (c ? c.concertId + '|' + c.revision : '') + '|' + JSON.stringify(phases) + '|' + phases.map((p) => Date.parse(p.opensAt) <= now).join(',');
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  // What an upload said survives the cards being drawn again (after a phase moved, say).
  const said = new Map([...list.querySelectorAll('p.status[id]')].map((e) => [e.id, e.textContent]));
  list.replaceChildren(...phases.map((p) => {
    const id = 'list-file-' + p.phase;
    const opened = Date.parse(p.opensAt) <= now;
    const when = (opened ? 'Opened ' : 'Opens ') + formatInstant(p.opensAt, { year: true }) +
      (p.closesAt ? (Date.parse(p.closesAt) <= now ? ', closed ' : ', closes ') + formatInstant(p.closesAt, { year: true }) : '') + '.';
    const item = el('li', { class: 'card', 'data-phase': p.phase },
      el('h4', { text: (p.name || p.phase) + ' (' + p.phase + ')' }),
      el('p', { class: 'meta', text: when + ' ' + (p.eligibility === 'LIST' ? 'For its list.' : 'Open to everyone.') }));
    if (!opened) {
      const opens = 'phase-opens-' + p.phase;
      const closes = 'phase-closes-' + p.phase;
      item.append(el('form', { class: 'phase-times', 'data-phase': p.phase },
        el('div', { class: 'fields' },
          el('p', { class: 'field' }, el('label', { for: opens, text: 'Opens' }),
            el('input', { id: opens, type: 'datetime-local', value: localValue(p.opensAt), required: true })),
          el('p', { class: 'field' }, el('label', { for: closes }, 'Closes ', el('span', { class: 'hint', text: '(empty: when the next opens, or never)' })),
            el('input', { id: closes, type: 'datetime-local', value: p.closesAt ? localValue(p.closesAt) : '' }))),
        el('button', { type: 'submit', class: 'secondary', text: 'Move this phase' })));
    }
    item.append(el('p', { class: 'error', role: 'alert', id: 'phase-times-' + p.phase + '-error' }));
    if (p.eligibility === 'LIST') {
      item.append(
        el('form', { class: 'row-form list-upload', 'data-phase': p.phase },
          el('label', { for: id, text: 'Ids, one per line (CSV: the first column)' }),
          el('input', { id, type: 'file', accept: '.csv,.txt,text/csv,text/plain', required: true }),
          el('button', { type: 'submit', text: 'Upload the list' })),
        el('p', { class: 'status', role: 'status', id: id + '-progress', text: said.get(id + '-progress') || '' }),
        el('p', { class: 'error', role: 'alert', id: id + '-error' }));
    }
    return item;
  }));
}

// A phase to come moved: the whole list sent back (PATCH salePhases) with this phase's times
// changed, If-Match the concert as this page read it.
export async function movePhase(event) {
  const form = event.target.closest('form.phase-times');
  if (!form) return;
  event.preventDefault();
  const c = S.controls.concert;
  if (!c) return;
  const phase = form.dataset.phase;
  const errorId = 'phase-times-' + phase + '-error';
  $(errorId).textContent = '';
  const opensAt = instantOf($('phase-opens-' + phase));
  const closesAt = instantOf($('phase-closes-' + phase));
  if (!opensAt || Number.isNaN(opensAt) || Number.isNaN(closesAt)) return showError(errorId, 'Give the day and time the phase opens.');
  const phases = c.salePhases.map((p) => {
    if (p.phase !== phase) return p;
    const moved = { ...p, opensAt };
    if (closesAt) moved.closesAt = closesAt;
    else delete moved.closesAt;
    return moved;
  });
  const button = form.querySelector('button');
  button.disabled = true;
  try {
    const headers = S.controls.etag ? { 'If-Match': S.controls.etag } : {};
    const r = await adminApi('PATCH', '/admin/concerts/' + enc(S.concertId), errorId, { idempotencyKey: newKey(), body: { salePhases: phases }, headers });
    if (r.status === 412) {
      await loadControls();
      return showError(errorId, 'The concert was changed elsewhere since this page read it. The page now shows it as it is: check and move the phase again.');
    }
    if (r.code === 'PHASE_STARTED') await loadControls();
    if (!r.ok) return r.status === 401 ? undefined : showError(errorId, r);
    announce((phases.find((p) => p.phase === phase).name || phase) + ' moved: it opens ' + formatInstant(opensAt, { year: true }) + '.');
    await loadControls();
  } finally {
    button.disabled = false;
  }
}

export async function uploadList(event) {
  const form = event.target.closest('form.list-upload');
  if (!form) return;
  event.preventDefault();
  const phase = form.dataset.phase;
  const input = form.querySelector('input[type=file]');
  const progress = $('list-file-' + phase + '-progress');
  const error = $('list-file-' + phase + '-error');
  error.textContent = '';
  if (!input.files || !input.files.length) {
    error.textContent = 'Choose the file of the list first.';
    return input.focus();
  }
  const { ids, bad } = idsOf(await input.files[0].text());
  if (bad) {
    error.textContent = 'Line ' + bad + ' is not an id (12 to 64 printable characters, no spaces): nothing was uploaded.';
    return;
  }
  if (!ids.length) {
    error.textContent = 'The file has no ids.';
    return;
  }
  const button = form.querySelector('button');
  button.disabled = true;
  const batches = Math.ceil(ids.length / BATCH);
  let added = 0;
  let total = 0;
  try {
    for (let b = 0; b < batches; b++) {
      setText(progress.id, 'Uploading: ' + (b * BATCH).toLocaleString('en') + ' of ' + ids.length.toLocaleString('en') +
        ' ids (batch ' + (b + 1) + ' of ' + batches + ')…');
      const r = await adminApi('POST', '/admin/concerts/' + enc(S.concertId) + '/phases/' + enc(phase) + '/eligible', 'list-file-' + phase + '-error',
        { body: { ids: ids.slice(b * BATCH, (b + 1) * BATCH) }, idempotencyKey: newKey() });
      if (!r.ok) {
        error.textContent = 'Batch ' + (b + 1) + ' of ' + batches + ' was not taken (' + (r.message || r.code) +
          '). The ' + (b * BATCH).toLocaleString('en') + ' ids before it are on the list: upload the file again to go on.';
        return;
      }
      added += r.body.added;
      total = r.body.total;
    }
    const done = 'Uploaded ' + ids.length.toLocaleString('en') + ' ids: ' + added.toLocaleString('en') + ' new. The list has ' +
      total.toLocaleString('en') + ' ids.';
    setText(progress.id, done);
    announce(done);
  } finally {
    button.disabled = false;
  }
}
