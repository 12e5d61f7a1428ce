// Unit tests of js/stream-report.js under Node: `node --test`. Run by tests/e2e/test_stream_report.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { buildReport, StreamReporter } from '../../inkstream/web/js/stream-report.js';

test('reconnects are counted from the decisions, not from their successes', () => {
  const history = [
    { reason: 'network', outcome: 'retrying' }, { reason: 'network', outcome: 'connected' },
    { reason: 'heartbeat_timeout', outcome: 'retrying' }, { reason: 'heartbeat_timeout', outcome: 'connected' },
    { reason: 'back_online', outcome: 'requested' }, { reason: 'token_rejected', outcome: 'retrying' },
  ];
  const body = buildReport({ outcome: 'finished', history, connectedMs: 1234.6, refreshAttempts: 2, refreshOk: 1 });
  assert.deepEqual(body, {
    client: 'web', outcome: 'finished', reconnects: 4, connected_ms: 1235,
    reasons: { network: 1, heartbeat_timeout: 1, online: 1, token_expired: 1 },
    refreshes: { attempts: 2, ok: 1 },
  });
});

test('a failure carries a clean code; nothing else gets in', () => {
  const body = buildReport({ outcome: 'failed', failureCode: 'Task-Not-Found!', history: [] });
  assert.equal(body.failure_code, 'task_not_found_');
  assert.deepEqual(Object.keys(body).sort(),
    ['client', 'connected_ms', 'failure_code', 'outcome', 'reasons', 'reconnects', 'refreshes']);
  assert.equal(buildReport({ outcome: 'finished', failureCode: 'x' }).failure_code, undefined);
});

test('a session reports once, with the time connected and the refreshes made during it', async () => {
  let now = 1000;
  const sent = [];
  const auth = { refreshAttempts: 5, refreshCount: 4,
    fetch: async (path, options) => { sent.push([path, JSON.parse(options.body), options.keepalive]); return {}; } };
  const reporter = new StreamReporter(auth, { now: () => now });
  reporter.start();
  reporter.state('connecting');
  now += 100; reporter.state('open');
  now += 2000; reporter.state('reconnecting');
  auth.refreshAttempts += 2; auth.refreshCount += 1;
  now += 500; reporter.state('open');
  now += 1000;
  const body = reporter.end('finished', { history: [{ reason: 'network', outcome: 'retrying' }] });
  assert.equal(reporter.end('abandoned'), null); // once
  assert.deepEqual(body.refreshes, { attempts: 2, ok: 1 });
  assert.equal(body.connected_ms, 3000);
  assert.equal(body.reconnects, 1);
  await new Promise((r) => setImmediate(r));
  assert.equal(sent.length, 1);
  assert.deepEqual(sent[0][0], '/api/telemetry/stream');
  assert.equal(sent[0][2], true);
});
