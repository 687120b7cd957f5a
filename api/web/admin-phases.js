// The organizer's page: the lists of a concert's LIST sale phases (a fan club's presale), uploaded
// from a CSV file in batches of 10,000 ids (one request each, with its own Idempotency-Key), with
// the progress said as it goes. An id is a line's first column: 12 to 64 printable characters; a
// header line or an empty one is skipped, and any other line that is no id stops the upload
// before anything is sent. Ids already on the list are not counted twice, so an upload cut short
// is simply sent again.
import { $, announce, el, enc, newKey, setText } from './common.js';
import { S, adminApi } from './admin-state.js';

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

// One card per LIST phase of the concert followed.
export function renderPhaseLists() {
  const c = S.controls.concert;
  const phases = c && Array.isArray(c.salePhases) ? c.salePhases.filter((p) => p.eligibility === 'LIST') : [];
  const box = $('phase-lists');
  box.hidden = phases.length === 0;
  const list = $('phase-list-cards');
  const key = (c ? c.concertId : '') + '|' + phases.map((p) => p.phase).join(',');
  if (list.dataset.key === key) return;
  list.dataset.key = key;
  list.replaceChildren(...phases.map((p) => {
    const id = 'list-file-' + p.phase;
    return el('li', { class: 'card', 'data-phase': p.phase },
      el('h4', { text: (p.name || p.phase) + ' (' + p.phase + ')' }),
      el('form', { class: 'row-form list-upload', 'data-phase': p.phase },
        el('label', { for: id, text: 'Ids, one per line (CSV: the first column)' }),
        el('input', { id, type: 'file', accept: '.csv,.txt,text/csv,text/plain', required: true }),
        el('button', { type: 'submit', text: 'Upload the list' })),
      el('p', { class: 'status', role: 'status', id: id + '-progress' }),
      el('p', { class: 'error', role: 'alert', id: id + '-error' }));
  }));
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
