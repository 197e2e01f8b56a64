// `nas bench search`: how many evaluations do the search strategies need to find the best architecture of a tabular
// NAS benchmark? Each strategy searches the table once per seed through the real search loop (search/loop.ts
// runSearch: a fresh in-memory results store, the in-process engine, the table evaluator of tables/evaluate.ts), and
// the run's candidates are read back from the store in seq order, so that evaluations are counted as the loop counts
// them: distinct architectures. The synthetic fixture (search/synthetic.ts) serves as a table whose best is known
// for each seed. docs/SEARCH.md, "Benchmarking strategies", describes the command and its figures.
import { resolve as resolvePath } from 'node:path';
import { fileURLToPath } from 'node:url';
import { useBackend } from '../backend/select.js';
import { NasError, UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { mean, median, quantile } from '../latency/stats.js';
import { parseTargets } from '../latency/targets.js';
import type { CandidateRecord } from '../results/candidates.js';
import type { JsonValue } from '../common/json.js';
import { openStore } from '../results/store.js';
import { DEFAULT_STRATEGY_BACKEND, runSearch, type SearchSettings, type SpaceRef, type StopReason } from '../search/loop.js';
import { computeReward, type RewardOptions } from '../search/reward.js';
import { strategyFactory } from '../search/strategies/index.js';
import { SYNTHETIC_DEFAULT_SPACE, SYNTHETIC_TARGET, syntheticOptimum } from '../search/synthetic.js';
import type { Metrics, StrategyName } from '../search/types.js';
import { decisions, encodeSample, type SearchSpace, spaceSize } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { BUILTIN_ADAPTERS, COST_METRICS, type LoadedAdapter, loadAdapter } from './tables/adapter.js';
import { type BenchTable, openTable, type TableSpec } from './tables/table.js';

export type { CostMetric, TableAdapter } from './tables/adapter.js';

/** `--table synthetic`: the synthetic evaluator on its default space, optimum seed = run seed. */
export const SYNTHETIC_TABLE = 'synthetic';

/**
 * Without `--target` a table is searched on accuracy alone. The loop needs a target, so the runs get this one: its
 * exponent 0 makes the factor (m / T)^0 exactly 1 whatever the latency, so the reward is the accuracy to the bit.
 * A table without a latency column gets a stand-in latency (TableSpec.latencyStandInMs) for it to read.
 */
export const ACCURACY_TARGET = 'latency=1ms,w=0';

/**
 * Spaces of at most this many samples are checked whole before the runs: every sample's key is a row, one
 * architecture has one row and one row one architecture (nb201's 15,625 samples take about 0.7 s).
 */
export const COVERAGE_LIMIT = 50_000;

/** Best-so-far figures are given after these many evaluations (and after the budget), up to the budget. */
export function checkpointsUpTo(budget: number): number[] {
  const out: number[] = [];
  for (const b of [25, 50]) if (b < budget) out.push(b);
  for (let p = 100; p < budget; p *= 10) for (const m of [1, 2, 5]) if (m * p < budget) out.push(m * p);
  out.push(budget);
  return out;
}

export interface BenchSearchOptions {
  /** `nb201`, `synthetic`, or a table file (which needs `adapter`); absent: the adapter's own table. */
  readonly table?: string;
  /** An adapter module's path (tables/adapter.ts TableAdapter). */
  readonly adapter?: string;
  /** An accuracy column by the adapter's dataset name (nb201: cifar10, cifar100, imagenet). */
  readonly dataset?: string;
  /** An accuracy column by name. */
  readonly column?: string;
  readonly strategies: readonly StrategyName[];
  /** Options of each strategy by name (search/strategies/, `strategyOptions` of a search). */
  readonly strategyOptions?: Readonly<Record<string, Readonly<Record<string, JsonValue>>>>;
  /** Seeds 0..seeds-1. */
  readonly seeds: number;
  /** Distinct candidates per run. */
  readonly budget: number;
  readonly batch: number;
  /** `--target` texts; none: accuracy alone on a table, SYNTHETIC_TARGET on the synthetic fixture. */
  readonly targets?: readonly string[];
  /** Default: soft. */
  readonly reward?: RewardOptions;
  /** Called after each run (progress). */
  readonly onRun?: (run: SeedRun) => void;
}

/** Best-so-far after a number of evaluations. */
export interface CurvePoint {
  readonly evaluations: number;
  /** The best reward among the first `evaluations` candidates (all of them when the run ended sooner), or null. */
  readonly reward: number | null;
  /** The test column's accuracy of the candidate holding that reward, or null (no test column). */
  readonly test: number | null;
}

/** One strategy, one seed. */
export interface SeedRun {
  readonly strategy: StrategyName;
  readonly seed: number;
  readonly stopReason: StopReason;
  /** Distinct candidates the run evaluated (done or failed). */
  readonly candidates: number;
  readonly failed: number;
  /** Evaluations (seq + 1) until the best architecture was first evaluated; null: not within the run. */
  readonly toBest: number | null;
  /** Evaluations until a top-1% row was first evaluated; null: not within the run. Absent for the synthetic fixture. */
  readonly toTop1?: number | null;
  /** The best architecture's reward (the synthetic fixture's depends on the seed). */
  readonly optimumReward: number;
  readonly curve: readonly CurvePoint[];
  /** Wall seconds of the run (loop and scoring). */
  readonly seconds: number;
}

export interface EvalCounts {
  /** Over seeds, a seed that never reached it counting as budget + 1. */
  readonly median: number;
  /** 90th percentile (linear interpolation between order statistics), the same convention. */
  readonly p90: number;
  /** Seeds that never reached it within the budget. */
  readonly missed: number;
}

export interface CurveSummary {
  readonly evaluations: number;
  readonly meanReward: number | null;
  readonly medianReward: number | null;
  readonly meanTest: number | null;
  readonly medianTest: number | null;
}

export interface StrategySummary {
  readonly strategy: StrategyName;
  readonly options: Readonly<Record<string, JsonValue>>;
  readonly seeds: number;
  readonly toBest: EvalCounts;
  readonly toTop1: EvalCounts | null;
  readonly curve: readonly CurveSummary[];
  readonly stopReasons: Readonly<Partial<Record<StopReason, number>>>;
  /** Failed candidates over all seeds. */
  readonly failed: number;
  /** Wall seconds over all seeds. */
  readonly seconds: number;
}

export interface TableBest {
  readonly key: string;
  readonly reward: number;
  readonly accuracy: number;
  readonly test: number | null;
}

export interface BenchSearchResult {
  /** `nb201`, `synthetic`, or the table file as given. */
  readonly table: string;
  readonly file: string | null;
  readonly adapter: string | null;
  readonly space: string;
  readonly decisions: number;
  /** Architectures of the space (spaceSize), as a number. */
  readonly architectures: number;
  readonly column: string | null;
  readonly testColumn: string | null;
  readonly rows: number | null;
  /** Rows that samples of the space reach; null when the space is too large to check (COVERAGE_LIMIT). */
  readonly rowsInSpace: number | null;
  /** The targets the runs used (ACCURACY_TARGET for accuracy alone). */
  readonly targets: readonly string[];
  readonly reward: RewardOptions;
  /** True when the reward is the accuracy itself. */
  readonly rewardIsAccuracy: boolean;
  readonly budget: number;
  readonly batch: number;
  readonly seeds: number;
  /** The best row by reward over the rows in the space (null for the synthetic fixture: see each run's optimumReward). */
  readonly best: TableBest | null;
  /** The top 1% of those rows by reward (ceil(1% of them); ties at the threshold count too). */
  readonly top1: { readonly rows: number; readonly minReward: number } | null;
  readonly strategies: readonly StrategySummary[];
  readonly runs: readonly SeedRun[];
  /** Seeds not run, and why (the synthetic fixture's optimum for that seed is not provably unique under the target). */
  readonly skipped: readonly { readonly seed: number; readonly reason: string }[];
}

/** What a candidate is, as the scores see it. */
interface Verdict {
  readonly best: boolean;
  readonly top1: boolean | null;
  readonly test: number | null;
}

/** What the runs search and how their candidates are scored: a table, or the synthetic fixture. */
interface Subject {
  readonly info: Omit<BenchSearchResult, 'reward' | 'budget' | 'batch' | 'seeds' | 'strategies' | 'runs' | 'skipped'>;
  readonly reward: RewardOptions;
  readonly space: SearchSpace;
  /** The run settings' space, evaluator and its config for a seed. */
  settings(seed: number): Pick<SearchSettings, 'space' | 'evaluator' | 'evaluatorConfig'>;
  /** The optimum's reward and the verdict on a done candidate, for a seed. */
  scorer(seed: number): { readonly optimumReward: number; readonly judge: (c: CandidateRecord) => Verdict };
  /** Why a seed cannot be scored, or null. */
  skip(seed: number): string | null;
}

const EVALUATOR = fileURLToPath(new URL('./tables/evaluate.js', import.meta.url));

function syntheticSubject(opts: BenchSearchOptions): Subject {
  const extra = (['adapter', 'dataset', 'column'] as const).filter((k) => opts[k] !== undefined);
  if (extra.length > 0) throw new UsageError(`--table synthetic is not a file: drop --${extra.join(', --')}`);
  const space = builtinSpace(SYNTHETIC_DEFAULT_SPACE);
  const texts = opts.targets !== undefined && opts.targets.length > 0 ? opts.targets : [SYNTHETIC_TARGET];
  const targets = parseTargets(texts);
  const reward = opts.reward ?? { mode: 'soft' };
  return {
    info: {
      table: SYNTHETIC_TABLE, file: null, adapter: null, space: space.name, decisions: decisions(space).length,
      architectures: Number(spaceSize(space)), column: null, testColumn: null, rows: null, rowsInSpace: null,
      targets: texts, rewardIsAccuracy: false, best: null, top1: null,
    },
    reward,
    space,
    settings: (seed) => ({ space: { name: space.name }, evaluator: 'synthetic', evaluatorConfig: { space: space.name, optimumSeed: seed } }),
    scorer: (seed) => {
      const optimum = syntheticOptimum(space, { optimumSeed: seed }, targets, reward);
      return { optimumReward: optimum.reward, judge: (c) => ({ best: c.arch === optimum.arch, top1: null, test: null }) };
    },
    // A seed whose optimum cannot be shown unique under the target has no "best" to find.
    skip: (seed) => {
      try {
        syntheticOptimum(space, { optimumSeed: seed }, targets, reward);
        return null;
      } catch (e) {
        if (e instanceof NasError) return e.message;
        throw e;
      }
    },
  };
}

/** Which adapter and which table file `--table` / `--adapter` name. */
async function adapterAndFile(opts: BenchSearchOptions): Promise<{ name: string; adapter: LoadedAdapter; file: string }> {
  const builtin = opts.table !== undefined ? BUILTIN_ADAPTERS[opts.table] : undefined;
  if (builtin !== undefined) {
    if (opts.adapter !== undefined) throw new UsageError(`--table ${opts.table} has its own adapter: drop --adapter, or give a table file`);
    const adapter = await loadAdapter(builtin, opts.table);
    return { name: opts.table as string, adapter, file: adapter.tablePath as string };
  }
  if (opts.adapter === undefined) {
    const known = [...Object.keys(BUILTIN_ADAPTERS), SYNTHETIC_TABLE].join(', ');
    throw new UsageError(
      opts.table === undefined
        ? `give --table (${known}, or a CSV file with --adapter)`
        : `--table ${opts.table}: not a built-in table (${known}); a table file needs --adapter MODULE (docs/SEARCH.md, "Benchmarking strategies")`,
    );
  }
  const adapter = await loadAdapter(opts.adapter);
  if (opts.table !== undefined) return { name: opts.table, adapter, file: resolvePath(opts.table) };
  if (adapter.tablePath === null) throw new UsageError(`--adapter ${opts.adapter} exports no 'table': give --table FILE`);
  return { name: adapter.tablePath, adapter, file: adapter.tablePath };
}

function chooseColumn(adapter: LoadedAdapter, opts: BenchSearchOptions, name: string): string {
  if (opts.dataset !== undefined && opts.column !== undefined) throw new UsageError('give --dataset or --column, not both');
  if (opts.dataset === undefined) return opts.column ?? adapter.accuracy;
  const col = adapter.datasets?.[opts.dataset];
  if (col === undefined) {
    const known = Object.keys(adapter.datasets ?? {});
    throw new UsageError(`--dataset ${opts.dataset}: table ${name} has ${known.length > 0 ? `datasets ${known.join(', ')}` : 'no datasets (use --column)'}`);
  }
  return col;
}

/**
 * Enumerates a small space: every sample's key must be a row, and architectures and rows must correspond one to
 * one (else the loop's distinct candidates would not be distinct rows). Returns the keys reached, or null when the
 * space has more than COVERAGE_LIMIT samples.
 */
export function checkCoverage(table: BenchTable): Set<string> | null {
  const { adapter } = table;
  const space = adapter.searchSpace;
  const counts = decisions(space).map((d) => d.options);
  const total = counts.reduce((a, b) => a * b, 1);
  if (total > COVERAGE_LIMIT) return null;
  const keyOfArch = new Map<string, { key: string; sample: string }>();
  const archOfKey = new Map<string, { arch: string; sample: string }>();
  const fail = (what: string): never => {
    throw new UsageError(`--adapter ${adapter.path}: ${what}`);
  };
  for (let i = 0; i < total; i++) {
    const d: number[] = [];
    let rest = i;
    for (const n of counts) {
      d.push(rest % n);
      rest = Math.floor(rest / n);
    }
    const sample = `[${d.join(',')}]`;
    const key = adapter.key(d);
    if (!table.rows.has(key)) fail(`key(${sample}) is '${key}', which table ${table.spec.name} has no row for`);
    const arch = encodeSample(space, d);
    const seenArch = keyOfArch.get(arch);
    if (seenArch !== undefined && seenArch.key !== key) fail(`samples ${seenArch.sample} and ${sample} are one architecture but get rows '${seenArch.key}' and '${key}'`);
    const seenKey = archOfKey.get(key);
    if (seenKey !== undefined && seenKey.arch !== arch) fail(`samples ${seenKey.sample} and ${sample} are two architectures but get one row, '${key}'`);
    keyOfArch.set(arch, { key, sample });
    archOfKey.set(key, { arch, sample });
  }
  return new Set(archOfKey.keys());
}

async function tableSubject(opts: BenchSearchOptions): Promise<Subject> {
  const { name, adapter, file } = await adapterAndFile(opts);
  const column = chooseColumn(adapter, opts, name);
  const given = opts.targets ?? [];
  for (const t of parseTargets(given)) {
    const metric = t.resource === 'latency' ? 'latencyMs' : t.resource;
    if (adapter.columns?.[metric] === undefined) {
      const has = COST_METRICS.filter((m) => adapter.columns?.[m] !== undefined);
      throw new UsageError(
        `--target ${t.text}: table ${name} has no ${t.resource} column (${has.length > 0 ? `it has ${has.join(', ')}` : 'it has no cost columns'}); without --target the search is on accuracy`,
      );
    }
  }
  const rewardIsAccuracy = given.length === 0;
  const texts = rewardIsAccuracy ? [ACCURACY_TARGET] : given;
  const spec: TableSpec = { name, adapter: adapter.path, table: file, column, ...(rewardIsAccuracy ? { latencyStandInMs: 1 } : {}) };
  const table = await openTable(spec);
  const reached = checkCoverage(table);
  const targets = parseTargets(texts);
  const reward = opts.reward ?? { mode: 'soft' };
  const rewardOf = new Map<string, number>();
  for (const [key, row] of table.rows) if (reached === null || reached.has(key)) rewardOf.set(key, computeReward(row.metrics, targets, reward));
  const ranked = [...rewardOf.entries()].sort((a, b) => b[1] - a[1]);
  const [bestKey, bestReward] = ranked[0] as [string, number];
  const top1Rows = Math.ceil(ranked.length / 100);
  const top1Min = (ranked[top1Rows - 1] as [string, number])[1];
  const space = adapter.searchSpace;
  const judge = (c: CandidateRecord): Verdict => {
    const key = c.decisions === null ? null : adapter.key(c.decisions);
    const r = key === null ? undefined : rewardOf.get(key);
    // The loop computed the candidate's reward from the evaluator's metrics, the table's best from the same metrics.
    if (key === null || r !== c.reward) throw new Error(`candidate ${c.seq} (${key ?? 'no decisions'}): stored reward ${c.reward} is not the table's ${r}`);
    return { best: r === bestReward, top1: r >= top1Min, test: table.rows.get(key)?.test ?? null };
  };
  return {
    info: {
      table: name, file, adapter: adapter.path, space: space.name, decisions: decisions(space).length,
      architectures: Number(spaceSize(space)), column, testColumn: table.testColumn, rows: table.rows.size,
      rowsInSpace: reached?.size ?? null, targets: texts, rewardIsAccuracy,
      best: { key: bestKey, reward: bestReward, accuracy: table.rows.get(bestKey)?.metrics.accuracy ?? Number.NaN, test: table.rows.get(bestKey)?.test ?? null },
      top1: { rows: top1Rows, minReward: top1Min },
    },
    reward,
    space,
    settings: () => ({
      space: typeof adapter.space === 'string' ? { name: adapter.space } : ({ file: adapter.path, json: space as unknown as JsonValue } satisfies SpaceRef),
      evaluator: EVALUATOR,
      evaluatorConfig: { ...spec },
    }),
    scorer: () => ({ optimumReward: bestReward, judge }),
    skip: () => null,
  };
}

/** Best-so-far at each checkpoint and the evaluations to the best and to the top 1%, from the candidates in seq order. */
function scoreRun(
  candidates: readonly CandidateRecord[],
  judge: (c: CandidateRecord) => Verdict,
  checkpoints: readonly number[],
): Pick<SeedRun, 'toBest' | 'curve'> & { readonly toTop1: number | null } {
  let toBest: number | null = null;
  let toTop1: number | null = null;
  let best: number | null = null;
  let bestTest: number | null = null;
  const curve: CurvePoint[] = [];
  const upTo = (seq: number): void => {
    while (curve.length < checkpoints.length && (checkpoints[curve.length] as number) <= seq) {
      curve.push({ evaluations: checkpoints[curve.length] as number, reward: best, test: bestTest });
    }
  };
  for (const c of candidates) {
    upTo(c.seq);
    if (c.status !== 'done' || c.reward === null) continue;
    const v = judge(c);
    if (toBest === null && v.best) toBest = c.seq + 1;
    if (toTop1 === null && v.top1 === true) toTop1 = c.seq + 1;
    if (best === null || c.reward > best) {
      best = c.reward;
      bestTest = v.test;
    }
  }
  upTo(Number.POSITIVE_INFINITY);
  return { toBest, toTop1, curve };
}

async function runSeed(subject: Subject, strategy: StrategyName, seed: number, opts: BenchSearchOptions, checkpoints: readonly number[]): Promise<SeedRun> {
  const t0 = performance.now();
  const options = opts.strategyOptions?.[strategy];
  const settings: SearchSettings = {
    ...subject.settings(seed),
    strategy,
    ...(options === undefined ? {} : { strategyOptions: options }),
    targets: subject.info.targets,
    reward: subject.reward,
    latency: { kind: 'madds' },
    batch: opts.batch,
    budget: opts.budget,
    timeSeconds: null,
    maxFailures: null,
  };
  const store = openStore(':memory:');
  try {
    const result = await runSearch(store, settings, { seed, engine: { workers: 0 } });
    const { optimumReward, judge } = subject.scorer(seed);
    const candidates = store.listCandidates(result.runId, { orderBy: 'seq' });
    const { toBest, toTop1, curve } = scoreRun(candidates, judge, checkpoints);
    return {
      strategy,
      seed,
      stopReason: result.stopReason,
      candidates: result.counts.total,
      failed: result.counts.failed,
      toBest,
      ...(subject.info.top1 === null ? {} : { toTop1 }),
      optimumReward,
      curve,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    store.close();
  }
}

function evalCounts(xs: readonly (number | null)[], budget: number): EvalCounts {
  const v = xs.map((x) => x ?? budget + 1);
  return { median: median(v), p90: quantile(v, 0.9), missed: xs.filter((x) => x === null).length };
}

const orNull = (f: (xs: readonly number[]) => number, xs: readonly (number | null)[]): number | null => {
  const v = xs.filter((x): x is number => x !== null);
  return v.length === 0 ? null : f(v);
};

function summarise(strategy: StrategyName, runs: readonly SeedRun[], opts: BenchSearchOptions, checkpoints: readonly number[]): StrategySummary {
  const stopReasons: Partial<Record<StopReason, number>> = {};
  for (const r of runs) stopReasons[r.stopReason] = (stopReasons[r.stopReason] ?? 0) + 1;
  return {
    strategy,
    options: opts.strategyOptions?.[strategy] ?? {},
    seeds: runs.length,
    toBest: evalCounts(runs.map((r) => r.toBest), opts.budget),
    toTop1: runs.every((r) => r.toTop1 !== undefined) ? evalCounts(runs.map((r) => r.toTop1 ?? null), opts.budget) : null,
    curve: checkpoints.map((evaluations, i) => {
      const rewards = runs.map((r) => r.curve[i]?.reward ?? null);
      const tests = runs.map((r) => r.curve[i]?.test ?? null);
      return { evaluations, meanReward: orNull(mean, rewards), medianReward: orNull(median, rewards), meanTest: orNull(mean, tests), medianTest: orNull(median, tests) };
    }),
    stopReasons,
    failed: runs.reduce((a, r) => a + r.failed, 0),
    seconds: runs.reduce((a, r) => a + r.seconds, 0),
  };
}

/** Checks every strategy's options before the first run (a bad one would otherwise stop the benchmark midway). */
async function checkStrategies(subject: Subject, opts: BenchSearchOptions): Promise<void> {
  if (opts.strategies.length === 0) throw new UsageError('give at least one --strategy');
  const twice = opts.strategies.find((s, i) => opts.strategies.indexOf(s) !== i);
  if (twice !== undefined) throw new UsageError(`--strategy ${twice} is given twice`);
  for (const name of Object.keys(opts.strategyOptions ?? {})) {
    if (!(opts.strategies as readonly string[]).includes(name)) throw new UsageError(`--strategy-option ${name}.*: strategy ${name} is not among --strategy ${opts.strategies.join(', ')}`);
  }
  // The rl controller computes with tfjs: on the backend the loop gives it.
  if (opts.strategies.includes('rl')) await useBackend(DEFAULT_STRATEGY_BACKEND);
  const targets = parseTargets(subject.info.targets);
  const context = { rewardOf: (m: Metrics): number => computeReward(m, targets, subject.reward) };
  for (const name of opts.strategies) strategyFactory(name).create(subject.space, 0, opts.strategyOptions?.[name], context).dispose?.();
}

/** Runs every strategy on every seed and summarises; throws a UsageError for bad input before the first run. */
export async function benchSearch(opts: BenchSearchOptions): Promise<BenchSearchResult> {
  checkInteger('--seeds', opts.seeds);
  checkInteger('--budget', opts.budget);
  checkInteger('--batch', opts.batch);
  const subject = opts.table === SYNTHETIC_TABLE ? syntheticSubject(opts) : await tableSubject(opts);
  await checkStrategies(subject, opts);
  const skipped = skippedSeeds(subject, opts.seeds);
  const checkpoints = checkpointsUpTo(opts.budget);
  const runs: SeedRun[] = [];
  const strategies: StrategySummary[] = [];
  for (const strategy of opts.strategies) {
    const mine: SeedRun[] = [];
    for (let seed = 0; seed < opts.seeds; seed++) {
      if (skipped.some((k) => k.seed === seed)) continue;
      const run = await runSeed(subject, strategy, seed, opts, checkpoints);
      opts.onRun?.(run);
      mine.push(run);
    }
    runs.push(...mine);
    strategies.push(summarise(strategy, mine, opts, checkpoints));
  }
  return { ...subject.info, reward: subject.reward, budget: opts.budget, batch: opts.batch, seeds: opts.seeds, strategies, runs, skipped };
}

/** The seeds that cannot be scored; a UsageError when that is every seed. */
function skippedSeeds(subject: Subject, seeds: number): { seed: number; reason: string }[] {
  const out = Array.from({ length: seeds }, (_, seed) => ({ seed, reason: subject.skip(seed) })).filter(
    (k): k is { seed: number; reason: string } => k.reason !== null,
  );
  if (out.length === seeds) throw new UsageError(`no seed can be scored: ${(out[0] as { reason: string }).reason}`);
  return out;
}
