// Small SVG charts for the dashboard: lines over time, bars per day. Hand-written on purpose: the house rule is
// not to commit other projects' code, and the dashboard needs only these two shapes (~150 lines), drawn with
// SVG attributes and CSS classes (the CSP forbids style attributes). Colours come from the stylesheet
// (.series-0, .series-1 …), so the dark theme applies.

const NS = 'http://www.w3.org/2000/svg';

function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(NS, tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value !== undefined && value !== null) el.setAttribute(key, String(value));
  }
  for (const child of children) if (child) el.append(child);
  return el;
}

function text(x, y, content, cls, anchor = 'middle') {
  const t = svg('text', { x, y, class: cls, 'text-anchor': anchor });
  t.textContent = content;
  return t;
}

/** Round numbers for an axis from 0 to at least `max`. */
export function niceTicks(max, count = 4) {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const magnitude = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * magnitude).find((s) => s >= raw) || raw;
  const ticks = [];
  for (let v = 0; v <= max + step * 0.001; v += step) ticks.push(Number(v.toPrecision(12)));
  if (ticks[ticks.length - 1] < max) ticks.push(Number((ticks[ticks.length - 1] + step).toPrecision(12)));
  return ticks;
}

/**
 * A line chart over time.
 * times: [unix seconds]; series: [{label, values: [number|null]}] (null: no data in that bucket, a gap);
 * format: (v) => label of a y value; fixedMax: the y axis top (e.g. 1 for rates).
 */
export function lineChart({ times, series, format = String, fixedMax = null, timeLabel, width = 380, height = 190,
  title = '' }) {
  const pad = { left: 44, right: 10, top: 10, bottom: 24 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const all = series.flatMap((s) => s.values).filter((v) => typeof v === 'number');
  const top = fixedMax ?? Math.max(...all, 0);
  const ticks = niceTicks(top || 1);
  const yMax = fixedMax ?? ticks[ticks.length - 1];
  const n = Math.max(times.length - 1, 1);
  const x = (i) => pad.left + (w * i) / n;
  const y = (v) => pad.top + h - (h * Math.min(v, yMax)) / (yMax || 1);
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  for (const tick of fixedMax ? [0, fixedMax / 2, fixedMax] : ticks) {
    root.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: 'grid' }));
    root.append(text(pad.left - 6, y(tick) + 4, format(tick), 'axis', 'end'));
  }
  const labelEvery = Math.max(1, Math.ceil(times.length / 4));
  times.forEach((t, i) => {
    if (i % labelEvery === 0) root.append(text(x(i), height - 6, timeLabel(t), 'axis'));
  });
  series.forEach((s, k) => {
    let d = '';
    let pen = false;
    s.values.forEach((v, i) => {
      if (typeof v !== 'number') { pen = false; return; }
      d += `${pen ? 'L' : 'M'}${x(i).toFixed(1)},${y(v).toFixed(1)}`;
      pen = true;
    });
    if (d) root.append(svg('path', { d, class: `line series-${k}` }));
    s.values.forEach((v, i) => {  // points, so a single bucket with data (a burst) is visible too
      if (typeof v === 'number' && v > 0) {
        const dot = svg('circle', { cx: x(i), cy: y(v), r: 2.6, class: `dot series-${k}` });
        const tip = svg('title');
        tip.textContent = `${s.label} · ${timeLabel(times[i])} · ${format(v)}`;
        dot.append(tip);
        root.append(dot);
      }
    });
  });
  return root;
}

/** Grouped bars per category: categories [label]; series [{label, values: [number]}]. */
export function barChart({ categories, series, width = 420, height = 180, title = '' }) {
  const pad = { left: 40, right: 12, top: 12, bottom: 26 };
  const w = width - pad.left - pad.right;
  const h = height - pad.top - pad.bottom;
  const ticks = niceTicks(Math.max(...series.flatMap((s) => s.values), 1));
  const yMax = ticks[ticks.length - 1];
  const y = (v) => pad.top + h - (h * v) / yMax;
  const root = svg('svg', { viewBox: `0 0 ${width} ${height}`, class: 'chart', role: 'img', 'aria-label': title });
  for (const tick of ticks) {
    root.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(tick), y2: y(tick), class: 'grid' }));
    root.append(text(pad.left - 6, y(tick) + 4, String(tick), 'axis', 'end'));
  }
  const group = w / Math.max(categories.length, 1);
  const bar = (group * 0.7) / Math.max(series.length, 1);
  categories.forEach((c, i) => {
    root.append(text(pad.left + group * (i + 0.5), height - 8, c, 'axis'));
    series.forEach((s, k) => {
      const v = s.values[i] || 0;
      const rect = svg('rect', { x: pad.left + group * i + group * 0.15 + bar * k, y: y(v), width: bar,
        height: Math.max(0, pad.top + h - y(v)), class: `bar series-${k}` });
      const tip = svg('title');
      tip.textContent = `${s.label} · ${c} · ${v}`;
      rect.append(tip);
      root.append(rect);
    });
  });
  return root;
}
