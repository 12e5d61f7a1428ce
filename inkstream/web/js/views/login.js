// Login and sign-up (one card, two tabs).

import { h } from '../dom.js';
import { errorMessage, t } from '../i18n.js';

export const name = 'login';

export function render(ctx) {
  let mode = 'login';
  const flash = ctx.flash;
  ctx.flash = null;
  const message = h('p.form-error', { role: 'alert', 'data-test': 'login-message' }, flash || '');
  if (flash) message.classList.add('notice');
  const username = h('input', { name: 'username', autocomplete: 'username', required: true, maxlength: 32 });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password',
    required: true, minlength: 8 });
  const submit = h('button.primary.block', { type: 'submit' }, t('login.submitLogin'));
  // Shown for sign-up when the server says an invite is needed (GET /api/auth/registration/config).
  const invite = h('input', { name: 'invite_code', autocomplete: 'off', maxlength: 64, 'data-test': 'invite-code' });
  const inviteField = h('label', { hidden: true, 'data-test': 'invite-field' }, h('span', t('login.inviteCode')), invite);
  let registration = { enabled: true, invite_required: false };
  const tabs = ['login', 'register'].map((m) => h('button.tab', {
    type: 'button', 'data-test': `tab-${m}`,
    onclick: () => setMode(m),
  }, t(m === 'login' ? 'login.tabLogin' : 'login.tabRegister')));

  function setMode(m) {
    mode = m;
    tabs.forEach((tab, i) => tab.classList.toggle('active', (i === 0) === (m === 'login')));
    submit.textContent = t(m === 'login' ? 'login.submitLogin' : 'login.submitRegister');
    password.autocomplete = m === 'login' ? 'current-password' : 'new-password';
    hints.hidden = m === 'login';
    inviteField.hidden = m === 'login' || !registration.invite_required;
    invite.required = !inviteField.hidden;
    const closed = m === 'register' && !registration.enabled;
    submit.disabled = closed;
    if (closed) message.textContent = t('error.registration_closed');
    else if (message.textContent === t('error.registration_closed')) message.textContent = '';
  }

  const hints = h('p.hint', `${t('login.usernameHint')} · ${t('login.passwordHint')}`);
  const form = h('form.auth-form', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      submit.disabled = true;
      message.textContent = '';
      message.classList.remove('notice');
      try {
        if (mode === 'login') await ctx.auth.login(username.value.trim(), password.value);
        else await ctx.auth.register(username.value.trim(), password.value, invite.value.trim());
        const next = ctx.afterLogin && ctx.afterLogin !== '#/login' ? ctx.afterLogin : '#/';
        ctx.afterLogin = null;
        ctx.navigate(next);
      } catch (err) {
        message.textContent = errorMessage(err);
      } finally {
        submit.disabled = mode === 'register' && !registration.enabled;
      }
    },
  },
  h('div.tabs', tabs),
  h('label', h('span', t('login.username')), username),
  h('label', h('span', t('login.password')), password),
  inviteField, hints, message, submit);
  setMode('login');
  fetch('/api/auth/registration/config').then((res) => (res.ok ? res.json() : null)).then((config) => {
    if (!config) return;
    registration = { enabled: config.enabled !== false, invite_required: Boolean(config.invite_required) };
    setMode(mode);
  }).catch(() => { /* an older server: sign-up as before, its errors say the rest */ });

  const el = h('section.auth',
    h('div.auth-pitch',
      h('h1', t('app.tagline')),
      h('ul.pitch',
        h('li', h('span.dot', '1'), t('login.pitch1')),
        h('li', h('span.dot', '2'), t('login.pitch2')),
        h('li', h('span.dot', '3'), t('login.pitch3'))),
      h('div.pitch-cards', ['🍵', '🏕️', '🐱'].map((emoji, i) => h(`div.mini-card.c${i}`, h('span', emoji))))),
    h('div.auth-card', h('h2', t('login.title')), h('p.muted', t('login.subtitle')), form));
  return { el };
}
