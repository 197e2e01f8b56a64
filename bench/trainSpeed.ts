// Training throughput of one architecture on the current backend: SGD with momentum 0.9 on a fixed random batch,
// warm-up steps first, then timed steps. `nas bench train` prints it; bench/train-vs-pytorch.ts sets it beside
// PyTorch's figure for the same network.
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../model/build.js';
import type { ArchSpec } from '../space/arch.js';
import { resolve } from '../space/resolve.js';
import { defaultTrainConfig } from '../train/config.js';
import { createOptimizer, modelParams } from '../train/optimizers.js';
import { makeOptimizerStep } from '../train/step.js';

export interface TrainBenchOptions {
  readonly arch: ArchSpec;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
  readonly seed: number;
  /** Called after each timed step with its index (for progress output). */
  readonly onStep?: (step: number, ms: number) => void;
}

export interface TrainBenchResult {
  readonly arch: string;
  readonly backend: string;
  readonly input: number;
  readonly classes: number;
  readonly batch: number;
  readonly steps: number;
  readonly warmup: number;
  readonly msPerStep: number;
  readonly msPerStepMedian: number;
  readonly imagesPerSec: number;
  readonly lossFirst: number;
  readonly lossLast: number;
}

export function benchTrain(opts: TrainBenchOptions): TrainBenchResult {
  const arch = resolve(opts.arch);
  const model = buildModel(arch, { seed: opts.seed });
  // The training engine's own step (fused update on wasm): SGD, momentum 0.9, no weight decay, as the PyTorch peer.
  const sgd = { ...defaultTrainConfig.optimizer, type: 'sgd' as const, lr: 0.01, momentum: 0.9 };
  const optimizer = createOptimizer(modelParams(model, 'none'), sgd, 0);
  const optimizerStep = makeOptimizerStep(model, { optimizer, labelSmoothing: 0, clipGradNorm: null, ema: null });
  const n = arch.inputSize;
  // Seeds offset from 0: tfjs's random ops take a seed of 0 as none, and the batch would differ between processes.
  const images = tf.randomNormal([opts.batch, n, n, arch.inputChannels], 0, 1, 'float32', 2 * opts.seed + 1) as tf.Tensor4D;
  const labels = tf.tidy(() =>
    tf.floor(tf.randomUniform([opts.batch], 0, arch.classes, 'float32', 2 * opts.seed + 2)).toInt(),
  ) as tf.Tensor1D;

  const run = (): number => {
    const loss = optimizerStep(images, labels, sgd.lr);
    const v = loss.dataSync()[0] ?? Number.NaN;
    loss.dispose();
    return v;
  };
  let lossFirst = Number.NaN;
  for (let i = 0; i < opts.warmup; i++) {
    const v = run();
    if (i === 0) lossFirst = v;
  }
  const times: number[] = [];
  let lossLast = Number.NaN;
  for (let i = 0; i < opts.steps; i++) {
    const t0 = performance.now();
    lossLast = run();
    if (i === 0 && opts.warmup === 0) lossFirst = lossLast;
    const ms = performance.now() - t0;
    times.push(ms);
    opts.onStep?.(i, ms);
  }
  images.dispose();
  labels.dispose();
  optimizer.dispose();
  model.dispose();

  const total = times.reduce((a, b) => a + b, 0);
  const sorted = [...times].sort((a, b) => a - b);
  const msPerStep = total / times.length;
  return {
    arch: opts.arch.name,
    backend: tf.getBackend(),
    input: n,
    classes: arch.classes,
    batch: opts.batch,
    steps: opts.steps,
    warmup: opts.warmup,
    msPerStep,
    msPerStepMedian: sorted[Math.floor(sorted.length / 2)] ?? Number.NaN,
    imagesPerSec: (opts.batch * 1000) / msPerStep,
    lossFirst,
    lossLast,
  };
}
