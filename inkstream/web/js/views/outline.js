// Outline editor: edit, add, delete and reorder pages, then start generating the images. While the outline is
// being written its text appears as it arrives (outline_delta); unsent edits are kept as a draft in IndexedDB.

import { debounced, draftKey, drafts } from '../drafts.js';
import { fill, h, toast } from '../dom.js';
import { errorMessage, t } from '../i18n.js';
import { loadUntilDone } from '../net-retry.js';
import { splitOutline } from '../post-text.js';
import '../strings-creator.js';
import { draftOffer, savedWhen } from './draft-offer.js';
import { netBanner } from './net-banner.js';
import { openStream } from './stream.js';

export const name = 'outline';
const MAX_PAGES = 30;
const TYPES = ['cover', 'content', 'summary'];
const TYPE_TAGS = { cover: '[封面]', content: '[内容]', summary: '[总结]' };
// Edits of this page load, so a language switch or a re-login re-renders them as they are, without asking.
const inMemory = new Map(); // task id → {topic, pages}

const samePages = (a, b) => JSON.stringify(a.map((p) => [p.type, p.content]))
  === JSON.stringify(b.map((p) => [p.type, p.content]));

export function render(ctx, taskId) {
  let draft = inMemory.get(taskId) || null; // {topic, pages: [{type, content}]}
  let stream = null;
  let loader = null;
  let written = ''; // the outline's text so far, from outline_delta events
  const key = draftKey(ctx.auth, 'outline', taskId);
  const offline = netBanner({ onRetryNow: () => { loader?.retryNow(); stream?.reconnectNow(); } });
  const offerSlot = h('div.offer-slot');
  const persist = debounced(() => {
    if (!draft) return;
    drafts().put(key, { topic: draft.topic, pages: draft.pages, images: ctx.draft.images });
  });
  // Editing instead of answering the restore offer starts a new draft (the offer goes away).
  const saveDraft = () => { inMemory.set(taskId, draft); fill(offerSlot); persist(); };
  const list = h('ol.outline-list', { 'data-test': 'outline-list' });
  const subtitle = h('p.muted');
  const status = h('p.form-error', { role: 'alert' });
  const generate = h('button.primary.big', { type: 'button', 'data-test': 'generate', onclick: start });
  const body = h('div.outline-body', h('p.muted.center', h('span.spinner.dark'), t('outline.loading')));

  function changed() {
    saveDraft();
    draw();
  }

  function move(i, delta) {
    const j = i + delta;
    if (j < 0 || j >= draft.pages.length) return;
    [draft.pages[i], draft.pages[j]] = [draft.pages[j], draft.pages[i]];
    changed();
    list.children[j]?.querySelector('textarea')?.focus();
  }

  function row(page, i) {
    const text = h('textarea', { rows: Math.min(9, Math.max(3, page.content.split('\n').length + 1)),
      value: page.content, 'aria-label': t('outline.page', { n: i + 1 }) });
    text.addEventListener('input', () => { page.content = text.value; saveDraft(); });
    const type = h('select', { 'aria-label': 'type' },
      TYPES.map((k) => h('option', { value: k, selected: k === page.type }, t(`outline.type.${k}`))));
    type.addEventListener('change', () => { page.type = type.value; changed(); });
    return h('li.outline-row', { 'data-type': page.type },
      h('div.row-head',
        h('span.page-no', t('outline.page', { n: i + 1 })), type,
        h('div.row-tools',
          h('button.icon', { type: 'button', title: t('outline.up'), 'aria-label': t('outline.up'),
            disabled: i === 0, onclick: () => move(i, -1) }, '↑'),
          h('button.icon', { type: 'button', title: t('outline.down'), 'aria-label': t('outline.down'),
            disabled: i === draft.pages.length - 1, onclick: () => move(i, 1) }, '↓'),
          h('button.icon.danger', { type: 'button', title: t('outline.delete'), 'aria-label': t('outline.delete'),
            disabled: draft.pages.length <= 1,
            onclick: () => { draft.pages.splice(i, 1); changed(); } }, '✕'))),
      text);
  }

  function draw() {
    const n = draft.pages.length;
    subtitle.textContent = t('outline.subtitle', { n });
    fill(list, ...draft.pages.map(row));
    generate.textContent = t('outline.generate', { n });
    fill(body, list,
      h('button.add-page', { type: 'button', disabled: n >= MAX_PAGES, 'data-test': 'add-page',
        onclick: () => {
          draft.pages.splice(Math.max(0, n - (draft.pages.at(-1)?.type === 'summary' ? 1 : 0)), 0,
            { type: 'content', content: '' });
          changed();
          list.querySelectorAll('textarea')[Math.max(0, n - 1)]?.focus();
        } }, '+ ', t('outline.add')),
      status,
      h('div.actions.sticky', h('a.button.ghost', { href: '#/' }, t('outline.back')), generate));
  }

  async function start() {
    const pages = draft.pages.map((p, index) => ({ index, type: p.type, content: p.content.trim() }));
    const empty = pages.find((p) => !p.content);
    if (!pages.length) { status.textContent = t('outline.empty'); return; }
    if (empty) { status.textContent = t('outline.emptyPage', { n: empty.index + 1 }); return; }
    generate.disabled = true;
    try {
      const created = await ctx.api.createGeneration({
        pages,
        full_outline: pages.map((p) => `${TYPE_TAGS[p.type]}\n${p.content}`).join('\n<page>\n'),
        user_topic: draft.topic || '',
        user_images: ctx.draft.images.map((img) => img.dataUrl),
      });
      persist.cancel();
      inMemory.delete(taskId);
      await drafts().delete(key); // sent: nothing to restore any more
      ctx.navigate(`#/task/${created.task_id}`);
    } catch (err) {
      status.textContent = errorMessage(err);
      generate.disabled = false;
    }
  }

  function drawWriting() {
    const pages = splitOutline(written);
    fill(body, h('div.outline-writing', { 'data-test': 'outline-writing' },
      h('p.muted', h('span.spinner.dark'), t('outline.writing'), ' · ', t('outline.writingHint')),
      h('ol.outline-live', pages.map((page, i) => h('li.outline-row.live', { 'data-type': page.type },
        h('div.row-head', h('span.page-no', t('outline.page', { n: i + 1 })),
          h('span.type-label', t(`outline.type.${page.type}`))),
        h('p.live-text', page.content, i === pages.length - 1 ? h('span.caret') : null))))));
  }

  function onWritingEvent(type, data) {
    if (type === 'outline_delta') { written += data.text || ''; drawWriting(); }
    if (type === 'finish') { stream?.close(); stream = null; load(); }
  }

  async function offerRestore(outline) {
    const saved = await drafts().get(key);
    const keepImages = () => { if (ctx.draft.images.length) persist(); }; // reference images survive a reload
    if (!saved || !Array.isArray(saved.pages) || !saved.pages.length) { keepImages(); return; }
    const edited = !samePages(saved.pages, outline.pages);
    const lostImages = (saved.images || []).length > 0 && !ctx.draft.images.length;
    if (!edited && !lostImages) { keepImages(); return; }
    fill(offerSlot, draftOffer(t('draft.outlineOffer', { when: savedWhen(saved.savedAt) }), {
      onRestore: () => {
        draft = { topic: saved.topic || outline.topic, pages: saved.pages.map((p) => ({ type: p.type, content: p.content })) };
        if (lostImages) ctx.draft.images.splice(0, ctx.draft.images.length, ...saved.images);
        changed();
        toast(t('draft.restored'));
      },
      onDiscard: () => { drafts().delete(key).then(keepImages); },
    }));
  }

  async function load() {
    loader?.cancel();
    // Opened while the network is down: the banner shows, and the outline fills in when it is back.
    loader = loadUntilDone(() => ctx.api.getOutline(taskId), {
      onRetry: (s) => offline.show(s), onRecovered: () => offline.hide(),
    });
    try {
      const outline = await loader.promise;
      if (outline.status === 'queued' || outline.status === 'running') {
        written = '';
        drawWriting();
        stream = openStream(ctx, taskId, {
          onEvent: onWritingEvent,
          // The stream drops while the outline is written: the same banner; the manager reconnects by itself.
          onState: (c) => {
            if (c.state === 'reconnecting' || (c.state === 'failed' && c.reason === 'retry_limit')) {
              offline.show({ attempt: Math.max(1, c.attempt) });
            } else if (c.state === 'open' || c.state === 'done') offline.hide();
          },
        });
        return;
      }
      if (!outline.pages.length) {
        fill(body, h('p.form-error', t('outline.failed', { message: outline.error || '' })),
          h('a.button.ghost', { href: '#/' }, t('outline.back')));
        return;
      }
      draft = { topic: outline.topic, pages: outline.pages.map((p) => ({ type: p.type, content: p.content })) };
      ctx.draft.topic = outline.topic;
      inMemory.set(taskId, draft);
      draw();
      offerRestore(outline);
    } catch (err) {
      fill(body, h('p.form-error', errorMessage(err)), h('a.button.ghost', { href: '#/' }, t('task.goHome')));
      if (err.status !== 404) toast(errorMessage(err), 'error');
    }
  }

  if (draft) draw();
  else load();
  const el = h('section.outline',
    h('div.page-head', h('div', h('h1', t('outline.title'),
      !ctx.info.aiOutline ? h('span.badge', { title: t('home.templateNote') }, t('outline.templateBadge')) : null),
    subtitle)),
    offline.el, offerSlot, body);
  return { el, dispose: () => { stream?.close(); loader?.cancel(); persist.flush(); } };
}
