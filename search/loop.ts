// The search loop (library entry; cli/search.ts is the yargs layer). Synchronous batches, so a search is a pure
// function of its seed whatever the engine and the order in which evaluations finish:
//   propose(n) -> enqueue each arch (dedup by canonical string) -> reuse this run's results, copy another run's with
//   the same evalKey, evaluate the rest on the engine -> observe(results in proposal order) -> snapshot.
// Every result is written as it settles; a strategy snapshot is written at most every few seconds (rl snapshots are
// megabytes). Resume restores the latest snapshot and re-proposes from there: batches that had already been run
// find all their candidates settled in the store and are replayed without evaluation, so the strategy reaches the
// state it had at the kill, and only the evaluations in flight then are run again.
import { UsageError, NasError } from '../common/errors.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import { parseTargets, type Target } from '../latency/targets.js';
import type { CandidateRecord } from '../results/candidates.js';
import { evalKeyOf, type JsonValue } from '../results/json.js';
import { type Lease, startLeaseHeartbeat } from '../results/lease.js';
import type { Store } from '../results/store.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeArch, encodeArch } from '../space/blockString.js';
import { applySample, type SearchSpace, spaceSize, validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { createInProcessEngine } from './engine/inProcess.js';
import { createPoolEngine } from './engine/pool.js';
import { createProcessesEngine } from './engine/processes.js';
import type { Engine, EvalOutcome, EvalTask, EvalTimeout, WorkerSetup } from './engine/types.js';
import { deadlineAfter, stopAtDeadline } from './deadline.js';
import { defaultEvalTimeout, resolveEvaluator } from './evaluators.js';
import { leasedWrites } from './lease.js';
import { preflight } from './preflight.js';
import { computeReward, type RewardOptions } from './reward.js';
import { candidateSeed } from './seed.js';
import { strategyFactory } from './strategies/index.js';
import type { Metrics, Observation, ProposeContext, Strategy, StrategyName } from './types.js';

/** A built-in space by name, or a user's space file with its validated JSON (kept in the run, so resume needs no file). */
export type SpaceRef = { readonly name: string } | { readonly file: string; readonly json: JsonValue };

/** Everything that decides a search's samples and results: stored as the run's config. */
export interface SearchSettings {
  readonly space: SpaceRef;
  readonly strategy: StrategyName;
  readonly strategyOptions?: { readonly [key: string]: JsonValue };
  /** `--target` texts as typed (absolute targets only). */
  readonly targets: readonly string[];
  readonly reward: RewardOptions;
  /** 'proxy', 'synthetic', or a module's absolute path. */
  readonly evaluator: string;
  /** Handed to the evaluator as EvalContext.config (dataset, proxy epochs, input, backend, space...). */
  readonly evaluatorConfig: { readonly [key: string]: JsonValue };
  readonly latency: LatencySourceSpec;
  readonly batch: number;
  /** Distinct candidates (done or failed) the run ends with. */
  readonly budget: number;
  /** Stop after the batch in progress once this much time has passed in one session; null: no limit. */
  readonly timeSeconds: number | null;
  /** More failed candidates than this stops the run as failed; null: max(5, 25% of the budget). */
  readonly maxFailures: number | null;
  /** Stop ('converged') after this many distinct candidates without a better reward; null or absent: never. */
  readonly patience?: number | null;
}

export interface EngineOptions {
  /** 0: in process; N: a Piscina pool of N threads. Ignored when gpus is given. */
  readonly workers: number;
  /** One child process per GPU id. */
  readonly gpus?: readonly string[];
  /** Seconds an evaluation may take before it fails as timed out; default: derived from the evaluator's settings. */
  readonly evalTimeoutSeconds?: number;
}

export type StopReason = 'budget' | 'time' | 'converged' | 'exhausted' | 'failures';

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

export interface CandidateSummary {
  readonly id: number;
  readonly seq: number;
  readonly arch: string;
  readonly reward: number | null;
  readonly accuracy: number | null;
  readonly latencyMs: number | null;
  readonly madds: number | null;
  readonly params: number | null;
}

export interface SearchResult {
  readonly runId: string;
  readonly status: 'finished' | 'failed';
  readonly stopReason: StopReason;
  readonly message: string;
  readonly resumed: boolean;
  readonly space: string;
  readonly strategy: StrategyName;
  readonly seed: number;
  readonly budget: number;
  readonly batch: number;
  readonly targets: readonly string[];
  readonly counts: { readonly done: number; readonly failed: number; readonly total: number };
  /** This session: proposals observed, evaluations run, results copied from other runs, batches replayed. */
  readonly session: {
    readonly samples: number;
    readonly evaluated: number;
    readonly failed: number;
    readonly cached: number;
    readonly replayedBatches: number;
    readonly seconds: number;
    readonly samplesPerSec: number;
  };
  readonly best: readonly CandidateSummary[];
  /** Accuracy vs latency (lowest latency first): candidates no other beats on both. */
  readonly pareto: readonly CandidateSummary[];
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

export interface ResumeOverrides {
  readonly budget?: number;
  readonly timeSeconds?: number | null;
  readonly maxFailures?: number;
  readonly patience?: number | null;
}

/**
 * Batches in a row with nothing new before the search gives up. Every built-in strategy proposes new architectures
 * while the space has them (search/strategies/novel.ts), so this ends only a nearly exhausted space or a user strategy
 * that keeps re-proposing.
 */
export const MAX_EMPTY_BATCHES = 50;

/** What a snapshot holds besides the strategy: the counters the loop needs to continue exactly. */
interface Snapshot {
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

export function defaultMaxFailures(budget: number): number {
  return Math.max(5, Math.ceil(budget / 4));
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be an integer >= ${min}, got ${v}`);
}

/** Checks settings a library caller may have built by hand; the CLI has checked the same things already. */
export function checkSettings(s: SearchSettings): Target[] {
  checkInt('batch', s.batch, 1);
  checkInt('budget', s.budget, 1);
  if (s.maxFailures !== null) checkInt('max-failures', s.maxFailures, 0);
  if (s.timeSeconds !== null && !(s.timeSeconds > 0)) throw new UsageError(`--time must be positive, got ${s.timeSeconds}`);
  if (s.patience !== undefined && s.patience !== null) checkInt('patience', s.patience, 1);
  if (s.targets.length === 0) throw new UsageError('give at least one --target, e.g. --target latency=15ms');
  const targets = parseTargets(s.targets);
  const rel = targets.find((t) => t.relative);
  if (rel !== undefined) {
    throw new UsageError(`--target ${rel.text}: a relative target needs a reference network; give an absolute value for a search, e.g. latency=15ms`);
  }
  strategyFactory(s.strategy);
  return targets;
}

export function resolveSpace(ref: SpaceRef): SearchSpace {
  return 'name' in ref ? builtinSpace(ref.name) : validateSpace(ref.json);
}

export function spaceLabel(ref: SpaceRef): string {
  return 'name' in ref ? ref.name : ref.file;
}

function createEngine(setup: WorkerSetup, opts: EngineOptions, evalTimeoutSeconds: EvalTimeout): Engine {
  if (opts.gpus !== undefined && opts.gpus.length > 0) return createProcessesEngine(setup, { gpus: opts.gpus, evalTimeoutSeconds });
  if (opts.workers === 0) return createInProcessEngine(setup, { evalTimeoutSeconds });
  return createPoolEngine(setup, { workers: opts.workers, evalTimeoutSeconds });
}

/** The latency source the workers use: when a target needs latency, or when it costs nothing (MAdds); else none. */
function latencyOf(settings: SearchSettings, targets: readonly Target[]): LatencySourceSpec | null {
  const needed = targets.some((t) => t.resource === 'latency') || settings.latency.kind === 'madds';
  return needed ? settings.latency : null;
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
  const run = store.createRun({ kind: 'search', config: settings, seed: opts.seed });
  const lease = store.takeLease(run.id);
  const limits = { budget: settings.budget, timeSeconds: settings.timeSeconds, maxFailures: settings.maxFailures, patience: settings.patience ?? null };
  return execute(store, lease, settings, opts, limits, false);
}

/** Refuses a --budget below the distinct candidates the run already holds: a budget cannot remove them. */
function checkResumeBudget(store: Store, runId: string, budget: number | undefined): void {
  if (budget === undefined) return;
  checkInt('budget', budget, 1);
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
  const settings = record.config as unknown as SearchSettings;
  checkResumeBudget(store, runId, overrides.budget);
  if (overrides.maxFailures !== undefined) checkInt('max-failures', overrides.maxFailures, 0);
  if (overrides.patience !== undefined && overrides.patience !== null) checkInt('patience', overrides.patience, 1);
  // The files the run needs may have moved since it started.
  await checkRunNeeds(settings);
  const lease = store.takeLease(runId);
  const snap = store.loadStrategyState(runId);
  const limits: Limits = {
    budget: overrides.budget ?? (snap === null ? settings.budget : (snap.state as unknown as Snapshot).budget),
    timeSeconds: overrides.timeSeconds !== undefined ? overrides.timeSeconds : settings.timeSeconds,
    maxFailures: overrides.maxFailures ?? settings.maxFailures,
    patience: overrides.patience !== undefined ? overrides.patience : (settings.patience ?? null),
  };
  return execute(store, lease, settings, { ...opts, seed: record.seed ?? 0 }, limits, true);
}

/** When a run stops: distinct candidates, session time, failures, candidates without improvement. */
interface Limits {
  readonly budget: number;
  readonly timeSeconds: number | null;
  readonly maxFailures: number | null;
  readonly patience: number | null;
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

interface Entry {
  readonly decisions: number[];
  readonly arch: ArchSpec;
  readonly canonical: string;
  readonly candidate: CandidateRecord;
}

async function execute(
  store: Store,
  lease: Lease,
  settings: SearchSettings,
  opts: RunOptions,
  limits: Limits,
  resumed: boolean,
): Promise<SearchResult> {
  const { budget, timeSeconds, patience } = limits;
  const runId = lease.runId;
  // Every write of this run goes through w, fenced by the lease; store is for reads.
  const w = leasedWrites(store, lease);
  const t0 = performance.now();
  const elapsed = (): number => (performance.now() - t0) / 1000;
  const hooks = opts.hooks ?? {};
  const targets = parseTargets(settings.targets);
  const space = resolveSpace(settings.space);
  const evaluator = await resolveEvaluator(settings.evaluator);
  const maxFailures = limits.maxFailures ?? defaultMaxFailures(budget);
  const setup: WorkerSetup = { evaluatorUrl: evaluator.url, latency: latencyOf(settings, targets) };
  const evalKey = evalKeyOf({ evaluator: settings.evaluator, config: settings.evaluatorConfig, latency: setup.latency });
  const factory = strategyFactory(settings.strategy);
  // The rl controller computes with tfjs: pin its backend, since an in-process evaluator may switch the global one.
  const strategyBackend =
    settings.strategy === 'rl' ? await backendPinner(opts.strategyBackend ?? DEFAULT_STRATEGY_BACKEND) : async () => {};
  await strategyBackend();
  const rewardOf = (metrics: Metrics): number => computeReward(metrics, targets, settings.reward);
  const strategyContext = { rewardOf };

  if (resumed) w.requeueInFlight(runId);
  const saved = store.loadStrategyState(runId);
  let step: number;
  let snap: Snapshot;
  let strategy: Strategy;
  if (saved === null) {
    strategy = factory.create(space, opts.seed, settings.strategyOptions, strategyContext);
    step = 0;
    snap = { strategy: strategy.toState(), distinct: 0, failed: 0, emptyStreak: 0, budget };
    w.saveStrategyState(runId, step, snap, { keep: 3 });
  } else {
    const s = saved.state as unknown as Snapshot;
    strategy = factory.restore(space, s.strategy, strategyContext);
    step = saved.step;
    snap = { ...s, budget };
  }
  // Batches at or below this step were run (at least in part) before: they replay from the store.
  const stored = store.listCandidates(runId, { orderBy: 'seq' });
  const lastSeq = stored.at(-1)?.seq ?? -1;
  const known = new Set(stored.filter((c) => c.seq < snap.distinct).map((c) => c.arch));
  const proposeCtx = proposeContext(space, known);
  const size = spaceSize(space);

  const evalTimeout = opts.engine.evalTimeoutSeconds ?? (await defaultEvalTimeout(settings.evaluator, settings.evaluatorConfig, space));
  const engine = createEngine(setup, opts.engine, evalTimeout);
  const heartbeat = startLeaseHeartbeat(store, lease);
  hooks.onStart?.({ runId, resumed, engine: engine.kind, concurrency: engine.concurrency, evalTimeoutSeconds: evalTimeout });
  const deadline = deadlineAfter(t0, timeSeconds);
  // Evaluations put back in the queue when --time passed mid-batch (search/deadline.ts); null: not stopped so.
  let requeuedAtDeadline: number | null = null;
  const session = { samples: 0, evaluated: 0, failed: 0, cached: 0, replayedBatches: 0 };
  let lastSave = performance.now();
  const snapshotEvery = (opts.snapshotEverySeconds ?? 10) * 1000;
  let stopReason: StopReason | null = null;
  let bestReward: number | null = null;

  try {
    for (;;) {
      if (snap.failed > maxFailures) stopReason = 'failures';
      else if (snap.distinct >= budget) stopReason = 'budget';
      else if (patience !== null && (snap.sinceBest ?? 0) >= patience) stopReason = 'converged';
      else if (snap.emptyStreak >= MAX_EMPTY_BATCHES || BigInt(snap.distinct) >= size) stopReason = 'exhausted';
      // Checked after a batch, so that every session makes progress.
      else if (timeSeconds !== null && session.samples > 0 && elapsed() >= timeSeconds) stopReason = 'time';
      if (stopReason !== null) break;

      const batchNo = step + 1;
      const n = Math.min(settings.batch, budget - snap.distinct);
      await strategyBackend();
      const proposals = strategy.propose(n, proposeCtx);
      const entries: Entry[] = proposals.map((decisions) => {
        const arch = applySample(space, decisions);
        const canonical = encodeArch(arch);
        const { candidate } = w.enqueueCandidate({ runId, arch: canonical, evalKey, decisions });
        return { decisions, arch, canonical, candidate };
      });
      const replayed = entries.every((e) => e.candidate.seq <= lastSeq && (e.candidate.status === 'done' || e.candidate.status === 'failed'));

      // Settle what needs no evaluation: this run's results, then another run's with the same evalKey.
      const rewards = new Map<number, number | null>();
      const metricsOf = new Map<number, Metrics>();
      const fresh = new Map<number, Entry>();
      // Progress only: distinct candidates of the run settled so far.
      let settled = snap.distinct;
      for (const e of entries) {
        const c = e.candidate;
        if (rewards.has(c.id) || fresh.has(c.id)) continue;
        if (c.status === 'done' || c.status === 'failed') {
          rewards.set(c.id, c.status === 'done' ? c.reward : null);
          if (c.status === 'done' && c.metrics !== null) metricsOf.set(c.id, c.metrics as unknown as Metrics);
          continue;
        }
        const cached = store.cachedResult(e.canonical, evalKey);
        if (cached !== null) {
          const metrics = cached.metrics as unknown as Metrics;
          let reward: number | null = null;
          try {
            reward = rewardOf(metrics);
            w.markCandidateDone(c.id, { metrics: cached.metrics, reward });
            metricsOf.set(c.id, metrics);
          } catch (err) {
            w.markCandidateFailed(c.id, `cached result unusable: ${(err as Error).message}`);
          }
          rewards.set(c.id, reward);
          session.cached++;
          settled++;
          hooks.onCandidate?.({
            batch: batchNo, seq: c.seq, arch: e.canonical, source: 'cached', ok: reward !== null, reward, metrics,
            failure: null, seconds: 0, distinct: settled, budget,
          });
          continue;
        }
        fresh.set(c.id, e);
      }

      // Evaluate the rest, keeping the engine busy; claims go in seq order.
      // After an error (a store write, a hook), runners stop: what is in flight stays 'running', and is re-queued on
      // resume rather than recorded as a failure caused by the engine shutting down.
      let aborted = false;
      const runner = async (): Promise<void> => {
        for (;;) {
          if (aborted) return;
          const claimed = w.claimCandidate(runId, engine.kind);
          if (claimed === null) return;
          const e = fresh.get(claimed.id);
          const task = taskFor(claimed, e, space, opts.seed, settings.evaluatorConfig);
          const outcome: EvalOutcome = await engine.run(task);
          if (aborted) return;
          let reward: number | null = null;
          let failure: string | null = null;
          if (outcome.ok) {
            try {
              reward = rewardOf(outcome.metrics);
            } catch (err) {
              failure = (err as Error).message;
            }
          } else {
            failure = outcome.reason;
          }
          if (failure === null && reward !== null && outcome.ok) {
            const metrics = { ...outcome.metrics, evalSeconds: outcome.seconds };
            w.markCandidateDone(claimed.id, { metrics, reward });
            metricsOf.set(claimed.id, metrics);
          } else {
            w.markCandidateFailed(claimed.id, failure ?? 'unknown failure');
            session.failed++;
          }
          session.evaluated++;
          rewards.set(claimed.id, reward);
          settled++;
          hooks.onCandidate?.({
            batch: batchNo, seq: claimed.seq, arch: claimed.arch, source: 'evaluated', ok: failure === null, reward,
            metrics: outcome.ok ? outcome.metrics : null, failure, seconds: outcome.seconds,
            distinct: settled, budget,
          });
        }
      };
      const batchDone = Promise.all(
        Array.from({ length: engine.concurrency }, () =>
          runner().catch((err: unknown) => {
            aborted = true;
            throw err;
          }),
        ),
      );
      if (!(await deadline.race(batchDone))) {
        aborted = true;
        requeuedAtDeadline = stopAtDeadline(store, w, runId, budget);
        stopReason = 'time';
        break;
      }

      const observations: Observation[] = entries.map((e) => ({
        decisions: e.decisions,
        reward: rewards.get(e.candidate.id) ?? null,
        metrics: metricsOf.get(e.candidate.id) ?? null,
      }));
      for (const e of entries) known.add(e.canonical);
      await strategyBackend();
      strategy.observe(observations);
      session.samples += observations.length;
      if (replayed) session.replayedBatches++;

      // Counters from the batch itself (not from the store, which may hold later batches being replayed).
      const newEntries = entries.filter((e) => e.candidate.seq >= snap.distinct);
      const newIds = new Set(newEntries.map((e) => e.candidate.id));
      const newFailed = [...newIds].filter((id) => rewards.get(id) === null).length;
      const bySeq = [...new Map(newEntries.map((e) => [e.candidate.seq, e.candidate.id])).entries()].sort((a, b) => a[0] - b[0]);
      for (const r of rewards.values()) if (r !== null && (bestReward === null || r > bestReward)) bestReward = r;
      step = batchNo;
      snap = {
        strategy: null,
        distinct: snap.distinct + newIds.size,
        failed: snap.failed + newFailed,
        emptyStreak: newIds.size === 0 ? snap.emptyStreak + 1 : 0,
        budget,
        ...trackBest(snap, bySeq.map(([, id]) => rewards.get(id) ?? null)),
      };
      if (performance.now() - lastSave >= snapshotEvery && !replayed) {
        w.saveStrategyState(runId, step, { ...snap, strategy: strategy.toState() }, { keep: 3 });
        lastSave = performance.now();
      }
      hooks.onBatch?.({
        batch: batchNo, samples: observations.length, distinct: snap.distinct, failed: snap.failed, budget,
        bestReward, replayed,
      });
    }
    if (requeuedAtDeadline === null) w.saveStrategyState(runId, step, { ...snap, strategy: strategy.toState() }, { keep: 3 });
  } finally {
    strategy.dispose?.();
    heartbeat.stop();
    await engine.close();
  }

  const seconds = elapsed();
  const counts = store.countCandidates(runId);
  const distinct = requeuedAtDeadline === null ? snap.distinct : counts.done + counts.failed;
  const message = stopMessage(stopReason, { budget, maxFailures, failed: snap.failed, timeSeconds, patience, distinct, store, runId, requeuedAtDeadline });
  const result: SearchResult = {
    runId,
    status: stopReason === 'failures' ? 'failed' : 'finished',
    stopReason,
    message,
    resumed,
    space: spaceLabel(settings.space),
    strategy: settings.strategy,
    seed: opts.seed,
    budget,
    batch: settings.batch,
    targets: settings.targets,
    counts: { done: counts.done, failed: counts.failed, total: counts.total },
    session: { ...session, seconds, samplesPerSec: seconds > 0 ? session.samples / seconds : 0 },
    best: store.listCandidates(runId, { status: 'done', orderBy: 'reward', limit: opts.top ?? 5 }).map(summarize),
    pareto: paretoFront(store.listCandidates(runId, { status: 'done' }).map(summarize)),
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

function taskFor(
  c: CandidateRecord,
  e: Entry | undefined,
  space: SearchSpace,
  runSeed: number,
  config: { readonly [key: string]: JsonValue },
): EvalTask {
  const decisions = e?.decisions ?? c.decisions ?? undefined;
  const arch = e?.arch ?? (decisions !== undefined ? applySample(space, decisions) : decodeArch(c.arch));
  return {
    arch,
    context: {
      seed: candidateSeed(runSeed, c.arch),
      arch: c.arch,
      ...(decisions !== undefined ? { decisions: [...decisions] } : {}),
      config,
    },
  };
}

function stopMessage(
  reason: StopReason,
  x: {
    budget: number;
    maxFailures: number;
    failed: number;
    timeSeconds: number | null;
    patience: number | null;
    distinct: number;
    store: Store;
    runId: string;
    requeuedAtDeadline: number | null;
  },
): string {
  const of = `${x.distinct} of ${x.budget} distinct candidates`;
  switch (reason) {
    case 'budget':
      return `reached the budget of ${x.distinct} distinct candidates`;
    case 'time': {
      const n = x.requeuedAtDeadline;
      const inFlight = n === null ? '' : `, with ${n} evaluation${n === 1 ? '' : 's'} in flight put back in the queue`;
      return `stopped at the time limit (${x.timeSeconds} s) after ${of}${inFlight}; \`nas search --resume ${x.runId}\` continues`;
    }
    case 'converged':
      return `converged: no better reward in the last ${x.patience} distinct candidates (--patience), after ${of}`;
    case 'exhausted':
      return `stopped after ${of}: the space is exhausted (every sample evaluated, or ${MAX_EMPTY_BATCHES} batches in a row proposed only architectures already evaluated)`;
    case 'failures': {
      const last = x.store.listCandidates(x.runId, { status: 'failed' }).at(-1)?.failure ?? 'unknown';
      return `${x.failed} candidates failed, more than --max-failures ${x.maxFailures} (last: ${last}); stopped after ${of}`;
    }
  }
}

const num = (m: JsonValue | null, k: string): number | null => {
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return null;
  const v = (m as Record<string, JsonValue>)[k];
  return typeof v === 'number' ? v : null;
};

export function summarize(c: CandidateRecord): CandidateSummary {
  return {
    id: c.id,
    seq: c.seq,
    arch: c.arch,
    reward: c.reward,
    accuracy: num(c.metrics, 'accuracy'),
    latencyMs: num(c.metrics, 'latencyMs'),
    madds: num(c.metrics, 'madds'),
    params: num(c.metrics, 'params'),
  };
}

/** Highest accuracy for its latency: sorted by latency, each kept when more accurate than everything faster. */
export function paretoFront(cands: readonly CandidateSummary[]): CandidateSummary[] {
  const pts = cands
    .filter((c) => c.accuracy !== null && c.latencyMs !== null)
    .sort((a, b) => (a.latencyMs ?? 0) - (b.latencyMs ?? 0) || (b.accuracy ?? 0) - (a.accuracy ?? 0) || a.seq - b.seq);
  const front: CandidateSummary[] = [];
  let best = -Infinity;
  for (const p of pts) {
    if ((p.accuracy ?? -Infinity) > best) {
      front.push(p);
      best = p.accuracy ?? best;
    }
  }
  return front;
}

/** Parses a duration option (`--time` unless named): 2h, 30m, 90s, or a number of seconds. */
export function parseDuration(text: string, option = '--time'): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(h|m|s|)\s*$/.exec(text);
  const v = m === null ? Number.NaN : Number(m[1]) * ({ h: 3600, m: 60, s: 1, '': 1 } as const)[m[2] as 'h' | 'm' | 's' | ''];
  if (!(v > 0)) throw new UsageError(`${option} ${text}: expected a duration such as 2h, 30m or 90s`);
  return v;
}

/** Thrown by the CLI when a run stops on its failure budget: the run's error, exit code 1. */
export function failedRunError(r: SearchResult): NasError {
  return new NasError('E_FAILED', `search ${r.runId} failed: ${r.message}`, 1);
}
