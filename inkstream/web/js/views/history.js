// History: the user's outlines and posts, newest first; open or delete.

import { fill, h, toast } from '../dom.js';
import { errorMessage, getLang, t } from '../i18n.js';

export const name = 'history';
const PAGE_SIZE = 12;

export function render(ctx) {
  const grid = h('div.history-grid', { 'data-test': 'history' });
  const more = h('button.ghost', { type: 'button', hidden: true, onclick: () => load(page + 1) }, t('history.more'));
  let page = 1;

  function open(item) {
    ctx.navigate(item.kind === 'outline' ? `#/outline/${item.task_id}` : `#/task/${item.task_id}`);
  }

  function when(iso) {
    const d = new Date(iso);
    return d.toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN',
      { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
  }

  function item(entry) {
    const topic = entry.topic || t('history.untitled');
    const cover = entry.cover_url
      ? h('img', { src: entry.cover_url, alt: '', loading: 'lazy' })
      : h('div.cover-empty', h('span', entry.kind === 'outline' ? '📝' : '🖼️'));
    const card = h('article.history-item', { 'data-task': entry.task_id },
      h('button.cover', { type: 'button', title: t('history.open'), onclick: () => open(entry) }, cover,
        h(`span.status-chip.st-${entry.status}`, t(`history.status.${entry.status}`))),
      h('div.history-body',
        h('h3', { title: topic }, topic),
        h('p.muted.small', `${t(`history.kind.${entry.kind}`)} · ${t('history.pages', { n: entry.total })} · ${when(entry.created_at)}`),
        h('div.history-tools',
          h('button.small', { type: 'button', onclick: () => open(entry) }, t('history.open')),
          h('button.small.ghost.danger', { type: 'button', 'data-test': 'delete', onclick: async () => {
            if (!window.confirm(t('history.confirmDelete', { topic }))) return;
            try {
              await ctx.api.deleteTask(entry.task_id);
              card.remove();
              if (!grid.children.length) grid.append(empty());
            } catch (err) {
              toast(errorMessage(err), 'error');
            }
          } }, t('history.delete')))));
    return card;
  }

  function empty() {
    return h('div.empty-state', h('span.big-icon.soft', '✎'), h('p', t('history.empty')),
      h('a.button.primary', { href: '#/' }, t('nav.home')));
  }

  async function load(n) {
    try {
      const body = await ctx.api.history(n, PAGE_SIZE);
      page = n;
      if (n === 1) fill(grid);
      grid.append(...body.items.map(item));
      if (!body.total) fill(grid, empty());
      more.hidden = n * PAGE_SIZE >= body.total;
    } catch (err) {
      toast(errorMessage(err), 'error');
    }
  }

  load(1);
  const el = h('section.history',
    h('div.page-head', h('div', h('h1', t('history.title')))),
    grid, h('div.center', more));
  return { el };
}
