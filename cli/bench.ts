// `nas bench train`: training images/s of an architecture on a backend (bench/train-vs-pytorch.ts compares it
// with PyTorch in one run). `nas bench search`: the search strategies on a tabular NAS benchmark, through the real
// search loop (bench/searchHarness.ts).
import type { CommandModule } from 'yargs';
import type { BackendChoice } from '../backend/choices.js';
import type { BenchSearchResult, SeedRun } from '../bench/searchHarness.js';
import type { TrainBenchResult } from '../bench/trainSpeed.js';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import type { JsonValue } from '../common/json.js';
import type { RewardMode } from '../search/reward.js';
import { STRATEGY_NAMES } from '../search/strategies/names.js';
import type { StrategyName } from '../search/types.js';
import { loadArch } from '../results/archRef.js';
import { backendOption, jsonOption } from './options.js';
import { emit, table, thousands } from './output.js';
import { DEFAULT_BATCH } from '../search/defaults.js';
import { StatusLine } from './progress.js';
import { fidelityCommand } from './benchFidelity.js';
import { pipelineCommand } from './benchPipeline.js';

interface BenchTrainArgs {
  arch: string[];
  input: number;
  classes: number;
  width: number | undefined;
  batch: number;
  steps: number;
  warmup: number;
  seed: number;
  threads: number;
  backend: BackendChoice;
  json: boolean;
}


function toText(r: TrainBenchResult & { threads: number | null }): string {
  return (
    `${r.arch} on ${r.backend}: input ${r.input}, ${r.classes} classes, batch ${r.batch}, ${r.steps} steps ` +
    `(+${r.warmup} warm-up)\n` +
    `${r.msPerStep.toFixed(1)} ms/step (median ${r.msPerStepMedian.toFixed(1)}), ` +
    `${r.imagesPerSec.toFixed(1)} images/s; loss ${r.lossFirst.toFixed(4)} -> ${r.lossLast.toFixed(4)}`
  );
}

const trainCommand: CommandModule<object, BenchTrainArgs> = {
  command: 'train',
  describe: 'measure training images/s (SGD momentum 0.9, random data)',
  builder: (y) =>
    y
      .option('arch', { type: 'string', array: true, default: ['mobilenetv3-small'], describe: 'name, spec.json or block strings' })
      .option('input', { type: 'number', default: 32, describe: 'input size (pixels)' })
      .option('classes', { type: 'number', default: 10 })
      .option('width', { type: 'number', describe: 'width multiplier' })
      .option('batch', { type: 'number', default: 64 })
      .option('steps', { type: 'number', default: 20, describe: 'timed steps' })
      .option('warmup', { type: 'number', default: 3, describe: 'untimed steps first' })
      .option('seed', { type: 'number', default: 0 })
      .option('threads', { type: 'number', default: 1, describe: 'threads of the native kernels (default 1: the per-core figure)' })
      .option('backend', backendOption)
      .option('json', jsonOption) as never,
  handler: async (args) => {
    const { batch, steps } = args;
    checkInteger('--batch', batch);
    checkInteger('--steps', steps);
    checkInteger('--warmup', args.warmup, 0);
    checkInteger('--threads', args.threads);
    const arch = loadArch(args.arch, {
      input: args.input,
      classes: args.classes,
      ...(args.width !== undefined ? { width: args.width } : {}),
    });
    const [{ useBackend }, { benchTrain }] = await Promise.all([import('../backend/select.js'), import('../bench/trainSpeed.js')]);
    const info = await useBackend(args.backend, { threads: args.threads });
    const status = new StatusLine();
    const onStep = args.json
      ? undefined
      : (i: number, ms: number): void => status.step(`step ${i + 1}/${steps}  ${ms.toFixed(0)} ms`, i + 1 === steps);
    const result = benchTrain({ arch, batch, steps, warmup: args.warmup, seed: args.seed, ...(onStep ? { onStep } : {}) });
    emit({ ...result, threads: info.threads }, args.json, toText);
  },
};

interface BenchSearchArgs {
  table: string | undefined;
  adapter: string | undefined;
  dataset: string | undefined;
  column: string | undefined;
  strategy: string[] | undefined;
  'strategy-option': string[] | undefined;
  seeds: number;
  budget: number;
  batch: number;
  target: string[] | undefined;
  reward: string;
  json: boolean;
}

/** `[strategy.]key=value`: a number, true/false, or text; without a strategy, for every --strategy. */
function strategyOptions(texts: readonly string[], strategies: readonly StrategyName[]): Record<string, Record<string, JsonValue>> {
  const out: Record<string, Record<string, JsonValue>> = {};
  for (const text of texts) {
    const m = /^(?:([A-Za-z][\w-]*)\.)?([A-Za-z]\w*)=(.+)$/.exec(text);
    if (m === null) throw new UsageError(`--strategy-option ${text}: expected [strategy.]key=value, e.g. lr=0.001 or evolution.population=64`);
    const [, scope, key = '', raw = ''] = m;
    const value: JsonValue = raw === 'true' ? true : raw === 'false' ? false : Number.isFinite(Number(raw)) ? Number(raw) : raw;
    for (const s of scope === undefined ? strategies : [scope]) (out[s] ??= {})[key] = value;
  }
  return out;
}

const f4 = (v: number | null): string => (v === null ? '-' : v.toFixed(4));
/** Evaluation counts: medians and percentiles may fall between two counts. */
const count = (v: number): string => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const found = (what: string, v: number | null): string => (v === null ? `${what} not found` : `${what} at evaluation ${v}`);

function seedLine(r: SeedRun): string {
  const top1 = r.toTop1 === undefined ? '' : `, ${found('a top-1% row', r.toTop1)}`;
  const end = r.curve.at(-1);
  const test = end?.test === null || end?.test === undefined ? '' : ` (test ${f4(end.test)})`;
  return (
    `${r.strategy} seed ${r.seed}: ${found('the best', r.toBest)}${top1}; best reward ${f4(end?.reward ?? null)} of ${f4(r.optimumReward)}${test}; ` +
    `${r.candidates} candidates${r.failed > 0 ? ` (${r.failed} failed)` : ''}, stop: ${r.stopReason}, ${r.seconds.toFixed(1)} s`
  );
}

function searchText(r: BenchSearchResult): string {
  const never = `a seed that never reaches it counts as ${r.budget + 1}`;
  const what =
    r.table === 'synthetic'
      ? `synthetic fixture on ${r.space} (optimum seed = run seed)`
      : `table ${r.table} (${thousands(r.rows ?? 0)} rows, ${r.rowsInSpace === null ? 'coverage unchecked' : `${thousands(r.rowsInSpace)} in the space`}), column ${r.column}` +
        (r.testColumn === null ? '' : `, test ${r.testColumn}`);
  const reward = r.rewardIsAccuracy ? 'reward = accuracy' : `target ${r.targets.join(' ')}, ${r.reward.mode} reward`;
  const lines = [`${what}; ${reward}`, `${r.seeds} seeds, budget ${r.budget} distinct candidates, batch ${r.batch}`];
  for (const k of r.skipped) lines.push(`seed ${k.seed} skipped: ${k.reason}`);
  if (r.best === null) {
    const optima = r.runs.map((x) => x.optimumReward);
    lines.push(`optimum: each seed has its own; reward ${f4(Math.min(...optima))} to ${f4(Math.max(...optima))}`);
  }
  if (r.best !== null && r.top1 !== null) {
    const test = r.best.test === null ? '' : `, test ${f4(r.best.test)}`;
    lines.push(`best: reward ${f4(r.best.reward)} (accuracy ${f4(r.best.accuracy)}${test}) ${r.best.key}`);
    lines.push(`top 1%: ${r.top1.rows} rows, reward >= ${f4(r.top1.minReward)}`);
  }
  const stop = (s: BenchSearchResult['strategies'][number]): string =>
    Object.entries(s.stopReasons).map(([k, n]) => `${k} ${n}`).join(', ');
  const counts = r.strategies.map((s) => [
    s.strategy, count(s.toBest.median), count(s.toBest.p90), `${s.toBest.missed}/${s.seeds}`,
    ...(s.toTop1 === null ? [] : [count(s.toTop1.median), count(s.toTop1.p90), `${s.toTop1.missed}/${s.seeds}`]),
    stop(s), s.seconds.toFixed(1),
  ]);
  const top1Header = r.top1 === null ? [] : ['top 1%: median', 'p90', 'missed'];
  lines.push('', `evaluations to the best (${never}):`);
  lines.push(table(['strategy', 'median', 'p90', 'missed', ...top1Header, 'stop', 'seconds'], counts));
  const points = r.strategies[0]?.curve.map((p) => String(p.evaluations)) ?? [];
  const curve = (title: string, pick: (p: BenchSearchResult['strategies'][number]['curve'][number]) => string): void => {
    lines.push('', title, table(['strategy', ...points], r.strategies.map((s) => [s.strategy, ...s.curve.map(pick)])));
  };
  curve('best-so-far reward after N evaluations, mean / median over seeds:', (p) => `${f4(p.meanReward)}/${f4(p.medianReward)}`);
  if (r.testColumn !== null) curve(`${r.testColumn} of the best-so-far, mean / median:`, (p) => `${f4(p.meanTest)}/${f4(p.medianTest)}`);
  return lines.join('\n');
}

const searchCommand: CommandModule<object, BenchSearchArgs> = {
  command: 'search',
  describe: 'how fast search strategies find the best of a tabular NAS benchmark (through the real search loop)',
  builder: (y) =>
    y
      .option('table', { type: 'string', describe: 'nb201, synthetic, or a CSV file (with --adapter)' })
      .option('adapter', { type: 'string', describe: 'adapter module mapping the table onto a search space' })
      .option('dataset', { type: 'string', describe: 'accuracy column by dataset (nb201: cifar10, cifar100, imagenet)' })
      .option('column', { type: 'string', describe: 'accuracy column by name' })
      .option('strategy', { type: 'string', array: true, describe: `strategies to compare (default: ${STRATEGY_NAMES.join(', ')})` })
      .option('strategy-option', { type: 'string', array: true, describe: '[strategy.]key=value, e.g. rl.lr=0.001' })
      .option('seeds', { type: 'number', default: 10, describe: 'runs per strategy, seeds 0..N-1' })
      .option('budget', { type: 'number', default: 1000, describe: 'distinct candidates per run' })
      .option('batch', { type: 'number', default: DEFAULT_BATCH, describe: 'candidates per strategy step' })
      .option('target', { type: 'string', array: true, describe: 'resource target on a cost column of the table (default: accuracy alone)' })
      .option('reward', { type: 'string', default: 'soft', describe: 'soft or hard' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    for (const k of ['table', 'adapter', 'dataset', 'column', 'seeds', 'budget', 'batch', 'reward'] as const) {
      if (Array.isArray(args[k])) throw new UsageError(`--${k} is given more than once; give it once`);
    }
    if (args.reward !== 'soft' && args.reward !== 'hard') throw new UsageError(`--reward ${args.reward}: expected soft or hard`);
    const names = args.strategy ?? [...STRATEGY_NAMES];
    const unknown = names.find((n) => !(STRATEGY_NAMES as readonly string[]).includes(n));
    if (unknown !== undefined) throw new UsageError(`--strategy ${unknown}: expected one of ${STRATEGY_NAMES.join(', ')}`);
    const strategies = names as StrategyName[];
    const { benchSearch } = await import('../bench/searchHarness.js');
    const result = await benchSearch({
      ...(args.table === undefined ? {} : { table: args.table }),
      ...(args.adapter === undefined ? {} : { adapter: args.adapter }),
      ...(args.dataset === undefined ? {} : { dataset: args.dataset }),
      ...(args.column === undefined ? {} : { column: args.column }),
      strategies,
      strategyOptions: strategyOptions(args['strategy-option'] ?? [], strategies),
      seeds: args.seeds,
      budget: args.budget,
      batch: args.batch,
      targets: args.target ?? [],
      reward: { mode: args.reward as RewardMode },
      ...(args.json ? {} : { onRun: (r: SeedRun) => process.stderr.write(`${seedLine(r)}\n`) }),
    });
    emit(result, args.json, searchText);
  },
};

export const benchCommand: CommandModule = {
  command: 'bench <command>',
  describe: 'Benchmarks: training speed against PyTorch, search strategies on tabular NAS benchmarks, proxy fidelity, the end-to-end pipeline',
  builder: (y) => y.command(trainCommand).command(searchCommand).command(fidelityCommand).command(pipelineCommand).demandCommand(1),
  handler: () => {},
};
