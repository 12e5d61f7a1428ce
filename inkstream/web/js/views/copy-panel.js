// The post's copy on the result page: title options, body and tags, each with a copy-to-clipboard button; while
// the copy is being written (copy_delta) its text grows in place.

import { fill, h, toast } from '../dom.js';
import { t } from '../i18n.js';
import { normalizeCopy, postText, tagsLine } from '../post-text.js';
import '../strings-creator.js';

/** Copies text; the Clipboard API needs a secure context, so a hidden textarea + execCommand is the fallback. */
export async function copyToClipboard(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const area = h('textarea', { readonly: true, style: 'position:fixed;left:-9999px;top:0', value: text });
    document.body.append(area);
    area.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    area.remove();
    return ok;
  }
}

function copyButton(text, label = t('copy.copy'), test = 'copy') {
  const button = h('button.small.ghost.copy-btn', { type: 'button', 'data-test': test, onclick: async () => {
    if (await copyToClipboard(text)) {
      button.textContent = t('copy.copied');
      button.classList.add('copied');
      setTimeout(() => { button.textContent = label; button.classList.remove('copied'); }, 1500);
    } else {
      toast(t('copy.copyFailed'), 'error');
    }
  } }, label);
  return button;
}

/** Fills `el` with the copy, the text being written, or nothing (hidden) when there is neither. */
export function drawCopy(el, { copy, writing = '' }) {
  const c = normalizeCopy(copy);
  el.hidden = !c && !writing;
  if (!c) {
    if (writing) {
      fill(el, h('div.copy-head', h('h2', t('copy.title')), h('span.muted.small', h('span.spinner.dark'), t('copy.writing'))),
        h('pre.copy-stream', { 'data-test': 'copy-stream' }, writing, h('span.caret')));
    }
    return el;
  }
  const labels = { titlesLabel: t('copy.titles'), bodyLabel: t('copy.body'), tagsLabel: t('copy.tags') };
  fill(el,
    h('div.copy-head', h('h2', t('copy.title')), copyButton(postText(c, labels), t('copy.copyAll'), 'copy-all')),
    c.titles.length ? h('div.copy-part', { 'data-part': 'titles' },
      h('h3', t('copy.titles')),
      h('ol.copy-titles', c.titles.map((title) => h('li', h('span', title), copyButton(title, t('copy.copy'), 'copy-title'))))) : null,
    c.body ? h('div.copy-part', { 'data-part': 'body' },
      h('div.copy-part-head', h('h3', t('copy.body')), copyButton(c.body)),
      h('p.copy-body', { 'data-test': 'copy-body' }, c.body)) : null,
    c.tags.length ? h('div.copy-part', { 'data-part': 'tags' },
      h('div.copy-part-head', h('h3', t('copy.tags')), copyButton(tagsLine(c.tags))),
      h('p.copy-tags', c.tags.map((tag) => h('span.tag', `#${tag}`)))) : null);
  return el;
}
