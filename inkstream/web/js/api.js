// The HTTP API as functions: each returns the parsed JSON body or throws ApiError {status, code, message}.

import { errorFrom } from './auth.js';

export function makeApi(auth) {
  async function call(path, { method = 'GET', body } = {}) {
    const options = { method };
    if (body !== undefined) {
      options.headers = { 'Content-Type': 'application/json' };
      options.body = JSON.stringify(body);
    }
    const res = await auth.fetch(path, options);
    if (!res.ok) throw await errorFrom(res);
    return res.status === 204 ? null : res.json();
  }
  return {
    createOutline: (topic, images) => call('/api/outline', { method: 'POST', body: { topic, images } }),
    getOutline: (id) => call(`/api/outline/${id}`),
    createGeneration: (body) => call('/api/generate', { method: 'POST', body }),
    getTask: (id) => call(`/api/generate/${id}`),
    cancel: (id) => call(`/api/generate/${id}/cancel`, { method: 'POST' }),
    retryFailed: (id) => call(`/api/generate/${id}/retry`, { method: 'POST' }),
    regenerate: (id, index) => call(`/api/generate/${id}/regenerate`, { method: 'POST', body: { index } }),
    history: (page, pageSize = 12, { q = '', status = '' } = {}) => call(`/api/history?${new URLSearchParams({
      page, page_size: pageSize, ...(q.trim() ? { q: q.trim() } : {}), ...(status ? { status } : {}) })}`),
    rename: (id, title) => call(`/api/history/${id}`, { method: 'PATCH', body: { title } }),
    deleteTask: (id) => call(`/api/history/${id}`, { method: 'DELETE' }),
  };
}

/** Service facts the UI shows; GET /api/health may carry them (see the report), otherwise the defaults. */
export async function serviceInfo(fetchFn) {
  try {
    const res = await fetchFn('/api/health');
    const body = res.ok ? await res.json() : {};
    return {
      heartbeatInterval: typeof body.heartbeat_interval === 'number' ? body.heartbeat_interval : null,
      // Only a service that says so is treated as having an AI outline model.
      aiOutline: typeof body.outline_generator === 'string' && !body.outline_generator.startsWith('offline'),
      version: body.version || '',
    };
  } catch {
    return { heartbeatInterval: null, aiOutline: false, version: '' };
  }
}
