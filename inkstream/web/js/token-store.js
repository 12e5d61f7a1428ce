// The refresh token's source of truth across tabs: one IndexedDB record.
//
// Why not only localStorage: in Chromium each tab keeps a cached copy of localStorage, updated asynchronously
// from the other tabs' writes. A tab that was granted the refresh lock right after another tab rotated the
// tokens can still read the *old* refresh token there, send it, and get the whole login revoked
// (`refresh_token_reused`) — the e2e test of two tabs did exactly that. IndexedDB transactions are committed in
// the browser process: a transaction started after another tab's write committed sees that write. So the lock
// holder reads and writes the pair here; localStorage keeps a mirror for synchronous reads and reloads.

const DB_NAME = 'inkstream';
const STORE = 'session';
const KEY = 'tokens';

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class IdbTokenStore {
  constructor(indexedDB) {
    this.idb = indexedDB;
    this._db = null;
  }

  async _open() {
    if (!this._db) {
      const request = this.idb.open(DB_NAME, 1);
      request.onupgradeneeded = () => request.result.createObjectStore(STORE);
      this._db = promisify(request);
    }
    return this._db;
  }

  async _tx(mode, fn) {
    const db = await this._open();
    return new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const result = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(result && 'result' in result ? result.result : undefined);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  /** {access_token, refresh_token} or null. */
  get() { return this._tx('readonly', (store) => store.get(KEY)).then((v) => v || null); }

  /** Resolves once committed: every transaction started afterwards, in any tab, sees it. */
  set(pair) {
    const value = { access_token: pair.access_token, refresh_token: pair.refresh_token };
    return this._tx('readwrite', (store) => store.put(value, KEY));
  }

  clear() { return this._tx('readwrite', (store) => store.delete(KEY)); }
}

/** For environments without IndexedDB (and unit tests): the same interface over nothing. */
export class MemoryTokenStore {
  constructor() { this.value = null; }

  async get() { return this.value; }

  async set(pair) { this.value = { access_token: pair.access_token, refresh_token: pair.refresh_token }; }

  async clear() { this.value = null; }
}
