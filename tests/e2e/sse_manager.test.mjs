// Unit tests of js/sse-manager.js under Node with fakes (no browser, no server): `node --test`.
// Run by tests/e2e/test_sse_manager_unit.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { AuthFailed, SSEConnectionManager } from '../../inkstream/web/js/sse-manager.js';
import { FakeES, fakeClock, flush } from './fakes.mjs';

function setup({ task = () => ({ status: 200, body: { status: 'running', last_event_id: 99 } }), ticket,
  refresh, maxAttempts = 3 } = {}) {
  FakeES.all = [];
  const clock = fakeClock();
  const calls = [];
  const lines = [];
  const log = (...a) => lines.push(a.join(' '));
  let token = 'eyJ.access.1';
  const auth = {
    ensureValidToken: async () => token,
    currentToken: () => token,
    refresh: refresh || (async () => { token = `eyJ.access.${Number(token.split('.')[2]) + 1}`; return token; }),
  };
  const fetch = async (url, opts = {}) => {
    calls.push([opts.method || 'GET', url]);
    const r = url.endsWith('/stream-ticket') ? (ticket ? ticket() : { status: 200, body: { ticket: 'eyJ.ticket' } })
      : task();
    if (r === 'network') throw new TypeError('Failed to fetch');
    return { ok: r.status < 300, status: r.status, json: async () => r.body };
  };
  const events = [];
  const states = [];
  const m = new SSEConnectionManager({
    taskId: 't1', auth, fetch, EventSource: FakeES, clock, random: () => 0.5,
    logger: { info: log, warn: log, error: log, debug: log }, heartbeatInterval: 1, maxAttempts, baseDelay: 100,
    maxDelay: 1000, onEvent: (type, data, id) => events.push([type, id]), onState: (s) => states.push(s.state),
  });
  return { m, clock, calls, lines, events, states, es: () => FakeES.all.at(-1) };
}

test('replayed events are dropped by id and a reconnect resumes from the last id', async () => {
  const t = setup();
  t.m.start();
  await flush();
  t.es().open();
  t.es().emit('progress', 1);
  t.es().emit('complete', 2);
  t.es().fail();
  await flush();
  await t.clock.advance(200);
  assert.match(t.es().url, /last_event_id=2$/);
  assert.match(t.es().url, /ticket=eyJ\.ticket/);
  t.es().open();
  t.es().emit('complete', 2); // a duplicate
  t.es().emit('finish', 3);
  assert.deepEqual(t.events, [['progress', 1], ['complete', 2], ['finish', 3]]);
  assert.equal(t.m.duplicates, 1);
  assert.equal(t.m.state, 'done');
  await t.clock.advance(10_000);
  assert.equal(FakeES.all.length, 2, 'nothing reconnects after finish');
});

test('a silent connection is declared dead after 2.5 heartbeat intervals; heartbeats keep it alive', async () => {
  const t = setup();
  t.m.start();
  await flush();
  t.es().open();
  for (let i = 0; i < 5; i++) { await t.clock.advance(2000); t.es().emit('heartbeat', null); }
  assert.equal(FakeES.all.length, 1);
  await t.clock.advance(2499);
  assert.equal(FakeES.all.length, 1);
  await t.clock.advance(2);
  assert.equal(t.m.history[0].reason, 'heartbeat_timeout');
  await t.clock.advance(200);
  assert.equal(FakeES.all.length, 2);
});

test('backoff grows with jitter, stays bounded, and stops after maxAttempts', async () => {
  const t = setup({ task: () => 'network', ticket: () => 'network', maxAttempts: 4 });
  t.m.start();
  await flush();
  await t.clock.advance(60_000);
  assert.equal(t.m.state, 'failed');
  assert.equal(t.m.reason, 'retry_limit');
  const delays = t.lines.filter((l) => l.includes('reconnecting in')).map((l) => Number(l.match(/in (\d+) ms/)[1]));
  assert.deepEqual(delays, [75, 150, 300, 600]); // cap/2 + random·cap/2, cap doubling from 100 ms
  assert.deepEqual(t.m.history.map((h) => h.outcome), ['retrying', 'retrying', 'retrying', 'retrying', 'gave_up']);
  const tickets = t.calls.filter(([, url]) => url.endsWith('/stream-ticket')).length;
  assert.equal(tickets, 5); // the first attempt and 4 reconnects
  const after = t.calls.length;
  await t.clock.advance(60_000);
  assert.equal(t.calls.length, after, 'no request after giving up');
  t.m.reconnectNow();
  await flush();
  assert.equal(t.calls.length, after + 1, 'the button tries again');
});

test('401 refreshes once and reconnects; 404 stops without reconnecting', async () => {
  let first = true;
  const t = setup({ ticket: () => (first ? ((first = false), { status: 401, body: { code: 'token_expired' } })
    : { status: 200, body: { ticket: 'eyJ.ticket' } }) });
  t.m.start();
  await flush();
  await t.clock.advance(0);
  assert.equal(FakeES.all.length, 1);
  assert.deepEqual(t.m.history.map((h) => h.reason), ['token_rejected']);

  const g = setup({ task: () => ({ status: 404, body: { code: 'task_not_found' } }) });
  g.m.start();
  await flush();
  g.es().fail();
  await flush();
  await g.clock.advance(60_000);
  assert.equal(g.m.state, 'failed');
  assert.equal(g.m.reason, 'task_not_found');
  assert.equal(FakeES.all.length, 1);
});

test('a refused refresh ends in the auth state, and no log line carries a token or ticket', async () => {
  const t = setup({ ticket: () => ({ status: 401, body: {} }),
    refresh: async () => { throw new AuthFailed('refresh refused', 'refresh_token_reused'); } });
  t.m.start();
  await flush();
  assert.equal(t.m.state, 'failed');
  assert.equal(t.m.reason, 'auth_failed');
  assert.ok(t.lines.length > 0);
  for (const line of t.lines) assert.ok(!line.includes('eyJ'), line);
});

test('a 204 on resume (task over, nothing after our id) is done, not a failure', async () => {
  const t = setup({ task: () => ({ status: 200, body: { status: 'done', last_event_id: 0 } }) });
  t.m.start();
  await flush();
  t.es().fail(); // what EventSource does with a 204
  await flush();
  assert.equal(t.m.state, 'done');
  assert.deepEqual(t.m.history, []);
});
