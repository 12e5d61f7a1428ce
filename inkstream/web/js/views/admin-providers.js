// Admin: the providers configuration at runtime — edit the JSON (keys masked), save with a comment, test each
// provider, versions with their diffs, roll back.

import { toast } from '../dom.js';
import { t } from '../i18n.js';
import {
  act, adminFrame, confirmAction, fill, h, loading, pager, pill, report, table, when,
} from './admin-ui.js';

export const name = 'admin-providers';

const SECTIONS = [['text_generation', 'text'], ['image_generation', 'image']];

/** The providers a configuration names, for the "test connection" list. */
export function providersOf(config) {
  const rows = [];
  for (const [key, section] of SECTIONS) {
    const part = (config && config[key]) || {};
    for (const [provider, entry] of Object.entries(part.providers || {})) {
      rows.push({ section, provider, type: entry && entry.type, model: entry && entry.model,
        active: part.active_provider === provider });
    }
  }
  return rows;
}

/** A unified diff as lines coloured by their first character. */
export function diffView(diff) {
  if (!diff) return h('p.muted.small', t('admin.prov.noDiff'));
  return h('pre.diff', { 'data-test': 'diff' }, diff.split('\n').map((line) => {
    const kind = line.startsWith('+++') || line.startsWith('---') ? 'file' : line.startsWith('@@') ? 'hunk'
      : line.startsWith('+') ? 'add' : line.startsWith('-') ? 'del' : 'ctx';
    return h(`span.d-${kind}`, `${line}\n`);
  }));
}

/** Where in the text a JSON.parse error points, as "line L, column C" (Chromium says "position N"). */
function jsonErrorWhere(text, err) {
  const m = /position (\d+)/.exec(err.message);
  if (!m) return err.message;
  const before = text.slice(0, Number(m[1]));
  const line = before.split('\n').length;
  const col = Number(m[1]) - before.lastIndexOf('\n');
  return t('admin.prov.jsonAt', { line, col });
}

/** Selects the line of the editor that holds a key path such as "image_generation.active_provider". */
export function selectKey(editor, path) {
  const text = editor.value;
  let at = 0;
  for (const part of String(path).split('.')) {
    const found = text.indexOf(`"${part}"`, at);
    if (found < 0) return false;
    at = found;
  }
  const start = text.lastIndexOf('\n', at) + 1;
  const end = text.indexOf('\n', at);
  editor.focus({ preventScroll: true });
  editor.setSelectionRange(start, end < 0 ? text.length : end);
  // Scroll the textarea (not the page) so the line shows.
  const line = text.slice(0, start).split('\n').length - 1;
  const lineHeight = parseFloat(getComputedStyle(editor).lineHeight) || 20;
  editor.scrollTop = Math.max(0, line * lineHeight - editor.clientHeight / 2);
  return true;
}

export function render(ctx) {
  const head = h('div.prov-meta', { 'data-test': 'providers-meta' }, loading());
  const editor = h('textarea.code-editor', { spellcheck: 'false', rows: 22, 'data-test': 'providers-json',
    'aria-label': t('admin.prov.editor') });
  const comment = h('input', { maxlength: 200, placeholder: t('admin.prov.commentHint'), 'data-test': 'providers-comment' });
  const problem = h('div.config-error', { role: 'alert', hidden: true, 'data-test': 'providers-error' });
  const save = h('button.primary', { type: 'submit', 'data-test': 'save-providers' }, t('admin.prov.save'));
  const testers = h('div', { 'data-test': 'provider-tests' });
  const versions = h('div', { 'data-test': 'provider-versions' }, loading());
  const error = h('p.form-error', { hidden: true });
  const historyPage = { page: 1 };
  let current = null;

  function showProblem(title, detail) {
    fill(problem, h('b', title), detail ? h('div', detail) : null);
    problem.hidden = false;
  }

  async function load() {
    try {
      current = await ctx.adminApi.providers();
      error.hidden = true;
      editor.value = JSON.stringify(current.config, null, 2);
      problem.hidden = true;
      drawMeta();
      drawTesters(current.config);
    } catch (err) {
      report(err, error);
      fill(head);
    }
  }

  function drawMeta() {
    fill(head,
      pill(t(`admin.prov.source.${current.source}`), `src-${current.source}`),
      h('b', { 'data-test': 'providers-version' }, t('admin.prov.version', { v: current.version })),
      current.version > 0 && h('span.muted.small',
        t('admin.prov.savedBy', { who: current.created_by || '—', when: when(current.created_at) })),
      current.comment && h('span.muted.small', `“${current.comment}”`));
  }

  function drawTesters(config) {
    const rows = providersOf(config);
    fill(testers, table([
      { label: t('admin.prov.section'), cell: (r) => t(`admin.prov.sec.${r.section}`) },
      { label: t('admin.prov.provider'), cell: (r) => h('span', h('b', r.provider), r.active && pill(t('admin.prov.active'), 'ok')) },
      { label: t('admin.prov.type'), cell: (r) => [r.type || '—', r.model ? h('span.muted', ` · ${r.model}`) : null] },
      { label: t('admin.prov.test'), cls: 'tools', cell: (r) => {
        const out = h('span.test-result.small', { 'data-test': 'test-result' });
        const button = h('button.small', { type: 'button', 'data-test': 'test-provider', onclick: async () => {
          button.disabled = true;
          fill(out, h('span.spinner.dark'));
          try {
            const res = await ctx.adminApi.testProvider(r.section, r.provider);
            out.className = `test-result small ${res.ok ? 'ok' : 'bad'}`;
            fill(out, res.ok ? t('admin.prov.testOk', { ms: Math.round(res.latency_ms ?? 0) })
              : t('admin.prov.testBad', { message: res.message || '' }));
          } catch (err) {
            out.className = 'test-result small bad';
            report(err, out);
          } finally {
            button.disabled = false;
          }
        } }, t('admin.prov.testButton'));
        return h('span.test-cell', button, out);
      } },
    ], rows, { empty: t('admin.prov.noProviders'), rowAttrs: (r) => ({ 'data-provider': `${r.section}:${r.provider}` }) }));
  }

  async function submit(ev) {
    ev.preventDefault();
    problem.hidden = true;
    let config;
    try {
      config = JSON.parse(editor.value);
    } catch (err) {
      showProblem(t('admin.prov.badJson'), jsonErrorWhere(editor.value, err));
      return;
    }
    save.disabled = true;
    try {
      current = await ctx.adminApi.saveProviders(config, comment.value.trim() || undefined);
      editor.value = JSON.stringify(current.config, null, 2);
      comment.value = '';
      drawMeta();
      drawTesters(current.config);
      historyPage.page = 1;
      loadVersions();
      toast(t('admin.prov.savedOk', { v: current.version }));
    } catch (err) {
      if (err.status === 422) {
        showProblem(err.key ? t('admin.prov.invalidKey', { key: err.key }) : t('admin.prov.invalid'), err.message);
        if (err.key) selectKey(editor, err.key);
      } else {
        report(err);
      }
    } finally {
      save.disabled = false;
    }
  }

  async function loadVersions() {
    try {
      const body = await ctx.adminApi.providerHistory({ page: historyPage.page, page_size: 10 });
      fill(versions,
        table([
          { label: t('admin.prov.versionCol'), cell: (v) => h('b', `v${v.version}`), cls: 'num' },
          { label: t('admin.by'), cell: (v) => v.created_by || '—' },
          { label: t('admin.when'), cell: (v) => when(v.created_at) },
          { label: t('admin.prov.comment'), cell: (v) => v.comment || h('span.muted', '—') },
          { label: t('admin.prov.diff'), cls: 'wide', cell: (v) => h('details.diff-box',
            h('summary', { 'data-test': 'show-diff' }, t('admin.prov.showDiff')), diffView(v.diff)) },
          { label: '', cls: 'tools', cell: (v) => (current && v.version === current.version
            ? pill(t('admin.prov.current'), 'ok')
            : h('button.small', { type: 'button', 'data-test': 'rollback', onclick: () => rollback(v) },
              t('admin.prov.rollback'))) },
        ], body.items, { empty: t('admin.prov.noVersions'), rowAttrs: (v) => ({ 'data-version': v.version }) }),
        pager(body, (n) => { historyPage.page = n; loadVersions(); }));
    } catch (err) {
      report(err, error);
      fill(versions);
    }
  }

  async function rollback(version) {
    if (!await confirmAction(t('admin.prov.rollback'), t('admin.prov.confirmRollback', { v: version.version }),
      { confirmLabel: t('admin.prov.rollback'), danger: false })) return;
    const next = await act(() => ctx.adminApi.rollbackProviders(version.version),
      t('admin.prov.rolledBack', { v: version.version }));
    if (next) {
      historyPage.page = 1;
      await load();
      loadVersions();
    }
  }

  load().then(loadVersions);
  const el = adminFrame(ctx, 'providers',
    h('div.page-head', h('div', h('h1', t('admin.section.providers')), h('p.muted', t('admin.prov.subtitle')))),
    error,
    h('div.admin-card',
      h('div.card-head', h('h2', t('admin.prov.config')), head),
      h('form.prov-form', { onsubmit: submit },
        editor,
        h('p.hint', t('admin.prov.maskHint')),
        problem,
        h('div.save-row', comment, save))),
    h('div.admin-card', h('h2', t('admin.prov.tests')), testers),
    h('div.admin-card', h('h2', t('admin.prov.versions')), versions));
  return { el };
}
