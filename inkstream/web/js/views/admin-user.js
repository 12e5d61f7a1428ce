// Admin: one user — numbers, role, enable/disable, password reset, sessions (revoke), recent tasks, delete.

import { t } from '../i18n.js';
import {
  act, adminFrame, bytes, confirmAction, device, fill, h, loading, modal, pill, plainError, report, select, table,
  when,
} from './admin-ui.js';
import { roleOptions, statusPill } from './admin-users.js';

export const name = 'admin-user';

export function render(ctx, userId) {
  const body = h('div', { 'data-test': 'user-detail' }, loading());
  const error = h('p.form-error', { hidden: true });

  async function load() {
    try {
      const user = await ctx.adminApi.user(userId);
      error.hidden = true;
      fill(body, ...draw(user));
    } catch (err) {
      report(err, error);
      fill(body);
    }
  }

  function stat(label, value, test, cls = '') {
    return h('div.stat', h('span.stat-value', { 'data-test': test, class: cls }, value), h('span.stat-label', label));
  }

  function draw(user) {
    const isSelf = String(ctx.auth.user()?.id) === String(user.id);
    const role = select('role', roleOptions(false), user.role);
    role.dataset.test = 'role';
    const sessions = user.sessions || [];
    return [
      h('div.page-head',
        h('div',
          h('a.back.small', { href: '#/admin/users' }, `‹ ${t('admin.section.users')}`),
          h('h1', { 'data-test': 'user-name' }, user.username, ' ', statusPill(user), isSelf && pill(t('admin.users.you'), 'me')),
          h('p.muted', t('admin.users.created', { when: when(user.created_at) }))),
      ),
      h('div.stats',
        stat(t('admin.users.tasks'), String(user.tasks ?? 0), 'stat-tasks'),
        stat(t('admin.users.pages'), String(user.pages ?? 0), 'stat-pages'),
        stat(t('admin.users.storage'), bytes(user.storage_bytes), 'stat-storage'),
        stat(t('admin.users.lastLogin'), when(user.last_login_at), 'stat-login', 'when'),
        stat(t('admin.users.sessions'), String(user.active_sessions ?? sessions.length), 'stat-sessions')),
      h('div.admin-card',
        h('h2', t('admin.users.manage')),
        h('div.manage-row',
          h('label.inline', h('span', t('admin.users.role')), role),
          h('button.small', { type: 'button', 'data-test': 'save-role', onclick: async () => {
            if (await act(() => ctx.adminApi.updateUser(user.id, { role: role.value }), t('admin.saved'))) load();
          } }, t('admin.save'))),
        h('div.manage-buttons',
          h('button.small', { type: 'button', 'data-test': 'toggle-status', onclick: () => toggle(user) },
            user.is_active ? t('admin.users.disable') : t('admin.users.enable')),
          h('button.small', { type: 'button', 'data-test': 'reset-password', onclick: () => resetPassword(user) },
            t('admin.users.resetPassword')),
          h('button.small', { type: 'button', 'data-test': 'revoke-sessions', onclick: () => revokeAll(user) },
            t('admin.users.revokeSessions')),
          h('button.small.danger', { type: 'button', 'data-test': 'delete-user', onclick: () => remove(user) },
            t('admin.users.delete')))),
      h('div.admin-card',
        h('h2', t('admin.users.sessionsTitle', { n: sessions.length })),
        table([
          { label: t('sessions.device'), cell: (s) => h('span', { title: s.user_agent || '' }, device(s.user_agent)) },
          { label: t('sessions.ip'), cell: (s) => s.ip || '—' },
          { label: t('sessions.created'), cell: (s) => when(s.created_at) },
          { label: t('sessions.lastUsed'), cell: (s) => when(s.last_used_at) },
        ], sessions, { empty: t('sessions.none') })),
      h('div.admin-card',
        h('h2', t('admin.users.recentTasks')),
        table([
          { label: t('admin.tasks.topic'), cell: (r) => h('span.clip', { title: r.topic || '' }, r.topic || t('history.untitled')) },
          { label: t('admin.tasks.kind'), cell: (r) => t(`history.kind.${r.kind}`) },
          { label: t('admin.tasks.status'), cell: (r) => pill(t(`history.status.${r.status}`), `st-${r.status}`) },
          { label: t('admin.users.pages'), cell: (r) => String(r.total ?? '—'), cls: 'num' },
          { label: t('admin.tasks.created'), cell: (r) => when(r.created_at) },
        ], user.recent_tasks || [], { empty: t('admin.tasks.none') }),
        h('p.small', h('a', { href: `#/admin/tasks?user_id=${encodeURIComponent(user.id)}`, 'data-test': 'user-tasks' },
          t('admin.users.allTasks')))),
    ];
  }

  async function toggle(user) {
    if (user.is_active && !await confirmAction(t('admin.users.disable'),
      t('admin.users.confirmDisable', { name: user.username }), { confirmLabel: t('admin.users.disable') })) return;
    if (await act(() => ctx.adminApi.setStatus(user.id, !user.is_active),
      user.is_active ? t('admin.users.disabledOk') : t('admin.users.enabledOk'))) load();
  }

  async function resetPassword(user) {
    const password = h('input', { type: 'password', required: true, minlength: 8, autocomplete: 'new-password',
      'data-test': 'reset-new-password' });
    const ok = await modal({
      title: t('admin.users.resetPassword'), submitLabel: t('admin.save'), testId: 'reset-dialog',
      body: [h('p.muted.small', t('admin.users.resetHint', { name: user.username })),
        h('label', h('span', t('sessions.newPassword')), password)],
      onSubmit: () => ctx.adminApi.updateUser(user.id, { password: password.value }),
    });
    if (ok) load();
  }

  async function revokeAll(user) {
    if (!await confirmAction(t('admin.users.revokeSessions'), t('admin.users.confirmRevoke', { name: user.username }),
      { confirmLabel: t('admin.users.revokeSessions') })) return;
    if (await act(() => ctx.adminApi.revokeUserSessions(user.id), t('admin.users.revokedOk')) !== undefined) load();
  }

  async function remove(user) {
    const typed = h('input', { autocomplete: 'off', 'data-test': 'confirm-username', placeholder: user.username });
    const ok = await modal({
      title: t('admin.users.delete'), submitLabel: t('admin.users.deleteSubmit'), danger: true, testId: 'delete-dialog',
      body: [h('p', t('admin.users.confirmDelete', { name: user.username })),
        h('label', h('span', t('admin.users.typeName', { name: user.username })), typed)],
      onSubmit: async () => {
        if (typed.value.trim() !== user.username) throw plainError(t('admin.users.typeNameWrong'));
        await ctx.adminApi.deleteUser(user.id);
        return true;
      },
    });
    if (ok) ctx.navigate('#/admin/users');
  }

  load();
  return { el: adminFrame(ctx, 'users', error, body) };
}
