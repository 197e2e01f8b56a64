// A search's snapshot: the strategy's state and the counters the loop needs to continue exactly, saved at most every
// few seconds (rl states are megabytes) and at the end of a session. Read back, it is checked field by field.
import { NasError } from '../common/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../common/json.js';

export interface Snapshot {
  readonly strategy: JsonValue;
  /** Distinct candidates after this step (their seqs are 0..distinct-1). */
  readonly distinct: number;
  readonly failed: number;
  readonly emptyStreak: number;
  readonly budget: number;
  /** The best reward of the run so far and the distinct candidates since it last improved (for --patience). */
  readonly best?: number | null;
  readonly sinceBest?: number;
}


/** A stored snapshot, checked: a damaged row is a clear error naming the run. */
export function snapshotFrom(runId: string, state: JsonValue): Snapshot {
  const bad = (what: string): NasError =>
    new NasError('E_IO', `run ${runId}: its latest strategy snapshot is damaged (${what}); the run cannot be resumed`);
  if (!isJsonObject(state) || !hasSnapshotShape(state, bad)) throw bad('not an object');
  return state;
}

function hasSnapshotShape(s: JsonObject, bad: (what: string) => NasError): s is JsonObject & Snapshot {
  if (!('strategy' in s)) throw bad('no strategy state');
  for (const k of ['distinct', 'failed', 'emptyStreak', 'budget']) {
    const v = s[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) throw bad(`${k} is not a count`);
  }
  const best = s['best'];
  if (best !== undefined && best !== null && typeof best !== 'number') throw bad('best is not a number');
  const since = s['sinceBest'];
  if (since !== undefined && (typeof since !== 'number' || !Number.isInteger(since) || since < 0)) throw bad('sinceBest is not a count');
  return true;
}

/** Best reward and distinct candidates since it improved, after a batch's new candidates (in seq order). */
function trackBest(snap: Snapshot, fresh: readonly (number | null)[]): { best: number | null; sinceBest: number } {
  let best = snap.best ?? null;
  let since = snap.sinceBest ?? 0;
  for (const r of fresh) {
    if (r !== null && (best === null || r > best)) {
      best = r;
      since = 0;
    } else {
      since++;
    }
  }
  return { best, sinceBest: since };
}

/** A batch's candidates as the counters see them. */
export interface BatchCandidate {
  readonly id: number;
  readonly seq: number;
}

/**
 * The counters after a batch, from the batch itself (not from the store, which may hold later batches being
 * replayed): its candidates with seq >= distinct are the new ones; `rewards` has each one's reward (null: failed).
 */
export function nextSnapshot(snap: Snapshot, batch: readonly BatchCandidate[], rewards: ReadonlyMap<number, number | null>, budget: number): Snapshot {
  const fresh = batch.filter((c) => c.seq >= snap.distinct);
  const ids = new Set(fresh.map((c) => c.id));
  const failed = [...ids].filter((id) => rewards.get(id) === null).length;
  const bySeq = [...new Map(fresh.map((c) => [c.seq, c.id])).entries()].sort((a, b) => a[0] - b[0]);
  return {
    strategy: null,
    distinct: snap.distinct + ids.size,
    failed: snap.failed + failed,
    emptyStreak: ids.size === 0 ? snap.emptyStreak + 1 : 0,
    budget,
    ...trackBest(snap, bySeq.map(([, id]) => rewards.get(id) ?? null)),
  };
}
