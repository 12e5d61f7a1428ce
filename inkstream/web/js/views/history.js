// History: the user's outlines and posts, newest first; search by topic, filter by status, open, rename, delete.

import { fill, h, toast } from '../dom.js';
import { errorMessage, getLang, t } from '../i18n.js';
import { ImageKeeper } from '../image-keeper.js';
import { loadUntilDone } from '../net-retry.js';
import '../strings-creator.js';
import { netBanner } from './net-banner.js';

export const name = 'history';
const PAGE_SIZE = 12;
const STATUSES = ['done', 'partial', 'running', 'failed', 'cancelled'];
const SEARCH_DELAY_MS = 300;

export function render(ctx) {
  const grid = h('div.history-grid', { 'data-test': 'history' });
  const more = h('button.ghost', { type: 'button', hidden: true, onclick: () => load(page + 1) }, t('history.more'));
  const count = h('span.muted.small', { 'data-test': 'history-count' });
  const filters = { q: '', status: '' };
  let page = 1;
  let loader = null;
  let searchTimer = null;
  const entries = new Map(); // task_id → the history item last received (its cover URL is re-signed on refresh)

  const offline = netBanner({ onRetryNow: () => loader?.retryNow() });
  const covers = new ImageKeeper({
    urlFor: (id) => { const e = entries.get(id); return e ? e.cover_preview_url || e.cover_url : null; },
    refresh: async () => { // freshly signed cover URLs: the pages loaded so far, again
      for (let n = 1; n <= page; n += 1) {
        for (const e of (await ctx.api.history(n, PAGE_SIZE, filters)).items) entries.set(e.task_id, e);
      }
    },
  });
  const onOnline = () => covers.retryAll();
  window.addEventListener('online', onOnline);

  const search = h('input.search', { type: 'search', placeholder: t('history.search'), 'aria-label': t('history.search'),
    'data-test': 'history-search', maxlength: 200 });
  search.addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { filters.q = search.value; load(1); }, SEARCH_DELAY_MS);
  });
  const status = h('select.status-filter', { 'aria-label': t('history.filter.all'), 'data-test': 'history-status' },
    h('option', { value: '' }, t('history.filter.all')),
    STATUSES.map((s) => h('option', { value: s }, t(`history.status.${s}`))));
  status.addEventListener('change', () => { filters.status = status.value; load(1); });

  function open(item) {
    ctx.navigate(item.kind === 'outline' ? `#/outline/${item.task_id}` : `#/task/${item.task_id}`);
  }

  function when(iso) {
    const d = new Date(iso);
    return d.toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN',
      { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function item(entry) {
    entries.set(entry.task_id, entry);
    const topicOf = () => { const e = entries.get(entry.task_id); return e.title || e.topic || t('history.untitled'); };
    const hasCover = entry.cover_preview_url || entry.cover_url;
    const cover = hasCover
      ? covers.attach(h('img', { alt: '', loading: 'lazy' }), entry.task_id)
      : h('div.cover-empty', h('span', entry.kind === 'outline' ? '📝' : '🖼️'));
    const heading = h('h3', { title: topicOf(), 'data-test': 'history-topic' }, topicOf());
    const tools = h('div.history-tools');
    const card = h('article.history-item', { 'data-task': entry.task_id },
      h('button.cover', { type: 'button', title: t('history.open'), onclick: () => open(entry) }, cover,
        h(`span.status-chip.st-${entry.status}`, t(`history.status.${entry.status}`))),
      h('div.history-body', heading,
        h('p.muted.small', `${t(`history.kind.${entry.kind}`)} · ${t('history.pages', { n: entry.total })} · ${when(entry.created_at)}`),
        tools));

    function showTools() {
      fill(tools,
        h('button.small', { type: 'button', onclick: () => open(entry) }, t('history.open')),
        h('button.small.ghost', { type: 'button', 'data-test': 'rename', onclick: startRename }, t('history.rename')),
        h('button.small.ghost.danger', { type: 'button', 'data-test': 'delete', onclick: remove }, t('history.delete')));
    }

    function startRename() {
      const input = h('input.rename', { value: topicOf(), maxlength: 200,
        'aria-label': t('history.renamePrompt'), 'data-test': 'rename-input' });
      const save = async () => {
        const next = input.value.trim();
        if (!next) { input.focus(); return; }
        try {
          const body = await ctx.api.rename(entry.task_id, next);
          entries.set(entry.task_id, { ...entries.get(entry.task_id), title: body.title });
          heading.textContent = topicOf();
          heading.title = topicOf();
          toast(t('history.renamed'));
          showTools();
        } catch (err) {
          toast(errorMessage(err), 'error');
        }
      };
      input.addEventListener('keydown', (e) => {
        if (e.key === 'Enter') { e.preventDefault(); save(); }
        if (e.key === 'Escape') showTools();
      });
      fill(tools, h('form.rename-form', { onsubmit: (e) => { e.preventDefault(); save(); } }, input,
        h('button.small.primary', { type: 'submit', 'data-test': 'rename-save' }, t('history.save')),
        h('button.small.ghost', { type: 'button', onclick: showTools }, t('history.cancel'))));
      input.focus();
      input.select();
    }

    async function remove() {
      if (!window.confirm(t('history.confirmDelete', { topic: topicOf() }))) return;
      try {
        await ctx.api.deleteTask(entry.task_id);
        card.remove();
        entries.delete(entry.task_id);
        if (!grid.children.length) grid.append(empty());
      } catch (err) {
        toast(errorMessage(err), 'error');
      }
    }

    showTools();
    return card;
  }

  function empty() {
    if (filters.q.trim() || filters.status) {
      return h('div.empty-state', { 'data-test': 'no-match' }, h('span.big-icon.soft', '⌕'), h('p', t('history.noMatch')));
    }
    return h('div.empty-state', h('span.big-icon.soft', '✎'), h('p', t('history.empty')),
      h('a.button.primary', { href: '#/' }, t('nav.home')));
  }

  function load(n) {
    loader?.cancel();
    const wanted = { ...filters };
    // The list waits for the network like every page: banner, backoff, and at once when the browser is online.
    loader = loadUntilDone(() => ctx.api.history(n, PAGE_SIZE, wanted), {
      onRetry: (s) => offline.show(s),
      onRecovered: () => offline.hide(),
    });
    loader.promise.then((body) => {
      page = n;
      if (n === 1) { fill(grid); entries.clear(); covers.keepOnly([]); }
      grid.append(...body.items.map(item));
      if (!body.total) fill(grid, empty());
      count.textContent = body.total ? t('history.count', { n: body.total }) : '';
      more.hidden = n * PAGE_SIZE >= body.total;
    }, (err) => toast(errorMessage(err), 'error'));
  }

  grid.append(h('p.muted.center', h('span.spinner.dark'), t('common.loading')));
  load(1);
  const el = h('section.history',
    h('div.page-head', h('div', h('h1', t('history.title')), count),
      h('div.history-filters', search, status)),
    offline.el, grid, h('div.center', more));
  return {
    el,
    dispose: () => {
      loader?.cancel();
      clearTimeout(searchTimer);
      covers.dispose();
      window.removeEventListener('online', onOnline);
    },
  };
}
