// Do the strategies learn? For each seed, each strategy searches the synthetic evaluator's space (search/synthetic.ts,
// whose optimum is known) by direct calls, propose -> evaluate -> computeReward -> observe, until it proposes the
// optimum or reaches the cap; the table gives per strategy the median number of evaluations to the optimum (a seed
// that hits the cap counts as the cap), how many seeds hit it, and the median best reward reached. Then rl's
// throughput: samples per second of a 2,000-sample search (controller sampling and PPO updates included) with an
// evaluator that returns at once, at batch 8 and 16.
// Run: node dist/bench/search-strategies.js [--seeds 10] [--cap 3000] [--batch 16] [--space mnasnet-small-input]
//        [--strategies rl,evolution,random] [--backend wasm] [--throughput 2000 | --no-throughput] [--json]
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { parseTargets, type Target } from '../latency/targets.js';
import { encodeSample, type SearchSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import { computeReward, type RewardOptions } from '../search/reward.js';
import { STRATEGY_NAMES, strategyFactory } from '../search/strategies/index.js';
import { SYNTHETIC_TARGET, syntheticMetrics, syntheticModel, syntheticOptimum } from '../search/synthetic.js';
import type { ProposeContext, StrategyName } from '../search/types.js';

export interface RunResult {
  readonly strategy: StrategyName;
  readonly seed: number;
  /** Evaluations until the optimum was proposed (counting it), or null when the cap was reached first. */
  readonly found: number | null;
  readonly evaluations: number;
  readonly bestReward: number;
}

export interface RunOptions {
  readonly cap: number;
  readonly batch: number;
  readonly targets?: readonly Target[];
  readonly reward?: RewardOptions;
  readonly strategyOptions?: Readonly<Record<string, unknown>>;
}

/** One strategy, one seed: search the synthetic fixture (optimum seed = `seed`) until the optimum is proposed. */
export function runToOptimum(space: SearchSpace, strategy: StrategyName, seed: number, opts: RunOptions): RunResult {
  const targets = opts.targets ?? parseTargets([SYNTHETIC_TARGET]);
  const reward = opts.reward ?? { mode: 'soft' };
  const model = syntheticModel(space, seed);
  const optimum = syntheticOptimum(space, { optimumSeed: seed }, targets, reward);
  const s = strategyFactory(strategy).create(space, seed, opts.strategyOptions, { rewardOf: (m) => computeReward(m, targets, reward) });
  // As the loop does: keys are canonical strings, known ones are those evaluated before the batch.
  const known = new Set<string>();
  const context: ProposeContext = { keyOf: (d) => encodeSample(space, d), isKnown: (k) => known.has(k) };
  let evaluations = 0;
  let best = -Infinity;
  try {
    while (evaluations < opts.cap) {
      const batch = s.propose(Math.min(opts.batch, opts.cap - evaluations), context);
      const results = batch.map((d) => {
        const metrics = syntheticMetrics(model, d);
        return { decisions: d, reward: computeReward(metrics, targets, reward), metrics };
      });
      for (const d of batch) known.add(context.keyOf(d));
      for (let i = 0; i < results.length; i++) {
        const r = (results[i] as { reward: number }).reward;
        best = Math.max(best, r);
        // Samples of the optimum's architecture score exactly its reward; only they do (syntheticOptimum proves it).
        if (r === optimum.reward && encodeSample(space, batch[i] as number[]) === optimum.arch) {
          return { strategy, seed, found: evaluations + i + 1, evaluations: evaluations + i + 1, bestReward: best };
        }
      }
      evaluations += batch.length;
      s.observe(results);
    }
    return { strategy, seed, found: null, evaluations, bestReward: best };
  } finally {
    (s as { dispose?: () => void }).dispose?.();
  }
}

export function median(xs: readonly number[]): number {
  const a = [...xs].sort((x, y) => x - y);
  const m = a.length >> 1;
  return a.length % 2 ? (a[m] as number) : ((a[m - 1] as number) + (a[m] as number)) / 2;
}

export interface StrategySummary {
  readonly strategy: StrategyName;
  readonly seeds: number;
  /** Median evaluations to the optimum, a capped seed counting as the cap. */
  readonly medianEvaluations: number;
  readonly hitCap: number;
  readonly medianBestReward: number;
  readonly evaluations: readonly (number | null)[];
}

export function summarise(strategy: StrategyName, runs: readonly RunResult[], cap: number): StrategySummary {
  return {
    strategy,
    seeds: runs.length,
    medianEvaluations: median(runs.map((r) => r.found ?? cap)),
    hitCap: runs.filter((r) => r.found === null).length,
    medianBestReward: median(runs.map((r) => r.bestReward)),
    evaluations: runs.map((r) => r.found),
  };
}

/** rl samples per second over `total` samples at `batch`, with an evaluator that returns at once. */
export function rlThroughput(space: SearchSpace, total: number, batch: number): { batch: number; samples: number; seconds: number; samplesPerSecond: number } {
  const model = syntheticModel(space, 0);
  const targets = parseTargets([SYNTHETIC_TARGET]);
  const s = strategyFactory('rl').create(space, 0);
  const t0 = performance.now();
  for (let done = 0; done < total; ) {
    const b = s.propose(Math.min(batch, total - done));
    s.observe(b.map((d) => ({ decisions: d, reward: computeReward(syntheticMetrics(model, d), targets, { mode: 'soft' }) })));
    done += b.length;
  }
  const seconds = (performance.now() - t0) / 1000;
  (s as { dispose?: () => void }).dispose?.();
  return { batch, samples: total, seconds, samplesPerSecond: total / seconds };
}

function arg(name: string, dflt: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? dflt) : dflt;
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const seeds = Number(arg('seeds', '10'));
  const cap = Number(arg('cap', '3000'));
  const batch = Number(arg('batch', '16'));
  const spaceName = arg('space', 'mnasnet-small-input');
  const strategies = arg('strategies', STRATEGY_NAMES.join(',')).split(',') as StrategyName[];
  const throughput = process.argv.includes('--no-throughput') ? 0 : Number(arg('throughput', '2000'));
  const backend = await useBackend(arg('backend', 'wasm') as BackendChoice);
  const space = builtinSpace(spaceName);
  const summaries: StrategySummary[] = [];
  for (const name of strategies) {
    const runs: RunResult[] = [];
    for (let seed = 0; seed < seeds; seed++) {
      runs.push(runToOptimum(space, name, seed, { cap, batch }));
      if (!json) process.stderr.write(`${name} seed ${seed}: ${runs.at(-1)?.found ?? `cap (${cap})`}\n`);
    }
    summaries.push(summarise(name, runs, cap));
  }
  const speeds = throughput > 0 ? [8, 16].map((b) => rlThroughput(space, throughput, b)) : [];
  const result = { space: spaceName, target: SYNTHETIC_TARGET, reward: 'soft', seeds, cap, batch, backend: backend.name, strategies: summaries, rlThroughput: speeds, numTensors: tf.memory().numTensors };
  if (json) {
    process.stdout.write(`${JSON.stringify(result)}\n`);
    return;
  }
  console.log(`space ${spaceName}, target ${SYNTHETIC_TARGET} (soft), ${seeds} seeds, cap ${cap}, batch ${batch}, backend ${backend.name}`);
  console.log('strategy    median evals to optimum   seeds at cap   median best reward');
  for (const s of summaries) {
    console.log(`${s.strategy.padEnd(11)} ${String(s.medianEvaluations).padStart(22)}   ${`${s.hitCap}/${s.seeds}`.padStart(12)}   ${s.medianBestReward.toFixed(4).padStart(18)}`);
  }
  for (const t of speeds) console.log(`rl throughput, batch ${t.batch}: ${t.samplesPerSecond.toFixed(1)} samples/s (${t.samples} samples in ${t.seconds.toFixed(1)} s)`);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await main();
