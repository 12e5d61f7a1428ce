// ImageKeeper: every <img> of a page loads in the end. A failed image is retried with backoff (at once when the
// browser comes back online); when its signed URL has expired — or it keeps failing, since an <img> cannot tell
// a 404 from a dropped connection — the page's data is fetched again for freshly signed URLs first.
// It also knows whether every image has loaded, so a page never says "all done" over a broken one.

import { backoffDelay } from './backoff.js';

/** Seconds since the epoch at which a signed image URL stops working (`?exp=`), or null when unsigned. */
export function urlExpiry(url) {
  const match = /[?&]exp=(\d+)/.exec(url || '');
  return match ? Number(match[1]) : null;
}

/** The URL with a retry marker, so the browser asks the server again instead of reusing the failed response. */
export function withAttempt(url, attempt) {
  if (!attempt) return url;
  const clean = url.replace(/([?&])_try=\d+(&|$)/, (_, lead, tail) => (tail ? lead : '')).replace(/[?&]$/, '');
  return `${clean}${clean.includes('?') ? '&' : '?'}_try=${attempt}`;
}

const EXPIRY_MARGIN_S = 10; // a URL this close to expiring is re-signed before the retry
const FAILURES_BEFORE_RESIGN = 2;
const REFRESH_REUSE_MS = 3000; // URLs signed this recently are fresh enough for every image

export class ImageKeeper {
  /**
   * @param {{urlFor: (key: string) => string|null, refresh: () => Promise<void>, onChange?: () => void,
   *          base?: number, max?: number, now?: () => number, clock?: any}} o
   *   urlFor gives the current URL of an image (after refresh() it is a freshly signed one)
   */
  constructor({ urlFor, refresh, onChange = () => {}, base = 500, max = 8000, now = () => Date.now(),
    clock = globalThis }) {
    this.urlFor = urlFor;
    this.refresh = refresh;
    this.onChange = onChange;
    this.base = base;
    this.max = max;
    this.now = now;
    this.clock = clock;
    this.entries = new Map(); // key → {img, url, state: 'loading'|'loaded'|'retrying', failures, timer}
    this._refreshing = null;
    this._refreshedAt = -Infinity;
    this.paused = false;
    this.retries = 0; // for the tests and diagnostics
    this.resigned = 0;
  }

  /** Shows the image `key` in `img` (a new element replaces the old one for that key). */
  attach(img, key) {
    const old = this.entries.get(key);
    const url = this.urlFor(key);
    if (old) this.clock.clearTimeout(old.timer);
    const entry = { img, url, state: 'loading', failures: old && old.url === url ? old.failures : 0, timer: null };
    // A new element starts as loading even for a picture loaded before: "loaded" means this <img> shows it.
    this.entries.set(key, entry);
    img.addEventListener('load', () => this._loaded(key, entry));
    img.addEventListener('error', () => this._failed(key, entry));
    img.dataset.img = entry.state;
    img.src = withAttempt(url, entry.failures);
    if (img.complete && img.naturalWidth > 0) this._loaded(key, entry);
    return img;
  }

  /** Forget images no longer on the page. */
  keepOnly(keys) {
    const wanted = new Set(keys);
    for (const [key, entry] of this.entries) {
      if (!wanted.has(key)) { this.clock.clearTimeout(entry.timer); this.entries.delete(key); }
    }
  }

  get total() { return this.entries.size; }

  get loaded() { return [...this.entries.values()].filter((e) => e.state === 'loaded').length; }

  get broken() { return [...this.entries.values()].filter((e) => e.state === 'retrying').length; }

  allLoaded() { return this.loaded === this.total; }

  /**
   * Stop retrying (the page's connection gave up and waits for the user or the network: nothing is sent until
   * then); resume() retries every broken image at once.
   */
  pause() {
    this.paused = true;
    for (const entry of this.entries.values()) { this.clock.clearTimeout(entry.timer); entry.timer = null; }
  }

  resume() {
    if (!this.paused) return;
    this.paused = false;
    this.retryAll();
  }

  /** The network is back (or the user asked): retry every broken image now. */
  retryAll() {
    if (this.paused) return;
    for (const [key, entry] of this.entries) {
      if (entry.state === 'retrying') { this.clock.clearTimeout(entry.timer); this._retry(key, entry); }
    }
  }

  dispose() {
    for (const entry of this.entries.values()) this.clock.clearTimeout(entry.timer);
    this.entries.clear();
  }

  _current(key, entry) { return this.entries.get(key) === entry; }

  _loaded(key, entry) {
    if (!this._current(key, entry) || entry.state === 'loaded') return;
    entry.state = 'loaded';
    entry.failures = 0;
    entry.img.dataset.img = 'loaded';
    // One image got through: the link is back, so the others need not wait out their backoff.
    if (this.broken) this.retryAll();
    this.onChange();
  }

  _failed(key, entry) {
    if (!this._current(key, entry)) return;
    entry.failures += 1;
    entry.state = 'retrying';
    entry.img.dataset.img = 'retrying';
    this.clock.clearTimeout(entry.timer);
    entry.timer = null;
    if (this.paused) { this.onChange(); return; }
    entry.timer = this.clock.setTimeout(() => this._retry(key, entry),
      backoffDelay(entry.failures - 1, { base: this.base, max: this.max }));
    this.onChange();
  }

  async _retry(key, entry) {
    if (!this._current(key, entry)) return;
    entry.timer = null;
    const exp = urlExpiry(entry.url);
    const expired = exp !== null && exp * 1000 <= this.now() + EXPIRY_MARGIN_S * 1000;
    if (expired || entry.failures % FAILURES_BEFORE_RESIGN === 0) {
      try {
        await this._refreshOnce();
      } catch {
        // the page's data could not be fetched either: retry with what we have; its failure backs off again
      }
    }
    if (!this._current(key, entry)) return;
    entry.url = this.urlFor(key) || entry.url;
    entry.state = 'loading';
    entry.img.dataset.img = 'loading';
    this.retries += 1;
    entry.img.src = withAttempt(entry.url, entry.failures);
  }

  _refreshOnce() {
    // Many images fail together (a network blip): one GET of the page's data serves them all.
    if (!this._refreshing && this.now() - this._refreshedAt < REFRESH_REUSE_MS) return Promise.resolve();
    if (!this._refreshing) {
      this.resigned += 1;
      this._refreshing = Promise.resolve(this.refresh()).then(() => { this._refreshedAt = this.now(); })
        .finally(() => { this._refreshing = null; });
    }
    return this._refreshing;
  }
}
