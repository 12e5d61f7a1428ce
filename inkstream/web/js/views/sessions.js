// Sessions, for every user: where this account is logged in (revoke one), log out everywhere, change password.

import { toast } from '../dom.js';
import { errorMessage, t } from '../i18n.js';
import { act, confirmAction, device, fill, h, loading, pill, report, table, when } from './admin-ui.js';

export const name = 'sessions';

export function render(ctx) {
  const list = h('div', { 'data-test': 'sessions' }, loading());
  const error = h('p.form-error', { hidden: true });

  async function load() {
    try {
      const body = await ctx.adminApi.sessions();
      const items = [...body.items].sort((a, b) => Number(b.current) - Number(a.current));
      error.hidden = true;
      fill(list, table([
        { label: t('sessions.device'), cell: (s) => h('span.device',
          h('b', { title: s.user_agent || '' }, device(s.user_agent)),
          s.current && pill(t('sessions.thisDevice'), 'me')) },
        { label: t('sessions.ip'), cell: (s) => s.ip || '—' },
        { label: t('sessions.lastUsed'), cell: (s) => when(s.last_used_at) },
        { label: t('sessions.created'), cell: (s) => when(s.created_at) },
        { label: '', cls: 'tools', cell: (s) => (s.current
          ? h('button.small.ghost', { type: 'button', 'data-test': 'logout-here', onclick: () => ctx.auth.logout() },
            t('nav.logout'))
          : h('button.small.ghost.danger', { type: 'button', 'data-test': 'revoke-session', onclick: () => revoke(s) },
            t('sessions.revoke'))) },
      ], items, { empty: t('sessions.none'),
        rowAttrs: (s) => ({ 'data-session': s.id, class: s.current ? 'row-current' : '' }) }));
    } catch (err) {
      report(err, error);
      fill(list);
    }
  }

  async function revoke(session) {
    if (!await confirmAction(t('sessions.revoke'), t('sessions.confirmRevoke', { device: device(session.user_agent) }),
      { confirmLabel: t('sessions.revoke') })) return;
    if (await act(() => ctx.adminApi.revokeSession(session.id), t('sessions.revokedOk')) !== undefined) load();
  }

  async function logoutEverywhere() {
    if (!await confirmAction(t('sessions.logoutAll'), t('sessions.confirmLogoutAll'),
      { confirmLabel: t('sessions.logoutAll') })) return;
    try {
      await ctx.adminApi.logoutAll();
    } catch (err) {
      if (err.status !== 401) { report(err); return; }
    }
    // Every session ended, this one too: forget it here and in the other tabs.
    await ctx.auth.endSession('logged_out_everywhere');
  }

  const current = h('input', { type: 'password', autocomplete: 'current-password', required: true,
    'data-test': 'current-password' });
  const next = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8,
    'data-test': 'new-password' });
  const again = h('input', { type: 'password', autocomplete: 'new-password', required: true, minlength: 8,
    'data-test': 'repeat-password' });
  const passwordMessage = h('p.form-error', { role: 'alert', 'data-test': 'password-message' });
  const passwordSubmit = h('button.primary', { type: 'submit', 'data-test': 'change-password' }, t('sessions.changePassword'));
  const passwordForm = h('form.password-form', { onsubmit: async (ev) => {
    ev.preventDefault();
    passwordMessage.textContent = '';
    if (next.value !== again.value) {
      passwordMessage.textContent = t('sessions.mismatch');
      return;
    }
    passwordSubmit.disabled = true;
    try {
      await ctx.adminApi.changePassword(current.value, next.value);
      passwordForm.reset();
      toast(t('sessions.passwordChanged'));
      load();
    } catch (err) {
      passwordMessage.textContent = errorMessage(err);
    } finally {
      passwordSubmit.disabled = false;
    }
  } },
  h('label', h('span', t('sessions.currentPassword')), current),
  h('label', h('span', t('sessions.newPassword')), next),
  h('label', h('span', t('sessions.repeatPassword')), again),
  h('p.hint', t('sessions.passwordHint')),
  passwordMessage,
  h('div.actions.left', passwordSubmit));

  load();
  const user = ctx.auth.user();
  const el = h('section.admin.sessions-page',
    h('div.page-head',
      h('div', h('h1', t('sessions.title')), h('p.muted', t('sessions.subtitle', { name: user ? user.username : '' }))),
      h('div.head-buttons',
        h('button.ghost', { type: 'button', 'data-test': 'logout-this', onclick: () => ctx.auth.logout() }, t('nav.logout')),
        h('button.danger-solid', { type: 'button', 'data-test': 'logout-all', onclick: logoutEverywhere },
          t('sessions.logoutAll')))),
    error,
    h('div.admin-card', h('h2', t('sessions.listTitle')), list),
    h('div.admin-card.narrow', h('h2', t('sessions.passwordTitle')), passwordForm));
  return { el };
}
