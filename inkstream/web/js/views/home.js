// Home: the topic, optional reference images, and "create outline".

import { fill, h, toast } from '../dom.js';
import { errorMessage, t } from '../i18n.js';
import { openStream } from './stream.js';

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
  let stream = null;
  const topic = h('textarea.topic', { rows: 3, maxlength: 500, placeholder: t('home.placeholder'),
    'data-test': 'topic', value: ctx.draft.topic || '' });
  topic.addEventListener('input', () => { ctx.draft.topic = topic.value; });
  const thumbs = h('div.thumbs');
  const fileInput = h('input', { type: 'file', accept: TYPES.join(','), multiple: true, hidden: true,
    'data-test': 'ref-input' });
  const status = h('p.form-error', { role: 'alert' });
  const submit = h('button.primary.big', { type: 'submit', 'data-test': 'create-outline' }, t('home.submit'));

  function drawThumbs() {
    fill(thumbs,
      ...images.map((img, i) => h('figure.thumb', h('img', { src: img.dataUrl, alt: img.name }),
        h('button.thumb-x', { type: 'button', title: t('home.removeImage'), 'aria-label': t('home.removeImage'),
          onclick: () => { images.splice(i, 1); drawThumbs(); } }, '×'))),
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
        stream = openStream(ctx, created.task_id, {
          onEvent: (type, data) => {
            if (type !== 'finish') return;
            if (data.success) ctx.navigate(`#/outline/${created.task_id}`);
            else fail(t('outline.failed', { message: data.error || '' }));
          },
          onState: (s) => {
            if (s.state === 'failed') fail(t(`banner.failed.${s.reason}`, { m: s.maxAttempts }));
          },
        });
      } catch (err) {
        fail(errorMessage(err));
      }
    },
  },
  topic,
  h('div.examples', h('span.muted', t('home.examples')),
    ['home.example1', 'home.example2', 'home.example3'].map((key) => h('button.chip', { type: 'button',
      onclick: () => { topic.value = t(key); ctx.draft.topic = topic.value; } }, t(key)))),
  h('div.refs', h('div.refs-head', h('strong', t('home.refTitle')), h('span.muted', t('home.refHint'))),
    thumbs, fileInput),
  status,
  h('div.actions', submit));

  function fail(message) {
    stream?.close();
    status.textContent = message;
    submit.disabled = false;
    submit.textContent = t('home.submit');
  }

  const note = ctx.info.aiOutline
    ? h('p.note.ai', t('home.aiNote'))
    : h('p.note', { 'data-test': 'template-note' }, h('span.note-icon', 'i'), t('home.templateNote'));
  const el = h('section.home',
    h('div.hero', h('h1', t('home.title')), h('p.muted', t('home.subtitle'))),
    h('div.card', form),
    note);
  return { el, dispose: () => stream?.close() };
}
