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

export async function trainModel(opts: TrainOptions): Promise<TrainResult> {
  const { model, arch, config: cfg, train } = opts;
  const hooks = opts.hooks ?? {};
  const runDir = opts.runDir ?? null;
  const spe = stepsPerEpoch(train.size, cfg.batchSize, cfg.dropLast);
  if (spe === 0) {
    throw new UsageError(`the training split has ${train.size} images, fewer than one batch of ${cfg.batchSize}`);
  }
  if (opts.maxSteps != null && !(Number.isInteger(opts.maxSteps) && opts.maxSteps > 0)) {
    throw new UsageError(`maxSteps must be a positive integer, got ${opts.maxSteps}`);
  }
  const totalSteps = opts.maxSteps ?? cfg.epochs * spe;
  const schedule = makeSchedule(cfg.schedule, cfg.optimizer.lr, { stepsPerEpoch: spe, totalSteps });
  const optimizer = createOptimizer(modelParams(model, cfg.wdExclude), cfg.optimizer, cfg.weightDecay);
  const ema = cfg.ema ? new WeightEma(model, cfg.ema) : null;
  const step = makeOptimizerStep(model, { optimizer, labelSmoothing: cfg.labelSmoothing, clipGradNorm: cfg.clipGradNorm, ema });

  let loop: LoopState = {
    epoch: 0,
    stepInEpoch: 0,
    step: 0,
    epochLossSum: 0,
    epochLossCount: 0,
    dropout: {},
    history: [],
    seed: cfg.seed,
  };
  let resumedFrom: string | null = null;
  let lastCheckpoint: string | null = null;

  try {
    if (opts.resumeFrom) {
      const dir = await resolveCheckpoint(opts.resumeFrom);
      const ck = await readCheckpoint(dir, arch);
      checkResumable(ck.config, cfg, dir);
      loadWeightsInto(model, ck.artifacts);
      if (ck.optimizer) optimizer.setState(ck.optimizer);
      if (ema) {
        if (!ck.ema) throw new NasError('E_IO', `checkpoint ${dir} has no EMA weights but the config turns EMA on`);
        ema.setState(ck.ema);
      }
      restoreDropoutStates(model, ck.loop.dropout);
      loop = ck.loop;
      resumedFrom = dir;
      lastCheckpoint = dir;
    } else if (runDir !== null && (await hasCheckpoints(runDir))) {
      throw new UsageError(`${runDir} already holds checkpoints of a run: resume from it or choose another directory`);
    }
    if (runDir !== null) await cleanRunDir(runDir);

    const save = async (name: string): Promise<void> => {
      if (runDir === null) return;
      const info: CheckpointInfo = { epoch: loop.epoch, stepInEpoch: loop.stepInEpoch, step: loop.step };
      const path = await writeCheckpoint(
        runDir,
        name,
        model,
        {
          arch,
          config: cfg,
          loop: { ...loop, dropout: dropoutStates(model) },
          optimizer: optimizer.getState(),
          ema: ema ? ema.getState() : null,
        },
        { keep: cfg.keepCheckpoints },
      );
      lastCheckpoint = path;
      await hooks.onCheckpoint?.(path, info);
    };

    const evaluate = async (epoch: number): Promise<EvalMetrics | null> => {
      const split = opts.evalSplit;
      if (!split) return null;
      const run = (): Promise<EvalMetrics> => evaluateModel(model, split, { batchSize: cfg.evalBatchSize, seed: cfg.seed, epoch });
      return ema ? ema.withAveragedWeights(run) : run();
    };

    while (loop.step < totalSteps) {
      const epoch = loop.epoch;
      const startBatch = loop.stepInEpoch;
      const t0 = performance.now();
      let images = 0;
      let lr = schedule(loop.step);
      const batches = train.batches({
        batchSize: cfg.batchSize,
        shuffle: true,
        augment: true,
        seed: cfg.seed,
        epoch,
        dropLast: cfg.dropLast,
        startBatch,
      });
      for await (const b of batches) {
        if (loop.step >= totalSteps || loop.stepInEpoch >= spe) break;
        lr = schedule(loop.step);
        const x = batchTensors(b);
        let loss: number;
        try {
          const l = step(x.images, x.labels, lr);
          loss = l.dataSync()[0] ?? Number.NaN;
          l.dispose();
        } finally {
          tf.dispose([x.images, x.labels]);
        }
        if (!Number.isFinite(loss)) {
          throw new NasError(
            'E_DIVERGED',
            `training diverged at step ${loop.step + 1} (epoch ${epoch + 1}, lr ${lr.toPrecision(4)}): the loss is ${loss}; ` +
              (lastCheckpoint ? `the last good checkpoint is ${lastCheckpoint}` : 'no checkpoint was written'),
            1,
          );
        }
        images += b.count;
        loop = {
          ...loop,
          step: loop.step + 1,
          stepInEpoch: loop.stepInEpoch + 1,
          epochLossSum: loop.epochLossSum + loss,
          epochLossCount: loop.epochLossCount + 1,
        };
        const seconds = (performance.now() - t0) / 1000;
        hooks.onStep?.({
          epoch,
          step: loop.step,
          stepInEpoch: loop.stepInEpoch,
          stepsPerEpoch: spe,
          totalSteps,
          loss,
          lr,
          imagesPerSec: seconds > 0 ? images / seconds : 0,
        });
        const every = cfg.checkpointEverySteps;
        const atEpochEnd = loop.stepInEpoch >= spe || loop.step >= totalSteps;
        if (every !== null && loop.step % every === 0 && !atEpochEnd) {
          await save(stepCheckpointName(loop.step));
        }
      }
      const seconds = (performance.now() - t0) / 1000;
      const complete = loop.stepInEpoch >= spe;
      if (!complete && loop.step < totalSteps) {
        throw new NasError('E_IO', `the training split gave ${loop.stepInEpoch} batches in epoch ${epoch + 1}, expected ${spe}`, 1);
      }
      const epochsDone = complete ? epoch + 1 : loop.step / spe;
      const metrics: EpochMetrics = {
        epoch: epochsDone,
        step: loop.step,
        trainLoss: loop.epochLossCount > 0 ? loop.epochLossSum / loop.epochLossCount : Number.NaN,
        lr,
        seconds,
        imagesPerSec: seconds > 0 ? images / seconds : 0,
        eval: await evaluate(epoch),
      };
      loop = {
        ...loop,
        epoch: complete ? epoch + 1 : epoch,
        stepInEpoch: complete ? 0 : loop.stepInEpoch,
        epochLossSum: complete ? 0 : loop.epochLossSum,
        epochLossCount: complete ? 0 : loop.epochLossCount,
        history: [...loop.history, metrics],
      };
      await hooks.onEpochEnd?.(metrics);
      const last = loop.step >= totalSteps;
      if (complete && (last || loop.epoch % cfg.checkpointEvery === 0)) {
        await save(epochCheckpointName(loop.epoch));
      } else if (!complete && last) {
        await save(stepCheckpointName(loop.step));
      }
    }
  } catch (e) {
    throw explainHeapFull(e, { arch, batchSize: cfg.batchSize });
  } finally {
    optimizer.dispose();
    ema?.dispose();
  }
  const final = loop.history[loop.history.length - 1];
  return {
    epochs: final?.epoch ?? 0,
    steps: loop.step,
    history: loop.history,
    final: final?.eval ?? null,
    checkpoint: lastCheckpoint,
    resumedFrom,
  };
}
