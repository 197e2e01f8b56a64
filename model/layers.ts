// Custom tf.layers for the builder. Each is serialisable (registered with tfjs on import), so a saved LayersModel
// loads anywhere this module is imported. Training math goes through our fused ops (backend/ops), which run native
// kernels on wasm and stock tfjs ops elsewhere.
import * as tf from '@tensorflow/tfjs';
import seedrandom from 'seedrandom';
import { activation as applyActivation } from '../backend/ops/activation.js';
import { batchNormTrain } from '../backend/ops/batchNorm.js';
import { denseBias } from '../backend/ops/dense.js';
import { updateMovingStatsInPlace } from '../backend/ops/fused.js';
import { convBiasAct, denseBiasAct, squeezeExciteInfer } from '../backend/ops/inference.js';
import { channelScale, globalAvgPool } from '../backend/ops/squeezeExcite.js';
import type { Activation, Padding } from '../space/arch.js';

type Kwargs = Record<string, unknown>;
type LayerArgs = NonNullable<ConstructorParameters<typeof tf.layers.Layer>[0]>;
type SerialConfig = tf.serialization.ConfigDict;
type Shape = (number | null)[];
type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** Activation or none, as stored in layer configs. */
export type LayerActivation = Activation | 'linear';

function one(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
  const x = Array.isArray(inputs) ? inputs[0] : inputs;
  if (!x) throw new Error('layer called without an input');
  return x;
}

function act(x: tf.Tensor, kind: LayerActivation): tf.Tensor {
  return kind === 'linear' ? x : applyActivation(x, kind);
}

function shapeOf(inputShape: tf.Shape | tf.Shape[]): Shape {
  const s = Array.isArray(inputShape[0]) ? (inputShape[0] as Shape) : (inputShape as Shape);
  return s;
}

/**
 * torchvision's initialisation of a convolution (kaiming-normal, fan-out): N(0, 2 / fanOut), not truncated, with
 * PyTorch's fan-out of output channels x kernel area. A depthwise kernel [k, k, C, 1] has fan-out C k^2 there, as
 * PyTorch does not divide by the groups. tfjs's varianceScaling truncates at 2 sigma (std 0.88x) and counts only
 * k^2 for a depthwise kernel (std 4-21x torchvision's in MobileNetV3-Small): that cost SGD 1.8 points of test
 * top-1 at 3 epochs (docs/TRAINING.md, "Matching PyTorch").
 */
export function convInitStd(shape: readonly number[], depthwise: boolean): number {
  const area = shape.length === 4 ? (shape[0] ?? 1) * (shape[1] ?? 1) : 1;
  const outputs = depthwise ? (shape[2] ?? 1) : (shape[shape.length - 1] ?? 1);
  return Math.sqrt(2 / (outputs * area));
}
function convInit(shape: readonly number[], depthwise: boolean, seed: number): Initializer {
  return tf.initializers.randomNormal({ mean: 0, stddev: convInitStd(shape, depthwise), seed });
}
/** torchvision's initialisation of a linear layer: N(0, 0.01). */
function linearInit(seed: number): Initializer {
  return tf.initializers.randomNormal({ mean: 0, stddev: 0.01, seed });
}

export interface BatchNormWeights {
  readonly gamma: tf.Tensor1D;
  readonly beta: tf.Tensor1D;
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
}

/**
 * Batch norm folded into the convolution before it: kernel * s and bias beta - mean * s, s = gamma / sqrt(var +
 * eps), per output channel (the last axis of a regular kernel, the third of a depthwise one, [k, k, C, 1]).
 */
export function foldBatchNorm(
  kernel: tf.Tensor4D,
  depthwise: boolean,
  bn: BatchNormWeights,
  eps: number,
): { kernel: tf.Tensor4D; bias: tf.Tensor1D } {
  return tf.tidy(() => {
    const scale = tf.mul(bn.gamma, tf.rsqrt(tf.add(bn.variance, eps))) as tf.Tensor1D;
    const w = depthwise ? tf.mul(kernel, tf.reshape(scale, [1, 1, -1, 1])) : tf.mul(kernel, scale);
    return { kernel: w as tf.Tensor4D, bias: tf.sub(bn.beta, tf.mul(bn.mean, scale)) as tf.Tensor1D };
  });
}

export interface ConvBnConfig extends LayerArgs {
  filters: number;
  kernelSize: number;
  strides: number;
  depthwise: boolean;
  padding: Padding;
  activation: LayerActivation;
  bnDecay: number;
  bnEps: number;
  seed: number;
  /**
   * The inference form (model/fold.ts): batch norm folded into the convolution, whose weights are then `kernel`
   * and `bias` only. For export and latency measurement; it cannot train.
   */
  folded?: boolean;
}

/**
 * Convolution (regular or depthwise, no bias) + batch norm + activation, one layer so that a block path names
 * all of its weights: `<path>/kernel`, `<path>/gamma`, `<path>/beta`, `<path>/moving_mean`, `<path>/moving_variance`.
 * Outside training the batch norm is folded into the convolution on the fly (w * gamma / sqrt(var + eps), bias
 * beta - mean * gamma / sqrt(var + eps)) and the whole layer is one fused kernel; the folded form stores that.
 */
export class ConvBn extends tf.layers.Layer {
  static readonly className = 'NasConvBn';
  readonly cfg: ConvBnConfig;
  private kernel: tf.LayerVariable | null = null;
  private gamma: tf.LayerVariable | null = null;
  private beta: tf.LayerVariable | null = null;
  private movingMean: tf.LayerVariable | null = null;
  private movingVariance: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(cfg: ConvBnConfig) {
    super(cfg);
    this.cfg = cfg;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const inC = shapeOf(inputShape)[3];
    if (inC == null) throw new Error(`${this.name}: input channels unknown`);
    const k = this.cfg.kernelSize;
    const c = this.cfg.depthwise ? inC : this.cfg.filters;
    if (this.cfg.depthwise && this.cfg.filters !== inC) {
      throw new Error(`${this.name}: depthwise conv keeps its ${inC} channels, got filters ${this.cfg.filters}`);
    }
    const shape = this.cfg.depthwise ? [k, k, inC, 1] : [k, k, inC, c];
    this.kernel = this.addWeight('kernel', shape, 'float32', convInit(shape, this.cfg.depthwise, this.cfg.seed));
    if (this.cfg.folded === true) {
      this.bias = this.addWeight('bias', [c], 'float32', tf.initializers.zeros());
      this.built = true;
      return;
    }
    this.gamma = this.addWeight('gamma', [c], 'float32', tf.initializers.ones());
    this.beta = this.addWeight('beta', [c], 'float32', tf.initializers.zeros());
    this.movingMean = this.addWeight('moving_mean', [c], 'float32', tf.initializers.zeros(), undefined, false);
    this.movingVariance = this.addWeight('moving_variance', [c], 'float32', tf.initializers.ones(), undefined, false);
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const [n, h, w] = shapeOf(inputShape);
    const s = this.cfg.strides;
    const out = (d: number | null | undefined): number | null => (d == null ? null : Math.ceil(d / s));
    return [n ?? null, out(h), out(w), this.cfg.filters];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = one(inputs) as tf.Tensor4D;
    const training = kwargs['training'] === true;
    if (this.cfg.folded === true) {
      if (training) throw new Error(`${this.name}: a folded layer (batch norm in the convolution) cannot train`);
      if (!this.kernel || !this.bias) throw new Error(`${this.name}: not built`);
      return this.convInfer(x, this.kernel.read() as tf.Tensor4D, this.bias.read() as tf.Tensor1D);
    }
    const { kernel, gamma, beta, movingMean, movingVariance } = this.weightsOrThrow();
    if (!training) {
      return tf.tidy(() => {
        const { kernel: w, bias } = foldBatchNorm(
          kernel.read() as tf.Tensor4D,
          this.cfg.depthwise,
          { gamma: gamma.read(), beta: beta.read(), mean: movingMean.read(), variance: movingVariance.read() } as BatchNormWeights,
          this.cfg.bnEps,
        );
        return this.convInfer(x, w, bias);
      });
    }
    const k = this.cfg.kernelSize;
    const s = this.cfg.strides;
    const p = Math.floor(k / 2);
    const pad: 'same' | [[number, number], [number, number], [number, number], [number, number]] =
      this.cfg.padding === 'same' ? 'same' : [[0, 0], [p, p], [p, p], [0, 0]];
    const w = kernel.read() as tf.Tensor4D;
    const conv = this.cfg.depthwise ? tf.depthwiseConv2d(x, w, s, pad) : tf.conv2d(x, w, s, pad);
    const bn = batchNormTrain(conv, gamma.read() as tf.Tensor1D, beta.read() as tf.Tensor1D, this.cfg.bnEps);
    this.updateMovingStats(bn.mean, bn.variance, conv.size / conv.shape[3]!);
    return act(bn.y, this.cfg.activation);
  }

  /** The inference convolution: one fused conv + bias + activation. */
  private convInfer(x: tf.Tensor4D, w: tf.Tensor4D, bias: tf.Tensor1D): tf.Tensor {
    return convBiasAct({
      x,
      filter: w,
      bias,
      strides: this.cfg.strides,
      pad: this.cfg.padding === 'same' ? 'same' : Math.floor(this.cfg.kernelSize / 2),
      depthwise: this.cfg.depthwise,
      activation: this.cfg.activation,
    });
  }

  /** Moving averages with the unbiased batch variance, as PyTorch and TF's fused batch norm keep them. */
  private updateMovingStats(mean: tf.Tensor1D, variance: tf.Tensor1D, count: number): void {
    const { movingMean, movingVariance } = this.weightsOrThrow();
    const [d, a, b] = this.movingStatsFactors(count);
    const [m, v] = this.movingStats();
    // In place by the native kernel where Node installed it (backend/ops/kernels.ts); the tfjs ops in a browser.
    if (updateMovingStatsInPlace([m, v], [mean, variance], d, a, b)) return;
    tf.tidy(() => {
      movingMean.write(tf.add(tf.mul(m, d), tf.mul(mean, a)));
      movingVariance.write(tf.add(tf.mul(v, d), tf.mul(variance, b)));
    });
  }

  /** moving = moving * d + batch statistic * (a for the mean, b for the variance), over `count` values a channel. */
  movingStatsFactors(count: number): [d: number, a: number, b: number] {
    const d = this.cfg.bnDecay;
    const unbias = count > 1 ? count / (count - 1) : 1;
    return [d, 1 - d, (1 - d) * unbias];
  }

  /** The moving mean and variance variables. */
  movingStats(): [tf.Variable, tf.Variable] {
    const { movingMean, movingVariance } = this.weightsOrThrow();
    const [m, v] = [movingMean.read(), movingVariance.read()];
    if (!(m instanceof tf.Variable) || !(v instanceof tf.Variable)) throw new Error(`${this.name}: moving statistics are not variables`);
    return [m, v];
  }

  private weightsOrThrow(): {
    kernel: tf.LayerVariable;
    gamma: tf.LayerVariable;
    beta: tf.LayerVariable;
    movingMean: tf.LayerVariable;
    movingVariance: tf.LayerVariable;
  } {
    const { kernel, gamma, beta, movingMean, movingVariance } = this;
    if (!kernel || !gamma || !beta || !movingMean || !movingVariance) throw new Error(`${this.name}: not built`);
    return { kernel, gamma, beta, movingMean, movingVariance };
  }

  override getConfig(): SerialConfig {
    const { filters, kernelSize, strides, depthwise, padding, activation, bnDecay, bnEps, seed, folded } = this.cfg;
    return {
      ...super.getConfig(),
      filters,
      kernelSize,
      strides,
      depthwise,
      padding,
      activation,
      bnDecay,
      bnEps,
      seed,
      ...(folded === true ? { folded: true } : {}),
    };
  }
}

export interface SqueezeExciteConfig extends LayerArgs {
  reduce: number;
  gate: 'hsigmoid' | 'sigmoid';
  seed: number;
}

/**
 * Squeeze-and-excite: global average pool -> FC (bias) to `reduce` -> ReLU -> FC (bias) back -> gate -> scale.
 * Weights `<path>.se/reduce_kernel`, `reduce_bias`, `expand_kernel`, `expand_bias` (the 1x1 convs as matrices).
 */
export class SqueezeExcite extends tf.layers.Layer {
  static readonly className = 'NasSqueezeExcite';
  readonly cfg: SqueezeExciteConfig;
  private w: { rk: tf.LayerVariable; rb: tf.LayerVariable; ek: tf.LayerVariable; eb: tf.LayerVariable } | null = null;

  constructor(cfg: SqueezeExciteConfig) {
    super(cfg);
    this.cfg = cfg;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const c = shapeOf(inputShape)[3];
    if (c == null) throw new Error(`${this.name}: input channels unknown`);
    const r = this.cfg.reduce;
    this.w = {
      rk: this.addWeight('reduce_kernel', [c, r], 'float32', convInit([c, r], false, this.cfg.seed)),
      rb: this.addWeight('reduce_bias', [r], 'float32', tf.initializers.zeros()),
      ek: this.addWeight('expand_kernel', [r, c], 'float32', convInit([r, c], false, this.cfg.seed + 1)),
      eb: this.addWeight('expand_bias', [c], 'float32', tf.initializers.zeros()),
    };
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeOf(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    if (!this.w) throw new Error(`${this.name}: not built`);
    const x = one(inputs) as tf.Tensor4D;
    const { rk, rb, ek, eb } = this.w;
    if (kwargs['training'] !== true) {
      return squeezeExciteInfer(
        x,
        { w1: rk.read() as tf.Tensor2D, b1: rb.read() as tf.Tensor1D, w2: ek.read() as tf.Tensor2D, b2: eb.read() as tf.Tensor1D },
        this.cfg.gate,
      );
    }
    const s = globalAvgPool(x);
    const h = applyActivation(denseBias(s, rk.read(), rb.read()), 'relu');
    const g = applyActivation(denseBias(h, ek.read(), eb.read()), this.cfg.gate);
    return channelScale(x, g as tf.Tensor2D);
  }

  override getConfig(): SerialConfig {
    return { ...super.getConfig(), reduce: this.cfg.reduce, gate: this.cfg.gate, seed: this.cfg.seed };
  }
}

/** Global average pool, [N, H, W, C] -> [N, C], through the fused op. */
export class GlobalAvgPool extends tf.layers.Layer {
  static readonly className = 'NasGlobalAvgPool';

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = shapeOf(inputShape);
    return [s[0] ?? null, s[3] ?? null];
  }

  override call(inputs: tf.Tensor | tf.Tensor[]): tf.Tensor {
    return globalAvgPool(one(inputs) as tf.Tensor4D);
  }
}

export interface DenseActConfig extends LayerArgs {
  units: number;
  activation: LayerActivation;
  seed: number;
}

/** Fully connected with bias and one of our activations (MobileNetV3's head.hidden, every classifier). */
export class DenseAct extends tf.layers.Layer {
  static readonly className = 'NasDense';
  readonly cfg: DenseActConfig;
  private kernel: tf.LayerVariable | null = null;
  private bias: tf.LayerVariable | null = null;

  constructor(cfg: DenseActConfig) {
    super(cfg);
    this.cfg = cfg;
  }

  override build(inputShape: tf.Shape | tf.Shape[]): void {
    const s = shapeOf(inputShape);
    const c = s[s.length - 1];
    if (c == null) throw new Error(`${this.name}: input width unknown`);
    this.kernel = this.addWeight('kernel', [c, this.cfg.units], 'float32', linearInit(this.cfg.seed));
    this.bias = this.addWeight('bias', [this.cfg.units], 'float32', tf.initializers.zeros());
    this.built = true;
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    const s = shapeOf(inputShape);
    return [s[0] ?? null, this.cfg.units];
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    if (!this.kernel || !this.bias) throw new Error(`${this.name}: not built`);
    if (kwargs['training'] !== true) {
      return denseBiasAct(one(inputs) as tf.Tensor2D, this.kernel.read() as tf.Tensor2D, this.bias.read() as tf.Tensor1D, this.cfg.activation);
    }
    return act(denseBias(one(inputs), this.kernel.read(), this.bias.read()), this.cfg.activation);
  }

  override getConfig(): SerialConfig {
    return { ...super.getConfig(), units: this.cfg.units, activation: this.cfg.activation, seed: this.cfg.seed };
  }
}

export interface DropoutConfig extends LayerArgs {
  rate: number;
  seed: number;
}

/** The position of a Dropout layer's mask stream (seedrandom's ARC4 state), saved in checkpoints. */
export type DropoutRngState = seedrandom.State.Arc4;

/**
 * Inverted dropout whose masks come from one seeded stream that advances every training call (tf.layers.dropout
 * with a seed draws the same mask on every call). getState/setState save and restore the stream's position, so a
 * resumed run draws the masks an uninterrupted one would.
 */
export class Dropout extends tf.layers.Layer {
  static readonly className = 'NasDropout';
  readonly cfg: DropoutConfig;
  private rng: seedrandom.StatefulPRNG<DropoutRngState>;

  constructor(cfg: DropoutConfig) {
    super(cfg);
    this.cfg = cfg;
    this.rng = seedrandom(String(cfg.seed), { state: true });
  }

  getState(): DropoutRngState {
    return this.rng.state();
  }

  setState(state: DropoutRngState): void {
    this.rng = seedrandom('', { state: { i: state.i, j: state.j, S: [...state.S] } });
  }

  override computeOutputShape(inputShape: tf.Shape | tf.Shape[]): tf.Shape {
    return shapeOf(inputShape);
  }

  override call(inputs: tf.Tensor | tf.Tensor[], kwargs: Kwargs): tf.Tensor {
    const x = one(inputs);
    const rate = this.cfg.rate;
    if (kwargs['training'] !== true || rate === 0) return x;
    return tf.tidy(() => tf.mul(x, this.nextMask(x.shape)));
  }

  /** The next training mask of `shape` from the layer's stream: 0 where dropped, 1 / (1 - rate) where kept. */
  nextMask(shape: readonly number[]): tf.Tensor {
    const rate = this.cfg.rate;
    const seed = this.rng.int32();
    return tf.tidy(() => tf.mul(tf.cast(tf.greaterEqual(tf.randomUniform([...shape], 0, 1, 'float32', seed), rate), 'float32'), 1 / (1 - rate)));
  }

  override getConfig(): SerialConfig {
    return { ...super.getConfig(), rate: this.cfg.rate, seed: this.cfg.seed };
  }
}

for (const cls of [ConvBn, SqueezeExcite, GlobalAvgPool, DenseAct, Dropout]) tf.serialization.registerClass(cls);
