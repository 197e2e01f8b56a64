// The only way the search loop writes its run: every write runs in one IMMEDIATE transaction that first checks the
// run's lease (results/lease.ts). A process that lost its run (blocked or stopped past its heartbeat, then taken over
// by a --resume) therefore writes nothing after the takeover, whatever the timing: its next write throws
// LeaseLostError instead, and the new owner re-evaluates what this process had in flight.
import type { Lease } from '../results/lease.js';
import type { Store } from '../results/store.js';

/** What a search writes: candidates, strategy snapshots, the run's end. */
export type RunWrites = Pick<
  Store,
  | 'enqueueCandidate'
  | 'claimCandidate'
  | 'markCandidateDone'
  | 'markCandidateFailed'
  | 'requeueInFlight'
  | 'saveStrategyState'
  | 'setRunResult'
  | 'updateRunStatus'
  | 'finishRun'
>;

/** The store's writes, each fenced by the lease. */
export function leasedWrites(store: Store, lease: Lease): RunWrites {
  const fence =
    <A extends unknown[], R>(write: (...args: A) => R) =>
    (...args: A): R =>
      store.transaction(() => {
        store.checkLease(lease);
        return write(...args);
      });
  return {
    enqueueCandidate: fence(store.enqueueCandidate),
    claimCandidate: fence(store.claimCandidate),
    markCandidateDone: fence(store.markCandidateDone),
    markCandidateFailed: fence(store.markCandidateFailed),
    requeueInFlight: fence(store.requeueInFlight),
    saveStrategyState: fence(store.saveStrategyState),
    setRunResult: fence(store.setRunResult),
    updateRunStatus: fence(store.updateRunStatus),
    finishRun: fence(store.finishRun),
  };
}
