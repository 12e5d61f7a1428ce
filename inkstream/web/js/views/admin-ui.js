// Pieces the admin pages share: the admin frame with its section tabs, tables that become cards on a phone,
// pagination, dialogs, and formatting of times and sizes.

import { fill, h, toast } from '../dom.js';
import { errorMessage, getLang, t } from '../i18n.js';

export const SECTIONS = [
  ['dashboard', '#/admin/dashboard'],
  ['users', '#/admin/users'],
  ['registration', '#/admin/registration'],
  ['providers', '#/admin/providers'],
  ['tasks', '#/admin/tasks'],
  ['audit', '#/admin/audit'],
];

export function isAdmin(user) {
  return Boolean(user && (user.role === 'admin' || user.is_admin === true));
}

/** The admin frame: section tabs, then the page; a non-admin sees a notice instead. */
export function adminFrame(ctx, active, ...content) {
  const tabs = h('nav.admin-tabs', { 'aria-label': t('admin.title') },
    SECTIONS.map(([key, href]) => h('a', { href, class: key === active ? 'active' : '', 'data-test': `admin-tab-${key}` },
      t(`admin.section.${key}`))));
  const user = ctx.auth.user();
  // A session stored before roles existed has no `role`: show the page; the server refuses non-admins anyway.
  if (!user || ('role' in user && !isAdmin(user))) {
    return h('section.admin', h('div.empty-state', { 'data-test': 'admin-forbidden' },
      h('span.big-icon', '!'), h('p', t('admin.forbidden')), h('a.button.primary', { href: '#/' }, t('nav.home'))));
  }
  return h('section.admin', { 'data-admin': active }, tabs, h('div.admin-body', content));
}

/** Shows an API failure where the user looks, and reports whether the session is gone (nothing else to do). */
export function report(err, where = null) {
  const text = errorMessage(err);
  if (where) {
    where.textContent = text;
    where.hidden = false;
  } else {
    toast(text, 'error');
  }
}

export function when(iso, { seconds = false } = {}) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  return d.toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN', {
    year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit',
    ...(seconds ? { second: '2-digit' } : {}),
  });
}

export function bytes(n) {
  if (typeof n !== 'number' || !Number.isFinite(n)) return '—';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = n;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

/** A browser and OS in a few words, from a user agent string (the full string stays in the title). */
export function device(ua) {
  if (!ua) return t('sessions.unknownDevice');
  const browser = /Edg\//.test(ua) ? 'Edge' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Firefox\//.test(ua) ? 'Firefox'
    : /Safari\//.test(ua) ? 'Safari' : /python-httpx|httpx/i.test(ua) ? 'httpx' : /curl\//.test(ua) ? 'curl'
      : /inkstream/i.test(ua) ? 'Inkstream CLI' : null;
  const os = /iPhone|iPad/.test(ua) ? 'iOS' : /Android/.test(ua) ? 'Android' : /Mac OS X/.test(ua) ? 'macOS'
    : /Windows/.test(ua) ? 'Windows' : /Linux/.test(ua) ? 'Linux' : null;
  return [browser, os].filter(Boolean).join(' · ') || ua.slice(0, 40);
}

/**
 * A table whose rows turn into cards on a phone: each cell carries its column name in data-label.
 * columns: [{label, cell: (row) => node|string, cls?}]
 */
export function table(columns, rows, { empty = t('admin.empty'), rowAttrs = () => ({}) } = {}) {
  if (!rows.length) return h('div.admin-empty', { 'data-test': 'empty' }, empty);
  return h('div.table-wrap', h('table.admin-table',
    h('thead', h('tr', columns.map((c) => h('th', { class: c.cls || '' }, c.label)))),
    h('tbody', rows.map((row) => h('tr', rowAttrs(row),
      columns.map((c) => h('td', { 'data-label': c.label, class: c.cls || '' }, c.cell(row))))))));
}

/** "‹ 2 / 7 ›" for a list answer {total, page, page_size}. */
export function pager(body, go) {
  const pages = Math.max(1, Math.ceil((body.total || 0) / (body.page_size || 20)));
  return h('div.pager', { 'data-test': 'pager' },
    h('button.small.ghost', { type: 'button', disabled: body.page <= 1, onclick: () => go(body.page - 1) }, '‹'),
    h('span.muted.small', t('admin.page', { page: body.page, pages, total: body.total })),
    h('button.small.ghost', { type: 'button', disabled: body.page >= pages, onclick: () => go(body.page + 1) }, '›'));
}

/** A status pill. */
export function pill(text, kind = '') {
  return h(`span.pill${kind ? `.${kind}` : ''}`, text);
}

/**
 * A modal dialog; resolves with what `onSubmit` returns (a falsy return keeps it open), or null when dismissed.
 * body: nodes; fields are read by onSubmit from its closure.
 */
export function modal({ title, body = [], submitLabel = t('admin.ok'), danger = false, onSubmit = () => true,
  testId = 'dialog' }) {
  return new Promise((resolve) => {
    const message = h('p.form-error', { role: 'alert', 'data-test': 'dialog-error' });
    const submit = h(`button.${danger ? 'danger-solid' : 'primary'}`, { type: 'submit', 'data-test': 'dialog-ok' },
      submitLabel);
    const dialog = h('dialog.modal', { 'data-test': testId },
      h('form', { method: 'dialog', onsubmit: async (ev) => {
        ev.preventDefault();
        submit.disabled = true;
        message.textContent = '';
        try {
          const result = await onSubmit();
          if (result) close(result);
        } catch (err) {
          message.textContent = err && err.plain ? err.message : errorMessage(err);
        } finally {
          submit.disabled = false;
        }
      } },
      h('h2', title), h('div.modal-body', body), message,
      h('div.actions',
        h('button.ghost', { type: 'button', 'data-test': 'dialog-cancel', onclick: () => close(null) }, t('admin.cancel')),
        submit)));
    let done = false;
    function close(value) {
      if (done) return;
      done = true;
      dialog.close();
      dialog.remove();
      resolve(value);
    }
    dialog.addEventListener('cancel', (ev) => { ev.preventDefault(); close(null); });
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** An error whose message is already meant for the user (shown as is). */
export function plainError(message) {
  return Object.assign(new Error(message), { plain: true });
}

/** Yes / no, styled; true when confirmed. */
export async function confirmAction(title, text, { confirmLabel = t('admin.confirm'), danger = true } = {}) {
  const answer = await modal({ title, body: [h('p', text)], submitLabel: confirmLabel, danger,
    testId: 'confirm', onSubmit: () => true });
  return Boolean(answer);
}

/** Runs an action, toasting success or failure; returns its result (undefined when it failed). */
export async function act(fn, okMessage = null) {
  try {
    const result = await fn();
    if (okMessage) toast(okMessage);
    return result;
  } catch (err) {
    report(err);
    return undefined;
  }
}

/** A filter bar: a form whose submit (or any change) calls apply(). */
export function filterBar(fields, apply) {
  const form = h('form.filters', { onsubmit: (ev) => { ev.preventDefault(); apply(); } },
    fields,
    h('button.small', { type: 'submit', 'data-test': 'filter-apply' }, t('admin.filter')));
  form.addEventListener('change', (ev) => { if (ev.target.tagName === 'SELECT') apply(); });
  return form;
}

export function select(name, options, value = '') {
  return h('select', { name, 'data-test': `filter-${name}` },
    options.map(([v, label]) => h('option', { value: v, selected: v === value ? true : undefined }, label)));
}

/** A loading placeholder that a list fills later. */
export function loading() {
  return h('div.admin-empty', h('span.spinner.dark'));
}

export { fill, h };
