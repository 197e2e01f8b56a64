// The human form of a NetAdapt run: the iterations (latency predicted and measured, validation accuracy, what was
// shrunk), the final architecture as block strings and its spec file, and the width baseline side by side.
import { table } from '../common/textTable.js';
import { describeRunner } from '../latency/sourceRunner.js';
import { encodeBlock } from '../space/blockString.js';
import type { NetadaptResult, TrainedResult } from './types.js';

const pct = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : `${(100 * v).toFixed(2)}%`);
const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '-' : v.toFixed(3));

export function iterationsTable(r: NetadaptResult): string {
  const rows = [
    ['0', 'seed', ms(r.seed.latencyMs), '-', pct(r.seed.valAccuracy), '-'],
    ...r.iterations.map((it) => [
      String(it.iteration),
      it.what,
      ms(it.latencyPredictedMs),
      ms(it.latencyMeasuredMs),
      pct(it.accuracy),
      String(it.proposals),
    ]),
  ];
  return table(['iter', 'shrunk', 'predicted ms', 'measured ms', 'val top-1', 'proposals'], rows);
}

function sideBySide(a: TrainedResult, b: (TrainedResult & { width: number }) | null): string {
  const cols = (t: TrainedResult): string[] => [ms(t.latencyPredictedMs), ms(t.latencyMeasuredMs), pct(t.test?.top1), String(t.params)];
  const rows = [['netadapt', ...cols(a)]];
  if (b !== null) rows.push([`width ${b.width.toFixed(3)}`, ...cols(b)]);
  return table(['network', 'predicted ms', 'measured ms', 'test top-1', 'params'], rows);
}

export function netadaptText(r: NetadaptResult): string {
  const lines = [
    `run ${r.runId}: ${r.message}`,
    `target ${ms(r.targetMs)} ms, delta ${ms(r.deltaMs)} ms per step`,
    '',
    iterationsTable(r),
    '',
    'final architecture:',
    ...r.finalSpec.stages.flat().map((b, i) => `  ${i}: ${encodeBlock(b)}`),
    `spec file: ${r.specFile} (nas train-final --arch ${r.specFile}, nas latency measure --arch ${r.specFile})`,
  ];
  if (r.final !== null) lines.push('', sideBySide(r.final, r.baseline));
  if (r.measured !== null) {
    const m = r.measured;
    lines.push(
      '',
      `measured together (${describeRunner(r.runner)}, p10): seed ${ms(m.seedMs)} ms, netadapt ${ms(m.finalMs)} ms ` +
        `(${((100 * m.finalMs) / m.seedMs).toFixed(1)}% of the seed), target ${ms(m.targetMs)} ms` +
        `${m.baselineMs === null ? '' : `, width baseline ${ms(m.baselineMs)} ms`}`,
      m.verdict,
    );
  }
  if (r.latencyEntriesAdded > 0) lines.push(`${r.latencyEntriesAdded} LUT entries were measured and added`);
  return lines.join('\n');
}
