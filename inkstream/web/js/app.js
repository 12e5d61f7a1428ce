// Bootstraps the UI: session, API, hash router, header and language switch.

import { makeAdminApi } from './admin-api.js';
import { makeApi, serviceInfo } from './api.js';
import { Auth } from './auth.js';
import { fill, h } from './dom.js';
import './i18n-admin.js';
import { getLang, setLang, t } from './i18n.js';
import { themeToggle } from './theme.js';
import * as historyView from './views/history.js';
import * as homeView from './views/home.js';
import * as loginView from './views/login.js';
import * as outlineView from './views/outline.js';
import * as taskView from './views/task.js';
import * as adminAuditView from './views/admin-audit.js';
import * as adminDashboardView from './views/admin-dashboard.js';
import * as adminProvidersView from './views/admin-providers.js';
import * as adminRegistrationView from './views/admin-registration.js';
import * as adminTasksView from './views/admin-tasks.js';
import { isAdmin } from './views/admin-ui.js';
import * as adminUserView from './views/admin-user.js';
import * as adminUsersView from './views/admin-users.js';
import * as sessionsView from './views/sessions.js';

const ROUTES = [
  [/^#\/login$/, loginView, false],
  [/^#\/outline\/([0-9a-f]{32})$/, outlineView, true],
  [/^#\/task\/([0-9a-f]{32})$/, taskView, true],
  [/^#\/history$/, historyView, true],
  [/^#\/sessions$/, sessionsView, true],
  [/^#\/admin(?:\/users)?\/?$/, adminUsersView, true],
  [/^#\/admin\/users\/([^/]+)$/, adminUserView, true],
  [/^#\/admin\/registration$/, adminRegistrationView, true],
  [/^#\/admin\/providers$/, adminProvidersView, true],
  [/^#\/admin\/tasks$/, adminTasksView, true],
  [/^#\/admin\/audit$/, adminAuditView, true],
  [/^#\/admin\/dashboard$/, adminDashboardView, true],
  [/^(#\/?)?$/, homeView, true],
];

const overrides = window.INKSTREAM_CONFIG || {};
const auth = new Auth({
  fetch: window.fetch.bind(window), storage: window.localStorage, locks: navigator.locks || null,
  BroadcastChannel: window.BroadcastChannel || null,
  indexedDB: window.indexedDB || null,
});
const ctx = {
  auth,
  api: makeApi(auth),
  adminApi: makeAdminApi(auth),
  info: { heartbeatInterval: null, aiOutline: false },
  config: {
    sse: { maxAttempts: 5, baseDelay: 1000, maxDelay: 15000, ...(overrides.sse || {}) },
    heartbeatInterval: overrides.heartbeatInterval || null,
  },
  draft: { images: [] }, // reference images picked on the home page, kept in memory for the generate request
  flash: null, // a message for the next page (e.g. why the user landed on the login page)
  navigate(hash) {
    if (location.hash === hash) route();
    else location.hash = hash;
  },
  heartbeatInterval() { return ctx.config.heartbeatInterval || ctx.info.heartbeatInterval || 15; },
};
window.__inkstream = ctx; // for the diagnostics console and the browser tests

let current = null; // {view, params, handle}

function header() {
  const user = auth.user();
  const loggedIn = auth.isLoggedIn();
  const here = location.hash || '#/';
  return h('header.topbar', { class: loggedIn && isAdmin(user) ? 'with-admin' : '' },
    h('a.brand', { href: '#/' }, h('span.brand-mark', '墨'), h('span.brand-name', t('app.name'))),
    h('nav.nav',
      loggedIn && h('a', { href: '#/', class: here === '#/' ? 'active' : '' }, t('nav.home')),
      loggedIn && h('a', { href: '#/history', class: here === '#/history' ? 'active' : '' }, t('nav.history')),
      loggedIn && isAdmin(user) && h('a', { href: '#/admin/users', 'data-test': 'nav-admin',
        class: here.startsWith('#/admin') ? 'active' : '' }, t('nav.admin')),
    ),
    h('div.nav-right',
      themeToggle(),
      h('button.ghost.lang', { title: t('nav.langTitle'), 'data-test': 'lang',
        onclick: () => { setLang(getLang() === 'zh' ? 'en' : 'zh'); route({ keep: true }); } }, t('nav.lang')),
      loggedIn && user && h('a.user', { href: '#/sessions', title: t('nav.sessions'), 'data-test': 'nav-sessions' },
        h('span.avatar', (user.username || '?').slice(0, 1).toUpperCase()), h('span.user-name', user.username)),
      loggedIn && h('button.ghost', { onclick: () => auth.logout(), 'data-test': 'logout' }, t('nav.logout')),
    ),
  );
}

function route({ keep = false } = {}) {
  const hash = location.hash.split('?')[0];
  let match = null;
  let entry = ROUTES[ROUTES.length - 1];
  for (const candidate of ROUTES) {
    match = hash.match(candidate[0]);
    if (match) { entry = candidate; break; }
  }
  const [, view, needsLogin] = entry;
  if (needsLogin && !auth.isLoggedIn()) {
    ctx.afterLogin = location.hash;
    location.hash = '#/login';
    return;
  }
  const params = match ? match.slice(1) : [];
  const same = keep && current && current.view === view && current.params.join() === params.join();
  current?.handle?.dispose?.({ keep: same });
  const root = document.getElementById('app');
  const handle = view.render(ctx, ...params);
  current = { view, params, handle };
  fill(root, header(), h('main.page', { 'data-page': view.name || '' }, handle.el));
  document.title = `${t('app.name')} · ${t('app.tagline')}`;
}

auth.on('logout', ({ reason, fromOtherTab }) => {
  ctx.draft = { images: [] }; // the next user of this tab starts empty; drafts.js offers this one's back
  ctx.flash = reason === 'session_revoked' || reason === 'account_disabled' || reason === 'logged_out_everywhere'
    ? t(`login.${reason}`)
    : reason === 'session_expired' ? t('login.sessionExpired')
      : fromOtherTab ? t('login.loggedOutElsewhere') : null;
  if (location.hash !== '#/login') ctx.afterLogin = location.hash;
  ctx.navigate('#/login');
});
auth.on('login', ({ fromOtherTab }) => { if (fromOtherTab && location.hash === '#/login') ctx.navigate('#/'); });

setLang(getLang());
window.addEventListener('hashchange', () => route());
serviceInfo(window.fetch.bind(window)).then((info) => {
  ctx.info = info;
  document.body.dataset.ai = info.aiOutline ? 'on' : 'off';
});
route();
// The role may have changed since login (an admin promoted or demoted us): read it again once per load.
if (auth.isLoggedIn()) {
  auth.fetch('/api/auth/me').then(async (res) => {
    if (!res.ok) return;
    const me = await res.json();
    if (!auth.isLoggedIn()) return;
    const before = auth.user();
    auth.setUser(me);
    // A role that really changed re-renders the page (an admin page may now be refused); otherwise only the
    // header learns it (the admin link), so nothing the user is doing on the page is thrown away.
    const known = before && 'role' in before;
    const onAdminPage = location.hash.startsWith('#/admin');
    if (known ? isAdmin(before) !== isAdmin(me) : onAdminPage && !isAdmin(me)) route({ keep: true });
    else document.querySelector('header.topbar')?.replaceWith(header());
  }).catch(() => {});
}
