// Admin: the audit log — filters, the theft alarm (`token.reuse_detected`) on top, before/after, CSV export.

import { errorFrom } from '../auth.js';
import { downloadBlob } from '../dom.js';
import { t } from '../i18n.js';
import {
  adminFrame, device, fill, filterBar, h, loading, pager, pill, report, select, table, when,
} from './admin-ui.js';
import { dayBound } from './admin-tasks.js';

export const name = 'admin-audit';

export const ACTIONS = ['login.ok', 'login.failed', 'token.reuse_detected', 'logout', 'logout_all', 'session.revoke',
  'password.change', 'register', 'admin.user.create', 'admin.user.update', 'admin.user.status', 'admin.user.delete',
  'admin.user.revoke_sessions', 'admin.task.cancel', 'admin.task.delete', 'admin.providers.update',
  'admin.providers.rollback', 'admin.registration.update', 'admin.invite.create', 'admin.invite.revoke'];
const ALARM = 'token.reuse_detected';

function actionLabel(action) {
  const key = `audit.action.${action}`;
  const text = t(key);
  return text === key ? action : text;
}

/** The actor as a link to their user page (a theft alarm's actor has an id but may have no name). */
function who(e) {
  if (!e.actor_id && !e.actor_name) return h('span.muted', '—');
  const label = e.actor_name || `#${e.actor_id}`;
  return e.actor_id ? h('a', { href: `#/admin/users/${e.actor_id}` }, label) : label;
}

function json(value) {
  return value === null || value === undefined ? '—' : JSON.stringify(value, null, 1);
}

export function render(ctx) {
  const filters = { actor: '', action: '', target: '', since: '', until: '', severity: '', page: 1 };
  const alarm = h('div', { 'data-test': 'alarm' });
  const list = h('div', { 'data-test': 'audit-list' }, loading());
  const error = h('p.form-error', { hidden: true });

  const actor = h('input', { name: 'actor', type: 'search', placeholder: t('audit.actor'), 'data-test': 'filter-actor' });
  const action = select('action', [['', t('audit.allActions')], ...ACTIONS.map((a) => [a, actionLabel(a)])]);
  const target = h('input', { name: 'target', type: 'search', placeholder: t('audit.target'), 'data-test': 'filter-target' });
  const severity = select('severity', [['', t('audit.allSeverity')], ['info', t('audit.sev.info')],
    ['warning', t('audit.sev.warning')], ['alert', t('audit.sev.alert')]]);
  const since = h('input', { type: 'date', name: 'since', title: t('admin.since'), 'aria-label': t('admin.since'), 'data-test': 'filter-since' });
  const until = h('input', { type: 'date', name: 'until', title: t('admin.until'), 'aria-label': t('admin.until'), 'data-test': 'filter-until' });
  const bar = filterBar([actor, action, target, severity, h('span.range', since, '–', until)], () => {
    Object.assign(filters, { actor: actor.value.trim(), action: action.value, target: target.value.trim(),
      severity: severity.value, since: dayBound(since.value), until: dayBound(until.value, true), page: 1 });
    load();
  });

  async function loadAlarm() {
    try {
      const body = await ctx.adminApi.audit({ action: ALARM, page_size: 5 });
      if (!body.total) { fill(alarm); return; }
      fill(alarm, h('div.alarm', { role: 'alert' },
        h('span.alarm-icon', '⚠'),
        h('div',
          h('b', t('audit.alarmTitle', { n: body.total })),
          h('p.small', t('audit.alarmText')),
          h('ul.small', body.items.map((e) => h('li',
            `${when(e.created_at, { seconds: true })} · `, who(e), ` · ${e.ip || '—'} · ${device(e.user_agent)}`))),
          h('button.small', { type: 'button', 'data-test': 'alarm-filter', onclick: () => {
            action.value = ALARM;
            filters.action = ALARM;
            filters.page = 1;
            load();
          } }, t('audit.alarmShow')))));
    } catch { fill(alarm); /* the list below reports the error */ }
  }

  async function load() {
    try {
      const body = await ctx.adminApi.audit({ ...filters, page_size: 25 });
      error.hidden = true;
      fill(list,
        table([
          { label: t('admin.when'), cell: (e) => when(e.created_at, { seconds: true }) },
          { label: t('audit.actor'), cell: who },
          { label: t('audit.action'), cell: (e) => pill(actionLabel(e.action), e.severity === 'alert' ? 'alert' : e.action.startsWith('admin.') ? 'admin' : '') },
          { label: t('audit.target'), cell: (e) => (e.target_type
            ? h('span.clip.target', { title: `${e.target_type}:${e.target_id ?? ''}` }, `${e.target_type}:${e.target_id ?? ''}`)
            : '—') },
          { label: t('sessions.ip'), cell: (e) => h('span', { title: e.user_agent || '' }, e.ip || '—') },
          { label: t('audit.detail'), cls: 'wide', cell: (e) => ((e.before || e.after || e.detail)
            ? h('details.diff-box', h('summary', t('audit.showDetail')),
              h('div.before-after',
                (e.before || e.after) && h('div', h('small.muted', t('audit.before')), h('pre', json(e.before))),
                (e.before || e.after) && h('div', h('small.muted', t('audit.after')), h('pre', json(e.after))),
                e.detail && h('div', h('small.muted', t('audit.detail')), h('pre', json(e.detail)))))
            : h('span.muted', '—')) },
        ], body.items, { empty: t('audit.none'),
          rowAttrs: (e) => ({ 'data-action': e.action, class: e.severity === 'alert' ? 'row-alert' : '' }) }),
        pager(body, (n) => { filters.page = n; load(); }));
    } catch (err) {
      report(err, error);
      fill(list);
    }
  }

  // A plain link cannot carry the Authorization header, so the export is fetched and saved as a file.
  const exportButton = h('button.small', { type: 'button', 'data-test': 'export-csv', onclick: async () => {
    exportButton.disabled = true;
    try {
      const { page, ...rest } = filters;
      const res = await ctx.adminApi.fetchRaw(ctx.adminApi.auditCsvPath(rest));
      if (!res.ok) throw await errorFrom(res);
      downloadBlob(await res.blob(), `inkstream-audit-${new Date().toISOString().slice(0, 10)}.csv`);
    } catch (err) {
      report(err);
    } finally {
      exportButton.disabled = false;
    }
  } }, t('audit.export'));

  loadAlarm();
  load();
  const el = adminFrame(ctx, 'audit',
    h('div.page-head', h('div', h('h1', t('admin.section.audit')), h('p.muted', t('audit.subtitle'))), exportButton),
    alarm, bar, error, list);
  return { el };
}
