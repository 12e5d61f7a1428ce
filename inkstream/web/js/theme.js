// Light or dark: follows the system (prefers-color-scheme) until the user picks one with the header's toggle;
// the choice is kept per browser in localStorage. The CSS reads <html data-theme="light|dark">.

import { h } from './dom.js';
import { t } from './i18n.js';
import './strings-creator.js';

const KEY = 'inkstream.theme';
const media = globalThis.matchMedia ? globalThis.matchMedia('(prefers-color-scheme: dark)') : null;

function chosen() {
  try { const v = localStorage.getItem(KEY); return v === 'dark' || v === 'light' ? v : null; } catch { return null; }
}

/** The theme in effect: the user's choice, else the system's. */
export function currentTheme() {
  return chosen() || (media && media.matches ? 'dark' : 'light');
}

export function applyTheme() {
  const theme = currentTheme();
  document.documentElement.dataset.theme = theme;
  document.querySelector('meta[name="theme-color"]')?.setAttribute('content', theme === 'dark' ? '#18181b' : '#ff2442');
}

export function setTheme(theme) {
  try { localStorage.setItem(KEY, theme); } catch { /* no storage: this page only */ }
  applyTheme();
}

/** The header's sun/moon button. */
export function themeToggle() {
  const button = h('button.ghost.theme-toggle', { type: 'button', 'data-test': 'theme' });
  const draw = () => {
    const dark = currentTheme() === 'dark';
    button.textContent = dark ? '☀' : '☾';
    button.title = t(dark ? 'theme.toLight' : 'theme.toDark');
    button.setAttribute('aria-label', button.title);
  };
  button.addEventListener('click', () => { setTheme(currentTheme() === 'dark' ? 'light' : 'dark'); draw(); });
  draw();
  return button;
}

applyTheme();
media?.addEventListener?.('change', () => { if (!chosen()) applyTheme(); });
