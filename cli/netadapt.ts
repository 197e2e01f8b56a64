// `nas netadapt`: latency-budget channel pruning of a trained network (NetAdapt as MobileNetV3 ran it). Parses and
// checks the options, trains the seed first when no checkpoint is given, and hands over to netadapt/loop.ts.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as resolvePath } from 'node:path';
import type { CommandModule } from 'yargs';
import type { BackendChoice } from '../backend/choices.js';
import { availableCores } from '../backend/threads.js';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { checkOutput } from '../common/outputPath.js';
import { datasetNames, type DatasetName, loadDataset } from '../data/load.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import { parseTarget } from '../latency/targets.js';
import { netadaptText } from '../netadapt/report.js';
import { fineTuneRecipe } from '../netadapt/recipes.js';
import type { DataKey, NetadaptResult, NetadaptSession, NetadaptSettings } from '../netadapt/types.js';
import { openStore, type Store } from '../results/store.js';
import { engineOptionsFrom } from '../search/engine/factory.js';
import { checkReachable } from '../search/engine/queue/connection.js';
import type { ArchSpec } from '../space/arch.js';
import { loadArch } from '../results/archRef.js';
import type { Checkpoint } from '../train/checkpoint.js';
import { applyOverrides, CONFIGS_DIR, parseTrainConfig, type TrainConfig } from '../train/config.js';
import { backendOption, databaseReads, dbOption, existingReads, forceOption, jsonOption, threadsFrom, threadsOption } from './options.js';
import { emit } from './output.js';
import { latencyWithRunner, type RunnerArgs, runnerOptions } from './runnerOptions.js';
import { type ProgressChoice, progressMode, progressOption, Reporter } from './progress.js';
import { netadaptProgress } from './progressNetadapt.js';

interface NetadaptArgs extends RunnerArgs {
  arch: string[] | undefined;
  checkpoint: string | undefined;
  data: string;
  'data-dir': string | undefined;
  input: number | undefined;
  'small-input': boolean;
  target: string | undefined;
  latency: string;
  delta: number;
  'short-steps': number;
  'finetune-lr': number | undefined;
  workers: number | undefined;
  threads: number | undefined;
  'train-threads': number | undefined;
  gpus: string | undefined;
  queue: string | undefined;
  'final-epochs': number | undefined;
  retrain: boolean;
  'seed-epochs': number;
  'train-images': number | undefined;
  'val-images': number | undefined;
  'measure-each': boolean;
  'measure-runs': number;
  'bn-images': number;
  resume: string | undefined;
  baseline: string | undefined;
  out: string | undefined;
  force: boolean;
  seed: number;
  backend: BackendChoice;
  db: string;
  json: boolean;
  progress: ProgressChoice;
}

/** Proposals fine-tuned at once when neither --workers nor --gpus is given. */
const DEFAULT_WORKERS = 2;

/** --out: a new or empty directory (any other only with --force), and never one of the files the run reads. */
function checkOut(args: NetadaptArgs, out: string, checkpoint: string | null, latency: LatencySourceSpec): void {
  checkOutput(args.out ?? out, {
    option: '--out',
    kind: 'into',
    force: args.force,
    reads: [
      ...databaseReads(args.db),
      ...existingReads('the checkpoint', [args.checkpoint, checkpoint ?? undefined]),
      ...existingReads('the latency file', [latency.kind === 'lut' || latency.kind === 'module' ? latency.path : undefined]),
      ...existingReads('the architecture file', args.arch ?? []),
      ...existingReads('the data directory', [args['data-dir']]),
    ],
  });
}

/** The numeric and choice options, checked before anything is loaded or trained. */
function checkOptions(args: NetadaptArgs): string {
  if (args.target === undefined) throw new UsageError('--target is required (e.g. --target latency=0.7x or latency=12ms), or --resume RUN');
  const target = parseTarget(args.target);
  if (target.resource !== 'latency') throw new UsageError(`--target ${args.target}: netadapt takes a latency target (latency=12ms or latency=0.7x)`);
  if (!(args.delta > 0 && args.delta < 1)) throw new UsageError(`--delta must be in (0, 1), got ${args.delta}`);
  checkInteger('--short-steps', args['short-steps']);
  checkInteger('--seed-epochs', args['seed-epochs']);
  checkInteger('--bn-images', args['bn-images'], 0);
  checkInteger('--measure-runs', args['measure-runs']);
  checkInteger('--final-epochs', args['final-epochs']);
  checkInteger('--train-images', args['train-images'], 2);
  checkInteger('--val-images', args['val-images']);
  if (args.baseline !== undefined && args.baseline !== 'width') throw new UsageError(`--baseline ${args.baseline}: the one baseline is 'width'`);
  if (args.retrain && args['final-epochs'] === undefined) throw new UsageError('--retrain trains from scratch: give its length with --final-epochs E');
  if (!(datasetNames as readonly string[]).includes(args.data)) throw new UsageError(`unknown dataset '${args.data}': use one of ${datasetNames.join(', ')}`);
  return args.target;
}

/** A resumed run times on the runner its stored settings name: another one given is refused, not ignored. */
function refuseRunnerOnResume(args: NetadaptArgs): void {
  const given = (['runner', 'runner-backend', 'runner-threads'] as const).filter((k) => args[k] !== undefined).map((k) => `--${k}`);
  if (given.length > 0) throw new UsageError(`--resume continues run ${args.resume} on the runner it was started with; drop ${given.join(', ')}`);
}

/** The seed as given: its checkpoint (null: to be trained) and its network. */
interface SeedRef {
  readonly checkpoint: string | null;
  readonly ck: Checkpoint | null;
  readonly refs: string[] | null;
  readonly arch: ArchSpec;
}

/** The checkpoint's network, or --arch (with the checkpoint's input and classes when one is given). */
function seedRef(args: NetadaptArgs, checkpoint: string | null, ck: Checkpoint | null): SeedRef {
  const refs = args.arch ?? (ck === null ? ['mobilenetv3-small'] : null);
  if (refs === null && ck !== null) return { checkpoint, ck, refs, arch: ck.arch };
  const arch = loadArch(refs ?? [], {
    db: args.db,
    input: args.input ?? ck?.arch.input.size ?? 32,
    classes: ck?.arch.classes,
    channels: ck?.arch.input.channels ?? 3,
    smallInput: args['small-input'],
  });
  return { checkpoint, ck, refs, arch };
}

/** Without seed weights, the seed is trained first with the training engine, as train-final would. */
async function trainSeed(args: NetadaptArgs, seed: SeedRef, base: TrainConfig, out: string, ctx: Ctx): Promise<SeedRef & { checkpoint: string }> {
  if (seed.checkpoint !== null) return { ...seed, checkpoint: seed.checkpoint };
  const [{ useBackend }, { trainFinal }] = await Promise.all([import('../backend/select.js'), import('../train/final.js')]);
  await useBackend(args.backend, { threads: threadsFrom(args['train-threads'], '--train-threads') });
  const input = { size: args.input ?? 32, channels: 3 };
  const dataset = await loadDataset(args.data as DatasetName, { input, dataDir: args['data-dir'], seed: args.seed });
  const arch = { ...seed.arch, classes: dataset.classes };
  const config = applyOverrides(base, [`epochs=${args['seed-epochs']}`, `seed=${args.seed}`]);
  ctx.log(`no --checkpoint: training the seed ${arch.name} for ${config.epochs} epochs first (into ${join(out, 'seed')})`);
  const trained = await trainFinal({ arch, config, data: dataset, outDir: join(out, 'seed'), resume: false, store: ctx.store, onEpoch: ctx.log });
  if (trained.checkpoint === null) throw new UsageError('the seed training wrote no checkpoint');
  return { ...seed, arch, checkpoint: trained.checkpoint };
}

/** The fine-tune recipe (the seed's at a constant, lower rate) and the final one (the seed's, --final-epochs long). */
function recipes(args: NetadaptArgs, seedCfg: TrainConfig): { finetune: TrainConfig; finalTrain: TrainConfig } {
  const finetune = fineTuneRecipe(seedCfg, args['finetune-lr']);
  return { finetune, finalTrain: { ...seedCfg, epochs: args['final-epochs'] ?? 1, seed: args.seed } };
}

function dataKey(args: NetadaptArgs, arch: ArchSpec, ck: Checkpoint | null): DataKey {
  return {
    dataset: args.data,
    dataDir: args['data-dir'] ?? null,
    input: arch.input.size,
    channels: arch.input.channels,
    fit: 'resize',
    trainImages: args['train-images'] ?? null,
    valImages: args['val-images'] ?? null,
    dataSeed: ck?.config.seed ?? args.seed,
  };
}

/**
 * --queue: this session's fine-tunes go to `nas worker` processes (not with --workers or --gpus), on a new run or a
 * resumed one; Redis is reached once here, so that a wrong URL is one line before anything is trained.
 */
async function sessionOf(args: NetadaptArgs): Promise<NetadaptSession> {
  const engine = engineOptionsFrom({ workers: args.workers, gpus: args.gpus, queue: args.queue, threads: args.threads }, DEFAULT_WORKERS);
  // --threads per fine-tune worker when given; otherwise the loop shares the cores among the run's --workers.
  const threads = args.threads === undefined || engine.threads === undefined ? {} : { threads: engine.threads };
  const trainThreads = threadsFrom(args['train-threads'], '--train-threads');
  if (engine.queue === undefined) return { trainThreads, ...threads };
  await checkReachable(engine.queue);
  return { queue: engine.queue, trainThreads };
}

interface Ctx {
  readonly store: Store;
  readonly log: (line: string) => void;
}

/** The checkpoint --checkpoint names and its contents (train/checkpoint.ts loads tfjs: only when one is given). */
async function seedCheckpoint(given: string | undefined): Promise<{ checkpoint: string | null; ck: Checkpoint | null }> {
  if (given === undefined) return { checkpoint: null, ck: null };
  const { readCheckpoint, resolveCheckpoint } = await import('../train/checkpoint.js');
  const checkpoint = await resolveCheckpoint(given);
  return { checkpoint, ck: await readCheckpoint(checkpoint) };
}

/** The options that make a new run: checked before anything is loaded or trained. */
async function settingsFrom(args: NetadaptArgs, ctx: Ctx): Promise<NetadaptSettings> {
  const target = checkOptions(args);
  const latency = latencyWithRunner(args.latency, args);
  const engine = engineOptionsFrom({ workers: args.workers, gpus: args.gpus }, DEFAULT_WORKERS);
  const { checkpoint, ck } = await seedCheckpoint(args.checkpoint);
  const baseConfig: TrainConfig = ck?.config ?? parseTrainConfig(JSON.parse(readFileSync(join(CONFIGS_DIR, 'small-data.json'), 'utf8')));
  const out = resolvePath(args.out ?? join('runs', `netadapt-${args.data}-s${args.seed}`));
  if (existsSync(join(out, 'final.arch.json'))) throw new UsageError(`${out} already holds a netadapt run: use --resume RUN or another --out`);
  checkOut(args, out, checkpoint, latency);
  const seed = await trainSeed(args, seedRef(args, checkpoint, ck), baseConfig, out, ctx);
  return {
    arch: seed.arch,
    archRef: (seed.refs ?? ['checkpoint']).join(' '),
    checkpoint: seed.checkpoint,
    data: dataKey(args, seed.arch, seed.ck),
    target,
    latency,
    delta: args.delta,
    shortSteps: args['short-steps'],
    workers: engine.workers,
    ...(engine.gpus === undefined ? {} : { gpus: engine.gpus }),
    ...recipes(args, seed.ck?.config ?? applyOverrides(baseConfig, [`seed=${args.seed}`])),
    final: args.retrain ? 'retrain' : args['final-epochs'] !== undefined ? 'finetune' : 'none',
    baseline: args.baseline === 'width' ? 'width' : null,
    seed: args.seed,
    out,
    backend: args.backend,
    measureEach: args['measure-each'],
    measureRuns: args['measure-runs'],
    bnImages: args['bn-images'],
  };
}

export const netadaptCommand: CommandModule<object, NetadaptArgs> = {
  command: 'netadapt',
  describe: 'Prune a trained network to a latency target, layer by layer (NetAdapt as in MobileNetV3)',
  builder: (y) =>
    y
      .option('arch', { type: 'string', array: true, describe: 'seed network: name, spec.json, block strings or run:RUN#best' })
      .option('checkpoint', { type: 'string', describe: "the seed's trained weights (without it the seed is trained first)" })
      .option('data', { type: 'string', default: 'mnist', describe: `dataset: ${datasetNames.join(', ')}` })
      .option('data-dir', { type: 'string', describe: 'where the dataset files are' })
      .option('input', { type: 'number', describe: "input size (default: the checkpoint's, else 32)" })
      .option('small-input', { type: 'boolean', default: false, describe: 'stem stride 1 for 28-32 px images (as train-final)' })
      .option('target', { type: 'string', describe: 'latency=Xms, or latency=0.7x of the seed' })
      .option('latency', { type: 'string', default: 'measure', describe: 'lut:FILE (missing entries are measured and added) | measure | madds | module:FILE' })
      .options(runnerOptions)
      .option('delta', { type: 'number', default: 0.01, describe: "each step cuts at least this fraction of the seed's latency" })
      .option('short-steps', { type: 'number', default: 50, describe: 'fine-tune steps per proposal' })
      .option('finetune-lr', { type: 'number', describe: "fine-tune learning rate (default a tenth of the seed's recipe)" })
      .option('workers', { type: 'number', describe: `proposals fine-tuned in parallel (default ${DEFAULT_WORKERS}; 0: in this process; at most 4 per core, within memory)` })
      .option('gpus', { type: 'string', describe: 'GPU ids, e.g. 0,1: one fine-tune process per GPU (CUDA_VISIBLE_DEVICES), instead of --workers' })
      .option('threads', { type: 'number', describe: 'native kernel threads per fine-tune worker (default: the cores shared among --workers)' })
      .option('train-threads', { ...threadsOption, describe: `native kernel threads of the seed, final and baseline trainings (default: every core, ${availableCores()} here)` })
      .option('queue', { type: 'string', describe: 'Redis URL (redis://HOST:6379/0): `nas worker --queue URL` processes fine-tune the proposals (docs/DISTRIBUTED.md)' })
      .option('final-epochs', { type: 'number', describe: 'train the result this long at the end (from its weights; with --retrain, from scratch)' })
      .option('retrain', { type: 'boolean', default: false, describe: 'final training from scratch, as MobileNetV3 did' })
      .option('seed-epochs', { type: 'number', default: 5, describe: 'without --checkpoint: epochs to train the seed' })
      .option('train-images', { type: 'number', describe: 'use a seeded subset of the training images' })
      .option('val-images', { type: 'number', describe: 'validation images held out of training (default: as train-final)' })
      .option('measure-each', { type: 'boolean', default: true, describe: 'measure every chosen network too, timed together with the seed' })
      .option('measure-runs', { type: 'number', default: 30, describe: 'timed runs per latency measurement (with --latency measure: A/B rounds per judgement against the seed)' })
      .option('bn-images', { type: 'number', default: 1024, describe: 'recalibrate batch-norm statistics on this many training images before each score (0: off)' })
      .option('resume', { type: 'string', describe: 'continue run RUN after a kill (its settings come from the store)' })
      .option('baseline', { type: 'string', describe: "'width': also train the uniformly narrowed network of the same latency" })
      .option('out', { type: 'string', describe: 'run directory (default runs/netadapt-<data>-s<seed>)' })
      .option('force', { ...forceOption, describe: 'write into a non-empty --out that holds no netadapt run (never the database or the checkpoint)' })
      .option('seed', { type: 'number', default: 0 })
      .option('backend', backendOption)
      .option('db', dbOption)
      .option('json', jsonOption)
      .option('progress', progressOption) as never,
  handler: async (args) => {
    const store = openStore(args.db);
    const reporter = new Reporter(progressMode(args.progress));
    const { hooks, finish } = netadaptProgress(reporter);
    try {
      const session = await sessionOf(args);
      let result: NetadaptResult;
      if (args.resume !== undefined) {
        refuseRunnerOnResume(args);
        const { resumeNetadapt } = await import('../netadapt/loop.js');
        result = await resumeNetadapt(args.resume, store, hooks, session);
      } else {
        const settings = await settingsFrom(args, { store, log: (line) => reporter.note(line) });
        const { startNetadapt } = await import('../netadapt/loop.js');
        result = await startNetadapt(settings, store, hooks, session);
      }
      finish(result);
      emit(result, args.json, netadaptText);
    } finally {
      reporter.end();
      store.close();
    }
  },
};
