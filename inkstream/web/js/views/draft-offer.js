// The "restore your unsent draft?" bar shown above a form after a reload, a crash or a re-login.

import { h } from '../dom.js';
import { getLang, t } from '../i18n.js';
import '../strings-creator.js';

export function savedWhen(ms) {
  return new Date(ms).toLocaleString(getLang() === 'en' ? 'en-GB' : 'zh-CN',
    { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit' });
}

/** A bar with `text`, "restore" and "discard"; it removes itself after either. */
export function draftOffer(text, { onRestore, onDiscard }) {
  const bar = h('div.draft-offer', { role: 'status', 'data-test': 'draft-offer' },
    h('span.draft-icon', '✎'), h('span.draft-text', text),
    h('div.draft-actions',
      h('button.small.primary', { type: 'button', 'data-test': 'draft-restore',
        onclick: () => { bar.remove(); onRestore(); } }, t('draft.restore')),
      h('button.small.ghost', { type: 'button', 'data-test': 'draft-discard',
        onclick: () => { bar.remove(); onDiscard(); } }, t('draft.discard'))));
  return bar;
}
