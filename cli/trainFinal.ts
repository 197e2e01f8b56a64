// `nas train-final`: trains MobileNetV3-Large/Small (or any architecture) on a dataset with a recipe, checkpoints
// every epoch, records every epoch in the results store, and ends with test top-1 / top-5.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { checkOutput, pathComponent } from '../common/outputPath.js';
import { datasetNames, type DatasetName } from '../data/load.js';
import { loadArch } from '../results/archRef.js';
import { applyOverrides, CONFIGS_DIR, parseTrainConfig, type TrainConfig } from '../train/config.js';
import { isRunDir } from '../train/runDir.js';
import { backendOption, databaseReads, dbOption, existingReads, forceOption, jsonOption, threadsOption } from './options.js';
import { progressOption } from './progress.js';
import type { TrainFinalArgs } from './run/trainFinal.js';

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
    const { runTrainFinal } = await import('./run/trainFinal.js');
    await runTrainFinal(args, { data, config, input, archRefs, outDir });
  },
};
