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
        else await ctx.auth.register(username.value.trim(), password.value);
        const next = ctx.afterLogin && ctx.afterLogin !== '#/login' ? ctx.afterLogin : '#/';
        ctx.afterLogin = null;
        ctx.navigate(next);
      } catch (err) {
        message.textContent = errorMessage(err);
      } finally {
        submit.disabled = false;
      }
    },
  },
  h('div.tabs', tabs),
  h('label', h('span', t('login.username')), username),
  h('label', h('span', t('login.password')), password),
  hints, message, submit);
  setMode('login');

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
