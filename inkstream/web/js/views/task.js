// Generation and result view of one task: pages fill in live; once finished, download, regenerate, retry.

import { downloadBlob, fill, h, toast } from '../dom.js';
import { errorMessage, t } from '../i18n.js';
import { zipStore } from '../zip.js';
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
  const progress = h('div.progress', { role: 'progressbar', 'aria-valuemin': 0 }, bar);
  const banner = h('div.banner', { 'data-test': 'banner', hidden: true });
  const summary = h('div.summary', { 'data-test': 'summary', hidden: true });
  const actions = h('div.task-actions');
  const grid = h('div.grid', { 'data-test': 'grid' });
  const diag = h('details.diagnostics', { 'data-test': 'diagnostics' });
  const cards = new Map();

  function card(page) {
    const label = h('figcaption',
      h('span.page-no', t('outline.page', { n: page.index + 1 })),
      h('span.type', t(`outline.type.${page.type}`)),
      h(`span.state.s-${page.status}`, t(`task.status.${page.status}`)));
    let visual;
    if (page.status === 'done' && page.image_url) {
      visual = h('button.shot', { type: 'button', title: t('task.open'), onclick: () => lightbox(page) },
        h('img', { src: page.image_url, alt: page.content.split('\n')[0], loading: 'lazy' }));
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
    summary.className = `summary ${session.failed ? 'warn' : 'ok'}`;
    summary.textContent = session.cancelled ? t('task.cancelled')
      : session.failed ? t('task.partial', { done, failed: session.failed }) : t('task.allDone');
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
        const res = await fetch(page.image_url);
        if (!res.ok) throw new Error(`${fileName(page)}: HTTP ${res.status}`);
        files.push({ name: fileName(page), data: new Uint8Array(await res.arrayBuffer()) });
      }
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
    progress, banner, summary, grid, diag);

  const unsubscribe = session.subscribe((what, index) => {
    if (what === 'conn') drawBanner();
    else if (what === 'page' && index !== null && cards.size) { drawCard(index); drawHeader(); drawDiagnostics(); }
    else drawAll();
  });
  if (fresh) {
    grid.append(h('p.muted.center', h('span.spinner.dark'), t('outline.loading')));
    session.init();
  } else {
    drawAll();
  }
  return {
    el,
    dispose: ({ keep = false } = {}) => {
      unsubscribe();
      if (keep) kept = session;
      else session.close();
    },
  };
}
