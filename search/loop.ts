// The search loop (library entry; cli/search.ts is the yargs layer). Synchronous batches, so a search is a pure
// function of its seed whatever the engine and the order in which evaluations finish:
//   propose(n) -> enqueue each arch (dedup by canonical string) -> reuse this run's results, copy another run's with
//   the same evalKey, evaluate the rest on the engine -> observe(results in proposal order) -> snapshot.
// Every result is written as it settles; a strategy snapshot is written at most every few seconds (rl snapshots are
// megabytes). Resume restores the latest snapshot and re-proposes from there: batches that had already been run
// find all their candidates settled in the store and are replayed without evaluation, so the strategy reaches the
// state it had at the kill, and only the evaluations in flight then are run again.
import { NasError, UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { parseTargets } from '../latency/targets.js';
import { evalKeyOf } from '../common/json.js';
import { type Lease, startLeaseHeartbeat } from '../results/lease.js';
import type { Store } from '../results/store.js';
import { encodeArch } from '../space/blockString.js';
import { applySample, type SearchSpace, spaceSize } from '../space/searchSpace.js';
import { BatchSettler, type CandidateEvent, enqueueProposals, isReplayed, type RunContext, type Session } from './batch.js';
import { type Deadline, deadlineAfter, stopAtDeadline } from './deadline.js';
import { createEngine, type EngineOptions } from './engine/factory.js';
import type { Engine, WorkerSetup } from './engine/types.js';
import { completeEvaluatorConfig, defaultEvalTimeout, resolveEvaluator } from './evaluators.js';
import { leasedWrites } from './lease.js';
import { preflight } from './preflight.js';
import { latencyFront } from '../results/pareto.js';
import { summarizeCandidate } from '../results/summary.js';
import type { SearchResult } from './result.js';
import { computeReward } from './reward.js';
import {
  checkSettings, defaultMaxFailures, type Limits, latencyOf, resolveSpace, type ResumeOverrides, type SearchSettings,
  settingsFromStore, spaceLabel,
} from './settings.js';
import { nextSnapshot, type Snapshot, snapshotFrom } from './snapshot.js';
import { type StopReason, type StopRules, stopBefore, stopMessage } from './stop.js';
import { strategyFactory } from './strategies/index.js';
import type { Metrics, ProposeContext, Strategy } from './types.js';

export type { CandidateEvent, CandidateSource } from './batch.js';
export type { EngineOptions } from './engine/factory.js';
export type { CandidateSummary } from '../results/summary.js';
export type { SearchResult } from './result.js';
export { checkSettings, defaultMaxFailures, parseDuration, resolveSpace, spaceLabel } from './settings.js';
export type { ResumeOverrides, SearchSettings, SpaceRef } from './settings.js';
export { MAX_EMPTY_BATCHES, type StopReason } from './stop.js';

export interface BatchEvent {
  readonly batch: number;
  readonly samples: number;
  readonly distinct: number;
  readonly failed: number;
  readonly budget: number;
  readonly bestReward: number | null;
  /** True when the batch had been run before a kill and was replayed from the store without evaluation. */
  readonly replayed: boolean;
}

export interface SearchHooks {
  readonly onStart?: (info: {
    readonly runId: string;
    readonly resumed: boolean;
    readonly engine: string;
    readonly concurrency: number;
    readonly evalTimeoutSeconds: number;
  }) => void;
  readonly onCandidate?: (e: CandidateEvent) => void;
  readonly onBatch?: (e: BatchEvent) => void;
}

export interface RunOptions {
  readonly seed: number;
  readonly engine: EngineOptions;
  readonly hooks?: SearchHooks;
  /** How many of the best candidates the result lists (default 5). */
  readonly top?: number;
  /** Minimum seconds between strategy snapshots (default 10; 0 saves after every batch). */
  readonly snapshotEverySeconds?: number;
  /** tfjs backend for the rl controller (default DEFAULT_STRATEGY_BACKEND). */
  readonly strategyBackend?: 'cpu' | 'wasm';
}

/** The tfjs backend of the rl controller: wasm (measured about 10x faster than cpu for propose + PPO update). */
export const DEFAULT_STRATEGY_BACKEND = 'wasm';

async function backendPinner(name: 'cpu' | 'wasm'): Promise<() => Promise<void>> {
  const [tf, { useBackend }] = await Promise.all([import('@tensorflow/tfjs'), import('../backend/select.js')]);
  return async () => {
    if (tf.getBackend() !== name) await useBackend(name);
  };
}

/** Everything a run needs, checked before it is created or taken over (search/preflight.ts). */
async function checkRunNeeds(settings: SearchSettings): Promise<void> {
  const targets = checkSettings(settings);
  await preflight({
    space: resolveSpace(settings.space),
    spaceLabel: spaceLabel(settings.space),
    evaluator: settings.evaluator,
    evaluatorConfig: settings.evaluatorConfig,
    latency: latencyOf(settings, targets),
  });
}

/** Starts a new search run and runs it to its budget (or time limit, or failure budget). */
export async function runSearch(store: Store, settings: SearchSettings, opts: RunOptions): Promise<SearchResult> {
  if (!Number.isSafeInteger(opts.seed)) throw new UsageError(`--seed must be an integer, got ${opts.seed}`);
  // Before the run exists: a missing file or a bad evaluator module is the user's error, not a failed run.
  await checkRunNeeds(settings);
  const complete = await withCompleteConfig(settings, false);
  const run = store.createRun({ kind: 'search', config: complete, seed: opts.seed });
  const lease = store.takeLease(run.id);
  const limits = { budget: settings.budget, timeSeconds: settings.timeSeconds, maxFailures: settings.maxFailures, patience: settings.patience ?? null };
  return execute(store, lease, complete, opts, limits, false);
}

/** The settings with the evaluator's defaults named (search/evaluators.ts completeEvaluatorConfig). */
async function withCompleteConfig(settings: SearchSettings, legacy: boolean): Promise<SearchSettings> {
  return { ...settings, evaluatorConfig: await completeEvaluatorConfig(settings.evaluator, settings.evaluatorConfig, legacy) };
}

/** Refuses a --budget below the distinct candidates the run already holds: a budget cannot remove them. */
function checkResumeBudget(store: Store, runId: string, budget: number | undefined): void {
  if (budget === undefined) return;
  checkInteger('--budget', budget, 1);
  const c = store.countCandidates(runId);
  const held = c.done + c.failed;
  if (budget < held) {
    throw new UsageError(
      `--budget ${budget}: run ${runId} already has ${held} distinct candidates; give a --budget above ${held} to extend it, or leave --budget out to continue it`,
    );
  }
}

/** Continues a killed, stopped or finished search run (to a larger budget with overrides.budget). */
export async function resumeSearch(
  store: Store,
  runId: string,
  overrides: ResumeOverrides,
  opts: Omit<RunOptions, 'seed'>,
): Promise<SearchResult> {
  const record = store.requireRun(runId);
  if (record.kind !== 'search') throw new UsageError(`run ${runId} is a ${record.kind} run, not a search; \`nas runs\` lists them`);
  // A run stored before configs were completed means the defaults of its time (legacy).
  const settings = await withCompleteConfig(settingsFromStore(runId, record.config), true);
  checkResumeBudget(store, runId, overrides.budget);
  if (overrides.maxFailures !== undefined) checkInteger('--max-failures', overrides.maxFailures, 0);
  if (overrides.patience !== undefined && overrides.patience !== null) checkInteger('--patience', overrides.patience, 1);
  // The files the run needs may have moved since it started.
  await checkRunNeeds(settings);
  const lease = store.takeLease(runId);
  const snap = store.loadStrategyState(runId);
  const limits: Limits = {
    budget: overrides.budget ?? (snap === null ? settings.budget : snapshotFrom(runId, snap.state).budget),
    timeSeconds: overrides.timeSeconds !== undefined ? overrides.timeSeconds : settings.timeSeconds,
    maxFailures: overrides.maxFailures ?? settings.maxFailures,
    patience: overrides.patience !== undefined ? overrides.patience : (settings.patience ?? null),
  };
  return execute(store, lease, settings, { ...opts, seed: record.seed ?? 0 }, limits, true);
}

/**
 * The loop's side of ProposeContext: an architecture's key is its canonical string (memoised per decision vector),
 * and the known keys are the run's candidates before the batch (by seq, so a replayed batch sees what it saw first).
 */
function proposeContext(space: SearchSpace, known: ReadonlySet<string>): ProposeContext {
  const memo = new Map<string, string>();
  return {
    keyOf: (decisions) => {
      const k = decisions.join(',');
      let key = memo.get(k);
      if (key === undefined) {
        key = encodeArch(applySample(space, decisions));
        if (memo.size > 100_000) memo.clear();
        memo.set(k, key);
      }
      return key;
    },
    isKnown: (key) => known.has(key),
  };
}

/** A session of a run: what is fixed for it, and the state each batch advances. */
interface SearchSession {
  readonly ctx: RunContext;
  readonly settings: SearchSettings;
  readonly rules: StopRules;
  readonly setup: WorkerSetup;
  /** Pins the rl controller's tfjs backend (an in-process evaluator may switch the global one); a no-op otherwise. */
  readonly pin: () => Promise<void>;
  readonly strategy: Strategy;
  readonly known: Set<string>;
  readonly proposeCtx: ProposeContext;
  /** The run's last seq when the session started: batches up to it replay from the store. */
  readonly lastSeq: number;
  readonly snapshotEveryMs: number;
  readonly counters: Session;
  step: number;
  snap: Snapshot;
  lastSave: number;
  bestReward: number | null;
}

/** The run's strategy, new or restored from the latest snapshot, with the step and counters it continues from. */
function startStrategy(ctx: RunContext, settings: SearchSettings, context: { rewardOf: (m: Metrics) => number }): Pick<SearchSession, 'strategy' | 'step' | 'snap'> {
  const factory = strategyFactory(settings.strategy);
  const saved = ctx.store.loadStrategyState(ctx.runId);
  if (saved === null) {
    const strategy = factory.create(ctx.space, ctx.seed, settings.strategyOptions, context);
    const snap: Snapshot = { strategy: strategy.toState(), distinct: 0, failed: 0, emptyStreak: 0, budget: ctx.budget };
    ctx.w.saveStrategyState(ctx.runId, 0, snap, { keep: 3 });
    return { strategy, step: 0, snap };
  }
  const s = snapshotFrom(ctx.runId, saved.state);
  return { strategy: factory.restore(ctx.space, s.strategy, context), step: saved.step, snap: { ...s, budget: ctx.budget } };
}

/** Sets a session up: the run's context, its strategy where it left off, what it already holds. */
async function startSession(store: Store, lease: Lease, settings: SearchSettings, opts: RunOptions, limits: Limits, resumed: boolean): Promise<SearchSession> {
  const targets = parseTargets(settings.targets);
  const space = resolveSpace(settings.space);
  const evaluator = await resolveEvaluator(settings.evaluator);
  const setup: WorkerSetup = { evaluatorUrl: evaluator.url, latency: latencyOf(settings, targets) };
  const rewardOf = (metrics: Metrics): number => computeReward(metrics, targets, settings.reward);
  const ctx: RunContext = {
    store, w: leasedWrites(store, lease), runId: lease.runId, space, seed: opts.seed, budget: limits.budget, rewardOf,
    evalKey: evalKeyOf({ evaluator: settings.evaluator, config: settings.evaluatorConfig, latency: setup.latency }),
    evaluatorConfig: settings.evaluatorConfig, onCandidate: opts.hooks?.onCandidate,
  };
  const pin = settings.strategy === 'rl' ? await backendPinner(opts.strategyBackend ?? DEFAULT_STRATEGY_BACKEND) : async () => {};
  await pin();
  if (resumed) ctx.w.requeueInFlight(ctx.runId);
  const started = startStrategy(ctx, settings, { rewardOf });
  const stored = store.listCandidates(ctx.runId, { orderBy: 'seq' });
  const known = new Set(stored.filter((c) => c.seq < started.snap.distinct).map((c) => c.arch));
  const maxFailures = limits.maxFailures ?? defaultMaxFailures(limits.budget);
  return {
    ctx, settings, setup, pin, known, ...started,
    rules: { budget: limits.budget, maxFailures, patience: limits.patience, timeSeconds: limits.timeSeconds, spaceSize: spaceSize(space) },
    proposeCtx: proposeContext(space, known),
    lastSeq: stored.at(-1)?.seq ?? -1,
    snapshotEveryMs: (opts.snapshotEverySeconds ?? 10) * 1000,
    counters: { samples: 0, evaluated: 0, failed: 0, cached: 0, replayedBatches: 0 },
    lastSave: performance.now(),
    bestReward: null,
  };
}

function saveSnapshot(s: SearchSession): void {
  s.ctx.w.saveStrategyState(s.ctx.runId, s.step, { ...s.snap, strategy: s.strategy.toState() }, { keep: 3 });
}

async function execute(store: Store, lease: Lease, settings: SearchSettings, opts: RunOptions, limits: Limits, resumed: boolean): Promise<SearchResult> {
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const s = await startSession(store, lease, settings, opts, limits, resumed);
  const evalTimeout = opts.engine.evalTimeoutSeconds ?? (await defaultEvalTimeout(settings.evaluator, settings.evaluatorConfig, s.ctx.space));
  const engine = createEngine(s.setup, opts.engine, evalTimeout, { runId: lease.runId, evalKey: s.ctx.evalKey });
  const heartbeat = startLeaseHeartbeat(store, lease);
  opts.hooks?.onStart?.({ runId: lease.runId, resumed, engine: engine.kind, concurrency: engine.concurrency, evalTimeoutSeconds: evalTimeout });
  const deadline = deadlineAfter(t0, limits.timeSeconds);
  let stop: StopReason | null = null;
  // Evaluations put back in the queue when --time passed mid-batch (search/deadline.ts); null: not stopped so.
  let requeued: number | null = null;
  try {
    while ((stop = stopBefore(s.snap, s.rules, s.counters.samples, elapsed())) === null) {
      if (!(await runBatch(s, engine, deadline, opts.hooks))) {
        requeued = stopAtDeadline(store, s.ctx.w, lease.runId, limits.budget);
        stop = 'time';
        break;
      }
    }
    if (requeued === null) saveSnapshot(s);
  } finally {
    s.strategy.dispose?.();
    heartbeat.stop();
    await engine.close();
  }
  return endSession(s, { stop, requeued, resumed, seconds: elapsed(), top: opts.top ?? 5 });
}

/** Proposes, settles and observes one batch, then advances the counters; false when the deadline cut it short. */
async function runBatch(s: SearchSession, engine: Engine, deadline: Deadline, hooks: SearchHooks | undefined): Promise<boolean> {
  const { ctx } = s;
  const batchNo = s.step + 1;
  await s.pin();
  const entries = enqueueProposals(ctx, s.strategy.propose(Math.min(s.settings.batch, ctx.budget - s.snap.distinct), s.proposeCtx));
  const replayed = isReplayed(entries, s.lastSeq);
  const settler = new BatchSettler(ctx, batchNo, s.snap.distinct, s.counters);
  const fresh = settler.settleKnown(entries);
  if (!(await deadline.race(settler.evaluate(engine, fresh)))) {
    settler.abort();
    return false;
  }
  const observations = settler.observations(entries);
  for (const e of entries) s.known.add(e.canonical);
  await s.pin();
  s.strategy.observe(observations);
  s.counters.samples += observations.length;
  if (replayed) s.counters.replayedBatches++;
  for (const r of settler.rewards.values()) if (r !== null && (s.bestReward === null || r > s.bestReward)) s.bestReward = r;
  s.step = batchNo;
  s.snap = nextSnapshot(s.snap, entries.map((e) => e.candidate), settler.rewards, ctx.budget);
  if (performance.now() - s.lastSave >= s.snapshotEveryMs && !replayed) {
    saveSnapshot(s);
    s.lastSave = performance.now();
  }
  const { distinct, failed } = s.snap;
  hooks?.onBatch?.({ batch: batchNo, samples: observations.length, distinct, failed, budget: ctx.budget, bestReward: s.bestReward, replayed });
  return true;
}

/** The session's result, written as the run's end (failed when the failure budget stopped it). */
function endSession(s: SearchSession, x: { stop: StopReason; requeued: number | null; resumed: boolean; seconds: number; top: number }): SearchResult {
  const { store, w, runId } = s.ctx;
  const counts = store.countCandidates(runId);
  const distinct = x.requeued === null ? s.snap.distinct : counts.done + counts.failed;
  const lastFailure = (): string => store.listCandidates(runId, { status: 'failed' }).at(-1)?.failure ?? 'unknown';
  const message = stopMessage(x.stop, s.rules, { runId, distinct, failed: s.snap.failed, requeuedAtDeadline: x.requeued, lastFailure });
  const c = s.counters;
  const result: SearchResult = {
    runId, status: x.stop === 'failures' ? 'failed' : 'finished', stopReason: x.stop, message, resumed: x.resumed,
    space: spaceLabel(s.settings.space), strategy: s.settings.strategy, seed: s.ctx.seed, budget: s.ctx.budget,
    batch: s.settings.batch, targets: s.settings.targets,
    counts: { done: counts.done, failed: counts.failed, total: counts.total },
    session: { ...c, seconds: x.seconds, samplesPerSec: x.seconds > 0 ? c.samples / x.seconds : 0 },
    best: store.listCandidates(runId, { status: 'done', orderBy: 'reward', limit: x.top }).map(summarizeCandidate),
    pareto: latencyFront(store.listCandidates(runId, { status: 'done' })),
  };
  if (result.status === 'failed') {
    store.transaction(() => {
      w.setRunResult(runId, result);
      w.updateRunStatus(runId, 'failed', message);
    });
  } else {
    w.finishRun(runId, result);
  }
  return result;
}

/** Thrown by the CLI when a run stops on its failure budget: the run's error, exit code 1. */
export function failedRunError(r: SearchResult): NasError {
  return new NasError('E_FAILED', `search ${r.runId} failed: ${r.message}`, 1);
}
