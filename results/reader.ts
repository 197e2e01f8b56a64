// The read side of the results store, for library users (the package entry, index.ts): a read-only open that hands
// back the queries only, so a script that inspects a search cannot write to the database by mistake, and the store's
// write methods are no part of the public API.
import { type Store, type StoreOptions, openStore } from './store.js';

/** Every query of the store; none writes. */
export type ResultsReader = Pick<
  Store,
  | 'path'
  | 'schemaVersion'
  | 'getRun'
  | 'requireRun'
  | 'listRuns'
  | 'findRunning'
  | 'listEpochs'
  | 'latestCheckpoint'
  | 'listCheckpoints'
  | 'getCandidate'
  | 'getCandidateBySeq'
  | 'listCandidates'
  | 'countCandidates'
  | 'cachedResult'
  | 'loadStrategyState'
  | 'latestStrategyStep'
  | 'readLatencyTable'
  | 'listLatencyTables'
  | 'listNetadaptIterations'
  | 'readSnapshot'
  | 'close'
>;

/** How a reader waits for a writer's lock (StoreOptions.busyTimeoutMs). */
export type ReaderOptions = Pick<StoreOptions, 'busyTimeoutMs'>;

/**
 * Opens an existing results database (`nas.db`) for reading only: nothing is written to it, even where the file or
 * its directory is read-only, and reads see what a running search commits. Close it when done.
 */
export function openResults(path: string, opts: ReaderOptions = {}): ResultsReader {
  const s = openStore(path, { ...opts, readonly: true });
  return {
    path: s.path,
    schemaVersion: s.schemaVersion,
    getRun: s.getRun,
    requireRun: s.requireRun,
    listRuns: s.listRuns,
    findRunning: s.findRunning,
    listEpochs: s.listEpochs,
    latestCheckpoint: s.latestCheckpoint,
    listCheckpoints: s.listCheckpoints,
    getCandidate: s.getCandidate,
    getCandidateBySeq: s.getCandidateBySeq,
    listCandidates: s.listCandidates,
    countCandidates: s.countCandidates,
    cachedResult: s.cachedResult,
    loadStrategyState: s.loadStrategyState,
    latestStrategyStep: s.latestStrategyStep,
    readLatencyTable: s.readLatencyTable,
    listLatencyTables: s.listLatencyTables,
    listNetadaptIterations: s.listNetadaptIterations,
    readSnapshot: s.readSnapshot,
    close: s.close,
  };
}
