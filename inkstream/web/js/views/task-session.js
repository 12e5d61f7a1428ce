// TaskSession: what the page knows about one generation task — its pages, whether it is finished, and the
// live connection — kept apart from rendering so a language switch re-renders without reconnecting.

import { loadUntilDone } from '../net-retry.js';
import { StreamReporter } from '../stream-report.js';
import { openStream } from './stream.js';

const TERMINAL = ['done', 'partial', 'failed', 'cancelled'];

export class TaskSession {
  constructor(ctx, taskId) {
    this.ctx = ctx;
    this.taskId = taskId;
    this.pages = []; // [{index, type, content, status, image_url, error, retryable}]
    this.topic = '';
    this.status = 'loading';
    this.finished = false;
    this.cancelled = false;
    this.notFound = false;
    this.loadError = null;
    this.offline = null; // {attempt} while the first load waits for the network
    this.copy = null; // {titles, body, tags} once written
    this.copyText = ''; // the copy as it is being written (copy_delta), until `copy` arrives
    this._loader = null;
    this.conn = { state: 'idle' };
    this.completeCounts = {}; // index → `complete` events applied, for the "shown exactly once" tests
    this.manager = null;
    this.reporter = new StreamReporter(ctx.auth); // this stream session's report to the dashboard
    this._listeners = new Set();
  }

  subscribe(fn) {
    this._listeners.add(fn);
    return () => this._listeners.delete(fn);
  }

  _changed(what = 'all', index = null) {
    for (const fn of this._listeners) fn(what, index);
  }

  get done() { return this.pages.filter((p) => p.status === 'done').length; }

  get failed() { return this.pages.filter((p) => p.status === 'error').length; }

  async init() {
    let snapshot;
    // Network down (or the server restarting) when the page opens: show the banner and keep trying.
    this._loader = loadUntilDone(() => this.ctx.api.getTask(this.taskId), {
      onRetry: ({ attempt }) => { this.offline = { attempt }; this._changed('offline'); },
      onRecovered: () => { this.offline = null; this._changed('offline'); },
    });
    try {
      snapshot = await this._loader.promise;
    } catch (err) {
      if (err.status === 404 || err.status === 422) this.notFound = true;
      else this.loadError = err;
      this.status = 'error';
      return this._changed();
    } finally {
      this._loader = null;
    }
    this._applySnapshot(snapshot);
    if (!this.finished) this._connect(0);
    this._changed();
  }

  _applySnapshot(snapshot) {
    this.topic = snapshot.topic || '';
    this.status = snapshot.status;
    this.pages = snapshot.images.map((p) => ({ ...p }));
    if (snapshot.copy) this.copy = snapshot.copy;
    this.finished = TERMINAL.includes(snapshot.status);
    this.cancelled = snapshot.status === 'cancelled';
  }

  _connect(startAfter) {
    this.manager?.close();
    if (this.reporter.sent) this.reporter = new StreamReporter(this.ctx.auth); // a new round: a new session
    this.reporter.start();
    this.manager = openStream(this.ctx, this.taskId, {
      startAfter,
      onEvent: (type, data, id) => this._onEvent(type, data, id),
      onState: (s) => {
        this.conn = s;
        this.reporter.state(s.state);
        if (s.state === 'failed') this._report('failed', s.reason);
        this._changed('conn');
      },
    });
  }

  _report(outcome, failureCode = null) {
    this.reporter.end(outcome, { failureCode, history: this.manager ? this.manager.snapshot().history : [] });
  }

  _page(index) { return this.pages.find((p) => p.index === index); }

  _onEvent(type, data, id) {
    const page = data && typeof data.index === 'number' ? this._page(data.index) : null;
    if (type === 'queued') {
      if (this.status === 'loading') this.status = 'queued'; // the snapshot, when it came first, knows better
    } else if (type === 'progress' && page) {
      Object.assign(page, { status: 'generating', error: null });
      this.status = 'running';
    } else if (type === 'complete' && page) {
      Object.assign(page, { status: 'done', image_url: data.image_url, preview_url: data.preview_url || null,
        error: null });
      this.completeCounts[data.index] = (this.completeCounts[data.index] || 0) + 1;
    } else if (type === 'error' && page) {
      Object.assign(page, { status: 'error', error: data.message, retryable: data.retryable });
    } else if (type === 'retry') {
      for (const index of data.indexes || []) Object.assign(this._page(index) || {}, { status: 'pending', error: null });
      this.finished = false;
    } else if (type === 'copy_delta') {
      this.copyText += data.text || '';
      this._changed('copy');
      return;
    } else if (type === 'copy') {
      this.copy = { titles: data.titles || [], body: data.body || '', tags: data.tags || [] };
      this.copyText = '';
      this._changed('copy');
      return;
    } else if (type === 'finish') {
      this._onFinish(data, id);
      return;
    }
    this._changed('page', page ? page.index : null);
  }

  async _onFinish(data, id) {
    // A `finish` replayed from an earlier round is followed by a `retry`: the task's log then has events after it.
    let snapshot = null;
    try { snapshot = await this.ctx.api.getTask(this.taskId); } catch { /* keep what the events said */ }
    if (snapshot && snapshot.last_event_id > id) {
      this._connect(id);
      return;
    }
    if (snapshot) {
      this._applySnapshot(snapshot);
      // The status may trail `finish` by a moment; the event is what says the run is over.
    }
    this.finished = true;
    this._report('finished');
    this.cancelled = Boolean(data.cancelled);
    if (!TERMINAL.includes(this.status)) {
      this.status = this.cancelled ? 'cancelled' : data.failed ? (data.completed ? 'partial' : 'failed') : 'done';
    }
    this._changed();
  }

  /** Freshly signed image URLs (the old ones expired or keep failing): GET the task again. */
  async refreshUrls() {
    const snapshot = await this.ctx.api.getTask(this.taskId);
    for (const fresh of snapshot.images) {
      const page = this._page(fresh.index);
      if (page && fresh.image_url && page.status === 'done') {
        Object.assign(page, { image_url: fresh.image_url, preview_url: fresh.preview_url || null });
      }
    }
  }

  /** The user pressed "retry now" on the loading banner. */
  retryLoadNow() { this._loader?.retryNow(); }

  async rerun(index = null) {
    const cursor = this.manager ? this.manager.lastEventId : 0;
    const snapshot = await this.ctx.api.getTask(this.taskId).catch(() => null);
    const after = snapshot ? snapshot.last_event_id : cursor;
    if (index === null) await this.ctx.api.retryFailed(this.taskId);
    else await this.ctx.api.regenerate(this.taskId, index);
    for (const page of this.pages) {
      if (index === null ? page.status === 'error' : page.index === index) {
        Object.assign(page, { status: 'pending', error: null, image_url: null });
      }
    }
    this.finished = false;
    this.status = 'queued';
    this._connect(after);
    this._changed();
  }

  async cancel() {
    await this.ctx.api.cancel(this.taskId); // its `finish {cancelled}` arrives over the stream
  }

  close() {
    this._loader?.cancel();
    if (!this.finished) this._report('abandoned');
    this.manager?.close();
    this.manager = null;
    this._listeners.clear();
  }
}
