// Exponential moving average of a model's weights (trainable parameters and BN moving statistics, as TF's
// ExponentialMovingAverage in the MnasNet code and timm's ModelEma). Evaluation swaps the averages in.
import * as tf from '@tensorflow/tfjs';
import { fusedEmaUpdate, fusedUpdatesAvailable } from '../backend/kernels/optimizerUpdate.js';
import { NasError } from '../common/errors.js';
import type { EmaConfig } from './config.js';

export interface EmaState {
  readonly updates: number;
  readonly weights: readonly { readonly name: string; readonly shape: readonly number[]; readonly data: Float32Array }[];
}

/** The decay used at the `updates`-th update (1-based): constant, or timm's warm-up (0 at the first update). */
export function emaDecay(cfg: EmaConfig, updates: number): number {
  if (!cfg.warmup) return cfg.decay;
  const t = updates - 1;
  if (t <= 0) return 0;
  return Math.min(cfg.decay, 1 - (1 + t) ** -cfg.warmupPower);
}

export class WeightEma {
  readonly cfg: EmaConfig;
  private readonly names: readonly string[];
  private readonly sources: readonly tf.Variable[];
  private readonly shadows: tf.Variable[];
  private readonly allowFused: boolean;
  private readonly table: Int32Array;
  private count = 0;

  /** Starts from the model's current weights. `fused: false` forces tfjs ops (see optimizerUpdate.ts). */
  constructor(model: tf.LayersModel, cfg: EmaConfig, opts: { readonly fused?: boolean } = {}) {
    this.cfg = cfg;
    this.allowFused = opts.fused ?? true;
    this.names = model.weights.map((w) => w.originalName);
    this.sources = model.weights.map((w) => w.read() as tf.Variable);
    // Copies (x * 1), not shared data: the fused update writes the shadows in place.
    this.shadows = this.sources.map((v) => tf.tidy(() => tf.variable(tf.mul(v, tf.scalar(1, 'float32')), false)));
    this.table = new Int32Array(this.shadows.length * 3);
  }

  get updates(): number {
    return this.count;
  }

  /** Move the averages toward the current weights (after each optimizer step). */
  update(): void {
    this.count++;
    const d = emaDecay(this.cfg, this.count);
    if (this.allowFused && fusedUpdatesAvailable()) {
      fusedEmaUpdate(this.shadows, this.sources, 1 - d, this.table);
      return;
    }
    tf.tidy(() => {
      const k = tf.scalar(1 - d);
      for (let i = 0; i < this.shadows.length; i++) {
        const s = this.shadows[i];
        const w = this.sources[i];
        if (!s || !w) continue;
        // e + (w - e)(1 - d): torch.lerp's form, as the fused kernel computes it.
        s.assign(tf.add(s, tf.mul(tf.sub(w, s), k)));
      }
    });
  }

  /** Run `fn` with the averaged weights in the model, then put the trained weights back. */
  async withAveragedWeights<T>(fn: () => Promise<T>): Promise<T> {
    const saved = this.sources.map((v) => tf.keep(v.clone()));
    try {
      this.sources.forEach((v, i) => {
        const s = this.shadows[i];
        if (s) v.assign(s);
      });
      return await fn();
    } finally {
      this.sources.forEach((v, i) => {
        const s = saved[i];
        if (s) v.assign(s);
      });
      tf.dispose(saved);
    }
  }

  /** Copy the averages into the model for good (before exporting the EMA model). */
  copyToModel(): void {
    this.sources.forEach((v, i) => {
      const s = this.shadows[i];
      if (s) v.assign(s);
    });
  }

  getState(): EmaState {
    return {
      updates: this.count,
      weights: this.shadows.map((s, i) => ({
        name: this.names[i] ?? '',
        shape: [...s.shape],
        data: (s.dataSync() as Float32Array).slice(),
      })),
    };
  }

  setState(state: EmaState): void {
    const byName = new Map(state.weights.map((w) => [w.name, w]));
    this.shadows.forEach((s, i) => {
      const w = byName.get(this.names[i] ?? '');
      if (!w || w.data.length !== s.size) {
        throw new NasError('E_IO', `EMA state has no weights for ${this.names[i]} of shape [${s.shape.join(', ')}]`);
      }
      tf.tidy(() => s.assign(tf.tensor(w.data, s.shape, 'float32')));
    });
    this.count = state.updates;
  }

  dispose(): void {
    for (const s of this.shadows) s.dispose();
  }
}
