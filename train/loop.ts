// The one training loop: train-final, NetAdapt's fine-tunes and the proxy training of search candidates all call
// trainModel. Every random choice comes from the config's seed (data order and augmentation from (seed, epoch),
// dropout masks from their layers' streams, initialisation from the builder's seed) and is saved in checkpoints,
// so a resumed run ends with the weights and metrics of an uninterrupted one.
import * as tf from '@tensorflow/tfjs';
import { NasError, UsageError } from '../common/errors.js';
import type { Split } from '../data/types.js';
import type { ArchSpec } from '../space/arch.js';
import {
  cleanRunDir,
  dropoutStates,
  type EpochMetrics,
  epochCheckpointName,
  hasCheckpoints,
  type LoopState,
  loadWeightsInto,
  readCheckpoint,
  resolveCheckpoint,
  restoreDropoutStates,
  stepCheckpointName,
  writeCheckpoint,
} from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { WeightEma } from './ema.js';
import { batchTensors, type EvalMetrics, evaluateModel } from './evaluate.js';
import { createOptimizer, modelParams } from './optimizers.js';
import { makeSchedule } from './schedule.js';
import { explainHeapFull } from './heapFull.js';
import { makeOptimizerStep } from './step.js';

export type { EpochMetrics } from './checkpoint.js';
export type { EvalMetrics } from './evaluate.js';

export interface StepProgress {
  /** Index of the epoch in progress (0-based). */
  readonly epoch: number;
  /** Global steps done, this one included. */
  readonly step: number;
  readonly stepInEpoch: number;
  readonly stepsPerEpoch: number;
  readonly totalSteps: number;
  readonly loss: number;
  readonly lr: number;
  /** Training throughput of the epoch so far. */
  readonly imagesPerSec: number;
}

/** Where a checkpoint was taken: whole epochs done, steps done inside the next one, and global steps. */
export interface CheckpointInfo {
  /** Whole epochs completed (an integer, also for a checkpoint inside an epoch: the store keys by it). */
  readonly epoch: number;
  /** Steps done inside the epoch in progress (0 at an epoch boundary). */
  readonly stepInEpoch: number;
  readonly step: number;
}

export interface TrainHooks {
  /** After every step (progress bars). Synchronous: it must not slow the loop. */
  readonly onStep?: ((p: StepProgress) => void) | undefined;
  /**
   * After each epoch's evaluation, before its checkpoint is written. A resumed run repeats the epochs after its
   * checkpoint, so a recorder should key by epoch (at least once, not exactly once).
   */
  readonly onEpochEnd?: ((m: EpochMetrics) => void | Promise<void>) | undefined;
  /** After a checkpoint is complete on disk. */
  readonly onCheckpoint?: ((path: string, info: CheckpointInfo) => void | Promise<void>) | undefined;
}

export interface TrainOptions {
  /** A model built from `arch` (initialised by the builder's seed, or carrying weights to fine-tune). */
  readonly model: tf.LayersModel;
  readonly arch: ArchSpec;
  readonly config: TrainConfig;
  readonly train: Split;
  /** Evaluated after every epoch (top-1, top-5, loss); none: no evaluation. */
  readonly evalSplit?: Split | null;
  /** Checkpoints go here (a directory per checkpoint); none: no checkpoints. */
  readonly runDir?: string | null;
  /** Continue from this checkpoint or run directory (its latest complete checkpoint). */
  readonly resumeFrom?: string | null;
  /** Stop after this many steps in all instead of config.epochs (short fine-tunes); the schedule spans them. */
  readonly maxSteps?: number | null;
  readonly hooks?: TrainHooks;
}

export interface TrainResult {
  /** Epochs completed (fractional when maxSteps ends inside an epoch). */
  readonly epochs: number;
  readonly steps: number;
  readonly history: readonly EpochMetrics[];
  /** The last evaluation (null without an evaluation split). */
  readonly final: EvalMetrics | null;
  /** The last checkpoint written (null without a run directory). */
  readonly checkpoint: string | null;
  readonly resumedFrom: string | null;
}

/** Settings a resumed run must share with its checkpoint (they fix the data order and the meaning of its step counts). */
function checkResumable(saved: TrainConfig, cfg: TrainConfig, dir: string): void {
  const fixed: [string, unknown, unknown][] = [
    ['batchSize', saved.batchSize, cfg.batchSize],
    ['dropLast', saved.dropLast, cfg.dropLast],
    ['seed', saved.seed, cfg.seed],
    ['optimizer.type', saved.optimizer.type, cfg.optimizer.type],
  ];
  for (const [key, was, now] of fixed) {
    if (was !== now) throw new UsageError(`cannot resume from ${dir}: it was trained with ${key} ${String(was)}, the config says ${String(now)}`);
  }
}

export function stepsPerEpoch(size: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(size / batchSize) : Math.ceil(size / batchSize);
}

/** What one training run holds while it runs: its fixed setup, and the loop state it advances. */
interface Run {
  readonly opts: TrainOptions;
  readonly cfg: TrainConfig;
  readonly hooks: TrainHooks;
  readonly runDir: string | null;
  /** Steps per epoch. */
  readonly spe: number;
  readonly totalSteps: number;
  readonly schedule: (step: number) => number;
  readonly optimizer: ReturnType<typeof createOptimizer>;
  readonly ema: WeightEma | null;
  readonly step: ReturnType<typeof makeOptimizerStep>;
  loop: LoopState;
  resumedFrom: string | null;
  lastCheckpoint: string | null;
}

/** The run's steps, checked: a split of less than one batch, or a bad maxSteps, is the caller's error. */
function stepCounts(opts: TrainOptions): { spe: number; totalSteps: number } {
  const cfg = opts.config;
  const spe = stepsPerEpoch(opts.train.size, cfg.batchSize, cfg.dropLast);
  if (spe === 0) {
    throw new UsageError(`the training split has ${opts.train.size} images, fewer than one batch of ${cfg.batchSize}`);
  }
  if (opts.maxSteps != null && !(Number.isInteger(opts.maxSteps) && opts.maxSteps > 0)) {
    throw new UsageError(`maxSteps must be a positive integer, got ${opts.maxSteps}`);
  }
  return { spe, totalSteps: opts.maxSteps ?? cfg.epochs * spe };
}

function startRun(opts: TrainOptions): Run {
  const { model, config: cfg } = opts;
  const { spe, totalSteps } = stepCounts(opts);
  const optimizer = createOptimizer(modelParams(model, cfg.wdExclude), cfg.optimizer, cfg.weightDecay);
  const ema = cfg.ema ? new WeightEma(model, cfg.ema) : null;
  return {
    opts, cfg, hooks: opts.hooks ?? {}, runDir: opts.runDir ?? null, spe, totalSteps,
    schedule: makeSchedule(cfg.schedule, cfg.optimizer.lr, { stepsPerEpoch: spe, totalSteps }),
    optimizer, ema,
    step: makeOptimizerStep(model, { optimizer, labelSmoothing: cfg.labelSmoothing, clipGradNorm: cfg.clipGradNorm, ema }),
    loop: { epoch: 0, stepInEpoch: 0, step: 0, epochLossSum: 0, epochLossCount: 0, dropout: {}, history: [], seed: cfg.seed },
    resumedFrom: null,
    lastCheckpoint: null,
  };
}

/** Continues from opts.resumeFrom (weights, optimizer, EMA, dropout streams, loop), or refuses a run directory in use. */
async function restoreOrStart(r: Run): Promise<void> {
  const { opts, runDir } = r;
  if (opts.resumeFrom) {
    const dir = await resolveCheckpoint(opts.resumeFrom);
    const ck = await readCheckpoint(dir, opts.arch);
    checkResumable(ck.config, r.cfg, dir);
    loadWeightsInto(opts.model, ck.artifacts);
    if (ck.optimizer) r.optimizer.setState(ck.optimizer);
    if (r.ema) {
      if (!ck.ema) throw new NasError('E_IO', `checkpoint ${dir} has no EMA weights but the config turns EMA on`);
      r.ema.setState(ck.ema);
    }
    restoreDropoutStates(opts.model, ck.loop.dropout);
    r.loop = ck.loop;
    r.resumedFrom = dir;
    r.lastCheckpoint = dir;
  } else if (runDir !== null && (await hasCheckpoints(runDir))) {
    throw new UsageError(`${runDir} already holds checkpoints of a run: resume from it or choose another directory`);
  }
  if (runDir !== null) await cleanRunDir(runDir);
}

async function save(r: Run, name: string): Promise<void> {
  if (r.runDir === null) return;
  const { loop } = r;
  const info: CheckpointInfo = { epoch: loop.epoch, stepInEpoch: loop.stepInEpoch, step: loop.step };
  const state = {
    arch: r.opts.arch,
    config: r.cfg,
    loop: { ...loop, dropout: dropoutStates(r.opts.model) },
    optimizer: r.optimizer.getState(),
    ema: r.ema ? r.ema.getState() : null,
  };
  r.lastCheckpoint = await writeCheckpoint(r.runDir, name, r.opts.model, state, { keep: r.cfg.keepCheckpoints });
  await r.hooks.onCheckpoint?.(r.lastCheckpoint, info);
}

/** The evaluation split's metrics after an epoch (with the EMA weights when EMA is on); null without a split. */
async function evaluateEpoch(r: Run, epoch: number): Promise<EvalMetrics | null> {
  const split = r.opts.evalSplit;
  if (!split) return null;
  const run = (): Promise<EvalMetrics> => evaluateModel(r.opts.model, split, { batchSize: r.cfg.evalBatchSize, seed: r.cfg.seed, epoch });
  return r.ema ? r.ema.withAveragedWeights(run) : run();
}

/** One optimizer step on a batch; its loss, or E_DIVERGED naming the last good checkpoint. */
function trainStep(r: Run, b: Parameters<typeof batchTensors>[0], lr: number): number {
  const x = batchTensors(b);
  let loss: number;
  try {
    const l = r.step(x.images, x.labels, lr);
    loss = l.dataSync()[0] ?? Number.NaN;
    l.dispose();
  } finally {
    tf.dispose([x.images, x.labels]);
  }
  if (!Number.isFinite(loss)) {
    throw new NasError(
      'E_DIVERGED',
      `training diverged at step ${r.loop.step + 1} (epoch ${r.loop.epoch + 1}, lr ${lr.toPrecision(4)}): the loss is ${loss}; ` +
        (r.lastCheckpoint ? `the last good checkpoint is ${r.lastCheckpoint}` : 'no checkpoint was written'),
      1,
    );
  }
  return loss;
}

/** The epoch in progress, from where the loop stands to its end (or the run's last step); its images and last lr. */
async function runEpoch(r: Run, t0: number): Promise<{ images: number; lr: number }> {
  const { cfg, spe, totalSteps } = r;
  const epoch = r.loop.epoch;
  let images = 0;
  let lr = r.schedule(r.loop.step);
  const batches = r.opts.train.batches({
    batchSize: cfg.batchSize, shuffle: true, augment: true, seed: cfg.seed, epoch, dropLast: cfg.dropLast, startBatch: r.loop.stepInEpoch,
  });
  for await (const b of batches) {
    if (r.loop.step >= totalSteps || r.loop.stepInEpoch >= spe) break;
    lr = r.schedule(r.loop.step);
    const loss = trainStep(r, b, lr);
    images += b.count;
    const l = r.loop;
    r.loop = { ...l, step: l.step + 1, stepInEpoch: l.stepInEpoch + 1, epochLossSum: l.epochLossSum + loss, epochLossCount: l.epochLossCount + 1 };
    const seconds = (performance.now() - t0) / 1000;
    r.hooks.onStep?.({
      epoch, step: r.loop.step, stepInEpoch: r.loop.stepInEpoch, stepsPerEpoch: spe, totalSteps, loss, lr,
      imagesPerSec: seconds > 0 ? images / seconds : 0,
    });
    const every = cfg.checkpointEverySteps;
    const atEpochEnd = r.loop.stepInEpoch >= spe || r.loop.step >= totalSteps;
    if (every !== null && r.loop.step % every === 0 && !atEpochEnd) await save(r, stepCheckpointName(r.loop.step));
  }
  return { images, lr };
}

/** Closes the epoch just run: its metrics and evaluation into the history, and its checkpoint where one is due. */
async function endEpoch(r: Run, done: { images: number; lr: number }, t0: number): Promise<void> {
  const { spe, totalSteps } = r;
  const epoch = r.loop.epoch;
  const seconds = (performance.now() - t0) / 1000;
  const complete = r.loop.stepInEpoch >= spe;
  if (!complete && r.loop.step < totalSteps) {
    throw new NasError('E_IO', `the training split gave ${r.loop.stepInEpoch} batches in epoch ${epoch + 1}, expected ${spe}`, 1);
  }
  const l = r.loop;
  const metrics: EpochMetrics = {
    epoch: complete ? epoch + 1 : l.step / spe,
    step: l.step,
    trainLoss: l.epochLossCount > 0 ? l.epochLossSum / l.epochLossCount : Number.NaN,
    lr: done.lr,
    seconds,
    imagesPerSec: seconds > 0 ? done.images / seconds : 0,
    eval: await evaluateEpoch(r, epoch),
  };
  r.loop = complete
    ? { ...l, epoch: epoch + 1, stepInEpoch: 0, epochLossSum: 0, epochLossCount: 0, history: [...l.history, metrics] }
    : { ...l, history: [...l.history, metrics] };
  await r.hooks.onEpochEnd?.(metrics);
  const last = r.loop.step >= totalSteps;
  if (complete && (last || r.loop.epoch % r.cfg.checkpointEvery === 0)) await save(r, epochCheckpointName(r.loop.epoch));
  else if (!complete && last) await save(r, stepCheckpointName(r.loop.step));
}

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const r = startRun(opts);
  try {
    await restoreOrStart(r);
    while (r.loop.step < r.totalSteps) {
      const t0 = performance.now();
      await endEpoch(r, await runEpoch(r, t0), t0);
    }
  } catch (e) {
    throw explainHeapFull(e, { arch: opts.arch, batchSize: r.cfg.batchSize });
  } finally {
    r.optimizer.dispose();
    r.ema?.dispose();
  }
  const final = r.loop.history[r.loop.history.length - 1];
  return {
    epochs: final?.epoch ?? 0,
    steps: r.loop.step,
    history: r.loop.history,
    final: final?.eval ?? null,
    checkpoint: r.lastCheckpoint,
    resumedFrom: r.resumedFrom,
  };
}
