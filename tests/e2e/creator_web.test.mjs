// Unit tests of the creator pages' DOM-free parts under Node (`node --test`): post text and the live outline
// (post-text.js), backoff (backoff.js), the loader that waits for the network (net-retry.js) and the image
// keeper (image-keeper.js) with a fake <img> and clock. Run by tests/e2e/test_creator_web_unit.py.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { backoffDelay, isTransient } from '../../inkstream/web/js/backoff.js';
import { ImageKeeper, urlExpiry, withAttempt } from '../../inkstream/web/js/image-keeper.js';
import { loadUntilDone } from '../../inkstream/web/js/net-retry.js';
import { normalizeCopy, postText, splitOutline, tagsLine } from '../../inkstream/web/js/post-text.js';
import { fakeClock, flush } from './fakes.mjs';

class FakeImg {
  constructor() { this.listeners = {}; this.dataset = {}; this.complete = false; this.naturalWidth = 0; this.requested = []; }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  set src(url) { this._src = url; this.requested.push(url); this.complete = false; this.naturalWidth = 0; }
  get src() { return this._src; }
  fire(type) {
    if (type === 'load') { this.complete = true; this.naturalWidth = 540; }
    for (const fn of this.listeners[type] || []) fn();
  }
}

class FakeTarget {
  constructor() { this.listeners = {}; this.visibilityState = 'visible'; }
  addEventListener(type, fn) { (this.listeners[type] ||= []).push(fn); }
  removeEventListener(type, fn) { this.listeners[type] = (this.listeners[type] || []).filter((f) => f !== fn); }
  fire(type) { for (const fn of this.listeners[type] || []) fn(); }
}

// ---- post text ----

test('postText lays out titles, body and tags; tags get one # each', () => {
  const copy = { titles: ['露营装备一篇讲清⛺', ' 新手必看 '], body: '第一次露营？\n带这些就够了✨', tags: ['#露营', '装备清单', '##户外'] };
  assert.equal(postText(copy), '标题备选\n1. 露营装备一篇讲清⛺\n2. 新手必看\n\n正文\n第一次露营？\n带这些就够了✨\n\n话题标签\n#露营 #装备清单 #户外\n');
  assert.equal(postText(copy, { titlesLabel: 'Titles', bodyLabel: 'Body', tagsLabel: 'Tags' }).split('\n')[0], 'Titles');
  assert.equal(tagsLine(['a', '#b']), '#a #b');
});

test('normalizeCopy drops empty and malformed parts; nothing left is null', () => {
  assert.equal(normalizeCopy(null), null);
  assert.equal(normalizeCopy({ titles: [' ', 3], body: '  ', tags: [] }), null);
  assert.deepEqual(normalizeCopy({ titles: ['A', null, ' B '], body: 7, tags: ['#x'] }),
    { titles: ['A', 'B'], body: '', tags: ['x'] });
  assert.equal(postText({ body: '只有正文' }), '正文\n只有正文\n');
  assert.equal(postText(null), '');
});

test('splitOutline shows a half-written outline page by page, hiding a half-received page tag', () => {
  const full = '[封面]\n标题：露营装备⛺\n<page>\n[内容]\n帐篷怎么选\n- 三季帐\n<page>\n[总结]\n收藏起来';
  assert.deepEqual(splitOutline(full), [
    { type: 'cover', content: '标题：露营装备⛺' },
    { type: 'content', content: '帐篷怎么选\n- 三季帐' },
    { type: 'summary', content: '收藏起来' },
  ]);
  // typed live: every prefix parses, and pages only grow
  let previous = [];
  for (let i = 1; i <= full.length; i += 1) {
    const pages = splitOutline(full.slice(0, i));
    assert.ok(pages.every((p) => !p.content.includes('<')), `prefix ${i}: ${JSON.stringify(pages)}`);
    assert.ok(pages.length >= previous.length - 1, `prefix ${i} lost pages`);
    previous = pages;
  }
  assert.deepEqual(splitOutline('[内容]\n第一点<pa'), [{ type: 'content', content: '第一点' }]);
  assert.deepEqual(splitOutline('没有标签的文字'), [{ type: 'content', content: '没有标签的文字' }]);
  assert.deepEqual(splitOutline(''), []);
});

// ---- backoff ----

test('backoff grows, is capped, and is jittered within [cap/2, cap]', () => {
  assert.equal(backoffDelay(0, { base: 500, random: () => 0 }), 250);
  assert.equal(backoffDelay(0, { base: 500, random: () => 1 }), 500);
  assert.equal(backoffDelay(3, { base: 500, max: 15000, random: () => 1 }), 4000);
  assert.equal(backoffDelay(50, { base: 500, max: 15000, random: () => 1 }), 15000);
  assert.equal(isTransient(new TypeError('Failed to fetch')), true);
  assert.equal(isTransient({ status: 503 }), true);
  assert.equal(isTransient({ status: 429 }), true);
  assert.equal(isTransient({ status: 404 }), false);
  assert.equal(isTransient({ name: 'AuthFailed', status: 401 }), false);
});

// ---- net-retry ----

test('loadUntilDone retries a network failure with backoff, then resolves', async () => {
  const clock = fakeClock();
  let calls = 0;
  const retries = [];
  let recovered = 0;
  const loader = loadUntilDone(async () => { calls += 1; if (calls < 3) throw new TypeError('offline'); return 'data'; },
    { clock, win: null, doc: null, base: 100, max: 1000, onRetry: (s) => retries.push(s.attempt), onRecovered: () => { recovered += 1; } });
  await flush();
  assert.equal(calls, 1);
  await clock.advance(1000);
  assert.equal(await loader.promise, 'data');
  assert.equal(calls, 3);
  assert.deepEqual(retries, [1, 2]);
  assert.equal(recovered, 1);
});

test('loadUntilDone retries at once on the online event, and stops on a definite error', async () => {
  const clock = fakeClock();
  const win = new FakeTarget();
  let down = true;
  let calls = 0;
  const loader = loadUntilDone(async () => { calls += 1; if (down) throw new TypeError('offline'); return 42; },
    { clock, win, doc: null, base: 60000, max: 60000 });
  await flush();
  assert.equal(calls, 1);
  down = false;
  win.fire('online'); // no need to wait out a minute of backoff
  assert.equal(await loader.promise, 42);
  assert.equal(calls, 2);
  assert.equal(clock.pending(), 0);
  assert.equal((win.listeners.online || []).length, 0, 'listener removed once loaded');

  const gone = loadUntilDone(async () => { throw Object.assign(new Error('nope'), { status: 404 }); }, { clock, win: null, doc: null });
  await assert.rejects(gone.promise, /nope/);
});

// ---- image keeper ----

function keeperWith(urls, { refresh } = {}) {
  const clock = fakeClock();
  const state = { urls: { ...urls }, refreshes: 0 };
  const keeper = new ImageKeeper({
    urlFor: (key) => state.urls[key] ?? null,
    refresh: refresh || (async () => { state.refreshes += 1; }),
    clock, now: clock.now, base: 100, max: 1000,
  });
  return { keeper, clock, state };
}

test('a failed image is retried with backoff until it loads; allLoaded only then', async () => {
  const { keeper, clock } = keeperWith({ 0: '/api/images/t/0.png?exp=999999&sig=a' });
  const img = keeper.attach(new FakeImg(), '0');
  assert.equal(img.src, '/api/images/t/0.png?exp=999999&sig=a');
  assert.equal(keeper.allLoaded(), false);
  img.fire('error');
  assert.equal(img.dataset.img, 'retrying');
  assert.equal(keeper.broken, 1);
  await clock.advance(100);
  assert.equal(img.requested.length, 2);
  assert.match(img.src, /[?&]_try=1$/); // a new request, not the cached failure
  img.fire('error');
  await clock.advance(1000);
  assert.equal(img.requested.length, 3);
  img.fire('load');
  assert.equal(img.dataset.img, 'loaded');
  assert.equal(keeper.allLoaded(), true);
  assert.equal(keeper.broken, 0);
});

test('an expired signed URL is re-signed (page data fetched again) before the retry', async () => {
  const { keeper, clock, state } = keeperWith({ 0: '/api/images/t/0.png?exp=5&sig=old' });
  keeper.refresh = async () => { state.refreshes += 1; state.urls[0] = '/api/images/t/0.png?exp=9999&sig=new'; };
  const img = keeper.attach(new FakeImg(), '0');
  await clock.advance(6000); // now past exp=5 s
  img.fire('error');
  await clock.advance(1000);
  assert.equal(state.refreshes, 1);
  assert.match(img.src, /exp=9999&sig=new/);
  img.fire('load');
  assert.equal(keeper.allLoaded(), true);
});

test('images that keep failing are re-signed once for all of them, and retried at once when online', async () => {
  const { keeper, clock, state } = keeperWith({ 0: '/i/0.png?exp=99999', 1: '/i/1.png?exp=99999' });
  const a = keeper.attach(new FakeImg(), '0');
  const b = keeper.attach(new FakeImg(), '1');
  a.fire('error'); b.fire('error');
  await clock.advance(1000);
  a.fire('error'); b.fire('error'); // second failure each: re-sign (one request for both)
  await clock.advance(1000);
  assert.equal(state.refreshes, 1);
  const before = a.requested.length;
  a.fire('error');
  keeper.retryAll(); // the browser is back online
  await flush();
  assert.equal(a.requested.length, before + 1);
  a.fire('load'); b.fire('load');
  assert.equal(keeper.allLoaded(), true);
});

test('withAttempt and urlExpiry', () => {
  assert.equal(withAttempt('/a.png?exp=1&sig=x', 0), '/a.png?exp=1&sig=x');
  assert.equal(withAttempt('/a.png?exp=1&sig=x', 2), '/a.png?exp=1&sig=x&_try=2');
  assert.equal(withAttempt('/a.png?exp=1&sig=x&_try=2', 3), '/a.png?exp=1&sig=x&_try=3');
  assert.equal(withAttempt('/a.png', 1), '/a.png?_try=1');
  assert.equal(urlExpiry('/a.png?exp=1700000000&sig=x'), 1700000000);
  assert.equal(urlExpiry('/a.png'), null);
});

test('a paused keeper sends nothing until resumed, then retries every broken image at once', async () => {
  const { keeper, clock } = keeperWith({ 0: '/i/0.png?exp=99999', 1: '/i/1.png?exp=99999' });
  const a = keeper.attach(new FakeImg(), '0');
  const b = keeper.attach(new FakeImg(), '1');
  a.fire('error');
  keeper.pause();
  b.fire('error');
  await clock.advance(60000);
  assert.equal(a.requested.length + b.requested.length, 2, 'nothing sent while paused');
  keeper.retryAll(); // an `online` event while paused does not override the pause either
  assert.equal(a.requested.length + b.requested.length, 2);
  keeper.resume();
  await flush();
  assert.equal(a.requested.length, 2);
  assert.equal(b.requested.length, 2);
  a.fire('load'); b.fire('load');
  assert.equal(keeper.allLoaded(), true);
});

test('one image loading retries the other broken ones at once (the link is back)', async () => {
  const { keeper, clock } = keeperWith({ 0: '/i/0.png?exp=99999', 1: '/i/1.png?exp=99999', 2: '/i/2.png?exp=99999' });
  const imgs = ['0', '1', '2'].map((key) => keeper.attach(new FakeImg(), key));
  imgs.forEach((img) => img.fire('error'));
  await clock.advance(1000); // first retries went out
  imgs.forEach((img) => img.fire('error')); // …and failed: now each waits its own backoff
  const sent = imgs.map((img) => img.requested.length);
  imgs[0].fire('load');
  await flush();
  assert.deepEqual(imgs.map((img) => img.requested.length), [sent[0], sent[1] + 1, sent[2] + 1]);
});
