// `nas train-final`: trains MobileNetV3-Large/Small (or any architecture) on a dataset with a recipe, checkpoints
// every epoch, records every epoch in the results store, and ends with test top-1 / top-5.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import { checkOutput, pathComponent } from '../common/outputPath.js';
import { datasetNames, type DatasetName, loadDataset } from '../data/load.js';
import { openStore } from '../results/store.js';
import { loadArch } from '../results/archRef.js';
import { applyOverrides, CONFIGS_DIR, parseTrainConfig, type TrainConfig } from '../train/config.js';
import { type FinalTrainingOptions, type FinalTrainingResult, isRunDir, trainFinal } from '../train/final.js';
import type { StepProgress } from '../train/loop.js';
import { backendOption, databaseReads, dbOption, existingReads, forceOption, jsonOption, threadsFrom, threadsOption } from './options.js';
import { emit } from './output.js';
import { finite, makeProgress, type ProgressChoice, progressMode, progressOption, Reporter } from './progress.js';

interface TrainFinalArgs {
  variant: 'large' | 'small';
  arch: string[] | undefined;
  width: number | undefined;
  data: string;
  'data-dir': string | undefined;
  input: number | undefined;
  'small-input': boolean;
  config: string | undefined;
  set: string[];
  epochs: number | undefined;
  batch: number | undefined;
  limit: number | undefined;
  out: string | undefined;
  resume: boolean;
  force: boolean;
  seed: number;
  backend: BackendChoice;
  threads: number | undefined;
  db: string;
  json: boolean;
  progress: ProgressChoice;
}

/** The recipe a dataset gets by default: ours for small images, MindCV's for ImageNet-style folders. */
function defaultConfigPath(data: DatasetName, variant: 'large' | 'small'): string {
  return join(CONFIGS_DIR, data === 'folder' ? `mindcv-${variant}.json` : 'small-data.json');
}

function readConfig(path: string): TrainConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch {
    throw new UsageError(`cannot read --config ${path}: no such file (recipes are in ${CONFIGS_DIR})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`--config ${path} is not JSON: ${(e as Error).message}`);
  }
  return parseTrainConfig(json);
}

function isDataset(name: string): name is DatasetName {
  return (datasetNames as readonly string[]).includes(name);
}

function toText(r: FinalTrainingResult): string {
  const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
  return [
    `run ${r.runId}: ${r.arch} on ${r.dataset}, ${r.epochs} epochs (${r.steps} steps)${r.resumedFrom ? `, resumed from ${r.resumedFrom}` : ''}`,
    `test top-1 ${pct(r.test.top1)}, top-5 ${pct(r.test.top5)}, loss ${r.test.loss.toFixed(4)} (${r.test.count} images)`,
    `training ${r.imagesPerSec.toFixed(0)} images/s; checkpoint ${r.checkpoint ?? 'none'}`,
  ].join('\n');
}

/** --out: a new, empty or run directory (any other only with --force), and never one of the files training reads. */
function checkOut(args: TrainFinalArgs, outDir: string, archRefs: readonly string[]): void {
  checkOutput(outDir, {
    option: '--out',
    kind: 'into',
    // --resume names a run directory: train/final.ts says so when it is not one.
    force: args.force || args.resume,
    reads: [
      ...databaseReads(args.db),
      ...existingReads('the recipe', [args.config]),
      ...existingReads('the architecture file', archRefs),
      ...existingReads('the data directory', [args['data-dir']]),
    ],
    isOwn: isRunDir,
  });
}

/** Training's hooks on a reporter: the step line (a terminal), the epoch lines, an `epoch` event per epoch (json). */
function trainProgress(r: Reporter): Pick<FinalTrainingOptions, 'onStep' | 'onEpoch' | 'onEpochRecord'> {
  const progress = makeProgress();
  return {
    ...(r.mode === 'tty'
      ? {
          onStep: (p: StepProgress) => {
            const text = progress(p);
            r.live(() => text);
          },
        }
      : {}),
    onEpoch: (line) => r.note(line),
    onEpochRecord: (e) => {
      const { runId, epoch, step, trainLoss, valLoss, valTop1, valTop5, lr, imagesPerSec, wallSeconds } = e;
      r.event({ type: 'epoch', runId, epoch, step, trainLoss, valLoss, valTop1, valTop5, lr, imagesPerSec: finite(imagesPerSec), wallSeconds });
    },
  };
}

export const trainFinalCommand: CommandModule<object, TrainFinalArgs> = {
  command: 'train-final',
  describe: 'Train an architecture fully, checkpointing every epoch, and report test top-1/top-5',
  builder: (y) =>
    y
      .option('variant', { choices: ['large', 'small'] as const, default: 'small' as const, describe: 'MobileNetV3 variant' })
      .option('arch', { type: 'string', array: true, describe: 'another architecture: name, spec.json or block strings' })
      .option('width', { type: 'number', describe: 'width multiplier' })
      .option('data', { type: 'string', default: 'mnist', describe: `dataset: ${datasetNames.join(', ')}` })
      .option('data-dir', { type: 'string', describe: 'where the dataset files are' })
      .option('input', { type: 'number', describe: 'input size (default 32 for small-image datasets, 224 for folders)' })
      .option('small-input', { type: 'boolean', default: false, describe: 'stem stride 1 for 28-32 px images' })
      .option('config', { type: 'string', describe: 'recipe file (default configs/small-data.json or mindcv-VARIANT.json)' })
      .option('set', { type: 'string', array: true, default: [], describe: 'override a recipe key: --set optimizer.lr=0.05' })
      .option('epochs', { type: 'number' })
      .option('batch', { type: 'number', describe: 'batch size' })
      .option('limit', { type: 'number', describe: 'use a seeded subset of this many training (and test) images' })
      .option('out', { type: 'string', describe: 'run directory (default runs/<dataset>-<arch>-s<seed>)' })
      .option('resume', { type: 'boolean', default: false, describe: 'continue the run in --out from its last checkpoint' })
      .option('force', { ...forceOption, describe: 'train into a non-empty --out that is not a run directory (never the database)' })
      .option('seed', { type: 'number', default: 0 })
      .option('backend', backendOption)
      .option('threads', threadsOption)
      .option('db', dbOption)
      .option('json', jsonOption)
      .option('progress', progressOption) as never,
  handler: async (args) => {
    if (!isDataset(args.data)) throw new UsageError(`unknown dataset '${args.data}': use one of ${datasetNames.join(', ')}`);
    const data = args.data;
    const overrides = [...args.set, `seed=${args.seed}`];
    if (args.epochs !== undefined) overrides.push(`epochs=${args.epochs}`);
    if (args.batch !== undefined) overrides.push(`batchSize=${args.batch}`);
    const config = applyOverrides(readConfig(args.config ?? defaultConfigPath(data, args.variant)), overrides);
    if (args.limit !== undefined && (!Number.isInteger(args.limit) || args.limit < 2)) {
      throw new UsageError(`--limit must be an integer >= 2, got ${args.limit}`);
    }
    const input = args.input ?? (data === 'folder' ? 224 : 32);
    const archRefs = args.arch ?? [`mobilenetv3-${args.variant}`];
    // Validate the architecture and --out before loading data: bad input fails fast.
    const named = loadArch(archRefs, { input, width: args.width, db: args.db, smallInput: args['small-input'] });
    // The name comes from a spec file (or a database): one safe path component, so the run stays under runs/.
    const outDir = args.out ?? join('runs', `${data}-${pathComponent(named.name, 'arch')}-s${config.seed}`);
    checkOut(args, outDir, archRefs);
    await useBackend(args.backend, { threads: threadsFrom(args.threads) });
    const dataset = await loadDataset(data, {
      input: { size: input, channels: 3 },
      dataDir: args['data-dir'],
      seed: config.seed,
      ...(args.limit !== undefined ? { limit: { train: args.limit, test: args.limit } } : {}),
    });
    const arch = loadArch(archRefs, {
      db: args.db,
      input,
      classes: dataset.classes,
      channels: 3,
      width: args.width,
      smallInput: args['small-input'],
    });
    const store = openStore(args.db);
    // With --json and no --progress, the epoch lines only, as before (no step line even on a terminal).
    const reporter = new Reporter(args.json && args.progress === 'auto' ? 'plain' : progressMode(args.progress));
    try {
      const result = await trainFinal({ arch, config, data: dataset, outDir, resume: args.resume, store, ...trainProgress(reporter) });
      reporter.event({ type: 'end', runId: result.runId, epochs: result.epochs, steps: result.steps, testTop1: result.test.top1, testTop5: result.test.top5 });
      reporter.end();
      emit(result, args.json, toText);
    } finally {
      reporter.end();
      store.close();
    }
  },
};
