// Shared by the fused-op tests (test/ops-*.test.ts): seeded data, backend switching, evaluation of an op's
// outputs and gradients on one backend, and the relative-error measure.
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { rng } from './random.js';

export type TestBackend = 'cpu' | 'wasm';

export async function setBackend(name: TestBackend): Promise<void> {
  tf.env().set('PROD', true);
  if (tf.getBackend() !== name) assert.ok(await tf.setBackend(name), `backend ${name} did not initialise`);
  await tf.ready();
}

/** n normal samples (Box-Muller) times scale plus offset. */
export function randn(n: number, seed: number, scale = 1, offset = 0): Float32Array {
  const r = rng(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const u = Math.max(r(), 1e-12);
    const v = r();
    const m = Math.sqrt(-2 * Math.log(u));
    out[i] = offset + scale * m * Math.cos(2 * Math.PI * v);
    if (i + 1 < n) out[i + 1] = offset + scale * m * Math.sin(2 * Math.PI * v);
  }
  return out;
}

/** n uniform samples in [lo, hi). */
export function uniform(n: number, seed: number, lo: number, hi: number): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** max |actual - expected| / max |expected| (absolute when expected is all zeros). */
export function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'length');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i] ?? NaN;
    const e = expected[i] ?? NaN;
    const d = Math.abs(a - e);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(e));
  }
  return scale > 0 ? diff / scale : diff;
}

export function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, what: string, tol = 1e-4): void {
  const err = relErr(actual, expected);
  assert.ok(err <= tol, `${what}: relative error ${err.toExponential(2)} > ${tol}`);
}

export interface Input {
  readonly data: Float32Array;
  readonly shape: number[];
}

export interface Evaluation {
  /** Every output of f, as arrays. */
  readonly outputs: Float32Array[];
  /** Gradients of f's first output, with upstream dy, w.r.t. every input. */
  readonly grads: Float32Array[];
}

/**
 * Runs f on `backend` with tensors made there: its outputs, and tf.grads of its first output w.r.t. every input
 * with upstream gradient dy. Disposes everything it makes.
 */
export async function evaluate(
  backend: TestBackend,
  inputs: readonly Input[],
  dy: Float32Array,
  f: (...xs: tf.Tensor[]) => tf.Tensor[],
): Promise<Evaluation> {
  await setBackend(backend);
  const xs = inputs.map((i) => tf.tensor(i.data, i.shape));
  const outs = f(...xs);
  const outputs = outs.map((t) => t.dataSync().slice() as Float32Array);
  const first = outs[0];
  assert.ok(first);
  const dyT = tf.tensor(dy, first.shape);
  tf.dispose(outs);
  const gradTensors = tf.grads((...a: tf.Tensor[]) => f(...a)[0]!)(xs, dyT);
  const grads = gradTensors.map((t) => t.dataSync().slice() as Float32Array);
  tf.dispose([...xs, dyT, ...gradTensors]);
  return { outputs, grads };
}

/** Asserts that every output and gradient of `actual` is within tol of `expected`. */
export function assertEvaluationsClose(actual: Evaluation, expected: Evaluation, what: string, tol = 1e-4): void {
  assert.equal(actual.outputs.length, expected.outputs.length);
  assert.equal(actual.grads.length, expected.grads.length);
  actual.outputs.forEach((o, i) => assertClose(o, expected.outputs[i]!, `${what} output ${i}`, tol));
  actual.grads.forEach((g, i) => assertClose(g, expected.grads[i]!, `${what} gradient ${i}`, tol));
}
