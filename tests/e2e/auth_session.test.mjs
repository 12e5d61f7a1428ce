// Unit tests of js/auth.js's browser session under Node with fakes: `node --test`. Run by
// tests/e2e/test_auth_session_unit.py. The refresh token lives in the HttpOnly cookie (the fake server below plays
// it); the page keeps the access token in memory and only who is logged in in storage.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Auth, KEYS } from '../../inkstream/web/js/auth.js';

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

function jwt(expInSeconds) {
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + expInSeconds })).toString('base64url');
  return `eyJhbGciOiJIUzI1NiJ9.${payload}.sig`;
}

function storage(initial = {}) {
  const data = new Map(Object.entries(initial));
  return { data, getItem: (k) => (data.has(k) ? data.get(k) : null), setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k) };
}

function response(status, body) {
  return { ok: status < 300, status, json: async () => body, clone() { return response(status, body); } };
}

/** A server that keeps one refresh cookie the way a browser would: the page never sees it. */
function cookieServer({ lifetime = 3600 } = {}) {
  const server = { cookie: null, sent: [], rotations: 0 };
  server.fetch = async (url, init = {}) => {
    server.sent.push({ url, init });
    if (url.endsWith('/api/auth/login')) {
      server.cookie = 'r0';
      return response(200, { access_token: jwt(lifetime), refresh_token: null, expires_in: lifetime });
    }
    if (url.endsWith('/api/auth/refresh')) {
      if (!server.cookie) return response(401, { code: 'token_missing' });
      server.rotations += 1;
      server.cookie = `r${server.rotations}`;
      return response(200, { access_token: jwt(lifetime + server.rotations), refresh_token: null, expires_in: lifetime });
    }
    if (url.endsWith('/api/auth/logout')) { server.cookie = null; return response(204, null); }
    if (url.endsWith('/api/auth/me')) return response(200, { id: 7, username: 'ann', role: 'user' });
    return response(200, {});
  };
  return server;
}

class Channel {
  static all = [];
  constructor() { this.onmessage = null; Channel.all.push(this); }
  postMessage(data) { for (const c of Channel.all) if (c !== this) c.onmessage?.({ data }); }
}

test('login asks for the cookie and stores no token anywhere the page can read', async () => {
  const server = cookieServer();
  const store = storage();
  const a = new Auth({ fetch: server.fetch, storage: store, logger: quiet });
  await a.login('ann', 'pw');
  const login = server.sent.find((s) => s.url.endsWith('/login'));
  assert.equal(JSON.parse(login.init.body).cookie, true);
  assert.equal(login.init.credentials, 'same-origin');
  assert.ok(a.currentToken());
  assert.deepEqual([...store.data.keys()], [KEYS.user]);
  assert.deepEqual(JSON.parse(store.getItem(KEYS.user)), { id: 7, username: 'ann', role: 'user' });
  assert.ok(![...store.data.values()].some((v) => v.includes(a.currentToken())));
});

test('a reload (a new tab state with only the user record) refreshes from the cookie with no body', async () => {
  const server = cookieServer();
  server.cookie = 'r0';
  const a = new Auth({ fetch: server.fetch, storage: storage({ [KEYS.user]: '{"username":"ann"}' }), logger: quiet });
  assert.equal(a.currentToken(), null);
  const token = await a.ensureValidToken();
  assert.ok(token);
  const refresh = server.sent.find((s) => s.url.endsWith('/refresh'));
  assert.equal(refresh.init.body, undefined);
  assert.equal(server.rotations, 1);
});

test('tokens an earlier version left in storage are removed on start', async () => {
  const store = storage({ 'inkstream.refresh_token': 'old', 'inkstream.access_token': 'old', [KEYS.user]: '{}' });
  const deleted = [];
  new Auth({ fetch: cookieServer().fetch, storage: store, logger: quiet,
    indexedDB: { deleteDatabase: (name) => deleted.push(name) } });
  assert.equal(store.getItem('inkstream.refresh_token'), null);
  assert.equal(store.getItem('inkstream.access_token'), null);
  assert.deepEqual(deleted, ['inkstream']);
});

test('a refresh in one tab hands its access token to the other tabs, which then need not refresh', async () => {
  Channel.all = [];
  const server = cookieServer();
  server.cookie = 'r0';
  const user = { [KEYS.user]: '{"username":"ann"}' };
  const one = new Auth({ fetch: server.fetch, storage: storage(user), logger: quiet, BroadcastChannel: Channel });
  const two = new Auth({ fetch: server.fetch, storage: storage(user), logger: quiet, BroadcastChannel: Channel });
  const token = await one.refresh();
  assert.equal(two.currentToken(), token);
  assert.equal(await two.ensureValidToken(), token);
  assert.equal(server.rotations, 1);
});

test('refreshes queued behind the lock send the cookie one at a time', async () => {
  const server = cookieServer();
  server.cookie = 'r0';
  let tail = Promise.resolve();
  const locks = { request: (_name, fn) => { const run = tail.then(fn); tail = run.catch(() => {}); return run; } };
  const user = { [KEYS.user]: '{"username":"ann"}' };
  const tabs = [0, 1, 2].map(() => new Auth({ fetch: server.fetch, storage: storage(user), logger: quiet, locks }));
  const tokens = await Promise.all(tabs.map((t) => t.refresh()));
  assert.equal(new Set(tokens).size, 3); // without a channel each tab refreshed, but strictly in turn
  assert.equal(server.rotations, 3);
});

test('logout sends no token (the cookie goes with it), forgets the user and tells the other tabs', async () => {
  Channel.all = [];
  const server = cookieServer();
  const store = storage();
  const a = new Auth({ fetch: server.fetch, storage: store, logger: quiet, BroadcastChannel: Channel });
  const other = new Auth({ fetch: server.fetch, storage: storage(), logger: quiet, BroadcastChannel: Channel });
  const heard = [];
  other.on('logout', (e) => heard.push(e));
  await a.login('ann', 'pw');
  await a.logout();
  const logout = server.sent.find((s) => s.url.endsWith('/logout'));
  assert.equal(logout.init.body, undefined);
  assert.equal(server.cookie, null);
  assert.equal(a.isLoggedIn(), false);
  assert.equal(a.currentToken(), null);
  assert.deepEqual(heard, [{ reason: 'logged_out', fromOtherTab: true }]);
});
