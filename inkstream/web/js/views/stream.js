// Builds the SSE manager for a task with the browser's real fetch/EventSource and the app's settings.

import { SSEConnectionManager } from '../sse-manager.js';

export function openStream(ctx, taskId, { startAfter = 0, onEvent, onState }) {
  const manager = new SSEConnectionManager({
    taskId,
    auth: ctx.auth,
    fetch: window.fetch.bind(window),
    EventSource: window.EventSource,
    startAfter,
    heartbeatInterval: ctx.heartbeatInterval(),
    ...ctx.config.sse,
    onEvent,
    onState,
    // The server ended the session (revoked, account disabled): the app shows the login page and says why.
    onFatal: ({ code }) => ctx.auth.endSession(code),
  });
  const detach = manager.attach(window, document);
  ctx.sse = manager;
  const close = manager.close.bind(manager);
  manager.close = () => { detach(); close(); };
  manager.start();
  return manager;
}
