// One batch of a search, settled: proposals are enqueued (dedup by canonical string); what the store already knows
// needs no evaluation (this run's own results when a batch is replayed after a kill, then another run's result with
// the same evalKey); the rest is evaluated on the engine, keeping it busy, with claims in seq order. Every result is
// written as it settles, through the run's lease.
import { NasError } from '../common/errors.js';
import type { CandidateRecord } from '../results/candidates.js';
import type { JsonValue } from '../common/json.js';
import type { Store } from '../results/store.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeArch, encodeArch } from '../space/blockString.js';
import { applySample, type SearchSpace } from '../space/searchSpace.js';
import type { Engine, EvalOutcome, EvalTask } from './engine/types.js';
import type { RunWrites } from './lease.js';
import { checkMetrics } from './metrics.js';
import { candidateSeed } from './seed.js';
import type { Metrics, Observation } from './types.js';

export type CandidateSource = 'evaluated' | 'cached' | 'reused';

export interface CandidateEvent {
  readonly batch: number;
  readonly seq: number;
  readonly arch: string;
  readonly source: CandidateSource;
  readonly ok: boolean;
  readonly reward: number | null;
  readonly metrics: Metrics | null;
  readonly failure: string | null;
  readonly seconds: number;
  /** Distinct candidates settled in the run so far. */
  readonly distinct: number;
  readonly budget: number;
}

/** What every batch of a session uses. */
export interface RunContext {
  /** Reads; every write goes through `w`. */
  readonly store: Store;
  readonly w: RunWrites;
  readonly runId: string;
  readonly space: SearchSpace;
  readonly evalKey: string;
  readonly seed: number;
  readonly evaluatorConfig: { readonly [key: string]: JsonValue };
  readonly budget: number;
  readonly rewardOf: (metrics: Metrics) => number;
  readonly onCandidate?: ((e: CandidateEvent) => void) | undefined;
}

/** This session's counters. */
export interface Session {
  samples: number;
  evaluated: number;
  failed: number;
  cached: number;
  replayedBatches: number;
}

export interface Entry {
  readonly decisions: number[];
  readonly arch: ArchSpec;
  readonly canonical: string;
  readonly candidate: CandidateRecord;
}

/** Enqueues a batch's proposals (a known architecture gets its existing candidate). */
export function enqueueProposals(ctx: RunContext, proposals: readonly number[][]): Entry[] {
  return proposals.map((decisions) => {
    const arch = applySample(ctx.space, decisions);
    const canonical = encodeArch(arch);
    const { candidate } = ctx.w.enqueueCandidate({ runId: ctx.runId, arch: canonical, evalKey: ctx.evalKey, decisions });
    return { decisions, arch, canonical, candidate };
  });
}

const settledStatus = (c: CandidateRecord): boolean => c.status === 'done' || c.status === 'failed';

/** True when every candidate of the batch was settled in an earlier session (seq <= lastSeq): it replays. */
export function isReplayed(entries: readonly Entry[], lastSeq: number): boolean {
  return entries.every((e) => e.candidate.seq <= lastSeq && settledStatus(e.candidate));
}

/** Stored metrics, checked: a damaged row is named, not trusted. */
function storedMetrics(runId: string, c: CandidateRecord, m: JsonValue): Metrics {
  try {
    return checkMetrics(m);
  } catch (e) {
    throw new NasError('E_IO', `run ${runId} candidate ${c.seq}: its stored metrics are damaged (${(e as Error).message})`);
  }
}

/** One batch's results as they settle: reward per candidate id (null: failed) and the metrics of the done ones. */
export class BatchSettler {
  readonly rewards = new Map<number, number | null>();
  private readonly metricsOf = new Map<number, Metrics>();
  /** Progress only: distinct candidates of the run settled so far. */
  private settled: number;
  private aborted = false;

  constructor(
    private readonly ctx: RunContext,
    private readonly batchNo: number,
    distinctBefore: number,
    private readonly session: Session,
  ) {
    this.settled = distinctBefore;
  }

  /** Settles what needs no evaluation; returns the candidates left to evaluate, by id. */
  settleKnown(entries: readonly Entry[]): Map<number, Entry> {
    const fresh = new Map<number, Entry>();
    for (const e of entries) {
      const c = e.candidate;
      if (this.rewards.has(c.id) || fresh.has(c.id)) continue;
      if (settledStatus(c)) {
        this.rewards.set(c.id, c.status === 'done' ? c.reward : null);
        if (c.status === 'done' && c.metrics !== null) this.metricsOf.set(c.id, storedMetrics(this.ctx.runId, c, c.metrics));
      } else if (!this.settleFromCache(e)) {
        fresh.set(c.id, e);
      }
    }
    return fresh;
  }

  /** Copies another run's result with the same evalKey; false when there is none. */
  private settleFromCache(e: Entry): boolean {
    const { store, w, evalKey } = this.ctx;
    const cached = store.cachedResult(e.canonical, evalKey);
    if (cached === null) return false;
    const c = e.candidate;
    let reward: number | null = null;
    let metrics: Metrics | null = null;
    try {
      metrics = checkMetrics(cached.metrics);
      reward = this.ctx.rewardOf(metrics);
      w.markCandidateDone(c.id, { metrics: cached.metrics, reward });
      this.metricsOf.set(c.id, metrics);
    } catch (err) {
      reward = null;
      w.markCandidateFailed(c.id, `cached result unusable: ${(err as Error).message}`);
    }
    this.rewards.set(c.id, reward);
    this.session.cached++;
    this.emit({ seq: c.seq, arch: e.canonical, source: 'cached', ok: reward !== null, reward, metrics, failure: null, seconds: 0 });
    return true;
  }

  /**
   * Evaluates the fresh candidates with `engine.concurrency` runners. After an error (a store write, a hook) or
   * abort(), runners stop: what is in flight stays 'running', and is re-queued on resume rather than recorded as a
   * failure caused by the engine shutting down.
   */
  evaluate(engine: Engine, fresh: ReadonlyMap<number, Entry>): Promise<void> {
    // No more runners than candidates: the queue engine admits a thousand at once, and each idle runner would still
    // try a claim (a write transaction) for nothing. Each runner claims until none is left, so fewer miss nothing.
    const runners = Array.from({ length: Math.min(engine.concurrency, Math.max(1, fresh.size)) }, () =>
      this.runner(engine, fresh).catch((err: unknown) => {
        this.aborted = true;
        throw err;
      }),
    );
    return Promise.all(runners).then(() => undefined);
  }

  abort(): void {
    this.aborted = true;
  }

  private async runner(engine: Engine, fresh: ReadonlyMap<number, Entry>): Promise<void> {
    const { w, runId } = this.ctx;
    for (;;) {
      if (this.aborted) return;
      const claimed = w.claimCandidate(runId, engine.kind);
      if (claimed === null) return;
      const outcome = await engine.run(taskFor(this.ctx, claimed, fresh.get(claimed.id)));
      if (this.aborted) return;
      this.record(claimed, outcome);
    }
  }

  /** Writes an evaluation's outcome: done with its reward, or failed with the reason. */
  private record(c: CandidateRecord, outcome: EvalOutcome): void {
    let reward: number | null = null;
    let failure: string | null = outcome.ok ? null : outcome.reason;
    if (outcome.ok) {
      try {
        reward = this.ctx.rewardOf(outcome.metrics);
      } catch (err) {
        failure = (err as Error).message;
      }
    }
    if (failure === null && reward !== null && outcome.ok) {
      const metrics = { ...outcome.metrics, evalSeconds: outcome.seconds };
      this.ctx.w.markCandidateDone(c.id, { metrics, reward });
      this.metricsOf.set(c.id, metrics);
    } else {
      this.ctx.w.markCandidateFailed(c.id, failure ?? 'unknown failure');
      this.session.failed++;
    }
    this.session.evaluated++;
    this.rewards.set(c.id, reward);
    const metrics = outcome.ok ? outcome.metrics : null;
    this.emit({ seq: c.seq, arch: c.arch, source: 'evaluated', ok: failure === null, reward, metrics, failure, seconds: outcome.seconds });
  }

  private emit(e: Omit<CandidateEvent, 'batch' | 'distinct' | 'budget'>): void {
    this.settled++;
    this.ctx.onCandidate?.({ ...e, batch: this.batchNo, distinct: this.settled, budget: this.ctx.budget });
  }

  /** The batch as the strategy observes it, in proposal order. */
  observations(entries: readonly Entry[]): Observation[] {
    return entries.map((e) => ({
      decisions: e.decisions,
      reward: this.rewards.get(e.candidate.id) ?? null,
      metrics: this.metricsOf.get(e.candidate.id) ?? null,
    }));
  }
}

function taskFor(ctx: RunContext, c: CandidateRecord, e: Entry | undefined): EvalTask {
  const decisions = e?.decisions ?? c.decisions ?? undefined;
  const arch = e?.arch ?? (decisions !== undefined ? applySample(ctx.space, decisions) : decodeArch(c.arch));
  return {
    arch,
    context: {
      seed: candidateSeed(ctx.seed, c.arch),
      arch: c.arch,
      ...(decisions !== undefined ? { decisions: [...decisions] } : {}),
      config: ctx.evaluatorConfig,
    },
  };
}
