// `--time` as a deadline that the loop races each batch against, so that a search stops on time even while its
// evaluations hang (a hung evaluation is also failed by --eval-timeout, but that limit is meant to be generous).
// At the deadline the evaluations in flight are abandoned and put back in the queue, not failed: they did nothing
// wrong, so they must not count against --max-failures nor take a place in the budget as failures, and `--resume`
// evaluates them (the interrupted batch replays from the latest snapshot, as after a kill).
import type { Store } from '../results/store.js';
import type { RunWrites } from './lease.js';
import { snapshotFrom } from './snapshot.js';
import { after } from './engine/timer.js';

export interface Deadline {
  /** True when `work` settled first; false when the deadline passed first (a later rejection of work is ignored). */
  race(work: Promise<unknown>): Promise<boolean>;
}

/** The deadline `seconds` after t0 (a performance.now() time); null: none, race waits for the work. */
export function deadlineAfter(t0: number, seconds: number | null): Deadline {
  return {
    async race(work) {
      if (seconds === null) {
        await work;
        return true;
      }
      let cancel = (): void => {};
      const passed = new Promise<false>((resolve) => {
        cancel = after(t0 + seconds * 1000 - performance.now(), () => resolve(false));
      });
      try {
        return await Promise.race([work.then(() => true), passed]);
      } finally {
        cancel();
      }
    },
  };
}

/**
 * What the loop does when the deadline passes mid-batch: puts the run's evaluations in flight back in the queue and
 * returns how many. Writes go through the run's lease (search/lease.ts). The strategy has proposed a batch it has
 * not observed, so no new snapshot can be taken; the latest one gets this session's budget (a `--resume --budget N`
 * extension must survive a stop before the next snapshot).
 */
export function stopAtDeadline(store: Pick<Store, 'loadStrategyState'>, w: RunWrites, runId: string, budget: number): number {
  const requeued = w.requeueInFlight(runId);
  const last = store.loadStrategyState(runId);
  if (last === null) return requeued;
  const snap = snapshotFrom(runId, last.state);
  if (snap.budget !== budget) w.saveStrategyState(runId, last.step, { ...snap, budget });
  return requeued;
}
