// The rl strategy's policy (MnasNet / NASNet controller): a one-layer LSTM that emits one categorical decision per
// step, fed an embedding of the previous decision (a learned start token first). Every decision has its own
// embedding rows (one matrix [1 + S, E], S = total options, row 0 the start token) and its own softmax head sized to
// its option count; heads of decisions with the same count are stacked ([m, H, k]) so that training runs each
// count's heads as one batched product. The graph avoids what is slow or missing on wasm: gather's gradient (step
// inputs are one-hot products) and splitting or stacking along the steps. Draws are made in JS from the softmax
// probabilities with the caller's seeded generator, so sampling is deterministic on a backend. Training is PPO
// (clipped surrogate, entropy bonus, K epochs over a batch) with our own Adam, whose moments are variables that
// toJSON() can read synchronously (tfjs's optimizers expose theirs only through an async getWeights()).
import * as tf from '@tensorflow/tfjs';
import type { JsonValue } from '../common/json.js';
import { drawCategorical } from './strategies/rng.js';

export interface ControllerOptions {
  /** LSTM hidden units (NASNet: 100). */
  readonly hidden: number;
  /** Embedding width of a previous decision (default: hidden). */
  readonly embed: number;
  /** Logits are bounded to (-bound, bound) by bound * tanh(logit / bound) (ENAS's tanh constant); 0: unbounded. */
  readonly logitBound?: number;
}

export interface PpoOptions {
  readonly lr: number;
  readonly epochs: number;
  readonly clip: number;
  readonly entropyWeight: number;
}

export interface Sampled {
  readonly decisions: number[][];
  /** log pi(sequence) at sampling time, per sequence (sum over the steps). */
  readonly logProbs: number[];
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const ADAM_EPS = 1e-8;
const INIT_SCALE = 0.1;

/** Decisions with the same option count, whose heads are stacked in one variable. */
interface Group {
  readonly k: number;
  /** Steps in order. */
  readonly steps: readonly number[];
}

export class Controller {
  readonly counts: readonly number[];
  readonly hidden: number;
  readonly embed: number;
  readonly logitBound: number;
  /** Embedding row of each decision's option 0 (row 0 is the start token). */
  private readonly rowOf: readonly number[];
  private readonly total: number;
  private readonly groups: readonly Group[];
  /** Group index and position in it, per step. */
  private readonly where: readonly (readonly [number, number])[];
  private readonly names: readonly string[];
  private readonly vars: Record<string, tf.Variable>;
  private readonly m: Record<string, tf.Variable>;
  private readonly v: Record<string, tf.Variable>;
  private step: number;
  private readonly varList: tf.Variable[];

  private constructor(counts: readonly number[], opts: ControllerOptions, init: (name: string, shape: number[]) => Float32Array, adam?: AdamState) {
    this.counts = [...counts];
    this.hidden = opts.hidden;
    this.embed = opts.embed;
    this.logitBound = opts.logitBound ?? 0;
    let row = 1;
    this.rowOf = counts.map((c) => {
      const r = row;
      row += c;
      return r;
    });
    this.total = row - 1;
    const ks = [...new Set(counts)].sort((a, b) => a - b);
    this.groups = ks.map((k) => ({ k, steps: counts.flatMap((c, t) => (c === k ? [t] : [])) }));
    this.where = counts.map((c, t) => {
      const g = ks.indexOf(c);
      return [g, (this.groups[g] as Group).steps.indexOf(t)] as const;
    });
    const H = this.hidden;
    const E = this.embed;
    const shapes: Record<string, number[]> = { wx: [E, 4 * H], wh: [H, 4 * H], b: [4 * H], emb: [1 + this.total, E] };
    for (const g of this.groups) {
      shapes[`headW${g.k}`] = [g.steps.length, H, g.k];
      shapes[`headB${g.k}`] = [g.steps.length, 1, g.k];
    }
    this.names = Object.keys(shapes);
    const size = (n: string): number => (shapes[n] as number[]).reduce((a, b) => a * b, 1);
    const variable = (n: string, data: Float32Array | undefined, trainable: boolean): tf.Variable => {
      const d = data ?? new Float32Array(size(n));
      if (d.length !== size(n)) throw new Error(`controller state: ${n} has ${d.length} values, expected ${size(n)}`);
      const init = tf.tensor(d, shapes[n]);
      const v = tf.variable(init, trainable);
      init.dispose();
      return v;
    };
    this.vars = Object.fromEntries(this.names.map((n) => [n, variable(n, init(n, shapes[n] as number[]), true)]));
    this.m = Object.fromEntries(this.names.map((n) => [n, variable(n, adam?.m[n], false)]));
    this.v = Object.fromEntries(this.names.map((n) => [n, variable(n, adam?.v[n], false)]));
    this.step = adam?.step ?? 0;
    this.varList = this.names.map((n) => this.vars[n] as tf.Variable);
  }

  /** A fresh controller; weights uniform in [-0.1, 0.1] (biases 0) drawn from `rng`. */
  static create(counts: readonly number[], opts: ControllerOptions, rng: () => number): Controller {
    return new Controller(counts, opts, (name, shape) => {
      const a = new Float32Array(shape.reduce((x, y) => x * y, 1));
      if (name !== 'b' && !name.startsWith('headB')) for (let i = 0; i < a.length; i++) a[i] = (2 * rng() - 1) * INIT_SCALE;
      return a;
    });
  }

  static fromJSON(counts: readonly number[], state: JsonValue): Controller {
    const s = state as { hidden: number; embed: number; logitBound?: number; step: number; weights: Record<string, string>; m: Record<string, string>; v: Record<string, string> };
    const dec = (r: Record<string, string>): Record<string, Float32Array> =>
      Object.fromEntries(Object.entries(r).map(([n, b64]) => [n, decodeF32(b64)]));
    const w = dec(s.weights);
    return new Controller(
      counts,
      { hidden: s.hidden, embed: s.embed, logitBound: s.logitBound ?? 0 },
      (n) => {
        const d = w[n];
        if (d === undefined) throw new Error(`controller state: weights ${n} missing`);
        return d;
      },
      { m: dec(s.m), v: dec(s.v), step: s.step },
    );
  }

  /** Weights and Adam moments as base64 of little-endian float32 (exact, and 4-5x smaller than number arrays). */
  toJSON(): JsonValue {
    const enc = (r: Record<string, tf.Variable>): Record<string, string> =>
      Object.fromEntries(this.names.map((n) => [n, encodeF32((r[n] as tf.Variable).dataSync() as Float32Array)]));
    return { hidden: this.hidden, embed: this.embed, logitBound: this.logitBound, step: this.step, weights: enc(this.vars), m: enc(this.m), v: enc(this.v) };
  }

  private w(name: string): tf.Variable {
    return this.vars[name] as tf.Variable;
  }

  private bounded<T extends tf.Tensor>(logits: T): T {
    const c = this.logitBound;
    return c > 0 ? (tf.mul(tf.tanh(tf.div(logits, c)), c) as T) : logits;
  }

  /** Gate pre-activations for every embedding row: emb x wx + b, [1 + S, 4H]. */
  private inputGates(): tf.Tensor2D {
    return tf.add(tf.matMul(this.w('emb') as tf.Tensor2D, this.w('wx') as tf.Tensor2D), this.w('b')) as tf.Tensor2D;
  }

  /** One LSTM step on gate pre-activations `xw` (input projection + bias already added). */
  private cell(xw: tf.Tensor2D, h: tf.Tensor2D, c: tf.Tensor2D): [tf.Tensor2D, tf.Tensor2D] {
    const gates = tf.add(xw, tf.matMul(h, this.w('wh') as tf.Tensor2D));
    const [i, f, g, o] = tf.split(gates, 4, 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const c2 = tf.add(tf.mul(tf.sigmoid(f), c), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
    const h2 = tf.mul(tf.sigmoid(o), tf.tanh(c2)) as tf.Tensor2D;
    return [h2, c2];
  }

  /**
   * n sequences drawn as one LSTM batch; `rng` makes every categorical draw. With `temperature` > 1 the draws come
   * from the flattened softmax(logits / temperature) (exploration); the log-probabilities are always the policy's own.
   */
  sample(n: number, rng: () => number, temperature = 1): Sampled {
    const T = this.counts.length;
    const H = this.hidden;
    const decisions: number[][] = Array.from({ length: n }, () => new Array<number>(T));
    const logProbs = new Array<number>(n).fill(0);
    const table = tf.tidy(() => this.inputGates());
    let h = tf.zeros([n, H]) as tf.Tensor2D;
    let c = tf.zeros([n, H]) as tf.Tensor2D;
    const rows = new Int32Array(n); // embedding rows of the previous decisions (0: the start token)
    try {
      for (let t = 0; t < T; t++) {
        const k = this.counts[t] as number;
        const [g, pos] = this.where[t] as readonly [number, number];
        const gk = (this.groups[g] as Group).k;
        const [h2, c2, probs, drawProbs] = tf.tidy(() => {
          const [hn, cn] = this.cell(tf.gather(table, tf.tensor1d(rows, 'int32')) as tf.Tensor2D, h, c);
          const wt = tf.reshape(tf.slice(this.w(`headW${gk}`), [pos, 0, 0], [1, H, k]), [H, k]) as tf.Tensor2D;
          const bt = tf.reshape(tf.slice(this.w(`headB${gk}`), [pos, 0, 0], [1, 1, k]), [k]);
          const logits = this.bounded(tf.add(tf.matMul(hn, wt), bt));
          return [hn, cn, tf.softmax(logits), temperature === 1 ? null : tf.softmax(tf.div(logits, temperature))];
        });
        h.dispose();
        c.dispose();
        h = h2 as tf.Tensor2D;
        c = c2 as tf.Tensor2D;
        const p = (probs as tf.Tensor).dataSync();
        const q = drawProbs === null ? p : (drawProbs as tf.Tensor).dataSync();
        (probs as tf.Tensor).dispose();
        drawProbs?.dispose();
        const row0 = this.rowOf[t] as number;
        for (let s = 0; s < n; s++) {
          const a = drawCategorical(rng, q, s * k, k);
          (decisions[s] as number[])[t] = a;
          logProbs[s] = (logProbs[s] as number) + Math.log(p[s * k + a] as number);
          rows[s] = row0 + a;
        }
      }
    } finally {
      h.dispose();
      c.dispose();
      table.dispose();
    }
    return { decisions, logProbs };
  }

  /** Per step, the one-hot [n, 1 + S] of the embedding rows fed to the step (the start token, then the choices). */
  private inputRows(seqs: readonly (readonly number[])[]): tf.Tensor2D[] {
    const n = seqs.length;
    return this.counts.map((_, t) => {
      const rows = new Int32Array(n);
      if (t > 0) {
        const row0 = this.rowOf[t - 1] as number;
        for (let s = 0; s < n; s++) rows[s] = row0 + ((seqs[s] as readonly number[])[t - 1] as number);
      }
      return tf.tidy(() => tf.oneHot(tf.tensor1d(rows, 'int32'), 1 + this.total).toFloat() as tf.Tensor2D);
    });
  }

  /** Teacher-forced pass: per option-count group, the log-softmax [m, n, k] of its steps. */
  private logSoftmaxByGroup(inputs: readonly tf.Tensor2D[]): tf.Tensor3D[] {
    const n = (inputs[0] as tf.Tensor2D).shape[0];
    // Each step's input gates are a one-hot product with the table of every row's gates: wasm has no kernel for
    // gather's gradient (UnsortedSegmentSum), and splitting one [T n, 4H] product into steps is slow there.
    const table = this.inputGates();
    let h = tf.zeros([n, this.hidden]) as tf.Tensor2D;
    let c = tf.zeros([n, this.hidden]) as tf.Tensor2D;
    const hs: tf.Tensor2D[] = [];
    for (const x of inputs) {
      [h, c] = this.cell(tf.matMul(x, table), h, c);
      hs.push(h);
    }
    return this.groups.map((g) => {
      const hg = tf.reshape(tf.concat(g.steps.map((t) => hs[t] as tf.Tensor2D), 0), [g.steps.length, n, this.hidden]);
      const logits = this.bounded(tf.add(tf.matMul(hg, this.w(`headW${g.k}`)), this.w(`headB${g.k}`)));
      return tf.logSoftmax(logits, -1) as tf.Tensor3D;
    });
  }

  /** Per group, the one-hot [m, n, k] of the sequences' choices. */
  private chosenByGroup(seqs: readonly (readonly number[])[]): tf.Tensor3D[] {
    const n = seqs.length;
    return this.groups.map((g) => {
      const a = new Float32Array(g.steps.length * n * g.k);
      g.steps.forEach((t, j) => seqs.forEach((seq, s) => (a[(j * n + s) * g.k + (seq[t] as number)] = 1)));
      return tf.tensor3d(a, [g.steps.length, n, g.k]);
    });
  }

  private sequenceLogProbs(lsm: readonly tf.Tensor3D[], chosen: readonly tf.Tensor3D[]): tf.Tensor1D {
    return tf.addN(lsm.map((l, i) => tf.sum(tf.mul(l, chosen[i] as tf.Tensor3D), [0, 2]))) as tf.Tensor1D;
  }

  /** log pi(sequence) for each sequence. */
  logProbs(seqs: readonly (readonly number[])[]): number[] {
    return tf.tidy(() => Array.from(this.sequenceLogProbs(this.logSoftmaxByGroup(this.inputRows(seqs)), this.chosenByGroup(seqs)).dataSync()));
  }

  /** Per sequence, per decision, the option probabilities given the sequence's earlier decisions. */
  probabilities(seqs: readonly (readonly number[])[]): number[][][] {
    const n = seqs.length;
    const perGroup = tf.tidy(() => this.logSoftmaxByGroup(this.inputRows(seqs)).map((l) => tf.exp(l)));
    const data = perGroup.map((p) => p.dataSync());
    perGroup.forEach((p) => p.dispose());
    return seqs.map((_, s) =>
      this.counts.map((k, t) => {
        const [g, pos] = this.where[t] as readonly [number, number];
        const base = (pos * n + s) * k;
        return Array.from((data[g] as Float32Array).subarray(base, base + k));
      }),
    );
  }

  /**
   * PPO on one batch: `epochs` Adam steps on the clipped surrogate
   *   -mean_b min(r_b A_b, clip(r_b, 1 - eps, 1 + eps) A_b) - entropyWeight * mean_b H_b,  r_b = pi(seq_b) / pi_old(seq_b)
   * with whole-sequence ratios and H_b the sum of the steps' entropies. Returns the last epoch's loss.
   */
  update(seqs: readonly (readonly number[])[], oldLogProbs: readonly number[], advantages: readonly number[], opts: PpoOptions): number {
    if (seqs.length === 0) return 0;
    const n = seqs.length;
    let last = 0;
    const chosen = this.chosenByGroup(seqs);
    const inputs = this.inputRows(seqs);
    const old = tf.tensor1d(oldLogProbs as number[]);
    const adv = tf.tensor1d(advantages as number[]);
    try {
      for (let e = 0; e < opts.epochs; e++) {
        last = tf.tidy(() => {
          const { value, grads } = tf.variableGrads(() => {
            const lsm = this.logSoftmaxByGroup(inputs);
            const ratio = tf.exp(tf.sub(this.sequenceLogProbs(lsm, chosen), old));
            const surrogate = tf.minimum(tf.mul(ratio, adv), tf.mul(tf.clipByValue(ratio, 1 - opts.clip, 1 + opts.clip), adv));
            const negEntropy = tf.addN(lsm.map((l) => tf.sum(tf.mul(tf.exp(l), l))));
            return tf.add(tf.neg(tf.mean(surrogate)), tf.mul(negEntropy, opts.entropyWeight / n)) as tf.Scalar;
          }, this.varList);
          this.adam(grads, opts.lr);
          return value.dataSync()[0] as number;
        });
      }
    } finally {
      chosen.forEach((t) => t.dispose());
      inputs.forEach((t) => t.dispose());
      old.dispose();
      adv.dispose();
    }
    return last;
  }

  private adam(grads: tf.NamedTensorMap, lr: number): void {
    this.step += 1;
    const c1 = 1 - Math.pow(BETA1, this.step);
    const c2 = 1 - Math.pow(BETA2, this.step);
    for (const n of this.names) {
      const w = this.w(n);
      const g = grads[w.name];
      if (g === undefined) continue;
      const mv = this.m[n] as tf.Variable;
      const vv = this.v[n] as tf.Variable;
      const m = tf.add(tf.mul(mv, BETA1), tf.mul(g, 1 - BETA1));
      const v = tf.add(tf.mul(vv, BETA2), tf.mul(tf.square(g), 1 - BETA2));
      mv.assign(m);
      vv.assign(v);
      w.assign(tf.sub(w, tf.div(tf.mul(m, lr / c1), tf.add(tf.sqrt(tf.div(v, c2)), ADAM_EPS))));
    }
  }

  dispose(): void {
    for (const n of this.names) {
      this.w(n).dispose();
      (this.m[n] as tf.Variable).dispose();
      (this.v[n] as tf.Variable).dispose();
    }
  }
}

interface AdamState {
  readonly m: Readonly<Record<string, Float32Array>>;
  readonly v: Readonly<Record<string, Float32Array>>;
  readonly step: number;
}

export function encodeF32(a: Float32Array): string {
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  // The platform is little-endian on every target Node supports; write explicitly anyway so states move between machines.
  if (!LITTLE_ENDIAN) {
    const out = Buffer.alloc(a.byteLength);
    for (let i = 0; i < a.length; i++) out.writeFloatLE(a[i] as number, 4 * i);
    return out.toString('base64');
  }
  return b.toString('base64');
}

export function decodeF32(s: string): Float32Array {
  const b = Buffer.from(s, 'base64');
  const out = new Float32Array(b.byteLength / 4);
  for (let i = 0; i < out.length; i++) out[i] = b.readFloatLE(4 * i);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
