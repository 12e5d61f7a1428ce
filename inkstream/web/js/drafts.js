// Unsent drafts (the home page's topic and reference images, an edited outline) kept in IndexedDB, so a reload,
// a crash or a re-login can offer them back. Keys carry the username: another account on the same browser never
// sees them. IndexedDB rather than localStorage: reference images are data URLs of up to 5 MB each.
// A dozen lines of IndexedDB by hand: the UI has no build step to bundle a wrapper library.

const DB_NAME = 'inkstream-drafts';
const STORE = 'drafts';

function promisify(request) {
  return new Promise((resolve, reject) => {
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
}

export class DraftStore {
  /** @param {IDBFactory|null} indexedDB  null (private modes that refuse it) keeps drafts in memory only */
  constructor(indexedDB) {
    this.idb = indexedDB;
    this._db = null;
    this._memory = new Map();
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
      tx.oncomplete = () => resolve(result.result);
      tx.onerror = () => reject(tx.error);
      tx.onabort = () => reject(tx.error);
    });
  }

  async get(key) {
    if (!this.idb) return this._memory.get(key) ?? null;
    try { return (await this._tx('readonly', (s) => s.get(key))) ?? null; } catch { return this._memory.get(key) ?? null; }
  }

  async put(key, value) {
    const record = { ...value, savedAt: Date.now() };
    this._memory.set(key, record);
    if (!this.idb) return;
    try { await this._tx('readwrite', (s) => s.put(record, key)); } catch { /* quota or refused: memory only */ }
  }

  async delete(key) {
    this._memory.delete(key);
    if (!this.idb) return;
    try { await this._tx('readwrite', (s) => s.delete(key)); } catch { /* nothing to do */ }
  }
}

/** Calls `save()` at most once per `ms` while edits keep coming, and once more after the last one. */
export function debounced(save, ms = 300) {
  let timer = null;
  const fn = () => { clearTimeout(timer); timer = setTimeout(() => { timer = null; save(); }, ms); };
  fn.flush = () => { if (timer !== null) { clearTimeout(timer); timer = null; save(); } };
  fn.cancel = () => { clearTimeout(timer); timer = null; };
  return fn;
}

let shared = null;

/** The app's one store. */
export function drafts() {
  if (!shared) shared = new DraftStore(globalThis.indexedDB || null);
  return shared;
}

/** The key of a draft for the logged-in user: `alice:home`, `alice:outline:<task id>`. */
export function draftKey(auth, ...parts) {
  const user = auth.user();
  return [user && user.username ? user.username : '?', ...parts].join(':');
}
