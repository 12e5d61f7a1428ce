// Generation and result view of one task: pages fill in live; once finished, download, regenerate, retry.

import { downloadBlob, fill, h, toast } from '../dom.js';
import { errorMessage, t } from '../i18n.js';
import { ImageKeeper } from '../image-keeper.js';
import { postText } from '../post-text.js';
import '../strings-creator.js';
import { zipStore } from '../zip.js';
import { drawCopy } from './copy-panel.js';
import { netBanner } from './net-banner.js';
import { TaskSession } from './task-session.js';

export const name = 'task';
let kept = null; // the session survives a language switch (re-render of the same route)

const fileName = (page) => `${String(page.index + 1).padStart(2, '0')}-${page.type}.png`;

export function render(ctx, taskId) {
  const session = kept && kept.taskId === taskId ? kept : new TaskSession(ctx, taskId);
  const fresh = session !== kept;
  kept = null;
  ctx.task = session;

  const title = h('h1');
  const meta = h('p.muted');
  const bar = h('div.progress-fill');
  const progress = h('div.progress', { role: 'progressbar', 'aria-valuemin': 0, hidden: true }, bar);
  const banner = h('div.banner', { 'data-test': 'banner', hidden: true });
  const summary = h('div.summary', { 'data-test': 'summary', hidden: true });
  const actions = h('div.task-actions');
  const grid = h('div.grid', { 'data-test': 'grid' });
  const diag = h('details.diagnostics', { 'data-test': 'diagnostics', hidden: true });
  const cards = new Map();
  const copyBox = h('section.copy-panel', { 'data-test': 'copy-panel', hidden: true });
  const offline = netBanner({ onRetryNow: () => session.retryLoadNow() });
  // Grids show the small preview when the server gives one; the lightbox and downloads use the full PNG.
  const shown = (page) => page.preview_url || page.image_url;
  const keeper = new ImageKeeper({
    urlFor: (key) => { const page = session.pages.find((p) => String(p.index) === key); return page ? shown(page) : null; },
    refresh: () => session.refreshUrls(),
    onChange: () => { if (cards.size) drawHeader(); },
  });
  window.__inkstream.images = keeper; // for the browser tests
  const onOnline = () => keeper.retryAll();
  window.addEventListener('online', onOnline);

  function card(page) {
    const label = h('figcaption',
      h('span.page-no', t('outline.page', { n: page.index + 1 })),
      h('span.type', t(`outline.type.${page.type}`)),
      h(`span.state.s-${page.status}`, t(`task.status.${page.status}`)));
    let visual;
    if (page.status === 'done' && page.image_url) {
      // Not loading=lazy: the page only says "all done" once every image has loaded, and previews are small.
      const img = keeper.attach(h('img', { alt: page.content.split('\n')[0] }), String(page.index));
      visual = h('button.shot', { type: 'button', title: t('task.open'), onclick: () => lightbox(page) },
        img, h('span.img-retrying', { 'aria-hidden': 'true' }, h('span.spinner.dark'), t('img.retrying')));
    } else if (page.status === 'error') {
      visual = h('div.placeholder.failed',
        h('span.big-icon', '!'), h('p', page.error || t('task.status.error')),
        h('p.small', page.retryable === false ? t('task.notRetryable') : t('task.retryable')));
    } else {
      visual = h(`div.placeholder.${page.status}`,
        page.status === 'generating' ? h('span.spinner.dark') : h('span.big-icon.soft', String(page.index + 1)),
        h('p.snippet', page.content.split('\n').find((line) => line.trim() && !line.startsWith('[')) || ''));
    }
    const tools = session.finished && h('div.card-tools',
      page.status === 'done' && page.image_url
        && h('a.button.small', { href: page.image_url, download: fileName(page), 'data-test': 'download' },
          t('task.download')),
      h('button.small.ghost', { type: 'button', 'data-test': 'regenerate', onclick: () => act(() => session.rerun(page.index)) },
        t('task.regenerate')));
    return h('figure.page-card', { 'data-index': page.index, 'data-status': page.status }, visual, label, tools);
  }

  function drawCard(index) {
    const page = session.pages.find((p) => p.index === index);
    const old = cards.get(index);
    if (!page || !old) return drawAll();
    const next = card(page);
    old.replaceWith(next);
    cards.set(index, next);
  }

  function drawHeader() {
    progress.hidden = false;
    const total = session.pages.length;
    const done = session.done;
    title.textContent = session.topic || (session.finished ? t('task.resultTitle') : t('task.title'));
    fill(meta,
      h('span', t(session.finished ? 'task.resultTitle' : 'task.title')), ' · ',
      h('span', { 'data-test': 'progress-text' }, t('task.progress', { done, total })),
      session.failed ? h('span.bad', ' · ', t('task.failedCount', { n: session.failed })) : null);
    bar.style.width = total ? `${(100 * (done + session.failed)) / total}%` : '0';
    bar.classList.toggle('with-errors', session.failed > 0);
    progress.setAttribute('aria-valuemax', total);
    progress.setAttribute('aria-valuenow', done);
    summary.hidden = !session.finished;
    // "All done" only once every image is on screen: a finished task with an image still loading (or broken
    // and being retried) says so instead.
    const shownDone = session.pages.filter((p) => p.status === 'done' && shown(p)).length;
    const imagesReady = keeper.loaded >= shownDone;
    summary.className = `summary ${session.failed || !imagesReady ? 'warn' : 'ok'}`;
    summary.dataset.state = session.cancelled ? 'cancelled' : session.failed ? 'partial' : imagesReady ? 'done' : 'loading';
    summary.textContent = session.cancelled ? t('task.cancelled')
      : session.failed ? t('task.partial', { done, failed: session.failed })
        : imagesReady ? t('task.allDone')
          : keeper.broken ? t('img.brokenSummary', { n: keeper.broken })
            : t('img.loadingSummary', { loaded: keeper.loaded, total: shownDone });
    fill(actions, ...(session.finished ? [
      done ? h('button.primary', { type: 'button', 'data-test': 'download-all', onclick: downloadAll }, t('task.downloadAll')) : null,
      session.failed ? h('button', { type: 'button', 'data-test': 'retry-failed', onclick: () => act(() => session.rerun(null)) },
        t('task.retryFailed', { n: session.failed })) : null,
      h('a.button.ghost', { href: '#/' }, t('task.newPost')),
    ] : [
      h('button.ghost', { type: 'button', 'data-test': 'cancel', onclick: () => act(() => session.cancel()) }, t('task.cancel')),
    ]));
  }

  function drawBanner() {
    const c = session.conn;
    // While the live connection has given up (until "reconnect" or the network returns), images wait too.
    if (c.state === 'failed') keeper.pause();
    else if (c.state === 'open' || c.state === 'done') keeper.resume();
    banner.dataset.state = c.state;
    banner.hidden = session.finished || c.state === 'idle' || c.state === 'done';
    banner.className = `banner b-${c.state}`;
    if (c.state === 'connecting') fill(banner, h('span.spinner.dark'), t('banner.connecting'));
    else if (c.state === 'open') fill(banner, h('span.live-dot'), t('banner.open'));
    else if (c.state === 'reconnecting') {
      fill(banner, h('span.spinner.dark'),
        h('span', t('banner.reconnecting', { n: Math.max(1, c.attempt), m: c.maxAttempts })),
        c.reason ? h('span.muted', ` · ${t(`reason.${c.reason}`)}`) : null);
    } else if (c.state === 'failed') {
      const button = c.reason === 'task_not_found'
        ? h('a.button.small', { href: '#/', 'data-test': 'banner-action' }, t('banner.home'))
        : c.reason === 'auth_failed'
          ? h('a.button.small', { href: '#/login', 'data-test': 'banner-action' }, t('banner.login'))
          : h('button.small.primary', { type: 'button', 'data-test': 'banner-action',
            onclick: () => session.manager?.reconnectNow() }, t('banner.reconnect'));
      fill(banner, h('span.banner-icon', '!'),
        h('span.banner-text', t(`banner.failed.${c.reason}`, { m: c.maxAttempts })), button);
    }
    drawDiagnostics();
  }

  function drawDiagnostics() {
    const m = session.manager;
    if (!m) { diag.hidden = true; return; }
    diag.hidden = false;
    const snap = m.snapshot();
    const rows = snap.history.map((e) => h('tr',
      h('td', e.time.slice(11, 19)), h('td', t(`reason.${e.reason}`)), h('td', String(e.attempt)),
      h('td', t(`outcome.${e.outcome}`))));
    const open = diag.open;
    fill(diag,
      h('summary', t('task.diagnostics')),
      h('dl',
        h('dt', t('task.diag.state')), h('dd', snap.state),
        h('dt', t('task.diag.lastId')), h('dd', String(snap.lastEventId)),
        h('dt', t('task.diag.received')), h('dd', String(snap.receivedIds.length)),
        h('dt', t('task.diag.dupes')), h('dd', String(snap.duplicates))),
      rows.length ? h('table', h('thead', h('tr', h('th', t('task.diag.time')), h('th', t('task.diag.reason')),
        h('th', t('task.diag.attempt')), h('th', t('task.diag.outcome')))), h('tbody', rows))
        : h('p.muted', t('task.diag.none')));
    diag.open = open;
  }

  function drawAll() {
    if (session.notFound || session.loadError) {
      fill(el, h('div.empty-state', { 'data-test': 'not-found' },
        h('span.big-icon', '?'),
        h('p', session.notFound ? t('task.notFound') : errorMessage(session.loadError)),
        h('a.button.primary', { href: '#/' }, t('task.goHome'))));
      return;
    }
    drawHeader();
    drawBanner();
    cards.clear();
    keeper.keepOnly(session.pages.filter((p) => p.status === 'done').map((p) => String(p.index)));
    drawCopy(copyBox, { copy: session.copy, writing: session.copyText });
    fill(grid, ...session.pages.map((page) => {
      const c = card(page);
      cards.set(page.index, c);
      return c;
    }));
    grid.classList.toggle('finished', session.finished);
  }

  async function act(fn) {
    try { await fn(); } catch (err) { toast(errorMessage(err), 'error'); }
  }

  async function downloadAll(ev) {
    const button = ev.currentTarget;
    const done = session.pages.filter((p) => p.status === 'done' && p.image_url);
    button.disabled = true;
    try {
      const files = [];
      for (const page of done) {
        button.textContent = t('task.zipping', { done: files.length, total: done.length });
        let res = await fetch(page.image_url).catch(() => null);
        if (!res || !res.ok) { // expired link or a blip: once more with a freshly signed URL
          await session.refreshUrls();
          res = await fetch(page.image_url);
        }
        if (!res.ok) throw new Error(`${fileName(page)}: HTTP ${res.status}`);
        files.push({ name: fileName(page), data: new Uint8Array(await res.arrayBuffer()) });
      }
      const words = postText(session.copy, { titlesLabel: t('copy.titles'), bodyLabel: t('copy.body'),
        tagsLabel: t('copy.tags') });
      if (words) files.push({ name: 'post.txt', data: new TextEncoder().encode(words) });
      const safe = (session.topic || 'inkstream').replace(/[\\/:*?"<>|\s]+/g, '_').slice(0, 40);
      downloadBlob(new Blob([zipStore(files)], { type: 'application/zip' }), `${safe}.zip`);
    } catch (err) {
      toast(errorMessage(err), 'error');
    } finally {
      button.disabled = false;
      button.textContent = t('task.downloadAll');
    }
  }

  function lightbox(page) {
    const close = () => { box.remove(); document.removeEventListener('keydown', onKey); };
    const onKey = (e) => { if (e.key === 'Escape') close(); };
    const box = h('div.lightbox', { role: 'dialog', 'aria-modal': 'true', onclick: (e) => { if (e.target === box) close(); } },
      h('figure', h('img', { src: page.image_url, alt: '' }),
        h('figcaption', t('outline.page', { n: page.index + 1 }),
          h('a.button.small', { href: page.image_url, download: fileName(page) }, t('task.download')),
          h('button.small.ghost', { type: 'button', onclick: close }, t('task.close')))));
    document.addEventListener('keydown', onKey);
    document.body.append(box);
  }

  const el = h('section.task',
    h('div.page-head', h('div', title, meta), actions),
    offline.el, progress, banner, summary, grid, copyBox, diag);

  const unsubscribe = session.subscribe((what, index) => {
    if (what === 'conn') drawBanner();
    else if (what === 'offline') { if (session.offline) offline.show(session.offline); else offline.hide(); }
    else if (what === 'copy') drawCopy(copyBox, { copy: session.copy, writing: session.copyText });
    else if (what === 'page' && index !== null && cards.size) { drawCard(index); drawHeader(); drawDiagnostics(); }
    else drawAll();
  });
  if (fresh) {
    grid.append(h('p.muted.center', h('span.spinner.dark'), t('common.loading')));
    session.init();
  } else {
    drawAll();
    if (session.offline) offline.show(session.offline);
  }
  return {
    el,
    dispose: ({ keep = false } = {}) => {
      unsubscribe();
      keeper.dispose();
      window.removeEventListener('online', onOnline);
      if (keep) kept = session;
      else session.close();
    },
  };
}
