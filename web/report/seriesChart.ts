// A chart of numbered steps (epochs, NetAdapt iterations): a line per series with a dot at each step, so that a
// series of one step still shows, and whole-number ticks.
import * as Plot from '@observablehq/plot';
import { figure } from './dom.js';

export interface SeriesPoint {
  readonly x: number;
  readonly value: number;
  readonly series: string;
  /** Shown on hover after the value. */
  readonly note: string;
}

export function seriesChart(name: string, title: string, rows: readonly SeriesPoint[], axes: { readonly x: string; readonly y: string }): HTMLElement | null {
  if (rows.length === 0) return null;
  const chart = Plot.plot({
    width: 640,
    height: 280,
    grid: true,
    x: { label: axes.x, interval: 1 },
    y: { label: axes.y },
    color: { legend: true },
    marks: [
      Plot.line(rows, { x: 'x', y: 'value', stroke: 'series', ariaDescription: 'series' }),
      Plot.dot(rows, { x: 'x', y: 'value', fill: 'series', r: 3, title: (d: SeriesPoint) => `${d.series}, ${axes.x} ${d.x}: ${d.value}\n${d.note}`, ariaDescription: axes.x }),
    ],
  });
  return figure(name, title, chart);
}
