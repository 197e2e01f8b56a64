// A NetAdapt run's iterations.csv in its --out directory: one row per finished iteration (what was shrunk, the
// latency and validation accuracy after it), for spreadsheets and plotting scripts. Written again whole from the
// store after every iteration, so a resumed run's file holds the iterations before the kill too.
import { join } from 'node:path';
import { replaceFileSync } from '../common/atomicFs.js';
import { type Cell, toCsv } from '../results/export.js';
import { encodeArch } from '../space/blockString.js';
import type { RunContext } from './context.js';
import { readStep } from './stored.js';
import type { StoredStep } from './types.js';

export const ITERATIONS_CSV = 'iterations.csv';

export const ITERATION_COLUMNS = [
  'iteration', 'what', 'latency_ms', 'latency_measured_ms', 'val_top1', 'proposals', 'proposals_failed', 'score', 'arch', 'checkpoint',
] as const;

function row(s: StoredStep): Cell[] | null {
  const c = s.chosen;
  if (c === null) return null;
  const failed = s.proposals.filter((p) => p.error !== null).length;
  return [s.iteration, c.what, c.latencyMs, s.latencyMeasuredMs, c.accuracy, s.proposals.length, failed, c.score, encodeArch(c.spec), c.checkpoint];
}

/** Writes `iterations.csv` in the run's directory from its stored, finished iterations. */
export function writeIterationsCsv(run: RunContext): void {
  const rows = run.store.listNetadaptIterations(run.runId).map((r) => row(readStep(r))).filter((r): r is Cell[] => r !== null);
  replaceFileSync(join(run.settings.out, ITERATIONS_CSV), toCsv({ columns: ITERATION_COLUMNS, rows }));
}
