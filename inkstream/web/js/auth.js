// The browser session. The refresh token lives in an HttpOnly cookie (SameSite=Strict, path /api/auth) that no
// script on the page can read; the access token lives in this tab's memory only. localStorage keeps just who is
// logged in (name and role, no secret), so a reload knows to ask the cookie for a fresh access token.
//
// Refresh tokens rotate, and presenting a spent one revokes the whole login (`refresh_token_reused`). All tabs
// share the one cookie, so two tabs refreshing at once would send the same token twice and log the user out.
// Every refresh therefore runs inside a Web Lock shared by the origin's tabs: the cookie a tab sends is always the
// one the previous holder's response set. A BroadcastChannel hands the fresh access token to the other tabs
// (memory to memory; a tab that got one while it waited for the lock uses it instead of refreshing again) and
// tells them about logins and logouts. No DOM dependency: fetch, storage, locks and the channel are injected.

import { AuthFailed } from './sse-manager.js';

export { AuthFailed };

export const KEYS = Object.freeze({
  user: 'inkstream.user', // {id, username, role}: who is logged in — never a token
});

// Where earlier versions kept tokens; removed on start so no refresh token outlives the upgrade in storage.
const LEGACY_KEYS = ['inkstream.access_token', 'inkstream.refresh_token'];
const LEGACY_IDB = 'inkstream';

/** Codes that mean the server ended this session on purpose: no refresh can help, the user must log in again. */
export const REVOKED = Object.freeze(['session_revoked', 'account_disabled']);

/** The error code of a 401/403 answer when it is a revocation, else null (the body is left unread). */
export async function revokedCode(res) {
  if (res.status !== 401 && res.status !== 403) return null;
  try {
    const code = (await res.clone().json()).code;
    return REVOKED.includes(code) ? code : null;
  } catch {
    return null;
  }
}

const LOCK_NAME = 'inkstream-token-refresh';
const CHANNEL_NAME = 'inkstream-auth';

/** The JWT's payload, unverified (the server verifies); null when it is not a JWT. */
export function decodeJwt(token) {
  try {
    const part = token.split('.')[1];
    const b64 = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
    const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return null;
  }
}

/** Seconds until the token expires (negative when expired); -Infinity when it carries no `exp`. */
export function secondsLeft(token, nowMs = Date.now()) {
  const payload = token ? decodeJwt(token) : null;
  if (!payload || typeof payload.exp !== 'number') return -Infinity;
  return payload.exp - nowMs / 1000;
}

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
  }
}

export async function errorFrom(res) {
  let body = {};
  try { body = await res.json(); } catch { /* not JSON */ }
  return new ApiError(res.status, body.code || `http_${res.status}`, body.message || res.statusText);
}

export class Auth {
  constructor({
    fetch: fetchFn, storage, locks = null, BroadcastChannel: BC = null, now = () => Date.now(),
    logger = console, baseUrl = '', indexedDB = null,
  }) {
    this.fetchFn = fetchFn;
    this.storage = storage;
    this.locks = locks;
    this.now = now;
    this.log = logger;
    this.baseUrl = baseUrl;
    this._access = null; // this tab's access token: memory only
    this._inflight = null;
    this._listeners = { logout: [], login: [] };
    this.refreshCount = 0; // refreshes this tab actually sent, for tests and diagnostics
    this.refreshAttempts = 0; // refreshes asked of the server, refused ones included (stream reports)
    for (const key of LEGACY_KEYS) storage.removeItem(key);
    try { indexedDB?.deleteDatabase(LEGACY_IDB); } catch { /* private mode: nothing was stored */ }
    this.channel = BC ? new BC(CHANNEL_NAME) : null;
    if (this.channel) {
      this.channel.onmessage = (ev) => {
        const msg = ev.data || {};
        if (msg.type === 'refreshed') {
          this.log.info('[Auth] another tab refreshed the session');
          this._adopt(msg.access_token);
        }
        if (msg.type === 'logout') {
          this._access = null;
          this._emit('logout', { reason: msg.reason || 'other_tab', fromOtherTab: true });
        }
        if (msg.type === 'login') this._emit('login', { fromOtherTab: true });
      };
    }
  }

  on(event, fn) { this._listeners[event].push(fn); }

  _emit(event, detail) { for (const fn of this._listeners[event]) fn(detail); }

  currentToken() { return this._access; }

  user() {
    try { return JSON.parse(this.storage.getItem(KEYS.user) || 'null'); } catch { return null; }
  }

  setUser(me) { this.storage.setItem(KEYS.user, JSON.stringify(me)); }

  /** Whether this browser holds a login (the cookie itself cannot be seen from here: the user record says so). */
  isLoggedIn() { return Boolean(this.storage.getItem(KEYS.user)); }

  /** Take another tab's fresh access token when it outlives ours. */
  _adopt(token) {
    if (token && secondsLeft(token, this.now()) > secondsLeft(this._access, this.now())) this._access = token;
  }

  _clear() {
    this._access = null;
    this.storage.removeItem(KEYS.user);
  }

  async _post(path, body) {
    const init = { method: 'POST', credentials: 'same-origin' };
    if (body !== undefined) Object.assign(init, { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    return this.fetchFn(`${this.baseUrl}${path}`, init);
  }

  async register(username, password, inviteCode = '') {
    const body = inviteCode ? { username, password, invite_code: inviteCode } : { username, password };
    const res = await this._post('/api/auth/register', body);
    if (!res.ok) throw await errorFrom(res);
    return this.login(username, password);
  }

  async login(username, password) {
    const res = await this._post('/api/auth/login', { username, password, cookie: true });
    if (!res.ok) throw await errorFrom(res);
    this._access = (await res.json()).access_token;
    this.setUser({ username }); // logged in from here on, even if the next call fails
    const me = await this.fetch('/api/auth/me');
    if (me.ok) this.setUser(await me.json());
    this.log.info('[Auth] logged in');
    this.channel?.postMessage({ type: 'login' });
    this._emit('login', { fromOtherTab: false });
  }

  async logout() {
    const wasIn = this.isLoggedIn();
    this._clear();
    if (wasIn) {
      try { await this._post('/api/auth/logout'); } catch { /* offline: the cookie stays until it expires */ }
    }
    this.log.info('[Auth] logged out');
    this.channel?.postMessage({ type: 'logout', reason: 'logged_out' });
    this._emit('logout', { reason: 'logged_out', fromOtherTab: false });
  }

  /** The server ended this session (revoked, account disabled): forget it here and in every tab, say why. */
  async endSession(reason) {
    if (!this.isLoggedIn()) return;
    this._clear();
    this.log.warn(`[Auth] the server ended this session (${reason})`);
    this.channel?.postMessage({ type: 'logout', reason });
    this._emit('logout', { reason, fromOtherTab: false });
  }

  /** A token that will still be valid in `thresholdSeconds`, refreshing first when needed. */
  async ensureValidToken(thresholdSeconds = 300) {
    if (!this.isLoggedIn()) throw new AuthFailed('Not logged in.', 'token_missing');
    const token = this._access;
    const left = secondsLeft(token, this.now());
    if (left > thresholdSeconds) {
      this.log.debug(`[Auth] access token valid for ${Math.round(left)}s`);
      return token;
    }
    this.log.info(!token ? '[Auth] no access token in this tab yet: refreshing first'
      : left > 0 ? `[Auth] access token expires in ${Math.round(left)}s: refreshing first`
        : '[Auth] access token has expired: refreshing first');
    return this.refresh();
  }

  /** Rotate the tokens once for this tab, and at most once at a time across all tabs. */
  refresh() {
    if (!this._inflight) {
      const seen = this._access;
      const run = () => this._refreshLocked(seen);
      const locked = this.locks ? this.locks.request(LOCK_NAME, run) : run();
      this._inflight = locked.finally(() => { this._inflight = null; });
    }
    return this._inflight;
  }

  async _refreshLocked(seen) {
    if (!this.isLoggedIn()) throw new AuthFailed('Logged out.', 'logged_out');
    if (this._access && this._access !== seen && secondsLeft(this._access, this.now()) > 0) {
      this.log.info('[Auth] another tab refreshed while we waited: using its token');
      return this._access;
    }
    this.log.info('[Auth] refreshing the access token…');
    let res;
    this.refreshAttempts += 1;
    try {
      res = await this._post('/api/auth/refresh'); // the HttpOnly cookie carries the refresh token
    } catch (err) {
      this.log.warn('[Auth] token refresh failed: the server cannot be reached');
      throw err; // not an AuthFailed: the session may be fine, the network is not
    }
    if (res.ok) {
      const pair = await res.json();
      this._access = pair.access_token;
      this.refreshCount += 1;
      this.log.info(`[Auth] token refreshed (valid for ${pair.expires_in}s)`);
      this.channel?.postMessage({ type: 'refreshed', access_token: pair.access_token });
      return pair.access_token;
    }
    const err = await errorFrom(res);
    if (res.status >= 500 || res.status === 429) {
      this.log.warn(`[Auth] token refresh failed (${res.status} ${err.code}); will retry`);
      throw err;
    }
    this.log.error(`[Auth] token refresh refused (${err.code}): the session is over, log in again`);
    const reason = REVOKED.includes(err.code) ? err.code : 'session_expired';
    this._clear();
    this.channel?.postMessage({ type: 'logout', reason });
    this._emit('logout', { reason, fromOtherTab: false });
    throw new AuthFailed(err.message, err.code);
  }

  /** fetch with the Bearer token; one refresh-and-retry when the server says the token is expired/invalid. */
  async fetch(path, options = {}) {
    const send = (token) => this.fetchFn(`${this.baseUrl}${path}`, {
      ...options, headers: { ...(options.headers || {}), Authorization: `Bearer ${token}` },
    });
    const token = await this.ensureValidToken(30);
    const res = await send(token);
    const revoked = await revokedCode(res);
    if (revoked) {
      await this.endSession(revoked);
      return res;
    }
    if (res.status !== 401) return res;
    this.log.warn(`[Auth] ${path.split('?')[0]} answered 401: refreshing and retrying once`);
    return send(await this.refresh());
  }
}
