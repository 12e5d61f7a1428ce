// SSEConnectionManager: one task's event stream, kept alive across token expiry, network drops and restarts.
//
// It fixes the reference system's manager (docs: SSE_CONNECTION_FIX.zh.md):
//  - the URL carries a short-lived stream ticket, never the access token;
//  - a failed connection is *diagnosed* (GET /api/generate/{id} with the Authorization header) instead of guessed
//    from "did we receive data": 401 → refresh and reconnect, 404 → stop, network → backoff with jitter;
//  - every reconnect resumes from the last event id (`?last_event_id=`: a new EventSource does not carry
//    Last-Event-ID) and events are deduplicated by id, so nothing is lost or shown twice;
//  - only `finish` (or a 204 on resume) means finished — "the connection closed after data" means nothing;
//  - a heartbeat watchdog notices a silently dead connection (2.5 × the server's heartbeat interval);
//  - a session the server ended (a final `error` event with `fatal: true`, or a 401 `session_revoked` / 403
//    `account_disabled` answer) stops the manager for good: no reconnect, onFatal({code, message}) instead.
//
// No DOM dependency: fetch, EventSource, the clock, randomness and the logger are injected, so it runs under
// Node or in a page with fakes. All times are in milliseconds unless a name says otherwise.

export const State = Object.freeze({
  IDLE: 'idle',
  CONNECTING: 'connecting',
  OPEN: 'open',
  RECONNECTING: 'reconnecting',
  FAILED: 'failed',
  DONE: 'done',
});

/** Why the manager stopped or reconnected; the UI maps these to messages. */
export const Reason = Object.freeze({
  NETWORK: 'network',
  SERVER: 'server_error',
  HEARTBEAT: 'heartbeat_timeout',
  TOKEN: 'token_rejected',
  AUTH: 'auth_failed',
  NOT_FOUND: 'task_not_found',
  RETRY_LIMIT: 'retry_limit',
  VISIBLE: 'page_visible',
  ONLINE: 'back_online',
  MANUAL: 'manual',
  REVOKED: 'revoked',
});

/** Error codes by which the server says it ended the session; reconnecting cannot help. */
export const FATAL_CODES = Object.freeze(['session_revoked', 'account_disabled']);

// Every named event of a task's stream: EventSource delivers only the names it listens to, and an id it never
// sees would look like a gap. The text events (issue 13) arrive too; the views decide what to show of them.
const TASK_EVENTS = ['queued', 'progress', 'complete', 'error', 'retry', 'finish',
  'outline_delta', 'outline', 'copy_delta', 'copy', 'copy_error'];

/** Thrown by the injected auth object when no valid token can be had (refresh failed, logged out). */
export class AuthFailed extends Error {
  constructor(message, code = 'auth_failed') {
    super(message);
    this.name = 'AuthFailed';
    this.code = code;
  }
}

const defaultClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (id) => clearTimeout(id),
};

export class SSEConnectionManager {
  /**
   * @param {object} o
   * @param {string} o.taskId
   * @param {{ensureValidToken: () => Promise<string>, refresh: () => Promise<string>,
   *          currentToken: () => string|null}} o.auth  ensureValidToken/refresh throw AuthFailed when the
   *          session is gone, anything else when the server cannot be reached
   * @param {number} [o.maxAttempts]  reconnects after consecutive failures before giving up
   * @param {typeof fetch} o.fetch
   * @param {typeof EventSource} o.EventSource
   * @param {number} [o.startAfter]  resume cursor: events with id > startAfter are wanted
   * @param {number} [o.heartbeatInterval]  the server's heartbeat interval in seconds
   */
  constructor({
    taskId, auth, fetch: fetchFn, EventSource: ES, baseUrl = '', clock = defaultClock, random = Math.random,
    logger = console, startAfter = 0, heartbeatInterval = 15, maxAttempts = 5, baseDelay = 1000,
    maxDelay = 15000, onEvent = () => {}, onState = () => {}, onFatal = () => {},
  }) {
    this.taskId = taskId;
    this.auth = auth;
    this.fetch = fetchFn;
    this.ES = ES;
    this.baseUrl = baseUrl;
    this.clock = clock;
    this.random = random;
    this.log = logger;
    this.lastEventId = startAfter;
    this.watchdogMs = heartbeatInterval * 2500;
    this.maxAttempts = maxAttempts;
    this.baseDelay = baseDelay;
    this.maxDelay = maxDelay;
    this.onEvent = onEvent;
    this.onState = onState;
    this.onFatal = onFatal;
    this.fatal = null; // {code, message} once the server ended the session

    this.state = State.IDLE;
    this.attempt = 0; // consecutive failed attempts since the last healthy connection
    this.reason = null;
    this.receivedIds = []; // every event id handed to onEvent, in order — for tests and the diagnostics panel
    this.duplicates = 0;
    this.history = []; // {time, reason, attempt, outcome}
    this.connections = 0; // EventSources opened

    this._es = null;
    this._generation = 0; // bumps on every (re)connect/close: callbacks of an older connection are ignored
    this._retryTimer = null;
    this._watchdog = null;
    this._healthy = false;
    this._pendingReason = null;
    this._resumedFrom = 0;
  }

  // ---- public API ----

  start() {
    if (this.state !== State.IDLE) return;
    this._connect(null);
  }

  /** The banner's "reconnect" button: start over with a fresh attempt budget. */
  reconnectNow(reason = Reason.MANUAL) {
    if (this.state === State.DONE || this.fatal) return;
    this.attempt = 0;
    this._record(reason, 'requested');
    this._connect(reason);
  }

  /** The page became visible again: a connection that may have died in the background is checked. */
  handleVisible() {
    if (this.fatal) return;
    if (this.state === State.RECONNECTING || this.state === State.FAILED
        && this.reason !== Reason.NOT_FOUND && this.reason !== Reason.AUTH) {
      this.log.info('[SSE] page visible again: reconnecting now');
      this.reconnectNow(Reason.VISIBLE);
    }
  }

  handleOnline() {
    if (this.fatal) return;
    if (this.state === State.RECONNECTING || this.state === State.FAILED
        && this.reason !== Reason.NOT_FOUND && this.reason !== Reason.AUTH) {
      this.log.info('[SSE] network is back: reconnecting now');
      this.reconnectNow(Reason.ONLINE);
    }
  }

  /** Wire visibilitychange/online; returns a function that unwires them. */
  attach(win, doc) {
    const onVis = () => { if (doc.visibilityState === 'visible') this.handleVisible(); };
    const onOnline = () => this.handleOnline();
    doc.addEventListener('visibilitychange', onVis);
    win.addEventListener('online', onOnline);
    return () => {
      doc.removeEventListener('visibilitychange', onVis);
      win.removeEventListener('online', onOnline);
    };
  }

  close() {
    this._teardown();
    if (this.state !== State.DONE) this._setState(State.IDLE, null);
    this.log.info('[SSE] closed by the page');
  }

  snapshot() {
    return {
      state: this.state, attempt: this.attempt, maxAttempts: this.maxAttempts, reason: this.reason, fatal: this.fatal,
      lastEventId: this.lastEventId, receivedIds: [...this.receivedIds], duplicates: this.duplicates,
      history: this.history.map((h) => ({ ...h })), connections: this.connections,
    };
  }

  // ---- connecting ----

  async _connect(reason) {
    this._teardown();
    const gen = ++this._generation;
    this._setState(this.attempt === 0 && reason === null ? State.CONNECTING : State.RECONNECTING, reason);
    let token;
    try {
      token = await this.auth.ensureValidToken();
    } catch (err) {
      if (gen !== this._generation) return;
      if (err instanceof AuthFailed) return this._authFailed(err);
      return this._onFailure(gen, Reason.NETWORK); // the refresh itself could not reach the server
    }
    if (gen !== this._generation) return;
    let ticket;
    try {
      ticket = await this._ticket(token);
    } catch (err) {
      if (gen !== this._generation) return;
      if (err.code) return this._fatal({ code: err.code, message: err.message });
      return this._onFailure(gen, err.reason || Reason.NETWORK, err);
    }
    if (gen !== this._generation) return;
    const path = `/api/generate/stream/${this.taskId}`;
    const which = this.attempt === 0 ? 'first attempt' : `reconnect ${this.attempt}/${this.maxAttempts}`;
    this.log.info(`[SSE] connecting: ${path}?last_event_id=${this.lastEventId}&ticket=*** (${which})`);
    const url = `${this.baseUrl}${path}?ticket=${encodeURIComponent(ticket)}&last_event_id=${this.lastEventId}`;
    const es = new this.ES(url);
    this._es = es;
    this.connections += 1;
    this._healthy = false;
    this._pendingReason = reason;
    this._resumedFrom = this.lastEventId;
    es.onopen = () => {
      if (gen !== this._generation) return;
      this.log.info('[SSE] connected');
      this._setState(State.OPEN, null);
      this._armWatchdog(gen);
    };
    es.onerror = () => {
      if (gen !== this._generation) return;
      const readyState = es.readyState;
      es.close(); // always: we reconnect ourselves, with a fresh ticket and an explicit cursor
      this.log.warn(`[SSE] connection error (readyState=${readyState}); diagnosing`);
      this._diagnose(gen);
    };
    es.addEventListener('heartbeat', () => {
      if (gen !== this._generation) return;
      this._markHealthy();
      this._armWatchdog(gen);
    });
    for (const type of TASK_EVENTS) {
      es.addEventListener(type, (ev) => this._onMessage(gen, type, ev));
    }
  }

  async _ticket(token) {
    let res;
    try {
      res = await this.fetch(`${this.baseUrl}/api/generate/${this.taskId}/stream-ticket`, {
        method: 'POST', headers: { Authorization: `Bearer ${token}` },
      });
    } catch (err) {
      throw Object.assign(new Error('network'), { reason: Reason.NETWORK });
    }
    if (res.ok) return (await res.json()).ticket;
    const code = await fatalCode(res);
    throw Object.assign(new Error(`ticket ${res.status}`), { reason: statusReason(res.status), status: res.status, code });
  }

  _onMessage(gen, type, ev) {
    if (gen !== this._generation) return;
    this._armWatchdog(gen);
    if (type === 'error') {
      // The session's final event carries `fatal` and a `code` (and, unlike a page's error, no index or id).
      let data = null;
      try { data = JSON.parse(ev.data); } catch { /* a page error is parsed below */ }
      if (data && data.fatal === true && data.code) {
        this._fatal({ code: data.code, message: data.message || '' });
        return;
      }
    }
    const id = Number(ev.lastEventId);
    if (!Number.isSafeInteger(id) || id <= this.lastEventId) {
      this.duplicates += 1;
      this.log.debug(`[SSE] skipped duplicate event #${ev.lastEventId} (${type})`);
      return;
    }
    this._markHealthy();
    this.lastEventId = id;
    this.receivedIds.push(id);
    let data = {};
    try { data = JSON.parse(ev.data); } catch { /* keep {} */ }
    this.onEvent(type, data, id);
    if (type === 'finish') {
      this.log.info(`[SSE] task finished (last event #${id}); closing`);
      this._teardown();
      this._setState(State.DONE, null);
    }
  }

  _markHealthy() {
    if (this._healthy) return;
    this._healthy = true;
    if (this._pendingReason !== null) {
      this.log.info(`[SSE] resumed after event #${this._resumedFrom} (${this._pendingReason})`);
      this._record(this._pendingReason, 'connected');
      this._pendingReason = null;
    }
    this.attempt = 0;
  }

  // ---- failures ----

  async _diagnose(gen) {
    this._clearWatchdog();
    let res;
    try {
      // The current token, as it is: a 401 here is the information we want.
      const token = this._currentToken();
      res = await this.fetch(`${this.baseUrl}/api/generate/${this.taskId}`, {
        headers: token ? { Authorization: `Bearer ${token}` } : {},
      });
    } catch {
      if (gen !== this._generation) return;
      return this._onFailure(gen, Reason.NETWORK);
    }
    if (gen !== this._generation) return;
    if (res.ok) {
      const task = await res.json().catch(() => ({}));
      if (gen !== this._generation) return;
      const over = ['done', 'partial', 'failed', 'cancelled'].includes(task.status);
      if (over && task.last_event_id !== undefined && task.last_event_id <= this.lastEventId) {
        // What a 204 on resume says: we hold the task's last event, and the task is over.
        this.log.info('[SSE] the server has nothing after our last event and the task is over: done');
        this._teardown();
        return this._setState(State.DONE, null);
      }
      return this._onFailure(gen, this._healthy ? Reason.NETWORK : Reason.SERVER);
    }
    const code = await fatalCode(res);
    if (gen !== this._generation) return;
    if (code) return this._fatal({ code, message: '' });
    return this._onFailure(gen, statusReason(res.status));
  }

  _currentToken() {
    try { return this.auth.currentToken ? this.auth.currentToken() : null; } catch { return null; }
  }

  async _onFailure(gen, reason) {
    if (reason === Reason.NOT_FOUND) {
      this.log.error('[SSE] the task does not exist (404): not reconnecting');
      this._record(reason, 'stopped');
      this._teardown();
      return this._setState(State.FAILED, Reason.NOT_FOUND);
    }
    if (reason === Reason.TOKEN) {
      this.log.warn('[Auth] the server rejected the access token (401): refreshing');
      try {
        await this.auth.refresh();
      } catch (err) {
        if (gen !== this._generation) return;
        return this._authFailed(err);
      }
      if (gen !== this._generation) return;
      this.log.info('[Auth] token refreshed; reconnecting');
    }
    this.attempt += 1;
    if (this.attempt > this.maxAttempts) {
      this.attempt = this.maxAttempts;
      this.log.error(`[SSE] gave up after ${this.maxAttempts} reconnects (last reason: ${reason})`);
      this._record(reason, 'gave_up');
      this._teardown();
      return this._setState(State.FAILED, Reason.RETRY_LIMIT, reason);
    }
    const delay = reason === Reason.TOKEN ? 0 : this._backoff(this.attempt);
    this.log.warn(`[SSE] reconnecting in ${Math.round(delay)} ms (${reason}; reconnect ${this.attempt}/`
      + `${this.maxAttempts})`);
    this._record(reason, 'retrying');
    this._setState(State.RECONNECTING, reason);
    this._retryTimer = this.clock.setTimeout(() => {
      this._retryTimer = null;
      if (gen === this._generation) this._connect(reason);
    }, delay);
  }

  _authFailed(err) {
    if (err && FATAL_CODES.includes(err.code)) return this._fatal({ code: err.code, message: err.message || '' });
    this.log.error(`[Auth] no valid session (${err && err.code ? err.code : 'auth_failed'}): log in again`);
    this._record(Reason.AUTH, 'stopped');
    this._teardown();
    this._setState(State.FAILED, Reason.AUTH);
  }

  /** The server ended the session: stop for good and tell the page why. */
  _fatal({ code, message }) {
    if (this.fatal) return;
    this.fatal = { code, message };
    this.log.error(`[SSE] the server ended the session (${code}): not reconnecting`);
    this._record(Reason.REVOKED, 'stopped');
    this._teardown();
    this._setState(State.FAILED, Reason.REVOKED, code);
    this.onFatal({ code, message });
  }

  /** Full jitter: uniform in [base/2, cap], the cap doubling per attempt, bounded by maxDelay. */
  _backoff(attempt) {
    const cap = Math.min(this.maxDelay, this.baseDelay * 2 ** (attempt - 1));
    return cap / 2 + this.random() * cap / 2;
  }

  _armWatchdog(gen) {
    this._clearWatchdog();
    this._watchdog = this.clock.setTimeout(() => {
      if (gen !== this._generation || this.state === State.DONE) return;
      this.log.warn(`[SSE] no event or heartbeat for ${this.watchdogMs / 1000}s: treating the connection as dead`);
      if (this._es) this._es.close();
      this._es = null;
      this._onFailure(gen, Reason.HEARTBEAT);
    }, this.watchdogMs);
  }

  _clearWatchdog() {
    if (this._watchdog !== null) this.clock.clearTimeout(this._watchdog);
    this._watchdog = null;
  }

  _teardown() {
    this._generation += 1;
    this._clearWatchdog();
    if (this._retryTimer !== null) this.clock.clearTimeout(this._retryTimer);
    this._retryTimer = null;
    if (this._es) this._es.close();
    this._es = null;
  }

  _record(reason, outcome) {
    this.history.push({ time: new Date(this.clock.now()).toISOString(), reason, attempt: this.attempt, outcome });
    if (this.history.length > 100) this.history.shift();
  }

  _setState(state, reason, cause = null) {
    this.state = state;
    this.reason = reason;
    this.onState({ state, reason, cause, attempt: this.attempt, maxAttempts: this.maxAttempts,
      lastEventId: this.lastEventId });
  }
}

/** The code of a 401/403 answer when it says the session was ended on purpose, else null. */
async function fatalCode(res) {
  if (res.status !== 401 && res.status !== 403) return null;
  try {
    const body = await (res.clone ? res.clone() : res).json();
    return body && FATAL_CODES.includes(body.code) ? body.code : null;
  } catch {
    return null;
  }
}

function statusReason(status) {
  if (status === 401) return Reason.TOKEN;
  if (status === 404) return Reason.NOT_FOUND;
  return Reason.SERVER;
}
