// Unit tests of revocation in js/sse-manager.js and js/auth.js under Node with fakes: `node --test`.
// Run by tests/e2e/test_revocation_unit.py. A session the server ended must stop everything, say why, and
// never reconnect or refresh.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { Auth, KEYS } from '../../inkstream/web/js/auth.js';
import { SSEConnectionManager } from '../../inkstream/web/js/sse-manager.js';
import { FakeES, fakeClock, flush } from './fakes.mjs';

function response(status, body) {
  const make = () => ({ ok: status < 300, status, json: async () => body, clone: make });
  return make();
}

const quiet = { info() {}, warn() {}, error() {}, debug() {} };

function manager({ ticket = () => response(200, { ticket: 'tk' }), task = () => response(200, { status: 'running', last_event_id: 9 }) } = {}) {
  FakeES.all = [];
  const clock = fakeClock();
  const calls = [];
  const fatal = [];
  const refreshes = [];
  const auth = {
    ensureValidToken: async () => 'eyJ.a',
    currentToken: () => 'eyJ.a',
    refresh: async () => { refreshes.push(1); return 'eyJ.b'; },
  };
  const fetch = async (url, opts = {}) => {
    calls.push([opts.method || 'GET', url]);
    return url.endsWith('/stream-ticket') ? ticket() : task();
  };
  const events = [];
  const m = new SSEConnectionManager({
    taskId: 't1', auth, fetch, EventSource: FakeES, clock, random: () => 0.5, logger: quiet, heartbeatInterval: 1,
    maxAttempts: 3, baseDelay: 100, maxDelay: 1000, onEvent: (type, data, id) => events.push([type, id]),
    onFatal: (f) => fatal.push(f),
  });
  return { m, clock, calls, fatal, refreshes, events };
}

test('a final fatal error event stops the stream for good and reports its code', async () => {
  const t = manager();
  t.m.start();
  await flush();
  const es = FakeES.all[0];
  es.open();
  es.emit('progress', 1, { index: 0 });
  es.emit('error', null, { code: 'account_disabled', message: 'disabled', fatal: true });
  es.fail(); // the server closes the stream after the event
  await flush();
  await t.clock.advance(60_000);
  assert.deepEqual(t.fatal, [{ code: 'account_disabled', message: 'disabled' }]);
  assert.equal(t.m.state, 'failed');
  assert.equal(t.m.reason, 'revoked');
  assert.equal(FakeES.all.length, 1, 'no reconnect after a fatal event');
  assert.equal(es.readyState, 2);
  t.m.handleVisible();
  t.m.handleOnline();
  t.m.reconnectNow();
  await flush();
  assert.equal(FakeES.all.length, 1, 'visibility, online and the button do not reconnect either');
  assert.deepEqual(t.events, [['progress', 1]], 'the fatal event is not handed on as a page event');
});

test('a page error (with an index, without fatal) is an ordinary event', async () => {
  const t = manager();
  t.m.start();
  await flush();
  FakeES.all[0].open();
  FakeES.all[0].emit('error', 4, { index: 2, status: 'error', message: 'boom', retryable: true });
  assert.deepEqual(t.events, [['error', 4]]);
  assert.deepEqual(t.fatal, []);
  assert.equal(t.m.state, 'open');
});

test('a 403 account_disabled on the ticket stops without refreshing or retrying', async () => {
  const t = manager({ ticket: () => response(403, { code: 'account_disabled', message: 'x' }) });
  t.m.start();
  await flush();
  await t.clock.advance(60_000);
  assert.equal(t.fatal[0].code, 'account_disabled');
  assert.equal(t.refreshes.length, 0);
  assert.equal(t.calls.length, 1);
  assert.equal(FakeES.all.length, 0);
});

test('a 401 session_revoked found when diagnosing a dropped stream stops it', async () => {
  const t = manager({ task: () => response(401, { code: 'session_revoked' }) });
  t.m.start();
  await flush();
  FakeES.all[0].open();
  FakeES.all[0].fail();
  await flush();
  await t.clock.advance(60_000);
  assert.equal(t.fatal[0].code, 'session_revoked');
  assert.equal(t.refreshes.length, 0);
  assert.equal(FakeES.all.length, 1);
});

function storage() {
  const data = new Map();
  return { getItem: (k) => (data.has(k) ? data.get(k) : null), setItem: (k, v) => data.set(k, String(v)),
    removeItem: (k) => data.delete(k) };
}

function jwt(expInSeconds) {
  const payload = Buffer.from(JSON.stringify({ exp: Math.floor(Date.now() / 1000) + expInSeconds })).toString('base64url');
  return `eyJhbGciOiJIUzI1NiJ9.${payload}.sig`;
}

function auth(answers) {
  const store = storage();
  store.setItem(KEYS.user, JSON.stringify({ username: 'u' }));
  const sent = [];
  const a = new Auth({
    fetch: async (url) => { sent.push(url); return answers(url); }, storage: store, logger: quiet,
  });
  a._access = jwt(3600); // as after a login: the access token in memory, the refresh token in the cookie
  const logouts = [];
  a.on('logout', (e) => logouts.push(e));
  return { a, store, sent, logouts };
}

test('an API call answered 403 account_disabled ends the session with that reason, without a refresh', async () => {
  const t = auth(() => response(403, { code: 'account_disabled', message: 'disabled' }));
  const res = await t.a.fetch('/api/history');
  assert.equal(res.status, 403);
  assert.deepEqual(t.logouts, [{ reason: 'account_disabled', fromOtherTab: false }]);
  assert.equal(t.a.isLoggedIn(), false);
  assert.equal(t.store.getItem(KEYS.user), null);
  assert.equal(t.a.currentToken(), null);
  assert.deepEqual(t.sent, ['/api/history']);
});

test('an API call answered 401 session_revoked ends the session without trying a refresh', async () => {
  const t = auth(() => response(401, { code: 'session_revoked' }));
  await t.a.fetch('/api/history');
  assert.deepEqual(t.logouts.map((e) => e.reason), ['session_revoked']);
  assert.ok(!t.sent.some((u) => u.endsWith('/refresh')));
});

test('a refresh refused with session_revoked logs out with that reason (not "expired")', async () => {
  const t = auth((url) => (url.endsWith('/refresh') ? response(401, { code: 'session_revoked' })
    : response(401, { code: 'token_expired' })));
  await assert.rejects(t.a.fetch('/api/history'));
  assert.deepEqual(t.logouts.map((e) => e.reason), ['session_revoked']);
});

test('an ordinary 401 still refreshes and retries once', async () => {
  let n = 0;
  const fresh = jwt(7200);
  const t = auth((url) => {
    if (url.endsWith('/refresh')) return response(200, { access_token: fresh, refresh_token: null, expires_in: 3600 });
    n += 1;
    return n === 1 ? response(401, { code: 'token_expired' }) : response(200, {});
  });
  const res = await t.a.fetch('/api/history');
  assert.equal(res.status, 200);
  assert.deepEqual(t.logouts, []);
  assert.equal(t.a.currentToken(), fresh);
});
