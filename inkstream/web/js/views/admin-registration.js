// Admin: registration (open / invite-only / closed, default role, history) and invite codes.

import { toast } from '../dom.js';
import { t } from '../i18n.js';
import {
  act, adminFrame, confirmAction, fill, h, loading, modal, pager, pill, plainError, report, select, table, when,
} from './admin-ui.js';
import { roleOptions } from './admin-users.js';

export const name = 'admin-registration';

const MODES = ['open', 'invite', 'closed'];
const EXPIRIES = [[3600, 'hour'], [86400, 'day'], [7 * 86400, 'week'], [30 * 86400, 'month']];

function modeOf(reg) {
  if (!reg.enabled) return 'closed';
  return reg.invite_required ? 'invite' : 'open';
}

/** Copies text; the textarea route is for pages that are not a secure context (no Clipboard API). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = h('textarea', { readonly: true }, text);
  Object.assign(area.style, { position: 'fixed', opacity: '0' }); // CSSOM: the CSP refuses style attributes
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

export function render(ctx) {
  const settings = h('div', { 'data-test': 'registration' }, loading());
  const invites = h('div', { 'data-test': 'invites' }, loading());
  const history = h('div', { 'data-test': 'registration-history' }, loading());
  const error = h('p.form-error', { hidden: true });
  const inviteFilter = { status: '', page: 1 };
  const historyPage = { page: 1 };

  async function loadSettings() {
    try {
      drawSettings(await ctx.adminApi.registration());
    } catch (err) {
      report(err, error);
      fill(settings);
    }
  }

  function drawSettings(reg) {
    let mode = modeOf(reg);
    const choices = MODES.map((m) => h('label.choice', { 'data-mode': m },
      h('input', { type: 'radio', name: 'reg-mode', value: m, checked: m === mode ? true : undefined,
        'data-test': `mode-${m}`, onchange: () => { mode = m; } }),
      h('span.choice-text', h('b', t(`admin.reg.mode.${m}`)), h('small.muted', t(`admin.reg.modeHint.${m}`)))));
    const role = select('default-role', roleOptions(false), reg.default_role || 'user');
    role.dataset.test = 'default-role';
    const save = h('button.primary', { type: 'submit', 'data-test': 'save-registration' }, t('admin.save'));
    fill(settings, h('form.reg-form', {
      onsubmit: async (ev) => {
        ev.preventDefault();
        save.disabled = true;
        const next = await act(() => ctx.adminApi.saveRegistration({
          enabled: mode !== 'closed', invite_required: mode === 'invite', default_role: role.value,
        }), t('admin.saved'));
        save.disabled = false;
        if (next) { drawSettings(next); loadHistory(); }
      },
    },
    h('div.choices', choices),
    h('label.inline', h('span', t('admin.reg.defaultRole')), role),
    h('div.actions.left', save,
      h('span.muted.small', { 'data-test': 'registration-version' }, reg.version
        ? t('admin.reg.version', { v: reg.version, when: when(reg.updated_at), who: reg.updated_by || '—' })
        : t('admin.reg.defaults')))));
  }

  async function loadInvites() {
    try {
      const body = await ctx.adminApi.invites({ ...inviteFilter, page_size: 10 });
      fill(invites,
        table([
          { label: t('admin.inv.code'), cell: (i) => h('span.code-cell',
            h('code', { 'data-test': 'invite-code' }, i.code),
            h('button.small.ghost', { type: 'button', title: t('admin.inv.copy'), 'data-test': 'copy-invite',
              onclick: () => act(() => copyText(i.code), t('admin.inv.copied')) }, t('admin.inv.copy'))) },
          { label: t('admin.inv.status'), cell: (i) => pill(t(`admin.inv.st.${i.status}`), `inv-${i.status}`) },
          { label: t('admin.inv.uses'), cell: (i) => `${i.uses} / ${i.max_uses}`, cls: 'num' },
          { label: t('admin.inv.left'), cell: (i) => String(i.uses_left), cls: 'num' },
          { label: t('admin.inv.expires'), cell: (i) => when(i.expires_at) },
          { label: t('admin.inv.createdBy'), cell: (i) => `${i.created_by || '—'} · ${when(i.created_at)}` },
          { label: '', cls: 'tools', cell: (i) => i.status === 'active' && h('button.small.ghost.danger', {
            type: 'button', 'data-test': 'revoke-invite', onclick: () => revoke(i) }, t('admin.inv.revoke')) },
        ], body.items, { empty: t('admin.inv.none'), rowAttrs: (i) => ({ 'data-code': i.code }) }),
        pager(body, (n) => { inviteFilter.page = n; loadInvites(); }));
    } catch (err) {
      report(err, error);
      fill(invites);
    }
  }

  async function revoke(invite) {
    if (!await confirmAction(t('admin.inv.revoke'), t('admin.inv.confirmRevoke', { code: invite.code }),
      { confirmLabel: t('admin.inv.revoke') })) return;
    if (await act(() => ctx.adminApi.revokeInvite(invite.code), t('admin.inv.revokedOk')) !== undefined) loadInvites();
  }

  async function createInvite() {
    const uses = h('input', { type: 'number', min: 1, max: 10000, value: '1', required: true, 'data-test': 'invite-uses' });
    const expiry = select('invite-expiry', EXPIRIES.map(([s, k]) => [String(s), t(`admin.inv.exp.${k}`)]), '604800');
    expiry.dataset.test = 'invite-expiry';
    const invite = await modal({
      title: t('admin.inv.create'), submitLabel: t('admin.inv.createSubmit'), testId: 'invite-dialog',
      body: [h('label', h('span', t('admin.inv.maxUses')), uses), h('label', h('span', t('admin.inv.expiresIn')), expiry)],
      onSubmit: () => {
        const n = Number(uses.value);
        if (!Number.isInteger(n) || n < 1) throw plainError(t('admin.inv.badUses'));
        return ctx.adminApi.createInvite(n, Number(expiry.value));
      },
    });
    if (!invite) return;
    toast(t('admin.inv.created', { code: invite.code }));
    loadInvites();
  }

  async function loadHistory() {
    try {
      const body = await ctx.adminApi.registrationHistory({ page: historyPage.page, page_size: 10 });
      fill(history,
        table([
          { label: t('admin.reg.versionCol'), cell: (r) => `v${r.version}`, cls: 'num' },
          { label: t('admin.reg.modeCol'), cell: (r) => t(`admin.reg.mode.${modeOf(r)}`) },
          { label: t('admin.reg.defaultRole'), cell: (r) => t(`role.${r.default_role}`) },
          { label: t('admin.by'), cell: (r) => r.created_by || '—' },
          { label: t('admin.when'), cell: (r) => when(r.created_at) },
        ], body.items, { empty: t('admin.reg.noHistory') }),
        pager(body, (n) => { historyPage.page = n; loadHistory(); }));
    } catch (err) {
      report(err, error);
      fill(history);
    }
  }

  const status = select('status', [['', t('admin.inv.allStatus')],
    ...['active', 'used', 'expired', 'revoked'].map((s) => [s, t(`admin.inv.st.${s}`)])]);
  status.addEventListener('change', () => { inviteFilter.status = status.value; inviteFilter.page = 1; loadInvites(); });

  loadSettings();
  loadInvites();
  loadHistory();
  const el = adminFrame(ctx, 'registration',
    h('div.page-head', h('div', h('h1', t('admin.section.registration')), h('p.muted', t('admin.reg.subtitle')))),
    error,
    h('div.admin-card', h('h2', t('admin.reg.settings')), settings),
    h('div.admin-card',
      h('div.card-head', h('h2', t('admin.inv.title')),
        h('div.card-tools-row', status,
          h('button.primary.small', { type: 'button', 'data-test': 'create-invite', onclick: createInvite },
            `+ ${t('admin.inv.create')}`))),
      invites),
    h('div.admin-card', h('h2', t('admin.reg.history')), history));
  return { el };
}
