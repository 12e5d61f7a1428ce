// The reconnect banner of a page whose data is still loading while the network is down (see net-retry.js).

import { fill, h } from '../dom.js';
import { t } from '../i18n.js';
import '../strings-creator.js';

/** {el, show({attempt}), hide(), retryNow: set by the caller} */
export function netBanner({ onRetryNow }) {
  const el = h('div.banner.b-reconnecting', { 'data-test': 'net-banner', hidden: true, role: 'status' });
  return {
    el,
    show({ attempt }) {
      el.hidden = false;
      fill(el, h('span.spinner.dark'), h('span.banner-text', t('net.retrying', { n: attempt })),
        h('button.small', { type: 'button', 'data-test': 'net-retry', onclick: () => onRetryNow() }, t('net.retryNow')));
    },
    hide() { el.hidden = true; },
  };
}
