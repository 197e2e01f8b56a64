// Optimizers with the semantics of the reference implementations, and state that saves and restores exactly.
// - sgd: TF MomentumOptimizer / PyTorch SGD (m = mu m + g; w -= lr m; Nesterov: w -= lr (g + mu m)).
// - rmsprop: TF1 RMSPropOptimizer (ms starts at ones; ms += (g^2 - ms)(1 - rho); mom = mu mom + lr g / sqrt(ms + eps);
//   w -= mom), the optimizer of the MnasNet and MobileNetV3 papers.
// - adamw: PyTorch AdamW (w *= 1 - lr wd, then Adam with bias correction, eps outside the square root).
// Weight decay is L2 added to the gradient for sgd and rmsprop (the papers' TF code adds wd * l2_loss to the loss),
// decoupled for adamw; parameters excluded by `wdExclude` get none.
import * as tf from '@tensorflow/tfjs';
import { FusedTables, fusedOptimizerUpdate, fusedUpdatesAvailable, OptimizerKind } from '../backend/kernels/optimizerUpdate.js';
import { NasError } from '../common/errors.js';
import { type OptimizerConfig, type OptimizerType, optimizerEps, type WdExclude } from './config.js';

/** A trainable parameter: its variable, its stable name (`layer/weight`) and whether weight decay applies. */
export interface Param {
  readonly name: string;
  readonly variable: tf.Variable;
  readonly decay: boolean;
}

/** One state tensor of an optimizer, by parameter and slot (`stem/kernel` + `momentum`). */
export interface SlotState {
  readonly param: string;
  readonly slot: string;
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export interface OptimizerState {
  readonly type: OptimizerType;
  /** Updates applied so far (Adam's bias correction counts them). */
  readonly iterations: number;
  readonly slots: readonly SlotState[];
}

export interface Optimizer {
  readonly type: OptimizerType;
  readonly params: readonly Param[];
  readonly iterations: number;
  /**
   * One update from gradients aligned with `params`, each multiplied by `gradScale` first (clipping), at learning
   * rate `lr`. Allocates only what it disposes; the gradients stay the caller's.
   */
  applyGradients(grads: readonly tf.Tensor[], lr: number, gradScale?: number): void;
  /** Whether updates run as one fused in-place native call (wasm) rather than tfjs ops. */
  readonly fused: boolean;
  getState(): OptimizerState;
  setState(state: OptimizerState): void;
  dispose(): void;
}

const BN_RE = /(^|[/.])(gamma|beta)$/;
const BIAS_RE = /bias$/;

/** Whether weight decay applies to the parameter named `name` under `exclude`. */
export function decays(name: string, exclude: WdExclude): boolean {
  if (exclude === 'none') return true;
  if (BN_RE.test(name)) return false;
  return !(exclude === 'bn-and-bias' && BIAS_RE.test(name));
}

/** The model's trainable parameters in a stable order, named as in saved weights (`s1.b0.expand/kernel`). */
export function modelParams(model: tf.LayersModel, exclude: WdExclude): Param[] {
  return model.trainableWeights.map((w) => ({
    name: w.originalName,
    variable: w.read() as tf.Variable,
    decay: decays(w.originalName, exclude),
  }));
}

export interface OptimizerOptions {
  /** Use the fused native update on wasm when the addon has it (default true); false forces tfjs ops. */
  readonly fused?: boolean;
}

interface SlotSpec {
  readonly name: string;
  readonly init: 'zeros' | 'ones';
}

/** RMSProp's mean square starts at ones (TF1), as in the papers' code. */
const RMSPROP_SLOTS: readonly SlotSpec[] = [
  { name: 'rms', init: 'ones' },
  { name: 'momentum', init: 'zeros' },
];
const ADAMW_SLOTS: readonly SlotSpec[] = [
  { name: 'm', init: 'zeros' },
  { name: 'v', init: 'zeros' },
];

/**
 * Shared slot bookkeeping. Subclasses give the update twice: as tfjs ops for one parameter (`update`, any
 * backend) and as the fused kernel's kind and hyper-parameters (`fill`), the same formulas.
 */
abstract class SlotOptimizer implements Optimizer {
  abstract readonly type: OptimizerType;
  readonly params: readonly Param[];
  protected readonly slots: tf.Variable[][];
  protected iters = 0;
  private readonly slotSpecs: readonly SlotSpec[];
  private readonly scalars: tf.Scalar[] = [];
  private readonly allowFused: boolean;
  private tables: FusedTables | null = null;

  constructor(
    params: readonly Param[],
    protected readonly cfg: OptimizerConfig,
    protected readonly weightDecay: number,
    slotSpecs: readonly SlotSpec[],
    opts: OptimizerOptions,
  ) {
    this.params = params;
    this.slotSpecs = slotSpecs;
    this.allowFused = opts.fused ?? true;
    this.slots = params.map((p) =>
      slotSpecs.map((s) =>
        tf.tidy(() => tf.variable(s.init === 'ones' ? tf.onesLike(p.variable) : tf.zerosLike(p.variable), false)),
      ),
    );
  }

  get iterations(): number {
    return this.iters;
  }

  get fused(): boolean {
    return this.allowFused && fusedUpdatesAvailable();
  }

  /** A scalar kept for the optimizer's life (hyper-parameters), so steps do not allocate them. */
  protected constant(v: number): tf.Scalar {
    const s = tf.keep(tf.scalar(v));
    this.scalars.push(s);
    return s;
  }

  protected abstract update(p: Param, g: tf.Tensor, slots: readonly tf.Variable[], lr: tf.Scalar): void;

  /** The fused kernel's kind, and its hyper-parameters for this step written into `h` (see optimizerUpdate.ts). */
  protected abstract fill(h: Float64Array, lr: number): number;

  applyGradients(grads: readonly tf.Tensor[], lr: number, gradScale = 1): void {
    if (grads.length !== this.params.length) {
      throw new Error(`optimizer: ${grads.length} gradients for ${this.params.length} parameters`);
    }
    this.iters++;
    if (this.fused) {
      this.tables ??= new FusedTables(this.params.length);
      const h = this.tables.hyper;
      h.fill(0);
      const kind = this.fill(h, lr);
      h[11] = gradScale;
      const rows = this.params.map((p, i) => {
        const s = this.slots[i] ?? [];
        return { w: p.variable, g: grads[i] as tf.Tensor, s1: s[0] ?? null, s2: s[1] ?? null, decay: p.decay };
      });
      fusedOptimizerUpdate(kind, rows, this.tables);
      return;
    }
    tf.tidy(() => {
      const lrT = tf.scalar(lr);
      const scale = gradScale === 1 ? null : tf.scalar(gradScale);
      this.prepare(lr);
      for (let i = 0; i < this.params.length; i++) {
        const p = this.params[i];
        const g = grads[i];
        const s = this.slots[i];
        if (!p || !g || !s) continue;
        tf.tidy(() => this.update(p, scale ? tf.mul(g, scale) : g, s, lrT));
      }
    });
  }

  /** Per-step scalars that depend on the iteration or lr (Adam's bias correction); allocated inside the step's tidy. */
  protected prepare(_lr: number): void {}

  getState(): OptimizerState {
    const slots: SlotState[] = [];
    this.params.forEach((p, i) => {
      this.slotSpecs.forEach((spec, j) => {
        const v = this.slots[i]?.[j];
        if (!v) return;
        slots.push({ param: p.name, slot: spec.name, shape: [...v.shape], data: (v.dataSync() as Float32Array).slice() });
      });
    });
    return { type: this.type, iterations: this.iters, slots };
  }

  setState(state: OptimizerState): void {
    if (state.type !== this.type) {
      throw new NasError('E_IO', `optimizer state is for ${state.type}, the config asks for ${this.type}`);
    }
    const byKey = new Map(state.slots.map((s) => [`${s.param}:${s.slot}`, s]));
    const missing: string[] = [];
    this.params.forEach((p, i) => {
      this.slotSpecs.forEach((spec, j) => {
        const v = this.slots[i]?.[j];
        const s = byKey.get(`${p.name}:${spec.name}`);
        if (!v) return;
        if (!s || s.data.length !== v.size) {
          missing.push(`${p.name}:${spec.name}`);
          return;
        }
        tf.tidy(() => v.assign(tf.tensor(s.data, v.shape, 'float32')));
      });
    });
    if (missing.length > 0) {
      throw new NasError('E_IO', `optimizer state does not match the model (${missing.length} slots missing or of another shape, e.g. ${missing[0]})`);
    }
    this.iters = state.iterations;
  }

  dispose(): void {
    for (const row of this.slots) for (const v of row) v.dispose();
    tf.dispose(this.scalars);
    this.scalars.length = 0;
  }
}

/**
 * sgd and rmsprop: weight decay as L2 added to the gradient, and the learning rate, momentum and weight decay in the
 * fused kernel's first hyper-parameters.
 */
abstract class L2SlotOptimizer extends SlotOptimizer {
  private readonly wd: tf.Scalar;

  constructor(params: readonly Param[], cfg: OptimizerConfig, weightDecay: number, slotSpecs: readonly SlotSpec[], opts: OptimizerOptions) {
    super(params, cfg, weightDecay, slotSpecs, opts);
    this.wd = this.constant(weightDecay);
  }

  /** The gradient plus weight decay times the weight, for a parameter that decays. */
  protected decayed(p: Param, grad: tf.Tensor): tf.Tensor {
    return p.decay ? tf.add(grad, tf.mul(this.wd, p.variable)) : grad;
  }

  /** h[0..2]: learning rate, momentum, weight decay. */
  protected fillL2(h: Float64Array, lr: number): void {
    h[0] = lr;
    h[1] = this.cfg.momentum;
    h[2] = this.weightDecay;
  }
}

class Sgd extends L2SlotOptimizer {
  readonly type = 'sgd' as const;
  private readonly mu: tf.Scalar | null;

  constructor(params: readonly Param[], cfg: OptimizerConfig, weightDecay: number, opts: OptimizerOptions) {
    super(params, cfg, weightDecay, cfg.momentum > 0 ? [{ name: 'momentum', init: 'zeros' }] : [], opts);
    this.mu = cfg.momentum > 0 ? this.constant(cfg.momentum) : null;
  }

  protected fill(h: Float64Array, lr: number): number {
    this.fillL2(h, lr);
    h[3] = this.cfg.nesterov ? 1 : 0;
    return OptimizerKind.sgd;
  }

  protected update(p: Param, grad: tf.Tensor, slots: readonly tf.Variable[], lr: tf.Scalar): void {
    const w = p.variable;
    const g = this.decayed(p, grad);
    const m = slots[0];
    let step = g;
    if (this.mu && m) {
      const m1 = tf.add(tf.mul(this.mu, m), g);
      m.assign(m1);
      step = this.cfg.nesterov ? tf.add(g, tf.mul(this.mu, m1)) : m1;
    }
    w.assign(tf.sub(w, tf.mul(lr, step)));
  }
}

class RmsProp extends L2SlotOptimizer {
  readonly type = 'rmsprop' as const;
  private readonly oneMinusRho: tf.Scalar;
  private readonly mu: tf.Scalar;
  private readonly eps: tf.Scalar;

  constructor(params: readonly Param[], cfg: OptimizerConfig, weightDecay: number, opts: OptimizerOptions) {
    super(params, cfg, weightDecay, RMSPROP_SLOTS, opts);
    this.oneMinusRho = this.constant(1 - cfg.rho);
    this.mu = this.constant(cfg.momentum);
    this.eps = this.constant(optimizerEps(cfg));
  }

  protected fill(h: Float64Array, lr: number): number {
    this.fillL2(h, lr);
    h[4] = 1 - this.cfg.rho;
    h[5] = optimizerEps(this.cfg);
    return OptimizerKind.rmsprop;
  }

  protected update(p: Param, grad: tf.Tensor, slots: readonly tf.Variable[], lr: tf.Scalar): void {
    const [ms, mom] = slots;
    if (!ms || !mom) return;
    const w = p.variable;
    const g = this.decayed(p, grad);
    const ms1 = tf.add(ms, tf.mul(tf.sub(tf.square(g), ms), this.oneMinusRho));
    const mom1 = tf.add(tf.mul(mom, this.mu), tf.div(tf.mul(g, lr), tf.sqrt(tf.add(ms1, this.eps))));
    ms.assign(ms1);
    mom.assign(mom1);
    w.assign(tf.sub(w, mom1));
  }
}

class AdamW extends SlotOptimizer {
  readonly type = 'adamw' as const;
  private readonly b1: number;
  private readonly b2: number;
  private readonly oneMinusB1: tf.Scalar;
  private readonly oneMinusB2: tf.Scalar;
  private readonly eps: tf.Scalar;
  private stepSize: tf.Scalar | null = null;
  private invSqrtBc2: tf.Scalar | null = null;
  private decayFactor: tf.Scalar | null = null;

  constructor(params: readonly Param[], cfg: OptimizerConfig, weightDecay: number, opts: OptimizerOptions) {
    super(params, cfg, weightDecay, ADAMW_SLOTS, opts);
    [this.b1, this.b2] = cfg.betas;
    this.oneMinusB1 = this.constant(1 - this.b1);
    this.oneMinusB2 = this.constant(1 - this.b2);
    this.eps = this.constant(optimizerEps(cfg));
  }

  protected fill(h: Float64Array, lr: number): number {
    const t = this.iters;
    h[0] = lr;
    h[5] = optimizerEps(this.cfg);
    h[6] = 1 - this.b1;
    h[7] = 1 - this.b2;
    h[8] = lr / (1 - this.b1 ** t);
    h[9] = 1 / Math.sqrt(1 - this.b2 ** t);
    h[10] = this.weightDecay > 0 ? 1 - lr * this.weightDecay : 1;
    return OptimizerKind.adamw;
  }

  protected override prepare(lr: number): void {
    const t = this.iters;
    this.stepSize = tf.scalar(lr / (1 - this.b1 ** t));
    this.invSqrtBc2 = tf.scalar(1 / Math.sqrt(1 - this.b2 ** t));
    this.decayFactor = tf.scalar(1 - lr * this.weightDecay);
  }

  protected update(p: Param, g: tf.Tensor, slots: readonly tf.Variable[]): void {
    const [m, v] = slots;
    const { stepSize, invSqrtBc2, decayFactor } = this;
    if (!m || !v || !stepSize || !invSqrtBc2 || !decayFactor) return;
    const w0 = p.variable;
    const w = p.decay && this.weightDecay > 0 ? tf.mul(w0, decayFactor) : w0;
    const m1 = tf.add(m, tf.mul(tf.sub(g, m), this.oneMinusB1));
    const v1 = tf.add(v, tf.mul(tf.sub(tf.square(g), v), this.oneMinusB2));
    const denom = tf.add(tf.mul(tf.sqrt(v1), invSqrtBc2), this.eps);
    m.assign(m1);
    v.assign(v1);
    w0.assign(tf.sub(w, tf.mul(stepSize, tf.div(m1, denom))));
  }
}

export function createOptimizer(
  params: readonly Param[],
  cfg: OptimizerConfig,
  weightDecay: number,
  opts: OptimizerOptions = {},
): Optimizer {
  switch (cfg.type) {
    case 'sgd':
      return new Sgd(params, cfg, weightDecay, opts);
    case 'rmsprop':
      return new RmsProp(params, cfg, weightDecay, opts);
    case 'adamw':
      return new AdamW(params, cfg, weightDecay, opts);
  }
}
