// Admin: tasks and images across users — storage per user and overall, the task list (filters, cancel,
// delete) and the image wall.

import { t } from '../i18n.js';
import {
  act, adminFrame, bytes, confirmAction, fill, filterBar, h, loading, pager, pill, report, select, table, when,
} from './admin-ui.js';

export const name = 'admin-tasks';

const RUNNING = ['queued', 'running'];
const STATUSES = ['queued', 'running', 'done', 'partial', 'failed', 'cancelled'];

/** A day picked in a date input as the ISO instant it starts (local midnight), or the next day's for `until`. */
export function dayBound(value, end = false) {
  if (!value) return '';
  const d = new Date(`${value}T00:00:00`);
  if (Number.isNaN(d.getTime())) return '';
  if (end) d.setDate(d.getDate() + 1);
  return d.toISOString();
}

/** The `?a=b` part of the route, as an object. */
export function hashQuery() {
  const part = location.hash.split('?')[1] || '';
  return Object.fromEntries(new URLSearchParams(part));
}

/** A usage bar's fill, sized through the CSSOM (the CSP refuses style attributes). */
function usageFill(percent) {
  const fill = h('span');
  fill.style.width = `${Math.max(2, percent)}%`;
  return fill;
}

export function render(ctx) {
  const fromRoute = hashQuery();
  const filters = { q: '', user_id: fromRoute.user_id || '', status: '', kind: '', since: '', until: '', page: 1 };
  const imageFilter = { user_id: fromRoute.user_id || '', page: 1 };
  let tab = fromRoute.tab === 'images' ? 'images' : 'tasks';

  const stats = h('div', { 'data-test': 'storage' }, loading());
  const list = h('div', { 'data-test': 'records' }, loading());
  const wall = h('div', { 'data-test': 'images' });
  const error = h('p.form-error', { hidden: true });
  const userChoices = [['', t('admin.tasks.allUsers')]];

  const q = h('input', { name: 'q', type: 'search', placeholder: t('admin.tasks.search'), 'data-test': 'filter-q' });
  const user = select('user_id', userChoices, filters.user_id);
  const status = select('status', [['', t('admin.tasks.allStatus')], ...STATUSES.map((s) => [s, t(`history.status.${s}`)])]);
  const kind = select('kind', [['', t('admin.tasks.allKinds')], ['outline', t('history.kind.outline')],
    ['generate', t('history.kind.generate')]]);
  const since = h('input', { type: 'date', name: 'since', 'aria-label': t('admin.since'), title: t('admin.since'), 'data-test': 'filter-since' });
  const until = h('input', { type: 'date', name: 'until', 'aria-label': t('admin.until'), title: t('admin.until'), 'data-test': 'filter-until' });
  const bar = filterBar([q, user, status, kind, h('span.range', since, '–', until)], () => {
    Object.assign(filters, { q: q.value.trim(), user_id: user.value, status: status.value, kind: kind.value,
      since: dayBound(since.value), until: dayBound(until.value, true), page: 1 });
    loadTasks();
  });
  const imageUser = select('image-user', userChoices, imageFilter.user_id);
  imageUser.addEventListener('change', () => { imageFilter.user_id = imageUser.value; imageFilter.page = 1; loadImages(); });

  async function loadUsers() {
    try {
      const body = await ctx.adminApi.users({ page_size: 100 });
      for (const u of body.items) userChoices.push([String(u.id), u.username]);
      for (const sel of [user, imageUser]) {
        const keep = sel === user ? filters.user_id : imageFilter.user_id;
        fill(sel, userChoices.map(([v, label]) => h('option', { value: v, selected: v === String(keep) ? true : undefined }, label)));
      }
    } catch { /* the filter stays at "all users"; the lists report their own errors */ }
  }

  async function loadStats() {
    try {
      const s = await ctx.adminApi.imageStats();
      const top = Math.max(1, ...s.users.map((u) => u.bytes));
      fill(stats,
        h('div.stats',
          h('div.stat', h('span.stat-value', { 'data-test': 'total-images' }, String(s.images)), h('span.stat-label', t('admin.tasks.images'))),
          h('div.stat', h('span.stat-value', { 'data-test': 'total-bytes' }, bytes(s.bytes)), h('span.stat-label', t('admin.tasks.storage'))),
          h('div.stat', h('span.stat-value', String(s.users.length)), h('span.stat-label', t('admin.tasks.usersWithImages')))),
        s.users.length ? h('ul.usage-bars', s.users.slice(0, 8).map((u) => h('li', { 'data-user': u.username },
          h('span.usage-name', u.username),
          h('span.usage-bar', usageFill((100 * u.bytes) / top)),
          h('span.usage-num.muted.small', `${bytes(u.bytes)} · ${t('admin.tasks.nImages', { n: u.images })}`)))) : null);
    } catch (err) {
      report(err, error);
      fill(stats);
    }
  }

  async function loadTasks() {
    try {
      const body = await ctx.adminApi.records({ ...filters, page_size: 20 });
      fill(list,
        table([
          { label: t('admin.tasks.topic'), cell: (r) => h('span.clip', { title: r.topic || '' }, r.topic || t('history.untitled')) },
          { label: t('admin.tasks.user'), cell: (r) => h('a', { href: `#/admin/users/${r.user_id}` }, r.username) },
          { label: t('admin.tasks.kind'), cell: (r) => t(`history.kind.${r.kind}`) },
          { label: t('admin.tasks.status'), cell: (r) => pill(t(`history.status.${r.status}`), `st-${r.status}`) },
          { label: t('admin.tasks.progress'), cls: 'num', cell: (r) => [`${r.completed ?? 0}/${r.total ?? 0}`,
            r.failed ? h('span.bad', ` · ${t('task.failedCount', { n: r.failed })}`) : null] },
          { label: t('admin.tasks.created'), cell: (r) => when(r.created_at) },
          { label: '', cls: 'tools', cell: (r) => h('span.row-buttons',
            RUNNING.includes(r.status) && h('button.small', { type: 'button', 'data-test': 'cancel-task',
              onclick: () => cancel(r) }, t('admin.tasks.cancel')),
            h('button.small.ghost.danger', { type: 'button', 'data-test': 'delete-task', onclick: () => remove(r) },
              t('history.delete'))) },
        ], body.items, { empty: t('admin.tasks.none'), rowAttrs: (r) => ({ 'data-task': r.task_id }) }),
        pager(body, (n) => { filters.page = n; loadTasks(); }));
      return body.items;
    } catch (err) {
      report(err, error);
      fill(list);
      return null;
    }
  }

  async function cancel(record) {
    if (!await act(() => ctx.adminApi.cancelRecord(record.task_id), t('task.cancelled'))) return;
    // A running page finishes before the task says cancelled: reload until it does (at most ~15 s).
    for (let i = 0; i < 15; i++) {
      const items = await loadTasks();
      const now = items && items.find((r) => r.task_id === record.task_id);
      if (!now || !RUNNING.includes(now.status) || !list.isConnected) return;
      await new Promise((resolve) => { setTimeout(resolve, 1000); });
    }
  }

  async function remove(record) {
    const topic = record.topic || t('history.untitled');
    if (!await confirmAction(t('history.delete'), t('admin.tasks.confirmDelete', { topic, user: record.username }),
      { confirmLabel: t('history.delete') })) return;
    if (await act(() => ctx.adminApi.deleteRecord(record.task_id), t('admin.deleted')) !== undefined) {
      loadTasks();
      loadStats();
    }
  }

  async function loadImages() {
    fill(wall, loading());
    try {
      const body = await ctx.adminApi.images({ user_id: imageFilter.user_id, page: imageFilter.page, page_size: 24 });
      fill(wall,
        body.items.length ? h('div.image-wall', body.items.map((img) => h('figure.wall-item', { 'data-task': img.task_id },
          h('a', { href: img.image_url, target: '_blank', rel: 'noopener' },
            h('img', { src: img.image_url, alt: '', loading: 'lazy' })),
          h('figcaption.small',
            h('b', img.username), h('span.muted', ` · ${t('outline.page', { n: img.index + 1 })} · ${bytes(img.bytes)}`)))))
          : h('div.admin-empty', { 'data-test': 'empty' }, t('admin.tasks.noImages')),
        pager(body, (n) => { imageFilter.page = n; loadImages(); }));
    } catch (err) {
      report(err, error);
      fill(wall);
    }
  }

  const tasksPane = h('div', bar, list);
  const imagesPane = h('div', h('div.filters', imageUser), wall);
  const switches = ['tasks', 'images'].map((k) => h('button.tab', { type: 'button', 'data-test': `pane-${k}`,
    onclick: () => show(k) }, t(`admin.tasks.pane.${k}`)));

  function show(k) {
    tab = k;
    switches.forEach((b, i) => b.classList.toggle('active', ['tasks', 'images'][i] === k));
    tasksPane.hidden = k !== 'tasks';
    imagesPane.hidden = k !== 'images';
    if (k === 'images' && !wall.childNodes.length) loadImages();
  }

  loadUsers();
  loadStats();
  loadTasks();
  show(tab);
  const el = adminFrame(ctx, 'tasks',
    h('div.page-head', h('div', h('h1', t('admin.section.tasks')), h('p.muted', t('admin.tasks.subtitle')))),
    error,
    h('div.admin-card', h('h2', t('admin.tasks.storageTitle')), stats),
    h('div.admin-card', h('div.tabs.pane-tabs', switches), tasksPane, imagesPane));
  return { el };
}
