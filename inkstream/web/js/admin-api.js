// The admin and session routes of docs/admin-api.md as functions: each returns the parsed JSON body (null for a
// 204) or throws ApiError {status, code, message, key}.

import { errorFrom } from './auth.js';

/** A query string from the filters that are set (empty strings and null are left out). */
export function query(params) {
  const q = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') q.set(key, String(value));
  }
  const text = q.toString();
  return text ? `?${text}` : '';
}

export function makeAdminApi(auth) {
  async function call(path, { method = 'GET', body } = {}) {
    const options = { method };
    if (body !== undefined) {
      options.headers = { 'Content-Type': 'application/json' };
      options.body = JSON.stringify(body);
    }
    const res = await auth.fetch(path, options);
    if (!res.ok) {
      const copy = res.clone();
      const err = await errorFrom(res);
      // A 422 may name the bad key of a providers configuration.
      try { err.key = (await copy.json()).key || null; } catch { err.key = null; }
      throw err;
    }
    return res.status === 204 ? null : res.json();
  }
  const A = '/api/admin';
  const enc = encodeURIComponent;
  return {
    // every user
    me: () => call('/api/auth/me'),
    sessions: () => call('/api/auth/sessions'),
    revokeSession: (id) => call(`/api/auth/sessions/${enc(id)}`, { method: 'DELETE' }),
    logoutAll: () => call('/api/auth/logout-all', { method: 'POST' }),
    changePassword: (current, next) => call('/api/auth/password',
      { method: 'POST', body: { current_password: current, new_password: next } }),
    // users
    users: (filters) => call(`${A}/users${query(filters)}`),
    user: (id) => call(`${A}/users/${enc(id)}`),
    createUser: (body) => call(`${A}/users`, { method: 'POST', body }),
    updateUser: (id, body) => call(`${A}/users/${enc(id)}`, { method: 'PUT', body }),
    setStatus: (id, isActive) => call(`${A}/users/${enc(id)}/status`, { method: 'PATCH', body: { is_active: isActive } }),
    revokeUserSessions: (id) => call(`${A}/users/${enc(id)}/revoke-sessions`, { method: 'POST' }),
    deleteUser: (id) => call(`${A}/users/${enc(id)}`, { method: 'DELETE' }),
    // tasks and images
    records: (filters) => call(`${A}/records${query(filters)}`),
    cancelRecord: (id) => call(`${A}/records/${enc(id)}/cancel`, { method: 'POST' }),
    deleteRecord: (id) => call(`${A}/records/${enc(id)}`, { method: 'DELETE' }),
    images: (filters) => call(`${A}/images${query(filters)}`),
    imageStats: () => call(`${A}/images/stats`),
    // providers
    providers: () => call(`${A}/config/image-providers`),
    saveProviders: (config, comment) => call(`${A}/config/image-providers`,
      { method: 'PUT', body: { config, comment } }),
    providerHistory: (filters) => call(`${A}/config/image-providers/history${query(filters)}`),
    rollbackProviders: (version) => call(`${A}/config/image-providers/rollback/${enc(version)}`, { method: 'POST' }),
    testProvider: (section, provider) => call(`${A}/config/image-providers/test`,
      { method: 'POST', body: { section, provider } }),
    // registration and invites
    registration: () => call(`${A}/registration`),
    saveRegistration: (body) => call(`${A}/registration`, { method: 'PUT', body }),
    registrationHistory: (filters) => call(`${A}/registration/history${query(filters)}`),
    invites: (filters) => call(`${A}/registration/invites${query(filters)}`),
    createInvite: (maxUses, expiresIn) => call(`${A}/registration/invites`,
      { method: 'POST', body: { max_uses: maxUses, expires_in: expiresIn } }),
    revokeInvite: (code) => call(`${A}/registration/invites/${enc(code)}`, { method: 'DELETE' }),
    // audit log
    audit: (filters) => call(`${A}/audit-logs${query(filters)}`),
    auditCsvPath: (filters) => `${A}/audit-logs/export.csv${query(filters)}`,
    fetchRaw: (path) => auth.fetch(path),
    // monitoring
    dashboard: (period) => call(`${A}/dashboard/stats${query({ period })}`),
  };
}
