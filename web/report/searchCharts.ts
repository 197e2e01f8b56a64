// The charts of search runs, drawn with Observable Plot: best so far against candidates evaluated, accuracy against
// each cost with the Pareto front, time per candidate, failures by reason. Several runs share each chart, one colour
// per run; one run is coloured by candidate order instead.
import * as Plot from '@observablehq/plot';
import type { ReportCandidate, ReportCost, SearchReport } from '../../results/reportTypes.js';
import { choiceCharts } from './choiceCharts.js';
import { figure } from './dom.js';

type Row = ReportCandidate & { readonly run: string };

const COST: Readonly<Record<ReportCost, { readonly key: 'latencyMs' | 'madds' | 'params'; readonly label: string }>> = {
  latency: { key: 'latencyMs', label: 'latency (ms)' },
  madds: { key: 'madds', label: 'multiply-adds' },
  params: { key: 'params', label: 'parameters' },
};

const rowsOf = (runs: readonly SearchReport[]): Row[] => runs.flatMap((r) => r.candidates.map((c) => ({ ...c, run: r.id })));

const hover = (d: Row): string =>
  [`run:${d.run}#${d.seq}`, `accuracy ${d.accuracy ?? '-'}, reward ${d.reward ?? '-'}`, d.arch.split(':').join('\n')].join('\n');

/** Best reward (or accuracy) so far: one line per run. */
function bestChart(runs: readonly SearchReport[], key: 'reward' | 'accuracy'): HTMLElement {
  const rows = runs.flatMap((r) => r.best.filter((b) => b[key] !== null).map((b) => ({ ...b, run: r.id })));
  const chart = Plot.plot({
    width: 640,
    height: 300,
    grid: true,
    x: { label: 'candidates evaluated' },
    y: { label: `best ${key} so far` },
    color: { legend: runs.length > 1 },
    marks: [Plot.line(rows, { x: 'n', y: key, stroke: 'run', curve: 'step-after', ariaDescription: 'best' })],
  });
  return figure(`best-${key}`, `Best ${key} so far`, chart);
}

/** Accuracy against a cost for every done candidate, with each run's Pareto front drawn through its points. */
function costChart(runs: readonly SearchReport[], cost: ReportCost): HTMLElement | null {
  const { key, label } = COST[cost];
  const points = rowsOf(runs).filter((c) => c.status === 'done' && c.accuracy !== null && c[key] !== null);
  if (points.length === 0) return null;
  const front = points.filter((c) => c.front.includes(cost)).sort((a, b) => (a[key] ?? 0) - (b[key] ?? 0));
  const single = runs.length === 1;
  const targets = runs.flatMap((r) => r.targetLines.filter((t) => t.cost === cost));
  const chart = Plot.plot({
    width: 640,
    height: 360,
    grid: true,
    x: { label },
    y: { label: 'accuracy' },
    color: single ? { type: 'sequential', scheme: 'viridis', legend: true, label: 'candidate #' } : { legend: true },
    marks: [
      Plot.line(front, { x: key, y: 'accuracy', z: 'run', stroke: single ? 'currentColor' : 'run', curve: 'step-after', strokeOpacity: 0.6, ariaDescription: 'front' }),
      Plot.dot(front, { x: key, y: 'accuracy', stroke: single ? 'currentColor' : 'run', r: 7, ariaDescription: 'front point' }),
      Plot.dot(points, { x: key, y: 'accuracy', fill: single ? 'seq' : 'run', r: 4, title: hover, ariaDescription: 'candidate' }),
      Plot.ruleX(targets, { x: 'value', stroke: '#e0452b', strokeDasharray: '4 3', ariaDescription: 'target' }),
      Plot.text(targets, { x: 'value', text: 'text', frameAnchor: 'top', dx: 4, textAnchor: 'start', fill: '#e0452b' }),
    ],
  });
  return figure(`accuracy-${cost}`, `Accuracy vs ${label}`, chart, 'The line is the Pareto front; hover a point for its architecture.');
}

/** Seconds per finished candidate, failures in their own colour. */
function timeChart(runs: readonly SearchReport[]): HTMLElement | null {
  const rows = rowsOf(runs).filter((c) => c.seconds !== null);
  if (rows.length === 0) return null;
  const chart = Plot.plot({
    width: 640,
    height: 260,
    grid: true,
    x: { label: 'candidate #' },
    y: { label: 'seconds' },
    color: { domain: ['done', 'failed'], range: ['#4269d0', '#e0452b'], legend: true },
    symbol: { legend: runs.length > 1 },
    marks: [Plot.dot(rows, { x: 'seq', y: 'seconds', fill: 'status', symbol: runs.length > 1 ? 'run' : 'circle', title: hover, ariaDescription: 'candidate' })],
  });
  return figure('time', 'Time per candidate', chart);
}

/** Failed candidates by reason, one bar per reason and run; null when nothing failed. */
function failureChart(runs: readonly SearchReport[]): HTMLElement | null {
  const rows = runs.flatMap((r) => r.failures.map((f) => ({ ...f, run: r.id, short: f.reason.slice(0, 80) })));
  if (rows.length === 0) return null;
  const chart = Plot.plot({
    width: 640,
    marginLeft: 300,
    height: 60 + 28 * rows.length,
    // Whole-number ticks: a count of candidates.
    x: { label: 'failed candidates', grid: true, ticks: Math.min(10, Math.max(...rows.map((r) => r.count))), tickFormat: 'd' },
    y: { label: null },
    color: { legend: runs.length > 1 },
    marks: [Plot.barX(rows, { x: 'count', y: 'short', fill: 'run', title: (d: (typeof rows)[number]) => `${d.reason}\n#${d.seqs.join(', #')}`, ariaDescription: 'reason' })],
  });
  return figure('failures', 'Failures by reason', chart);
}

/** Every chart of the search runs, in reading order (charts without data are left out). */
export function searchCharts(runs: readonly SearchReport[]): HTMLElement[] {
  const charts = [
    bestChart(runs, 'reward'),
    bestChart(runs, 'accuracy'),
    ...(['latency', 'madds', 'params'] as const).map((c) => costChart(runs, c)),
    timeChart(runs),
    failureChart(runs),
    ...choiceCharts(runs),
  ];
  return charts.filter((c): c is HTMLElement => c !== null);
}
