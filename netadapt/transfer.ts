// Weight transfer for a NetAdapt shrink: keep the channels whose producing filters have the largest L2 norm and
// slice every weight that carries them. A channel set flows from the layer that produces it (an expand conv, or the
// output convs of a bottleneck group, one index set for the whole group since residual adds tie them) through the
// layers that keep it (depthwise conv, its batch norm, squeeze-excite) to the 1x1 convs that read it (projection,
// the next block's expand or conv, head.conv). Weights are named after block paths (model/build.ts), so this is a
// lookup by name; everything not on the path is copied as is.
import * as tf from '@tensorflow/tfjs';
import { buildModel } from '../model/build.js';
import type { ArchSpec } from '../space/arch.js';
import { type ResolvedArch, type ResolvedBlock, resolve } from '../space/resolve.js';
import { applyShrink, passesInput, type Shrink } from './proposals.js';

export interface NamedWeight {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

export type WeightMap = ReadonlyMap<string, NamedWeight>;

/** Per weight, per axis: the indices to keep (null: the whole axis). */
type Plan = Map<string, (readonly number[] | null)[]>;

const BN = ['gamma', 'beta', 'moving_mean', 'moving_variance'] as const;

function select(plan: Plan, weights: WeightMap, name: string, axis: number, keep: readonly number[]): void {
  const w = weights.get(name);
  if (w === undefined) throw new Error(`weight transfer: no weight ${name}`);
  const sel = plan.get(name) ?? w.shape.map(() => null);
  sel[axis] = keep;
  plan.set(name, sel);
}

/** The output channels of a ConvBn layer: its kernel's last axis (the third for a depthwise kernel) and its BN. */
function selectOut(plan: Plan, weights: WeightMap, layer: string, keep: readonly number[], depthwise = false): void {
  select(plan, weights, `${layer}/kernel`, depthwise ? 2 : 3, keep);
  for (const v of BN) select(plan, weights, `${layer}/${v}`, 0, keep);
}

/** The input channels of a regular 1x1 (or kxk) ConvBn layer. */
function selectIn(plan: Plan, weights: WeightMap, layer: string, keep: readonly number[]): void {
  select(plan, weights, `${layer}/kernel`, 2, keep);
}

/** The depthwise conv, its BN, the SE channels and the projection's input: everything after the expand conv. */
function selectBody(plan: Plan, weights: WeightMap, b: ResolvedBlock, keep: readonly number[]): void {
  selectOut(plan, weights, `${b.path}.dw`, keep, true);
  if (b.se !== null) {
    select(plan, weights, `${b.path}.se/reduce_kernel`, 0, keep);
    select(plan, weights, `${b.path}.se/expand_kernel`, 1, keep);
    select(plan, weights, `${b.path}.se/expand_bias`, 0, keep);
  }
  selectIn(plan, weights, `${b.path}.project`, keep);
}

/** What a block does with a shrunk input: slice its first conv's input, or (no expand conv) its whole body. */
function selectBlockInput(plan: Plan, weights: WeightMap, b: ResolvedBlock, keep: readonly number[]): void {
  if (b.type === 'conv') selectIn(plan, weights, `${b.path}.conv`, keep);
  else if (passesInput(b)) selectBody(plan, weights, b, keep);
  else selectIn(plan, weights, `${b.path}.expand`, keep);
}

function outputLayer(b: ResolvedBlock): string {
  return b.type === 'conv' ? `${b.path}.conv` : `${b.path}.project`;
}

/** Squared L2 norm of each slice of `w` along `axis` (a filter's norm when axis is the output axis). */
export function channelNormsSq(w: NamedWeight, axis: number): Float64Array {
  const n = w.shape[axis] ?? 0;
  const inner = w.shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const out = new Float64Array(n);
  for (let i = 0; i < w.data.length; i++) {
    const c = Math.floor(i / inner) % n;
    const v = w.data[i] ?? 0;
    out[c] = (out[c] ?? 0) + v * v;
  }
  return out;
}

/** The `k` indices with the largest norms (ties: the lower index), in ascending order. */
export function topK(norms: ArrayLike<number>, k: number): number[] {
  const idx = Array.from({ length: norms.length }, (_, i) => i);
  idx.sort((a, b) => (norms[b] ?? 0) - (norms[a] ?? 0) || a - b);
  return idx.slice(0, k).sort((a, b) => a - b);
}

/** Copy of `w` restricted to the kept indices on each axis. */
export function sliceWeight(w: NamedWeight, sel: readonly (readonly number[] | null)[]): NamedWeight {
  const shape = w.shape;
  const axes = shape.map((d, a) => sel[a] ?? Array.from({ length: d }, (_, i) => i));
  const newShape = axes.map((a) => a.length);
  const strides = shape.map((_, a) => shape.slice(a + 1).reduce((p, d) => p * d, 1));
  const out = new Float32Array(newShape.reduce((p, d) => p * d, 1));
  let o = 0;
  const walk = (axis: number, base: number): void => {
    const keep = axes[axis] ?? [];
    const stride = strides[axis] ?? 1;
    if (axis === shape.length - 1) {
      for (const i of keep) out[o++] = w.data[base + i * stride] ?? 0;
      return;
    }
    for (const i of keep) walk(axis + 1, base + i * stride);
  };
  if (shape.length === 0) out[0] = w.data[0] ?? 0;
  else walk(0, 0);
  return { shape: newShape, data: out };
}

/** The kept channel indices of a shrink: by L2 norm of the filters producing them (summed over a group). */
export function keptChannels(r: ResolvedArch, weights: WeightMap, s: Shrink): number[] {
  const layers = s.kind === 'expansion' ? [`${r.blocks[s.block]?.path ?? '?'}.expand`] : s.blocks.map((i) => outputLayer(r.blocks[i]!));
  const total = new Float64Array(s.from);
  for (const layer of layers) {
    const k = weights.get(`${layer}/kernel`);
    if (k === undefined) throw new Error(`weight transfer: no weight ${layer}/kernel`);
    const n = channelNormsSq(k, 3);
    if (n.length !== s.from) throw new Error(`weight transfer: ${layer} has ${n.length} channels, the shrink says ${s.from}`);
    n.forEach((v, i) => (total[i] = (total[i] ?? 0) + v));
  }
  return topK(total, s.to);
}

/**
 * The weights of `applyShrink(spec, s)` from the weights of `spec` (a width-1 spec), keeping the channels with the
 * largest L2 norm. Pure: data in, data out.
 */
export function transferWeightMap(spec: ArchSpec, weights: WeightMap, s: Shrink): { spec: ArchSpec; weights: Map<string, NamedWeight>; kept: number[] } {
  const r = resolve(spec);
  const next = applyShrink(spec, s);
  const rn = resolve(next);
  const keep = keptChannels(r, weights, s);
  const plan: Plan = new Map();
  if (s.kind === 'expansion') {
    const b = r.blocks[s.block];
    if (b === undefined) throw new Error(`weight transfer: no block ${s.block}`);
    selectOut(plan, weights, `${b.path}.expand`, keep);
    selectBody(plan, weights, b, keep);
  } else {
    s.blocks.forEach((i, n) => {
      const b = r.blocks[i];
      if (b === undefined) throw new Error(`weight transfer: no block ${i}`);
      if (n > 0) selectBlockInput(plan, weights, b, keep);
      selectOut(plan, weights, outputLayer(b), keep);
    });
    const after = r.blocks[(s.blocks[s.blocks.length - 1] ?? -1) + 1];
    if (after !== undefined) selectBlockInput(plan, weights, after, keep);
    else selectIn(plan, weights, 'head.conv', keep);
  }
  // An SE whose hidden width follows the channels it reads (MobileNetV3: a quarter of the expanded width) loses its
  // weakest hidden units too, ranked by the norm of their reduce filters over the kept channels.
  r.blocks.forEach((b, i) => {
    const nb = rn.blocks[i];
    if (b.se === null || nb?.se == null || nb.se.reduce === b.se.reduce) return;
    const name = `${b.path}.se/reduce_kernel`;
    const rk = weights.get(name);
    const rb = weights.get(`${b.path}.se/reduce_bias`);
    if (rk === undefined || rb === undefined) throw new Error(`weight transfer: no weights for ${b.path}.se`);
    const norms = channelNormsSq(sliceWeight(rk, plan.get(name) ?? [null, null]), 1);
    norms.forEach((v, j) => (norms[j] = v + (rb.data[j] ?? 0) ** 2));
    const hidden = topK(norms, nb.se.reduce);
    select(plan, weights, name, 1, hidden);
    select(plan, weights, `${b.path}.se/reduce_bias`, 0, hidden);
    select(plan, weights, `${b.path}.se/expand_kernel`, 0, hidden);
  });
  const out = new Map<string, NamedWeight>();
  for (const [name, w] of weights) {
    const sel = plan.get(name);
    out.set(name, sel === undefined ? w : sliceWeight(w, sel));
  }
  return { spec: next, weights: out, kept: keep };
}

/** A model's weights by name (`s1.b0.expand/kernel`), copied out of tfjs. */
export function readWeights(model: tf.LayersModel): Map<string, NamedWeight> {
  const out = new Map<string, NamedWeight>();
  for (const w of model.weights) {
    out.set(w.originalName, { shape: w.shape as number[], data: w.read().dataSync() as Float32Array });
  }
  return out;
}

/** Write named weights into a model built for them; every model weight must be there with its shape. */
export function writeWeights(model: tf.LayersModel, weights: WeightMap): void {
  for (const w of model.weights) {
    const src = weights.get(w.originalName);
    const shape = w.shape as number[];
    if (src === undefined || src.shape.join('x') !== shape.join('x')) {
      throw new Error(`weight transfer: ${w.originalName} is ${shape.join('x')}, the transferred weight is ${src?.shape.join('x') ?? 'missing'}`);
    }
    tf.tidy(() => {
      w.write(tf.tensor(src.data, shape, 'float32'));
    });
  }
}

/** A new model of the shrunk network carrying the transferred weights of `model` (built from `spec`). */
export function transferModel(spec: ArchSpec, model: tf.LayersModel, s: Shrink, seed = 0): { spec: ArchSpec; model: tf.LayersModel; kept: number[] } {
  const t = transferWeightMap(spec, readWeights(model), s);
  const next = buildModel(resolve(t.spec), { seed });
  writeWeights(next, t.weights);
  return { spec: t.spec, model: next, kept: t.kept };
}
