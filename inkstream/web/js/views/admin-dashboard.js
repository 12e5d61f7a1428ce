// Admin: the dashboard — the seed's three figures (SSE failure rate, refresh success, reconnects per stream)
// from the server and from clients, as totals and over time, plus users, tasks, pages, storage, queue and nodes.

import { barChart, lineChart } from '../charts.js';
import { getLang, t } from '../i18n.js';
import '../strings-dashboard.js';
import { adminFrame, bytes, fill, h, loading, report, table, when } from './admin-ui.js';

export const name = 'admin-dashboard';
const PERIODS = ['1h', '1d', '7d'];
const REFRESH_MS = 30_000;
// Where a figure turns red: the thresholds of docs/ops/alerts.yml.
const LIMITS = { failure: 0.05, refresh: 0.95, reconnects: 3 };

const pct = (v) => (typeof v === 'number' ? `${(v * 100).toFixed(v > 0 && v < 0.1 ? 1 : 0)}%` : '—');
const num = (v) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(2)) : '—');

function timeLabel(period) {
  const locale = getLang() === 'en' ? 'en-GB' : 'zh-CN';
  return (unix) => new Date(unix * 1000).toLocaleString(locale, period === '7d'
    ? { month: '2-digit', day: '2-digit', hour: '2-digit' } : { hour: '2-digit', minute: '2-digit' });
}

function figure(label, value, detail, bad, test) {
  return h('div.dash-figure', { class: bad ? 'bad' : '', 'data-test': test },
    h('span.dash-figure-label', label), h('strong.dash-figure-value', value), h('span.muted.small', detail),
    bad && h('span.pill.bad', t('dash.alert')));
}

function side(title, note, figures, key) {
  const s = figures.streams;
  const r = figures.refresh;
  return h('section.dash-side', { 'data-test': `dash-${key}` },
    h('h2', title), h('p.muted.small', note),
    h('div.dash-figures',
      figure(t('dash.failureRate'), pct(s.failure_rate), t('dash.ofSessions', { failed: s.failed, sessions: s.sessions }),
        s.failure_rate > LIMITS.failure, `${key}-failure`),
      figure(t('dash.refreshRate'), pct(r.success_rate), t('dash.ofAttempts', { ok: r.succeeded, attempts: r.attempts }),
        typeof r.success_rate === 'number' && r.success_rate < LIMITS.refresh, `${key}-refresh`),
      figure(t('dash.reconnects'), num(s.reconnects_per_session),
        t('dash.perSession', { reconnects: s.reconnects, sessions: s.sessions }),
        s.reconnects_per_session > LIMITS.reconnects, `${key}-reconnects`)));
}

function chartCard(title, chart) {
  return h('figure.dash-chart', h('figcaption', title), chart,
    h('div.dash-legend', [...chart.querySelectorAll('path.line, rect.bar')].length ? null : h('span.muted', t('dash.noData'))));
}

function legend(labels) {
  return h('div.dash-legend', labels.map((label, k) => h('span', h(`i.swatch.series-${k}`), label)));
}

export function render(ctx) {
  let period = '1h';
  let timer = null;
  const body = h('div.dash-body', loading());
  const stamp = h('span.muted.small', { 'data-test': 'dash-updated' });
  const tabs = h('div.dash-periods', { role: 'tablist' });

  function drawTabs() {
    fill(tabs, PERIODS.map((p) => h('button.small', { type: 'button', class: p === period ? 'primary' : 'ghost',
      'data-test': `period-${p}`, 'aria-selected': String(p === period), onclick: () => { period = p; load(); } },
    t(`dash.period.${p}`))));
  }

  function draw(stats) {
    const times = stats.series.map((p) => p.t);
    const label = timeLabel(stats.period);
    const lines = (keys, format, fixedMax) => lineChart({
      times, timeLabel: label, format, fixedMax,
      series: keys.map(([key, text]) => ({ label: text, values: stats.series.map((p) => p[key]) })),
    });
    const sides = [t('dash.server'), t('dash.client')];
    const days = stats.tasks.per_day.map((d) => d.day.slice(5));
    fill(body,
      h('div.dash-sides', side(t('dash.server'), t('dash.serverNote'), stats.server, 'server'),
        side(t('dash.client'), t('dash.clientNote'), stats.client, 'client')),
      h('div.dash-charts',
        chartCard(t('dash.chart.failure'),
          lines([['server_failure_rate', sides[0]], ['client_failure_rate', sides[1]]], pct, 1)),
        chartCard(t('dash.chart.refresh'),
          lines([['server_refresh_success_rate', sides[0]], ['client_refresh_success_rate', sides[1]]], pct, 1)),
        chartCard(t('dash.chart.reconnects'),
          lines([['server_reconnects_per_session', sides[0]], ['client_reconnects_per_session', sides[1]]], num))),
      legend(sides),
      h('div.dash-cards',
        h('div.dash-card', h('h3', t('dash.users')), h('p', { 'data-test': 'dash-users' }, t('dash.usersLine',
          { total: stats.users.total, active: stats.users.active, new: stats.users.new_this_week }))),
        h('div.dash-card', h('h3', t('dash.tasks')), h('p', t('dash.tasksLine', stats.tasks))),
        h('div.dash-card', h('h3', t('dash.queue')), h('p', { 'data-test': 'dash-queue' },
          t('dash.queueLine', { depth: stats.queue.depth }))),
        h('div.dash-card', h('h3', t('dash.storage')), h('p', t('dash.storageLine',
          { images: stats.storage.images, bytes: bytes(stats.storage.bytes) })))),
      h('div.dash-charts',
        chartCard(t('dash.chart.tasks'), barChart({ categories: days, series: [
          { label: t('dash.done'), values: stats.tasks.per_day.map((d) => d.done) },
          { label: t('dash.failed'), values: stats.tasks.per_day.map((d) => d.failed) },
          { label: t('dash.cancelled'), values: stats.tasks.per_day.map((d) => d.cancelled) }] })),
        chartCard(t('dash.chart.pages'), barChart({ categories: days, series: [
          { label: t('dash.pages'), values: stats.pages.per_day.map((d) => d.pages) }] }))),
      h('section.dash-nodes', h('h3', t('dash.nodes')), table([
        { label: t('dash.node'), cell: (n) => n.node },
        { label: t('dash.kind'), cell: (n) => n.kind },
        { label: t('dash.openStreams'), cell: (n) => String(n.open_streams) },
        { label: t('dash.lastSeen'), cell: (n) => when(n.updated_at, { seconds: true }) },
      ], stats.nodes)));
    stamp.textContent = t('dash.updated', { time: when(stats.until, { seconds: true }) });
  }

  async function load() {
    clearTimeout(timer);
    drawTabs();
    try {
      draw(await ctx.adminApi.dashboard(period));
    } catch (err) {
      report(err);
    }
    timer = setTimeout(load, REFRESH_MS);
  }

  load();
  const el = adminFrame(ctx, 'dashboard',
    h('div.page-head', h('div', h('h1', t('dash.title')), stamp), tabs), body);
  return { el, dispose() { clearTimeout(timer); } };
}
