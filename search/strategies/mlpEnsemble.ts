// The predictor strategy's surrogate: an ensemble of small MLPs on the one-hot encoding of a sample's decisions, in
// plain JavaScript (Float64Array). At these sizes (tens of inputs, two hidden layers of 32 units, up to a few thousand
// rows) a tfjs graph would cost more in per-op overhead than the arithmetic, and plain loops are deterministic on
// every backend. The input is sparse: a sample sets exactly one input per decision with more than one option, so the
// first layer sums `active` rows of its weights instead of multiplying a mostly-zero vector.
import type { Rng } from './rng.js';

export interface MlpShape {
  /** One-hot width: the sum of the option counts of the decisions with more than one option. */
  readonly inputs: number;
  /** Inputs set per sample (the number of such decisions). */
  readonly active: number;
  readonly hidden: readonly number[];
  readonly outputs: number;
}

export interface TrainSettings {
  /** Adam steps per member (each on a minibatch of `batch` rows; full-batch while the data is smaller). */
  readonly steps: number;
  readonly batch: number;
  readonly lr: number;
  /** Decoupled weight decay (AdamW), per step, relative to lr. */
  readonly decay?: number;
}

/** Rows of a one-hot dataset: `active` input indices per row, row-major. */
export interface Rows {
  readonly count: number;
  readonly inputs: Int32Array;
}

/**
 * The one-hot encoding of decision vectors over a space's option counts. Decisions with one option carry no
 * information and are left out; `mutable` lists the others in order.
 */
export class OneHot {
  readonly mutable: readonly number[];
  /** One-hot offset of each decision's first option (-1 for a decision with one option). */
  private readonly offsets: readonly number[];
  readonly inputs: number;

  constructor(counts: readonly number[]) {
    this.mutable = counts.flatMap((c, i) => (c > 1 ? [i] : []));
    let at = 0;
    this.offsets = counts.map((c) => (c > 1 ? (at += c) - c : -1));
    this.inputs = at;
  }

  /** The shape of an MLP on this encoding. */
  shape(hidden: readonly number[], outputs: number): MlpShape {
    return { inputs: this.inputs, active: this.mutable.length, hidden, outputs };
  }

  encode(samples: readonly (readonly number[])[]): Rows {
    const a = this.mutable.length;
    const inputs = new Int32Array(samples.length * a);
    samples.forEach((d, r) => this.mutable.forEach((dec, k) => (inputs[r * a + k] = (this.offsets[dec] as number) + (d[dec] as number))));
    return { count: samples.length, inputs };
  }
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPS = 1e-8;

/** One MLP: ReLU hidden layers, a linear output layer; all parameters in one array, layer by layer (W then b). */
class Mlp {
  /** Offset of each layer's weights (fan_in x fan_out, row-major by input) and biases in `params`. */
  private readonly wAt: number[] = [];
  private readonly bAt: number[] = [];
  private readonly widths: number[];
  readonly params: Float64Array;

  constructor(
    private readonly shape: MlpShape,
    rng: Rng,
  ) {
    this.widths = [shape.inputs, ...shape.hidden, shape.outputs];
    let size = 0;
    for (let l = 0; l + 1 < this.widths.length; l++) {
      this.wAt.push(size);
      size += (this.widths[l] as number) * (this.widths[l + 1] as number);
      this.bAt.push(size);
      size += this.widths[l + 1] as number;
    }
    this.params = new Float64Array(size);
    // He-uniform weights, zero biases. The first layer's fan-in is the number of inputs a sample sets, not its width.
    for (let l = 0; l + 1 < this.widths.length; l++) {
      const fanIn = l === 0 ? Math.max(1, shape.active) : (this.widths[l] as number);
      const limit = Math.sqrt(6 / fanIn);
      const end = this.bAt[l] as number;
      for (let i = this.wAt[l] as number; i < end; i++) this.params[i] = (2 * rng() - 1) * limit;
    }
  }

  /**
   * Forward pass of `rows[rowIdx[0..n)]` into `acts` (one buffer per layer after the input, n rows each, holding the
   * layer's output after its ReLU); returns the output buffer (n x outputs, row-major).
   */
  forward(rows: Rows, rowIdx: ArrayLike<number>, n: number, acts: Float64Array[]): Float64Array {
    const p = this.params;
    const last = this.widths.length - 2;
    sparseForward(p, this.wAt[0] as number, this.bAt[0] as number, rows, rowIdx, n, this.shape.active, acts[0] as Float64Array, this.widths[1] as number);
    for (let l = 1; l <= last; l++) {
      const prev = acts[l - 1] as Float64Array;
      relu(prev, n * (this.widths[l] as number));
      dense(p, this.wAt[l] as number, this.bAt[l] as number, prev, acts[l] as Float64Array, n, this.widths[l] as number, this.widths[l + 1] as number);
    }
    return acts[last] as Float64Array;
  }

  /** Activation buffers for batches of up to n rows. */
  buffers(n: number): Float64Array[] {
    return this.widths.slice(1).map((w) => new Float64Array(n * w));
  }

  /** Minibatch Adam on half the mean squared error; rows are drawn in a fresh random order each pass over the data. */
  train(rows: Rows, targets: Float64Array, settings: TrainSettings, rng: Rng): void {
    const n = rows.count;
    const bs = Math.min(settings.batch, n);
    const acts = this.buffers(bs);
    const grads = this.buffers(bs);
    const size = this.params.length;
    const g = new Float64Array(size);
    const m = new Float64Array(size);
    const v = new Float64Array(size);
    const order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
    const batchIdx = new Int32Array(bs);
    const k = this.shape.outputs;
    const last = this.widths.length - 2;
    const out = acts[last] as Float64Array;
    const dOut = grads[last] as Float64Array;
    let cursor = n;
    for (let step = 1; step <= settings.steps; step++) {
      for (let r = 0; r < bs; r++) {
        if (cursor === n) {
          shuffle(order, rng);
          cursor = 0;
        }
        batchIdx[r] = order[cursor++] as number;
      }
      this.forward(rows, batchIdx, bs, acts);
      for (let r = 0; r < bs; r++) {
        const t = (batchIdx[r] as number) * k;
        for (let j = 0; j < k; j++) dOut[r * k + j] = ((out[r * k + j] as number) - (targets[t + j] as number)) / bs;
      }
      g.fill(0);
      for (let l = last; l >= 1; l--) {
        denseBackward(this.params, g, this.wAt[l] as number, this.bAt[l] as number, acts[l - 1] as Float64Array, grads[l] as Float64Array, grads[l - 1] as Float64Array, bs, this.widths[l] as number, this.widths[l + 1] as number);
      }
      sparseBackward(g, this.wAt[0] as number, this.bAt[0] as number, rows, batchIdx, bs, this.shape.active, grads[0] as Float64Array, this.widths[1] as number);
      adam(this.params, g, m, v, settings.lr, step, settings.decay ?? 0);
    }
  }
}

/** The first layer on one-hot rows: out[r] = b + the sum of the weight rows of the inputs row r sets. */
function sparseForward(p: Float64Array, w: number, b: number, rows: Rows, rowIdx: ArrayLike<number>, n: number, active: number, out: Float64Array, width: number): void {
  const inputs = rows.inputs;
  for (let r = 0; r < n; r++) {
    const row = (rowIdx[r] as number) * active;
    const o = r * width;
    for (let j = 0; j < width; j++) out[o + j] = p[b + j] as number;
    for (let k = 0; k < active; k++) {
      const at = w + (inputs[row + k] as number) * width;
      for (let j = 0; j < width; j++) out[o + j] = (out[o + j] as number) + (p[at + j] as number);
    }
  }
}

/** The first layer's gradients: each set input's weight row gets the row's output gradient. */
function sparseBackward(g: Float64Array, w: number, b: number, rows: Rows, rowIdx: ArrayLike<number>, n: number, active: number, dOut: Float64Array, width: number): void {
  const inputs = rows.inputs;
  for (let r = 0; r < n; r++) {
    const row = (rowIdx[r] as number) * active;
    const o = r * width;
    for (let j = 0; j < width; j++) g[b + j] = (g[b + j] as number) + (dOut[o + j] as number);
    for (let k = 0; k < active; k++) {
      const at = w + (inputs[row + k] as number) * width;
      for (let j = 0; j < width; j++) g[at + j] = (g[at + j] as number) + (dOut[o + j] as number);
    }
  }
}

function relu(x: Float64Array, n: number): void {
  for (let i = 0; i < n; i++) if ((x[i] as number) < 0) x[i] = 0;
}

/** out[r] = b + in[r] W for n rows (W at p[w..], fanIn x fanOut row-major by input). */
function dense(p: Float64Array, w: number, b: number, input: Float64Array, out: Float64Array, n: number, fanIn: number, fanOut: number): void {
  for (let r = 0; r < n; r++) {
    const o = r * fanOut;
    for (let j = 0; j < fanOut; j++) out[o + j] = p[b + j] as number;
    for (let i = 0; i < fanIn; i++) {
      const x = input[r * fanIn + i] as number;
      if (x === 0) continue;
      const row = w + i * fanOut;
      for (let j = 0; j < fanOut; j++) out[o + j] = (out[o + j] as number) + x * (p[row + j] as number);
    }
  }
}

/**
 * Accumulates dense's weight and bias gradients into g and writes the gradient at the input's pre-activation: the
 * input is a ReLU output, so a zero input passed no gradient and its row is skipped.
 */
function denseBackward(
  p: Float64Array,
  g: Float64Array,
  w: number,
  b: number,
  input: Float64Array,
  dOut: Float64Array,
  dIn: Float64Array,
  n: number,
  fanIn: number,
  fanOut: number,
): void {
  for (let r = 0; r < n; r++) {
    const o = r * fanOut;
    for (let j = 0; j < fanOut; j++) g[b + j] = (g[b + j] as number) + (dOut[o + j] as number);
    for (let i = 0; i < fanIn; i++) {
      const x = input[r * fanIn + i] as number;
      if (x <= 0) {
        dIn[r * fanIn + i] = 0;
        continue;
      }
      const row = w + i * fanOut;
      let s = 0;
      for (let j = 0; j < fanOut; j++) {
        const d = dOut[o + j] as number;
        s += d * (p[row + j] as number);
        g[row + j] = (g[row + j] as number) + x * d;
      }
      dIn[r * fanIn + i] = s;
    }
  }
}

function adam(p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lr: number, step: number, decay: number): void {
  const c1 = 1 - Math.pow(BETA1, step);
  const c2 = 1 - Math.pow(BETA2, step);
  const a = (lr * Math.sqrt(c2)) / c1;
  for (let i = 0; i < p.length; i++) {
    const gi = g[i] as number;
    const mi = BETA1 * (m[i] as number) + (1 - BETA1) * gi;
    const vi = BETA2 * (v[i] as number) + (1 - BETA2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = (p[i] as number) * (1 - lr * decay) - (a * mi) / (Math.sqrt(vi) + EPS);
  }
}

function shuffle(a: Int32Array, rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.min(i, Math.floor(rng() * (i + 1)));
    const t = a[i] as number;
    a[i] = a[j] as number;
    a[j] = t;
  }
}

/**
 * An ensemble of independently initialised MLPs, each trained on all rows in its own random order (targets should be
 * standardised). Every draw comes from `rng`, member by member, so the ensemble is a function of the data and the
 * generator's position.
 */
export class MlpEnsemble {
  private constructor(
    /** Outputs per row. */
    readonly outputs: number,
    private readonly members: readonly Mlp[],
  ) {}

  static train(shape: MlpShape, size: number, rows: Rows, targets: Float64Array, settings: TrainSettings, rng: Rng): MlpEnsemble {
    const members: Mlp[] = [];
    for (let e = 0; e < size; e++) {
      const net = new Mlp(shape, rng);
      net.train(rows, targets, settings, rng);
      members.push(net);
    }
    return new MlpEnsemble(shape.outputs, members);
  }

  /** Each member's predictions for every row: out[e] is rows.count x outputs, row-major. */
  predict(rows: Rows): Float64Array[] {
    const all = new Int32Array(rows.count);
    for (let i = 0; i < rows.count; i++) all[i] = i;
    return this.members.map((net) => net.forward(rows, all, rows.count, net.buffers(rows.count)));
  }
}

/** mean + sd * z over the members' rewards, z standard normal (Box-Muller); -Infinity if any member's is. */
export function thompsonDraw(rewards: Float64Array, rng: Rng): number {
  const e = rewards.length;
  let mean = 0;
  for (let m = 0; m < e; m++) mean += rewards[m] as number;
  mean /= e;
  let v = 0;
  for (let m = 0; m < e; m++) v += ((rewards[m] as number) - mean) ** 2;
  const z = Math.sqrt(-2 * Math.log(1 - rng())) * Math.cos(2 * Math.PI * rng());
  return Number.isFinite(mean) ? mean + Math.sqrt(v / (e - 1)) * z : -Infinity;
}
