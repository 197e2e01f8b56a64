// How a search's choices moved: per decision of the space (rows) and window of candidates (columns), the share of
// the option sampled most at the end. A learning controller's rows darken to the right; random search stays pale.
import * as Plot from '@observablehq/plot';
import type { ChoiceTrends, SearchReport } from '../../results/reportTypes.js';
import { figure } from './dom.js';

interface Cell {
  readonly window: string;
  readonly path: string;
  readonly share: number;
  readonly detail: string;
}

function cells(t: ChoiceTrends): Cell[] {
  return t.decisions.flatMap((d) =>
    t.windows.map((w, i) => {
      const shares = d.shares[i] ?? [];
      const detail = d.options.map((o, k) => `${o}: ${Math.round(100 * (shares[k] ?? 0))}%`).join(', ');
      return { window: `#${w.from}-${w.to}`, path: d.path, share: shares[d.favourite] ?? 0, detail: `${d.path} (#${w.from}-${w.to})\n${detail}` };
    }),
  );
}

function choiceChart(run: SearchReport, t: ChoiceTrends): HTMLElement {
  const chart = Plot.plot({
    width: 640,
    height: 80 + 14 * t.decisions.length,
    marginLeft: 170,
    marginBottom: 50,
    padding: 0.05,
    x: { label: 'candidates', domain: t.windows.map((w) => `#${w.from}-${w.to}`), tickRotate: -30 },
    y: { label: null, domain: t.decisions.map((d) => d.path) },
    color: { type: 'linear', domain: [0, 1], scheme: 'blues', legend: true, label: 'share of the final favourite option' },
    marks: [Plot.cell(cells(t), { x: 'window', y: 'path', fill: 'share', title: 'detail', ariaDescription: 'cell' })],
  });
  const box = figure('choices', `Choices over the search: ${run.id} (${run.strategy ?? 'strategy'})`, chart, 'Hover a cell for every option\'s share in that window.');
  box.setAttribute('data-run', run.id);
  return box;
}

export function choiceCharts(runs: readonly SearchReport[]): HTMLElement[] {
  return runs.flatMap((r) => (r.choices === null ? [] : [choiceChart(r, r.choices)]));
}
