// Admin: the user list (search, role and status filters, pages) and creating a user.

import { t } from '../i18n.js';
import {
  adminFrame, bytes, fill, filterBar, h, loading, modal, pager, pill, report, select, table, when,
} from './admin-ui.js';

export const name = 'admin-users';
export const ROLES = ['user', 'pro', 'admin'];

export function roleOptions(withAll) {
  return [...(withAll ? [['', t('admin.users.allRoles')]] : []), ...ROLES.map((r) => [r, t(`role.${r}`)])];
}

export function statusPill(user) {
  return user.is_active ? pill(t('admin.users.active'), 'ok') : pill(t('admin.users.disabled'), 'off');
}

export function render(ctx) {
  const filters = { q: '', role: '', status: '', page: 1 };
  const list = h('div', { 'data-test': 'users-list' }, loading());
  const error = h('p.form-error', { hidden: true });
  const q = h('input', { name: 'q', type: 'search', placeholder: t('admin.users.search'), 'data-test': 'filter-q' });
  const role = select('role', roleOptions(true));
  const status = select('status', [['', t('admin.users.allStatus')], ['active', t('admin.users.active')],
    ['disabled', t('admin.users.disabled')]]);
  const bar = filterBar([q, role, status], () => {
    Object.assign(filters, { q: q.value.trim(), role: role.value, status: status.value, page: 1 });
    load();
  });

  async function load() {
    try {
      const body = await ctx.adminApi.users({ ...filters, page_size: 20 });
      error.hidden = true;
      fill(list,
        table([
          { label: t('admin.users.username'), cell: (u) => h('a', { href: `#/admin/users/${u.id}`, 'data-test': 'user-link' }, u.username) },
          { label: t('admin.users.role'), cell: (u) => pill(t(`role.${u.role}`), `role-${u.role}`) },
          { label: t('admin.users.status'), cell: statusPill },
          { label: t('admin.users.tasks'), cell: (u) => String(u.tasks ?? 0), cls: 'num' },
          { label: t('admin.users.pages'), cell: (u) => String(u.pages ?? 0), cls: 'num' },
          { label: t('admin.users.storage'), cell: (u) => bytes(u.storage_bytes), cls: 'num' },
          { label: t('admin.users.sessions'), cell: (u) => String(u.active_sessions ?? 0), cls: 'num' },
          { label: t('admin.users.lastLogin'), cell: (u) => when(u.last_login_at) },
        ], body.items, { rowAttrs: (u) => ({ 'data-user': u.username }) }),
        pager(body, (n) => { filters.page = n; load(); }));
    } catch (err) {
      report(err, error);
      fill(list);
    }
  }

  async function create() {
    const username = h('input', { name: 'username', required: true, maxlength: 32, autocomplete: 'off',
      'data-test': 'new-username' });
    const password = h('input', { name: 'password', type: 'password', required: true, minlength: 8,
      autocomplete: 'new-password', 'data-test': 'new-password' });
    const newRole = select('new-role', roleOptions(false), 'user');
    const user = await modal({
      title: t('admin.users.create'), submitLabel: t('admin.users.createSubmit'), testId: 'create-user',
      body: [
        h('label', h('span', t('login.username')), username),
        h('label', h('span', t('login.password')), password),
        h('p.hint', `${t('login.usernameHint')} · ${t('login.passwordHint')}`),
        h('label', h('span', t('admin.users.role')), newRole),
      ],
      onSubmit: () => ctx.adminApi.createUser({ username: username.value.trim(), password: password.value,
        role: newRole.value }),
    });
    if (user) ctx.navigate(`#/admin/users/${user.id}`);
  }

  load();
  const el = adminFrame(ctx, 'users',
    h('div.page-head',
      h('div', h('h1', t('admin.section.users')), h('p.muted', t('admin.users.subtitle'))),
      h('button.primary', { type: 'button', onclick: create, 'data-test': 'create-user' }, `+ ${t('admin.users.create')}`)),
    bar, error, list);
  return { el };
}
