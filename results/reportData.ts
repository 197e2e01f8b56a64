// What `nas report` embeds in its page: the runs named, each read by its kind, in one read snapshot of the store.
import { UsageError } from '../common/errors.js';
import { REPORT_VERSION, type ReportData, type RunReport } from './reportTypes.js';
import { netadaptReport } from './reportNetadapt.js';
import { type ReadTarget, searchReport } from './reportSearch.js';
import { trainReport } from './reportTrain.js';
import type { RunRecord } from './runs.js';
import type { Store } from './store.js';

export interface ReportOptions {
  /** How a search's stored `--target` texts are read (the parser lives in latency/, a layer above the store). */
  readonly readTarget?: ReadTarget;
}

function runReport(store: Store, run: RunRecord, opts: ReportOptions): RunReport {
  if (run.kind === 'search') return searchReport(store, run, opts.readTarget);
  if (run.kind === 'train') return trainReport(store, run);
  if (run.kind === 'netadapt') return netadaptReport(store, run);
  throw new UsageError(`run ${run.id} is a ${run.kind} run; nas report draws search, netadapt and train runs (\`nas runs\` lists them)`);
}

/** The report of `ids` (each once, in the order given); a one-line error for an unknown run. */
export function reportData(store: Store, ids: readonly string[], opts: ReportOptions = {}): ReportData {
  const seen = new Set<string>();
  for (const id of ids) {
    if (seen.has(id)) throw new UsageError(`run ${id} is named twice: name each run once`);
    seen.add(id);
  }
  return store.readSnapshot(() => ({ version: REPORT_VERSION, runs: ids.map((id) => runReport(store, store.requireRun(id), opts)) }));
}
