// Fakes the web UI's Node unit tests share: a clock whose timers run when the test advances it, and an
// EventSource the test opens, feeds and fails by hand.

export const flush = async () => { for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r)); };

export function fakeClock() {
  let now = 0;
  let timers = [];
  let seq = 0;
  return {
    now: () => now,
    setTimeout: (fn, ms) => { timers.push({ id: ++seq, at: now + ms, fn }); return seq; },
    clearTimeout: (id) => { timers = timers.filter((t) => t.id !== id); },
    pending: () => timers.length,
    async advance(ms) {
      const until = now + ms;
      for (;;) {
        timers.sort((a, b) => a.at - b.at);
        const next = timers[0];
        if (!next || next.at > until) break;
        timers.shift();
        now = next.at;
        next.fn();
        await flush();
      }
      now = until;
    },
  };
}

export class FakeES {
  static all = [];
  constructor(url) { this.url = url; this.readyState = 0; this.listeners = {}; FakeES.all.push(this); }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  close() { this.readyState = 2; }
  open() { this.readyState = 1; this.onopen?.(); }
  emit(type, id, data = {}) {
    for (const fn of this.listeners[type] || []) fn({ lastEventId: id === null ? '' : String(id), data: JSON.stringify(data) });
  }
  fail() { this.readyState = 2; this.onerror?.(); }
}
