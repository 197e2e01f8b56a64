// `nas bench pipeline`: the end-to-end experiment (bench/pipeline.ts): a LUT, the MobileNetV3-Small reference, a
// search at its latency, the best candidates, optionally NetAdapt, the width-scaled reference, all trained alike and
// timed together. --smoke is a run of a few minutes for CI.
import { availableParallelism } from 'node:os';
import type { CommandModule } from 'yargs';
import { FULL_LUT, SMOKE_LUT } from '../bench/pipeline/lutStage.js';
import type { PipelineOptions, PipelineResult } from '../bench/pipeline.js';
import { UsageError } from '../common/errors.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../common/json.js';
import { checkOutput } from '../common/outputPath.js';
import { type DatasetName, isDatasetName } from '../data/load.js';
import { FINAL_EPOCH, finalEpochProxy } from '../proxy-train/presets.js';
import { openStore } from '../results/store.js';
import { engineOptionsFrom } from '../search/engine/factory.js';
import { databaseReads, dbOption, jsonOption } from './options.js';
import { emit, table, thousands } from './output.js';

interface PipelineArgs {
  db: string;
  out: string;
  space: string | undefined;
  data: string;
  'data-dir': string | undefined;
  budget: number | undefined;
  epochs: number | undefined;
  seeds: number;
  top: number;
  netadapt: boolean;
  recipe: string;
  seed: number;
  proxy: string | undefined;
  smoke: boolean;
  json: boolean;
}

/** --smoke: every stage on a tiny scale (CI). Options given explicitly still win. */
const SMOKE = {
  space: 'mobilenetv3s-small-input',
  budget: 4,
  epochs: 1,
  lut: SMOKE_LUT,
  proxy: { proxyImages: 128, valImages: 64 },
  // A few steps: the architecture's 0.99 would leave evaluation on the initial moving statistics.
  bnDecay: 0.5,
  trainImages: 400,
  testImages: 200,
  rounds: 4,
  // A coarse NetAdapt: few, short steps, judged by the LUT (4 A/B rounds are too noisy to converge on).
  netadaptSteps: { shortSteps: 5, delta: 0.1, bnImages: 64, byLut: true },
  measureRuns: 20,
};

/** `--proxy`: a preset name or a JSON object of proxy evaluator overrides. */
function proxyOf(v: string | JsonObject, dataset: DatasetName, recipe: string): JsonObject {
  if (typeof v !== 'string') return v;
  if (v === FINAL_EPOCH) return finalEpochProxy(dataset, recipe);
  if (v === 'default') return {};
  let parsed: JsonValue | undefined;
  try {
    parsed = JSON.parse(v); // JSON.parse yields JSON; checked next
  } catch {
    parsed = undefined;
  }
  if (!isJsonObject(parsed)) {
    throw new UsageError(`--proxy ${v}: give ${FINAL_EPOCH}, default, or a JSON object of proxy evaluator settings ('{"input":32}')`);
  }
  return parsed;
}

const FULL = {
  // Built around the reference: in the Large-based spaces none of 500 uniform samples has the reference's MAdds or
  // fewer (median 4.5x), and the first run's search met its latency target in 3 of 64 candidates (docs/PIPELINE.md).
  space: 'mobilenetv3s-small-input',
  budget: 64,
  epochs: 10,
  lut: FULL_LUT,
  proxy: FINAL_EPOCH,
  bnDecay: null,
  trainImages: null,
  testImages: null,
  rounds: 30,
  // `nas netadapt`'s defaults.
  netadaptSteps: { shortSteps: 50, delta: 0.01, bnImages: 1024, byLut: false },
  measureRuns: 120,
};

function optionsOf(args: PipelineArgs, dataset: DatasetName): Omit<PipelineOptions, 'store' | 'onProgress'> {
  const d = args.smoke ? SMOKE : FULL;
  return {
    outDir: args.out,
    space: args.space ?? d.space,
    dataset,
    dataDir: args['data-dir'] ?? null,
    budget: args.budget ?? d.budget,
    epochs: args.epochs ?? d.epochs,
    seeds: args.seeds,
    top: args.top,
    netadapt: args.netadapt,
    recipe: args.recipe,
    seed: args.seed,
    lut: d.lut,
    proxy: proxyOf(args.proxy ?? d.proxy, dataset, args.recipe),
    bnDecay: d.bnDecay,
    trainImages: d.trainImages,
    testImages: d.testImages,
    rounds: d.rounds,
    netadaptSteps: d.netadaptSteps,
    measureRuns: d.measureRuns,
    engine: engineOptionsFrom({}, availableParallelism()),
  };
}

const pct = (v: number): string => (100 * v).toFixed(2);

function pipelineText(r: PipelineResult): string {
  const stages = Object.entries(r.stageSeconds).map(([k, s]) => `${k} ${s.toFixed(0)} s${r.reusedStages.includes(k) ? ' (reused)' : ''}`);
  return [
    `${r.space} searched on ${r.dataset} (budget ${r.budget}, run ${r.searchRunId}) at the reference's LUT latency ${r.targetMs.toFixed(4)} ms; ` +
      `every network trained ${r.epochs} epochs of ${r.recipe}, seeds 0..${r.seeds - 1}; latency measured together (p10, node runner)`,
    '',
    table(
      ['network', 'latency ms', 'params', 'MAdds', 'top-1 mean', 'spread', 'arch'],
      r.rows.map((x) => [x.network, x.latencyMs.toFixed(3), thousands(x.params), thousands(x.madds), pct(x.top1Mean), pct(x.top1Spread), x.arch]),
    ),
    '',
    `stages: ${stages.join(', ')}`,
  ].join('\n');
}

export const pipelineCommand: CommandModule<object, PipelineArgs> = {
  command: 'pipeline',
  describe: 'LUT, reference, search at its latency, best candidates and the width-scaled reference, trained alike and timed together',
  builder: (y) =>
    y
      .option('db', dbOption)
      .option('out', { type: 'string', default: 'runs/pipeline', describe: 'directory for the stage results and trainings (reused by a rerun)' })
      .option('space', { type: 'string', describe: 'search space: mobilenetv3s-small-input (around MobileNetV3-Small), mnasnet-small-input or mobilenetv3-small-input' })
      .option('data', { type: 'string', default: 'fashion-mnist', describe: 'dataset: fashion-mnist, mnist (quick tries) or cifar10' })
      .option('data-dir', { type: 'string', describe: 'where the dataset files are' })
      .option('budget', { type: 'number', describe: 'distinct candidates the search evaluates (64; smoke 4)' })
      .option('epochs', { type: 'number', describe: 'training epochs of every network (10; smoke 1)' })
      .option('seeds', { type: 'number', default: 2, describe: 'training seeds 0..N-1 of every network' })
      .option('top', { type: 'number', default: 2, describe: 'best distinct searched candidates trained fully' })
      .option('netadapt', { type: 'boolean', default: false, describe: 'also run NetAdapt on the best searched network to the same target' })
      .option('recipe', { type: 'string', default: 'small-data', describe: "training recipe (train-final's for small images)" })
      .option('seed', { type: 'number', default: 0, describe: 'search seed' })
      .option('proxy', {
        type: 'string',
        describe: `the search's proxy: ${FINAL_EPOCH} (one epoch of --recipe on every training image at 32 px), default (the evaluator's defaults) or a JSON object of proxy settings (${FINAL_EPOCH}; smoke a tiny one)`,
      })
      .option('smoke', { type: 'boolean', default: false, describe: 'every stage on a tiny scale, a few minutes (CI)' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    for (const k of ['db', 'out', 'space', 'data', 'budget', 'epochs', 'seeds', 'top', 'recipe', 'proxy'] as const) {
      if (Array.isArray(args[k])) throw new UsageError(`--${k} is given more than once; give it once`);
    }
    if (!isDatasetName(args.data)) throw new UsageError(`--data ${args.data}: unknown dataset; use fashion-mnist, mnist or cifar10`);
    const { isPipelineDir, runPipeline } = await import('../bench/pipeline.js');
    checkOutput(args.out, { option: '--out', kind: 'into', force: false, reads: databaseReads(args.db), isOwn: isPipelineDir });
    const options = optionsOf(args, args.data);
    const store = openStore(args.db);
    try {
      const result = await runPipeline({ ...options, store, onProgress: (line) => process.stderr.write(`${line}\n`) });
      emit(result, args.json, pipelineText);
    } finally {
      store.close();
    }
  },
};
