// What this browser saw of one task's stream, reported once when the stream session ends (finished, failed, or
// left by the user) to POST /api/telemetry/stream: reconnects and why, time connected, token refreshes and
// their results — the client's side of the dashboard's three figures. Counts only: no token, URL or task id.

// The connection manager's reasons in the report's vocabulary (inkstream/usage/telemetry.py REASONS).
const REASONS = {
  network: 'network', server_error: 'server_error', heartbeat_timeout: 'heartbeat_timeout',
  token_rejected: 'token_expired', task_not_found: 'not_found', page_visible: 'visibility',
  back_online: 'online', manual: 'manual',
};
// History outcomes that mean "a reconnect was made" (a `connected` record marks its success, not another one).
const RECONNECT_OUTCOMES = ['retrying', 'requested'];

/** The report's body from the manager's reconnect history and the session's counters. */
export function buildReport({ outcome, failureCode = null, history = [], connectedMs = 0, refreshAttempts = 0,
  refreshOk = 0 }) {
  const reasons = {};
  let reconnects = 0;
  for (const record of history) {
    if (!RECONNECT_OUTCOMES.includes(record.outcome)) continue;
    reconnects += 1;
    const reason = REASONS[record.reason] || 'other';
    reasons[reason] = (reasons[reason] || 0) + 1;
  }
  const body = {
    client: 'web', outcome, reconnects, reasons, connected_ms: Math.max(0, Math.round(connectedMs)),
    refreshes: { attempts: Math.max(0, refreshAttempts), ok: Math.max(0, Math.min(refreshOk, refreshAttempts)) },
  };
  const code = failureCode && String(failureCode).toLowerCase().replace(/[^a-z0-9_]/g, '_').slice(0, 40);
  if (outcome === 'failed' && code) body.failure_code = code;
  return body;
}

/** One stream session's report: start() when following begins, state() on every manager state, end() once. */
export class StreamReporter {
  constructor(auth, { now = () => Date.now(), log = console } = {}) {
    this.auth = auth;
    this.now = now;
    this.log = log;
    this.sent = false;
    this.started = false;
    this.connectedMs = 0;
    this.openSince = null;
  }

  start() {
    if (this.started) return;
    this.started = true;
    this.refreshAttempts0 = this.auth.refreshAttempts || 0;
    this.refreshOk0 = this.auth.refreshCount || 0;
  }

  state(s) {
    if (s === 'open' && this.openSince === null) this.openSince = this.now();
    if (s !== 'open' && this.openSince !== null) {
      this.connectedMs += this.now() - this.openSince;
      this.openSince = null;
    }
  }

  /** The report (and it is sent) — once per session; later calls do nothing. */
  end(outcome, { failureCode = null, history = [] } = {}) {
    if (!this.started || this.sent) return null;
    this.sent = true;
    this.state('ended');
    const body = buildReport({
      outcome, failureCode, history, connectedMs: this.connectedMs,
      refreshAttempts: (this.auth.refreshAttempts || 0) - this.refreshAttempts0,
      refreshOk: (this.auth.refreshCount || 0) - this.refreshOk0,
    });
    // keepalive: the report still goes out when the user is leaving the page.
    this.auth.fetch('/api/telemetry/stream', {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body), keepalive: true,
    }).catch(() => this.log.info('[SSE] stream report not sent (offline or logged out)'));
    return body;
  }
}
