import type { RunBar, RunViewData } from './run-view-data.js';

const entities: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Text made safe for HTML content and attribute values. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => entities[c]!);
}

function age(seconds: number | null): string {
  if (seconds === null) return 'never';
  if (seconds < 120) return `${seconds} s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min`;
  if (seconds < 172_800) return `${(seconds / 3600).toFixed(1)} h`;
  return `${(seconds / 86_400).toFixed(1)} days`;
}

const n = (value: number) => value.toLocaleString('en');

const style = `
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;max-width:1200px}
h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.8em;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:.5em 0}td,th{padding:2px 8px;border-bottom:1px solid #eee;text-align:right}
td:first-child,th:first-child,td.l{text-align:left}
.failure{border-left:4px solid #c0392b;background:#fdf0ef;padding:.4em .8em;margin:.6em 0}
pre{white-space:pre-wrap;background:#f6f6f6;padding:.4em;max-height:12em;overflow:auto;font-size:12px}
.ok{color:#1e7b34}.bad{color:#c0392b;font-weight:600}.warn{color:#b9770e;font-weight:600}
tr.anomaly td{background:#fdebd0}
.gantt{position:relative;height:18px;background:#f4f4f4;min-width:500px}
.bar{position:absolute;top:2px;height:14px;min-width:3px;border-radius:2px}
.bar.success{background:#2e86c1}.bar.failed{background:#c0392b}.bar.skipped{background:#aaa}
nav a{margin-right:1em}
.chart{margin:.5em 0}
table.hours td,table.hours th{padding:2px 4px;font-size:12px}
`;

function failuresSection(data: RunViewData): string {
  if (data.failures.length === 0) return '<section id="failures"><h2>Failures</h2><p class="ok">No failed run and no quarantined file.</p></section>';
  const items = data.failures.map(
    (f) => `<article class="failure" data-kind="${f.kind}"><strong>${escapeHtml(f.what)}</strong> at ${escapeHtml(f.at)}<br>${escapeHtml(f.message)}` +
      (f.log_excerpt ? `<pre>${escapeHtml(f.log_excerpt)}</pre>` : '') +
      (f.keys.length ? `<div>Files:<ul>${f.keys.map((k) => `<li><code>${escapeHtml(k)}</code></li>`).join('')}</ul></div>` : '') +
      '</article>',
  );
  return `<section id="failures"><h2>Failures (${data.failures.length})</h2>${items.join('\n')}</section>`;
}

/** A Gantt drawn with positioned boxes over the span of the day's runs (no script). */
function ganttSection(data: RunViewData): string {
  const idle = data.idle_load_runs ? ` ${n(data.idle_load_runs)} load ticks found nothing to load and are not drawn.` : '';
  if (data.runs.length === 0) return `<section id="runs"><h2>Runs of the day</h2><p>No stage run that did something on this day.${idle}</p></section>`;
  const start = Math.min(...data.runs.map((r) => Date.parse(r.started_at)));
  const end = Math.max(...data.runs.map((r) => Date.parse(r.finished_at)), start + 1000);
  const span = end - start;
  const lanes = new Map<string, RunBar[]>();
  for (const r of data.runs) {
    const lane = `${r.stage} ${r.target}`;
    lanes.set(lane, [...(lanes.get(lane) ?? []), r]);
  }
  const rows = [...lanes.entries()].map(([lane, bars]) => {
    const attempts = Math.max(...bars.map((b) => b.attempt));
    const failed = bars.filter((b) => b.status === 'failed').length;
    const boxes = bars.map((b) => {
      const left = ((Date.parse(b.started_at) - start) / span) * 100;
      const width = Math.max(0.3, ((Date.parse(b.finished_at) - Date.parse(b.started_at)) / span) * 100);
      const title = `${b.stage} ${b.target} attempt ${b.attempt}: ${b.status} ${b.started_at} → ${b.finished_at}${b.rows !== null ? `, ${b.rows} rows` : ''}${b.error ? ` — ${b.error}` : ''}`;
      return `<div class="bar ${b.status}" style="left:${left.toFixed(2)}%;width:${Math.min(width, 100 - left).toFixed(2)}%" title="${escapeHtml(title)}"></div>`;
    });
    return `<tr><td class="l">${escapeHtml(lane)}</td><td>${bars.length}</td><td>${attempts}</td><td class="${failed ? 'bad' : 'ok'}">${failed ? `${failed} failed` : 'ok'}</td><td class="l" style="width:60%"><div class="gantt">${boxes.join('')}</div></td></tr>`;
  });
  return `<section id="runs"><h2>Runs of the day (${data.runs.length})</h2><p>From ${escapeHtml(new Date(start).toISOString())} to ${escapeHtml(new Date(end).toISOString())}; hover a bar for its times.${idle}</p>
<table><tr><th>stage and target</th><th>runs</th><th>max attempt</th><th>status</th><th class="l">timeline</th></tr>${rows.join('\n')}</table></section>`;
}

function backlogSection(data: RunViewData): string {
  const { parse, unloaded, pending } = data.backlog;
  const prefixes = parse.prefixes.map(
    (p) => `<tr class="${p.count > 0 ? 'stuck' : ''}"><td class="l">${escapeHtml(p.prefix)}</td><td>${n(p.count)}</td><td>${age(p.oldest_age_s)}</td><td class="l"><code>${escapeHtml(p.oldest_key ?? '')}</code></td></tr>`,
  );
  const tables = unloaded.map((u) => `<tr class="stuck"><td class="l">${escapeHtml(u.table)}</td><td>${n(u.files)}</td><td>${age(u.oldest_age_s)}</td><td class="l"><code>${escapeHtml(u.oldest_key)}</code></td></tr>`);
  return `<section id="backlog"><h2>Backlog</h2>
<h3>Unparsed inputs (stored, no parse summary): ${n(parse.count)}</h3>
<table><tr><th>prefix</th><th>inputs</th><th>oldest</th><th class="l">oldest input</th></tr>${prefixes.join('\n')}</table>
<h3>Unloaded parsed files (older than the threshold): ${n(unloaded.reduce((s, u) => s + u.files, 0))}; pending ${n(pending)}</h3>
${tables.length ? `<table><tr><th>table</th><th>files</th><th>oldest</th><th class="l">oldest file</th></tr>${tables.join('\n')}</table>` : '<p class="ok">None.</p>'}</section>`;
}

/** Events received per hour of the day: a row of hours over a row of counts, and a bar chart where script runs. */
function hourlySection(data: RunViewData): string {
  const hours = data.events_per_hour;
  if (hours.length === 0) return '<section id="hourly"><h2>Events received per hour</h2><p>No hour of this day has begun.</p></section>';
  const total = hours.reduce((sum, h) => sum + h.events, 0);
  const head = hours.map((h) => `<th>${h.hour.slice(11, 13)}</th>`).join('');
  const cells = hours.map((h) => `<td>${n(h.events)}</td>`).join('');
  return `<section id="hourly"><h2>Events received per hour (UTC): ${n(total)}</h2><div class="chart" id="hourly-chart"></div>
<table class="hours"><tr><th>hour</th>${head}</tr><tr><td>events</td>${cells}</tr></table></section>`;
}

function qualitySection(data: RunViewData): string {
  const sources = data.quality.map((q) => {
    const rows = q.days.map(
      (d) => `<tr class="${d.verdict === 'fail' ? 'anomaly' : ''}" data-date="${d.date}"><td>${d.date}</td><td>${n(d.inputs)}</td><td>${n(d.lines)}</td><td>${n(d.accepted)}</td><td>${n(d.ignored)}</td><td class="${d.rejected > 0 ? 'warn' : ''}">${n(d.rejected)}</td><td>${d.median === null ? '' : n(d.median)}</td><td class="${d.verdict === 'fail' ? 'bad' : ''}">${d.verdict === 'fail' ? 'anomaly: outside 0.9×–1.15× median' : d.verdict === 'pass' ? 'ok' : 'not enough history'}</td></tr>`,
    );
    return `<h3>${escapeHtml(q.source)}</h3><div class="chart" data-source="${escapeHtml(q.source)}"></div><table><tr><th>date</th><th>inputs</th><th>lines</th><th>accepted</th><th>ignored</th><th>rejected</th><th>7-day median</th><th>volume rule</th></tr>${rows.join('\n')}</table>`;
  });
  return `<section id="quality"><h2>Data quality per source</h2><p>The volume rule: ${escapeHtml(data.volume_rule)}.</p>${sources.join('\n') || '<p>No parse summary loaded yet.</p>'}</section>`;
}

function rejectionsSection(data: RunViewData): string {
  const rows = data.rejections.map((r) => `<tr><td class="l">${escapeHtml(r.reason)}</td><td>${r.status ?? 'row'}</td><td>${n(r.requests)}</td></tr>`);
  return `<section id="rejections"><h2>Refused requests and rejected rows by reason</h2>${rows.length ? `<table><tr><th>reason</th><th>status</th><th>requests</th></tr>${rows.join('')}</table><p>Each one: <code>select * from rejections</code> in the warehouse schema.</p>` : '<p>None recorded on this day.</p>'}</section>`;
}

function freshnessSection(data: RunViewData): string {
  const rows = data.freshness.map(
    (f) => `<tr><td class="l">${escapeHtml(f.table)}</td><td>${escapeHtml(f.last_loaded_at ?? 'never')}</td><td>${age(f.age_s)}</td><td>${age(f.expected_s)}</td><td class="${f.stale ? 'bad' : 'ok'}">${f.stale ? 'stale' : 'fresh'}</td></tr>`,
  );
  return `<section id="freshness"><h2>Freshness per table</h2><table><tr><th>table</th><th>last load</th><th>age</th><th>expected within</th><th>state</th></tr>${rows.join('')}</table></section>`;
}

/**
 * The charts' figures, as JSON a script element can hold (`<` escaped, so no `</script>` in a
 * source name can end it): per source the days oldest first, and the hours.
 */
function chartData(data: RunViewData): string {
  const figures = {
    quality: data.quality.map((q) => ({ source: q.source, days: [...q.days].reverse().map((d) => ({ date: d.date, lines: d.lines, accepted: d.accepted, rejected: d.rejected, anomaly: d.verdict === 'fail' })) })),
    hours: data.events_per_hour,
  };
  return JSON.stringify(figures).replace(/</g, '\\u003c');
}

/**
 * Draws the charts with uPlot (served by ferry serve under /assets/): per source lines, accepted
 * and rejected per day with the days the volume rule flags as points, and events per hour as
 * bars. Without script, or without uPlot, the tables say the same.
 */
const chartScript = `(function () {
  var U = window.uPlot, holder = document.getElementById('chart-data');
  if (!U || !holder) return;
  var figures = JSON.parse(holder.textContent);
  var iso = function (ts) { return new Date(ts * 1e3).toISOString(); };
  // x in seconds, labelled in UTC: days as MM-DD, hours as HH:00.
  var x = {
    day: { label: 'day', step: 86400, text: function (ts) { return iso(ts).slice(5, 10); } },
    hour: { label: 'hour', step: 3600, text: function (ts) { return iso(ts).slice(11, 16); } },
  };
  function draw(el, title, unit, series, columns, extra) {
    var width = Math.max(320, Math.min(1150, el.parentNode.clientWidth - 10));
    var label = function (u, v) { return v == null ? '--' : unit.text(v); };
    var ticks = function (u, splits) { return splits.map(unit.text); };
    var incrs = [1, 2, 3, 4, 6, 7, 12, 14, 28].map(function (k) { return k * unit.step; });
    new U(Object.assign({ title: title, width: width, height: 220, series: [{ label: unit.label, value: label }].concat(series), axes: [{ values: ticks, incrs: incrs }, { size: 70 }] }, extra || {}), columns, el);
    el.setAttribute('data-drawn', 'true');
  }
  var day = function (d) { return Date.parse(d.date + 'T00:00:00Z') / 1e3; };
  figures.quality.forEach(function (q) {
    var el = document.querySelector('.chart[data-source="' + CSS.escape(q.source) + '"]');
    if (!el || q.days.length === 0) return;
    var col = function (k) { return q.days.map(function (d) { return d[k]; }); };
    draw(el, q.source + ': lines per day', x.day, [
      { label: 'lines', stroke: '#7f8c8d' },
      { label: 'accepted', stroke: '#2e86c1', width: 2 },
      { label: 'rejected', stroke: '#d68910' },
      { label: 'outside 0.9×–1.15× median', stroke: '#c0392b', fill: '#c0392b', paths: function () { return null; }, points: { show: true, size: 11, fill: '#c0392b' } },
    ], [q.days.map(day), col('lines'), col('accepted'), col('rejected'), q.days.map(function (d) { return d.anomaly ? d.accepted : null; })]);
  });
  var hourly = document.getElementById('hourly-chart');
  if (hourly && figures.hours.length > 0) {
    draw(hourly, 'events received per hour (UTC)', x.hour, [{ label: 'events', stroke: '#2e86c1', fill: 'rgba(46,134,193,0.35)', paths: U.paths.bars({ size: [0.8, 60] }), points: { show: false } }],
      [figures.hours.map(function (h) { return Date.parse(h.hour) / 1e3; }), figures.hours.map(function (h) { return h.events; })],
      { scales: { x: { range: function (u, min, max) { return [min - 1800, max + 1800]; } } } });
  }
})();`;

/** How the page is served: `charts` where uPlot's files are answered under `<basePath>/assets/` (ferry serve). */
export interface RunViewPageOptions {
  charts?: boolean;
}

/** The run view as one HTML page: readable without JavaScript, failures first; charts where script runs and `charts` is set. */
export function runViewHtml(data: RunViewData, basePath = '', options: RunViewPageOptions = {}): string {
  const day = Date.parse(`${data.date}T00:00:00Z`);
  const assets = `${basePath}/assets`;
  const link = (offset: number) => new Date(day + offset * 86_400_000).toISOString().slice(0, 10);
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>Ferry runs ${escapeHtml(data.date)}</title><style>${style}</style>${options.charts ? `<link rel="stylesheet" href="${assets}/uplot.min.css">` : ''}</head><body>
<h1>Ferry runs of ${escapeHtml(data.date)}</h1>
<nav><a href="${basePath}/runs/${link(-1)}">← ${link(-1)}</a><a href="${basePath}/runs/${link(1)}">${link(1)} →</a><a href="${basePath}/api/runs/${escapeHtml(data.date)}">JSON</a><a href="${basePath}/metrics">metrics</a></nav>
<p>Generated ${escapeHtml(data.generated_at)}.</p>
${failuresSection(data)}
${ganttSection(data)}
${backlogSection(data)}
${hourlySection(data)}
${qualitySection(data)}
${rejectionsSection(data)}
${freshnessSection(data)}
${options.charts ? `<script type="application/json" id="chart-data">${chartData(data)}</script><script src="${assets}/uplot.min.js"></script><script>${chartScript}</script>` : ''}
</body></html>`;
}
