// A page's data loaded until it arrives: while the network (or the server) is down the loader retries with
// backoff, and at once when the browser says it is back online or the tab becomes visible; the page shows the
// reconnect banner meanwhile. A definite answer (404, 401, 422 …) ends it as an error.

import { backoffDelay, isTransient } from './backoff.js';

/**
 * Calls `fn()` until it resolves. Returns {promise, retryNow, cancel}; `promise` never rejects for a transient
 * failure (it keeps trying) and rejects with the error for a definite one. A cancelled loader never settles.
 * @param {() => Promise<any>} fn
 * @param {{onRetry?: (s: {attempt: number, delay: number, error: any}) => void, onRecovered?: () => void,
 *          win?: any, doc?: any, base?: number, max?: number, clock?: any}} options
 */
export function loadUntilDone(fn, {
  onRetry = () => {}, onRecovered = () => {}, win = globalThis.window, doc = globalThis.document,
  base = 500, max = 15000, clock = globalThis,
} = {}) {
  let attempt = 0;
  let timer = null;
  let cancelled = false;
  let running = false;
  let settle;
  const promise = new Promise((resolve, reject) => { settle = { resolve, reject }; });

  const onOnline = () => retryNow();
  const onVisible = () => { if (!doc || doc.visibilityState === 'visible') retryNow(); };
  win?.addEventListener?.('online', onOnline);
  doc?.addEventListener?.('visibilitychange', onVisible);
  const unwire = () => {
    win?.removeEventListener?.('online', onOnline);
    doc?.removeEventListener?.('visibilitychange', onVisible);
  };

  async function run() {
    if (cancelled || running) return;
    running = true;
    clock.clearTimeout(timer);
    timer = null;
    try {
      const value = await fn();
      if (cancelled) return;
      unwire();
      if (attempt > 0) onRecovered();
      settle.resolve(value);
    } catch (error) {
      if (cancelled) return;
      if (!isTransient(error)) {
        unwire();
        if (attempt > 0) onRecovered();
        settle.reject(error);
        return;
      }
      const delay = backoffDelay(attempt, { base, max });
      attempt += 1;
      onRetry({ attempt, delay, error });
      timer = clock.setTimeout(run, delay);
    } finally {
      running = false;
    }
  }

  function retryNow() {
    if (cancelled || running || timer === null) return; // nothing is waiting to be retried
    run();
  }

  function cancel() {
    cancelled = true;
    clock.clearTimeout(timer);
    unwire();
  }

  run();
  return { promise, retryNow, cancel };
}
