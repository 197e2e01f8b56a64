// The charts and tables of NetAdapt runs: latency and accuracy per iteration (iteration 0 is the seed), what each
// step shrank, and the result against the width-multiplier baseline of the same latency.
import * as Plot from '@observablehq/plot';
import type { NetadaptNetwork, NetadaptReport } from '../../results/reportTypes.js';
import { el, figure, fmt, simpleTable } from './dom.js';
import { type SeriesPoint, seriesChart } from './seriesChart.js';

/** One point per step with a value (the seed as iteration 0), a series per kind (and run, when several). */
function stepPoints(runs: readonly NetadaptReport[], kinds: readonly ['latencyPredictedMs' | 'latencyMeasuredMs' | 'accuracy', string][]): SeriesPoint[] {
  return runs.flatMap((r) => {
    const seed = r.networks.find((n) => n.name === 'seed');
    const seedStep = { iteration: 0, what: 'seed', latencyPredictedMs: seed?.latencyPredictedMs ?? null, latencyMeasuredMs: null, accuracy: seed?.valAccuracy ?? null };
    return [seedStep, ...r.steps].flatMap((s) =>
      kinds.flatMap(([k, label]) => {
        const v = s[k];
        const series = runs.length > 1 ? `${r.id} ${label}` : label;
        return v === null ? [] : [{ x: s.iteration, value: v, series, note: s.what ?? '' }];
      }),
    );
  });
}

const stepChart = (name: string, title: string, rows: readonly SeriesPoint[], y: string): HTMLElement | null =>
  seriesChart(name, title, rows, { x: 'iteration', y });

const latencyOf = (n: NetadaptNetwork): number | null => n.latencyMeasuredMs ?? n.latencyPredictedMs;
const accuracyOf = (n: NetadaptNetwork): number | null => n.testTop1 ?? n.valAccuracy;

/** Accuracy against latency of the seed, the result and the baseline: where each network ended. */
function resultChart(runs: readonly NetadaptReport[]): HTMLElement | null {
  const rows = runs.flatMap((r) => r.networks.map((n) => ({ ...n, run: r.id, x: latencyOf(n), y: accuracyOf(n) })).filter((n) => n.x !== null && n.y !== null));
  if (rows.length === 0) return null;
  const label = (d: (typeof rows)[number]): string => (runs.length > 1 ? `${d.run} ${d.name}` : d.name);
  const chart = Plot.plot({
    width: 640,
    height: 320,
    grid: true,
    inset: 20,
    x: { label: 'latency (ms; measured together where available)' },
    y: { label: 'accuracy (test top-1, else validation)' },
    color: { legend: true },
    marks: [
      Plot.dot(rows, { x: 'x', y: 'y', fill: 'name', r: 6, title: label, ariaDescription: 'network' }),
      Plot.text(rows, { x: 'x', y: 'y', text: label, dy: -12, ariaDescription: 'label' }),
    ],
  });
  return figure('netadapt-result', 'Result against the width baseline', chart);
}

function tables(runs: readonly NetadaptReport[]): HTMLElement {
  const box = el('div');
  const steps = runs.flatMap((r) => r.steps.map((s) => [r.id, String(s.iteration), s.what ?? '', fmt(s.latencyPredictedMs, 3), fmt(s.latencyMeasuredMs, 3), fmt(s.accuracy, 4), `${s.proposals} (${s.failedProposals} failed)`]));
  const nets = runs.flatMap((r) => r.networks.map((n) => [r.id, n.name, fmt(n.latencyPredictedMs, 3), fmt(n.latencyMeasuredMs, 3), fmt(n.valAccuracy, 4), fmt(n.testTop1, 4), fmt(n.params, 0), fmt(n.width, 3)]));
  box.append(
    el('h3', 'What each step shrank'),
    simpleTable('netadapt-steps', ['run', 'iteration', 'shrunk', 'latency ms (predicted)', 'measured', 'accuracy (fine-tuned)', 'proposals'], steps),
    el('h3', 'The networks at the end'),
    simpleTable('netadapt-networks', ['run', 'network', 'latency ms (predicted)', 'measured together', 'val accuracy', 'test top-1', 'params', 'width'], nets),
  );
  for (const r of runs) if (r.verdict !== null || r.message !== null) box.append(el('p', `${r.id}: ${[r.message, r.verdict].filter((s) => s !== null).join(' ')}`, { class: 'note' }));
  return box;
}

export function netadaptCharts(runs: readonly NetadaptReport[]): HTMLElement[] {
  const charts = [
    stepChart('netadapt-latency', 'Latency per iteration', stepPoints(runs, [['latencyPredictedMs', 'predicted'], ['latencyMeasuredMs', 'measured']]), 'latency (ms)'),
    stepChart('netadapt-accuracy', 'Accuracy per iteration (after the short fine-tune)', stepPoints(runs, [['accuracy', 'accuracy']]), 'accuracy'),
    resultChart(runs),
  ];
  return [...charts.filter((c): c is HTMLElement => c !== null), tables(runs)];
}
