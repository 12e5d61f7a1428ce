// Home: the topic, optional reference images, and "create outline". The unsent topic and images are kept as a
// draft in IndexedDB and offered back after a reload, a crash or a re-login.

import { debounced, draftKey, drafts } from '../drafts.js';
import { fill, h, toast } from '../dom.js';
import { errorMessage, t } from '../i18n.js';
import '../strings-creator.js';
import { draftOffer, savedWhen } from './draft-offer.js';

export const name = 'home';
const MAX_IMAGES = 5;
const MAX_BYTES = 5 * 1024 * 1024;
const TYPES = ['image/png', 'image/jpeg', 'image/webp'];

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

export function render(ctx) {
  const images = ctx.draft.images; // [{name, dataUrl}]
  const key = draftKey(ctx.auth, 'home');
  const offerSlot = h('div.offer-slot');
  const persist = debounced(() => {
    if (topic.value.trim() || images.length) drafts().put(key, { topic: topic.value, images });
    else drafts().delete(key);
  });
  // Typing instead of answering the restore offer starts a new draft.
  const edited = () => { ctx.draft.topic = topic.value; fill(offerSlot); persist(); };
  const topic = h('textarea.topic', { rows: 3, maxlength: 500, placeholder: t('home.placeholder'),
    'data-test': 'topic', value: ctx.draft.topic || '' });
  topic.addEventListener('input', edited);
  const thumbs = h('div.thumbs');
  const fileInput = h('input', { type: 'file', accept: TYPES.join(','), multiple: true, hidden: true,
    'data-test': 'ref-input' });
  const status = h('p.form-error', { role: 'alert' });
  const submit = h('button.primary.big', { type: 'submit', 'data-test': 'create-outline' }, t('home.submit'));

  function drawThumbs() {
    fill(thumbs,
      ...images.map((img, i) => h('figure.thumb', h('img', { src: img.dataUrl, alt: img.name }),
        h('button.thumb-x', { type: 'button', title: t('home.removeImage'), 'aria-label': t('home.removeImage'),
          onclick: () => { images.splice(i, 1); drawThumbs(); edited(); } }, '×'))),
      images.length < MAX_IMAGES
        ? h('button.thumb.add', { type: 'button', onclick: () => fileInput.click() },
          h('span.plus', '+'), h('span', t('home.addImage')))
        : null,
    );
  }

  fileInput.addEventListener('change', async () => {
    for (const file of fileInput.files) {
      if (images.length >= MAX_IMAGES) { toast(t('home.tooManyImages'), 'error'); break; }
      if (!TYPES.includes(file.type) || file.size > MAX_BYTES) {
        toast(t('home.badImage', { name: file.name }), 'error');
        continue;
      }
      images.push({ name: file.name, dataUrl: await readAsDataUrl(file) });
    }
    fileInput.value = '';
    drawThumbs();
    edited();
  });
  drawThumbs();

  const form = h('form.composer', {
    onsubmit: async (ev) => {
      ev.preventDefault();
      const text = topic.value.trim();
      if (!text) { status.textContent = t('home.topicRequired'); topic.focus(); return; }
      submit.disabled = true;
      fill(submit, h('span.spinner'), t('home.working'));
      status.textContent = '';
      try {
        ctx.draft.topic = text;
        const created = await ctx.api.createOutline(text, images.map((img) => img.dataUrl));
        persist.cancel();
        await drafts().delete(key); // sent; the outline page keeps its own draft from here on
        // The outline page shows the outline as it is written.
        ctx.navigate(`#/outline/${created.task_id}`);
      } catch (err) {
        fail(errorMessage(err));
      }
    },
  },
  topic,
  h('div.examples', h('span.muted', t('home.examples')),
    ['home.example1', 'home.example2', 'home.example3'].map((example) => h('button.chip', { type: 'button',
      onclick: () => { topic.value = t(example); edited(); } }, t(example)))),
  h('div.refs', h('div.refs-head', h('strong', t('home.refTitle')), h('span.muted', t('home.refHint'))),
    thumbs, fileInput),
  status,
  h('div.actions', submit));

  async function offerRestore() {
    const saved = await drafts().get(key);
    if (!saved || (!String(saved.topic || '').trim() && !(saved.images || []).length)) return;
    if (topic.value.trim() || images.length) return; // this page load already has a draft in hand
    const short = String(saved.topic || '').trim().slice(0, 40) || t('draft.untitled');
    const text = t('draft.homeOffer', { when: savedWhen(saved.savedAt), topic: short })
      + ((saved.images || []).length ? t('draft.homeOfferImages', { n: saved.images.length }) : '');
    fill(offerSlot, draftOffer(text, {
      onRestore: () => {
        topic.value = saved.topic || '';
        ctx.draft.topic = topic.value;
        images.splice(0, images.length, ...(saved.images || []).slice(0, MAX_IMAGES));
        drawThumbs();
        toast(t('draft.restored'));
        topic.focus();
      },
      onDiscard: () => drafts().delete(key),
    }));
  }

  function fail(message) {
    status.textContent = message;
    submit.disabled = false;
    submit.textContent = t('home.submit');
  }

  const note = ctx.info.aiOutline
    ? h('p.note.ai', t('home.aiNote'))
    : h('p.note', { 'data-test': 'template-note' }, h('span.note-icon', 'i'), t('home.templateNote'));
  const el = h('section.home',
    h('div.hero', h('h1', t('home.title')), h('p.muted', t('home.subtitle'))),
    offerSlot,
    h('div.card', form),
    note);
  if (!topic.value.trim() && !images.length) offerRestore();
  return { el, dispose: () => persist.flush() };
}
