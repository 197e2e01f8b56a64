// What `nas runs` and `nas runs show` print, gathered from the store.
import type { CandidateCounts, CandidateRecord } from './candidates.js';
import type { CheckpointRecord } from './checkpoints.js';
import type { EpochRecord } from './epochs.js';
import type { NetadaptIterationRecord } from './netadapt.js';
import { isRunStale, type RunFilter, type RunRecord } from './runs.js';
import type { Store } from './store.js';

export interface RunSummary extends RunRecord {
  /** 'running' but nothing runs it any more (crashed or killed). */
  readonly stale: boolean;
}

export interface RunDetails {
  readonly run: RunSummary;
  readonly epochs: readonly EpochRecord[];
  readonly latestCheckpoint: CheckpointRecord | null;
  readonly candidates: CandidateCounts;
  /** The best candidates by reward. */
  readonly topCandidates: readonly CandidateRecord[];
  /** The step of the latest strategy snapshot. */
  readonly strategyStep: number | null;
  readonly netadaptIterations: readonly NetadaptIterationRecord[];
}

const summary = (run: RunRecord): RunSummary => ({ ...run, stale: isRunStale(run) });

export function listRunSummaries(store: Store, filter: RunFilter = {}): RunSummary[] {
  return store.listRuns(filter).map(summary);
}

export function describeRun(store: Store, id: string, top = 5): RunDetails {
  return store.readSnapshot(() => {
    const run = store.requireRun(id);
    return {
      run: summary(run),
      epochs: store.listEpochs(id),
      latestCheckpoint: store.latestCheckpoint(id),
      candidates: store.countCandidates(id),
      topCandidates: store.listCandidates(id, { status: 'done', orderBy: 'reward', limit: top }),
      strategyStep: store.latestStrategyStep(id),
      netadaptIterations: store.listNetadaptIterations(id),
    };
  });
}
