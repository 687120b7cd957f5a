// The organizer's page: the admin key (kept in sessionStorage, sent as X-Admin-Key), a form that
// creates a concert, and for the concert chosen: charts of its timeline drawn here as SVG,
// refreshed every few seconds, the analytics per date and the history of any seat. Served as
// /admin.js, an ES module that starts the page; the screens are the admin-*.js modules it
// imports, with common.js. Talks only to this origin's API (shared/API.md).
import { $, announce, busy, onSeatKeys, setText } from './common.js';
import { S, persist, showError, words } from './admin-state.js';
import { checkKey, forgetKey, openDesk, signIn } from './admin-key.js';
import { addSchedule, createConcert, previewLayout, scheduleClick } from './admin-create.js';
import { drawCharts, followConcert, loadConcerts, loadTimeline, refresh, scheduleRefresh, stopRefresh } from './admin-live.js';
import { closeHistory, gridClick, gridRows, loadHistory, moveFocus, pageRows, renderGrid, seatFormSubmit } from './admin-seats.js';
import { applyBlocks, saveSettings, setMode, toggleSale } from './admin-controls.js';
import { movePhase, uploadList } from './admin-phases.js';
import { bindDoor } from './admin-door.js';

// ---- start -----------------------------------------------------------------------------------
function bind() {
  bindDoor();
  $('key-form').addEventListener('submit', signIn);
  $('forget-key').addEventListener('click', forgetKey);
  $('create-form').addEventListener('submit', createConcert);
  $('c-layout').addEventListener('input', previewLayout);
  $('schedules').addEventListener('click', scheduleClick);
  $('add-schedule').addEventListener('click', () => {
    const item = addSchedule();
    if (item) {
      item.querySelector('input').focus();
      announce('Date ' + $('schedules').children.length + ' added.');
    }
  });
  $('concert-select').addEventListener('change', async (event) => {
    S.concertId = event.target.value;
    persist();
    await followConcert();
  });
  $('concerts-refresh').addEventListener('click', () => busy($('concerts-refresh'), 'Refreshing…', () => loadConcerts()));
  $('bucket').addEventListener('change', async (event) => {
    S.bucketSeconds = Number(event.target.value);
    persist();
    $('charts').replaceChildren();
    stopRefresh();
    await loadTimeline();
    scheduleRefresh();
  });
  $('live-toggle').addEventListener('click', async () => {
    S.paused = !S.paused;
    $('live-toggle').setAttribute('aria-pressed', String(S.paused));
    $('live-toggle').textContent = S.paused ? 'Resume updates' : 'Pause updates';
    if (S.paused) {
      stopRefresh();
      const status = $('live-status').textContent.replace(/ Updated every .*$/, '');
      setText('live-status', status + (status.endsWith('paused.') ? '' : ' Updates are paused.'));
    } else {
      await refresh();
      scheduleRefresh();
    }
  });
  $('seat-date').addEventListener('change', (event) => {
    S.grid = { date: event.target.value, firstRow: 1 };
    S.focusSeat = 1;
    closeHistory();
    renderGrid();
  });
  $('seat-form').addEventListener('submit', seatFormSubmit);
  $('sale-toggle').addEventListener('click', () => busy($('sale-toggle'), null, toggleSale));
  $('phase-list-cards').addEventListener('submit', uploadList);
  $('phase-list-cards').addEventListener('submit', movePhase);
  $('settings-form').addEventListener('submit', (event) => busy($('settings-submit'), 'Saving…', () => saveSettings(event)));
  $('settings-form').addEventListener('input', (event) => { event.target.dataset.edited = 'true'; });
  for (const radio of document.querySelectorAll('input[name="seat-mode"]')) {
    radio.addEventListener('change', (event) => {
      setMode(event.target.value);
      if (event.target.value === 'block') closeHistory();
    });
  }
  $('block-selected').addEventListener('click', () => busy($('block-selected'), 'Blocking…', () => applyBlocks(true)));
  $('release-selected').addEventListener('click', () => busy($('release-selected'), 'Releasing…', () => applyBlocks(false)));
  $('rows-earlier').addEventListener('click', () => pageRows(-1));
  $('rows-later').addEventListener('click', () => pageRows(1));
  onSeatKeys($('seat-grid'), gridRows, moveFocus);
  $('seat-grid').addEventListener('click', gridClick);
  $('history-more').addEventListener('click', () => busy($('history-more'), 'Loading…', loadHistory));
  let resizeFrame = 0;
  window.addEventListener('resize', () => {
    cancelAnimationFrame(resizeFrame);
    resizeFrame = requestAnimationFrame(drawCharts);
  });
  document.addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'visible' && S.key && S.concertId && !S.paused) refresh();
  });
}

export async function start() {
  bind();
  addSchedule();
  $('bucket').value = String(S.bucketSeconds);
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  if (zone) setText('zone-hint', 'Times are in your time zone (' + zone + ') and sent to the server in UTC.');
  if (S.key) {
    const r = await checkKey(S.key);
    if (r.ok) {
      await openDesk();
    } else {
      S.key = null;
      persist();
      if (r.status === 401) showError('key-error', 'The admin key this tab had is no longer accepted. Enter it again.');
      else showError('key-error', words(r));
    }
  }
  document.documentElement.dataset.ready = 'true';
}

start();
