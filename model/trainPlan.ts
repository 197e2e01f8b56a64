// A training step's forward and backward pass as direct native kernel calls on the wasm heap: the calls the layers'
// training ops and their registered gradients make through tfjs (backend/kernels, backend/ops), on the same inputs, so
// the loss, every gradient and the batch-norm moving averages equal tf.variableGrads' bit for bit, without
// tfjs-layers' graph walk and tfjs-core's per-kernel bookkeeping (scopes, tape, saved-tensor clones, kernel lookup).
// That bookkeeping was about 40% of a 32 px MobileNetV3-Small step on one thread (15.9 ms a step, 9.9 ms as a plan),
// and it runs on one thread however many the kernels use. Batch norm and the activation after it run as one fused
// kernel each way (batchnorm.cc; the two kernels' numbers, and batch norm alone's without an activation). The loss
// and its gradient at the logits, and dropout's mask, stay tfjs ops (small tensors). A step's buffers are placed in
// one block of the heap (Pass). Node only: the wasm backend with our native kernels.
import * as tf from '@tensorflow/tfjs';
import { callNativeConv, convInfo, nativeConv, type NativeConvName } from '../backend/kernels/convGeometry.js';
import { fusedMovingStatsAt } from '../backend/kernels/optimizerUpdate.js';
import { denseGradOnHeap } from '../backend/ops/denseKernels.js';
import { activationGradReadsInput, type ActivationKind, useFusedKernels } from '../backend/ops/fused.js';
import { inferenceNatives } from '../backend/ops/inferenceKernels.js';
import { activationCodes, trainingNatives } from '../backend/ops/kernels.js';
import { currentWasmBackend, heap, offsetOf, type WasmBackend } from '../backend/wasmHeap.js';
import { weightByName } from './fold.js';
import { ConvBn, DenseAct, Dropout, GlobalAvgPool, SqueezeExcite } from './layers.js';

export interface TrainPlan {
  /**
   * Forward in training mode (batch statistics, moving averages updated, dropout masks drawn), the mean softmax
   * cross-entropy of `loss`, and its gradients for `vars` in their order: what tf.variableGrads gives (dispose both).
   */
  lossAndGrads(images: tf.Tensor4D, loss: (logits: tf.Tensor2D) => tf.Scalar, vars: readonly tf.Variable[]): { value: tf.Scalar; grads: tf.Tensor[] };
}

/** A value of the pass: a buffer on the heap (its byte offset) while it has readers left. */
interface Buf {
  readonly offset: number;
  readonly shape: number[];
  readers: number;
}

/** What a layer's forward leaves for its backward: from the output's gradient, the input's, passed to `toInput`. */
type Backward = (dy: Buf, toInput: (dx: Buf) => void) => void;

/**
 * Where a step's buffers go in one block of the heap: the byte offset of each allocation, in the order the step makes
 * them (the same every step for one input shape), packed by lifetime so that buffers not alive together share bytes.
 */
interface Layout {
  readonly bytes: number[];
  readonly offsets: number[];
  readonly total: number;
}

const ALIGN = 64;

/** First fit, largest first: each buffer at the lowest offset free of every buffer alive at the same time. */
function packLayout(trace: readonly { bytes: number; start: number; end: number }[]): Layout {
  const order = trace.map((_, i) => i).sort((a, b) => (trace[b]?.bytes ?? 0) - (trace[a]?.bytes ?? 0) || a - b);
  const offsets = new Array<number>(trace.length).fill(0);
  const placed: number[] = [];
  let total = 0;
  for (const i of order) {
    const t = trace[i];
    if (t === undefined) continue;
    const clashes = placed
      .filter((j) => (trace[j]?.start ?? 0) < t.end && t.start < (trace[j]?.end ?? 0))
      .map((j) => [offsets[j] ?? 0, (offsets[j] ?? 0) + (trace[j]?.bytes ?? 0)] as const)
      .sort((a, b) => a[0] - b[0]);
    let at = 0;
    for (const [lo, hi] of clashes) if (at + t.bytes > lo && at < hi) at = Math.max(at, hi);
    offsets[i] = at;
    placed.push(i);
    total = Math.max(total, at + t.bytes);
  }
  return { bytes: trace.map((t) => t.bytes), offsets, total };
}

/**
 * One step's buffers and gradients. The first step for an input shape allocates each buffer as it comes and records
 * its size and lifetime; later steps take one block of the heap and place every buffer at its planned offset
 * (the allocator's calls were about 1.5% of a 224 px step, all on one thread).
 */
class Pass {
  private readonly live = new Map<Buf, tf.TensorInfo>();
  private readonly trace: { bytes: number; start: number; end: number }[] = [];
  private readonly traced = new Map<Buf, number>();
  private clock = 0;
  private readonly block: tf.TensorInfo | null;
  private readonly base: number;
  private next = 0;
  /** Gradients of values, by value index; weight gradients by variable. */
  readonly grads = new Map<number, Buf>();
  readonly weightGrads = new Map<tf.Variable, tf.TensorInfo>();

  constructor(readonly b: WasmBackend, private readonly layout: Layout | null) {
    this.block = layout === null ? null : b.makeOutput([Math.ceil(layout.total / 4) + ALIGN / 4], 'float32');
    this.base = this.block === null ? 0 : Math.ceil(offsetOf(b, this.block) / ALIGN) * ALIGN;
  }

  /** A new buffer with one reader: its maker. */
  alloc(shape: number[]): Buf {
    const bytes = Math.ceil((tf.util.sizeFromShape(shape) * 4) / ALIGN) * ALIGN;
    if (this.layout !== null) {
      const i = this.next++;
      if (this.layout.bytes[i] !== bytes) throw new Error(`train plan: buffer ${i} is ${bytes} bytes, planned ${this.layout.bytes[i] ?? 'none'}`);
      return { offset: this.base + (this.layout.offsets[i] ?? 0), shape, readers: 1 };
    }
    const info = this.b.makeOutput(shape, 'float32');
    const buf = { offset: offsetOf(this.b, info), shape, readers: 1 };
    this.live.set(buf, info);
    this.traced.set(buf, this.trace.length);
    this.trace.push({ bytes, start: this.clock++, end: Number.POSITIVE_INFINITY });
    return buf;
  }

  at(t: Buf | tf.TensorInfo): number {
    return 'offset' in t ? t.offset : offsetOf(this.b, t);
  }

  /** The heap now (read after every allocation: growing the memory replaces it). */
  heap(): ArrayBuffer {
    return heap(this.b);
  }

  /** One reader of `buf` has run; its bytes are free after the last. */
  done(buf: Buf): void {
    if (--buf.readers > 0) return;
    const info = this.live.get(buf);
    if (info === undefined) return;
    this.live.delete(buf);
    this.b.disposeData(info.dataId, true);
    const t = this.trace[this.traced.get(buf) ?? -1];
    if (t !== undefined) t.end = this.clock++;
  }

  /** The layout of this step's buffers, after a step that allocated them one by one (null after a planned one). */
  plannedLayout(): Layout | null {
    return this.layout === null ? packLayout(this.trace) : null;
  }

  /** A weight's gradient, kept to the end of the step (returned as a tensor). */
  weightGrad(v: tf.Variable): tf.TensorInfo {
    const info = this.b.makeOutput([...v.shape], 'float32');
    this.weightGrads.set(v, info);
    return info;
  }

  /** Adds `dx` to the gradient of value `index` (tfjs's accumulation: one Add of the two, which commutes). */
  accumulate(index: number, dx: Buf): void {
    const prev = this.grads.get(index);
    if (prev === undefined) {
      this.grads.set(index, dx);
      return;
    }
    const sum = this.alloc(prev.shape);
    const n = tf.util.sizeFromShape(prev.shape);
    inferenceNatives().add(this.heap(), this.at(prev), this.at(dx), this.at(sum), n);
    this.done(prev);
    this.done(dx);
    this.grads.set(index, sum);
  }

  dispose(): void {
    for (const info of this.live.values()) this.b.disposeData(info.dataId, true);
    this.live.clear();
    if (this.block !== null) this.b.disposeData(this.block.dataId, true);
    for (const info of this.weightGrads.values()) this.b.disposeData(info.dataId, true);
    this.weightGrads.clear();
  }
}

/** A layer of the plan: the indices of its input values and of its output value. */
interface Node {
  readonly layer: tf.layers.Layer;
  readonly inputs: number[];
  readonly output: number;
}

/** y = act(x) as a new buffer, and the backward dx = act'(dy) from what the gradient reads (x or y). */
function activationForward(p: Pass, x: Buf, kind: ActivationKind | 'linear'): { y: Buf; backward: (dy: Buf) => Buf } {
  if (kind === 'linear') return { y: x, backward: (dy) => dy };
  const y = p.alloc(x.shape);
  const n = tf.util.sizeFromShape(x.shape);
  trainingNatives().actForward(p.heap(), p.at(x), p.at(y), n, activationCodes[kind]);
  const saved = activationGradReadsInput(kind) ? x : y;
  saved.readers++;
  return {
    y,
    backward: (dy) => {
      const dx = p.alloc(dy.shape);
      trainingNatives().actBackward(p.heap(), p.at(dy), p.at(saved), p.at(dx), n, activationCodes[kind]);
      p.done(dy);
      p.done(saved);
      return dx;
    },
  };
}

/** x w + bias for x [M, K] (the dense layers' training op, NasDenseBiasAct without an activation). */
function denseForward(p: Pass, x: Buf, w: tf.Variable, bias: tf.Variable): { y: Buf; backward: (dy: Buf) => Buf } {
  const [M = 0, K = 0] = x.shape;
  const N = w.shape[1] ?? 0;
  const y = p.alloc([M, N]);
  inferenceNatives().dense(p.heap(), p.at(x), p.at(w), p.at(bias), p.at(y), M, K, N, -1);
  x.readers++;
  return {
    y,
    backward: (dy) => {
      const dx = p.alloc([M, K]);
      const dw = p.weightGrad(w);
      const db = p.weightGrad(bias);
      const o = { dy: p.at(dy), x: p.at(x), w: p.at(w), dx: p.at(dx), dw: p.at(dw), dbias: p.at(db) };
      denseGradOnHeap(p.heap(), o, M, K, N);
      p.done(dy);
      p.done(x);
      return dx;
    },
  };
}

// A layer's variables, looked up once: loading weights assigns new data to the same variable objects.
const variables = new WeakMap<tf.layers.Layer, Map<string, tf.Variable>>();

function variableOf(layer: tf.layers.Layer, suffix: string): tf.Variable {
  let byName = variables.get(layer);
  if (byName === undefined) variables.set(layer, (byName = new Map()));
  let v = byName.get(suffix);
  if (v === undefined) {
    const w = weightByName(layer, suffix);
    if (!(w instanceof tf.Variable)) throw new Error(`${layer.name}: weight '${suffix}' is not a variable`);
    byName.set(suffix, (v = w));
  }
  return v;
}

/** Convolution, batch norm with this batch's statistics (moving averages updated), activation. */
function convBnForward(p: Pass, layer: ConvBn, x: Buf, needsDx: boolean): { y: Buf; backward: Backward } {
  const { depthwise, kernelSize: k, strides, padding, activation } = layer.cfg;
  const w = variableOf(layer, 'kernel');
  const pad = padding === 'same' ? 'same' : ([[0, 0], [k >> 1, k >> 1], [k >> 1, k >> 1], [0, 0]] as tf.backend_util.ExplicitPadding);
  const info = convInfo(x.shape as [number, number, number, number], w.shape as [number, number, number, number], { strides, pad, dilations: 1 }, depthwise);
  const names: [NativeConvName, NativeConvName, NativeConvName] = depthwise
    ? ['depthwiseConv2d', 'depthwiseConv2dBackpropFilter', 'depthwiseConv2dBackpropInput']
    : ['conv2d', 'conv2dBackpropFilter', 'conv2dBackpropInput'];
  const c = p.alloc(info.outShape);
  callNativeConv(nativeConv(names[0]), p.heap(), p.at(x), p.at(w), p.at(c), info);
  const bn = batchNormActForward(p, layer, c, activation);
  x.readers++;
  return {
    y: bn.y,
    backward: (dz, toInput) => {
      const dc = bn.backward(dz);
      const dw = p.weightGrad(w); // allocated before the heap is read: allocating can grow (replace) it
      callNativeConv(nativeConv(names[1]), p.heap(), p.at(x), p.at(dc), p.at(dw), info);
      if (needsDx) {
        const dx = p.alloc(x.shape);
        callNativeConv(nativeConv(names[2]), p.heap(), p.at(dc), p.at(w), p.at(dx), info);
        toInput(dx);
      }
      p.done(dc);
      p.done(x);
    },
  };
}

/**
 * Batch norm with this batch's statistics (the layer's moving averages updated with them) and the activation after
 * it, in one kernel each way (batchnorm.cc): the numbers of the two kernels the ops call one after the other, or of
 * batch norm's alone for 'linear'. The normalised values are recomputed in the backward rather than kept.
 */
function batchNormActForward(p: Pass, layer: ConvBn, c: Buf, activation: ActivationKind | 'linear'): { y: Buf; backward: (dz: Buf) => Buf } {
  const eps = layer.cfg.bnEps;
  const kind = activation === 'linear' ? -1 : activationCodes[activation];
  const [gamma, beta] = [variableOf(layer, 'gamma'), variableOf(layer, 'beta')];
  const C = c.shape[c.shape.length - 1] ?? 0;
  const rows = C === 0 ? 0 : tf.util.sizeFromShape(c.shape) / C;
  const [z, mean, variance, scale] = [p.alloc(c.shape), p.alloc([C]), p.alloc([C]), p.alloc([C])];
  trainingNatives().bnActForward(p.heap(), p.at(c), p.at(gamma), p.at(beta), p.at(z), p.at(mean), p.at(variance), p.at(scale), rows, C, eps, kind);
  const [d, a, b] = layer.movingStatsFactors(rows);
  fusedMovingStatsAt(layer.movingStats(), mean.offset, variance.offset, d, a, b);
  const readsOutput = activation !== 'linear' && !activationGradReadsInput(activation);
  if (readsOutput) z.readers++;
  return {
    y: z,
    backward: (dz) => {
      const [dc, dgamma, dbeta] = [p.alloc(c.shape), p.weightGrad(gamma), p.weightGrad(beta)];
      const zo = readsOutput ? p.at(z) : p.at(c);
      trainingNatives().bnActBackward(p.heap(), p.at(dz), p.at(c), zo, p.at(gamma), p.at(beta), p.at(mean), p.at(variance), p.at(scale), p.at(dc), p.at(dgamma), p.at(dbeta), rows, C, eps, kind);
      [dz, c, mean, variance, scale].forEach((t) => p.done(t));
      if (readsOutput) p.done(z);
      return dc;
    },
  };
}

/** Squeeze-excite: pool, dense + relu, dense + gate, channel scale; x's gradient from both of its readers. */
function squeezeExciteForward(p: Pass, layer: SqueezeExcite, x: Buf): { y: Buf; backward: Backward } {
  const [n = 0, hh = 0, ww = 0, ch = 0] = x.shape;
  const s = p.alloc([n, ch]);
  trainingNatives().poolForward(p.heap(), p.at(x), p.at(s), n, hh * ww, ch);
  const reduce = denseForward(p, s, variableOf(layer, 'reduce_kernel'), variableOf(layer, 'reduce_bias'));
  p.done(s);
  const relu = activationForward(p, reduce.y, 'relu');
  p.done(reduce.y);
  const expand = denseForward(p, relu.y, variableOf(layer, 'expand_kernel'), variableOf(layer, 'expand_bias'));
  p.done(relu.y);
  const gate = activationForward(p, expand.y, layer.cfg.gate);
  p.done(expand.y);
  const g = gate.y;
  const y = p.alloc(x.shape);
  trainingNatives().scaleForward(p.heap(), p.at(x), p.at(g), p.at(y), n, hh * ww, ch);
  x.readers++;
  return {
    y,
    backward: (dy, toInput) => {
      const [dx, dg] = [p.alloc(x.shape), p.alloc([n, ch])];
      trainingNatives().scaleBackward(p.heap(), p.at(dy), p.at(x), p.at(g), p.at(dx), p.at(dg), n, hh * ww, ch);
      [dy, x, g].forEach((t) => p.done(t));
      const ds = reduce.backward(relu.backward(expand.backward(gate.backward(dg))));
      const dxPool = p.alloc(x.shape);
      trainingNatives().poolBackward(p.heap(), p.at(ds), p.at(dxPool), n, hh * ww, ch);
      p.done(ds);
      toInput(dx);
      toInput(dxPool);
    },
  };
}

function poolForward(p: Pass, x: Buf): { y: Buf; backward: Backward } {
  const [n = 0, hh = 0, ww = 0, ch = 0] = x.shape;
  const y = p.alloc([n, ch]);
  trainingNatives().poolForward(p.heap(), p.at(x), p.at(y), n, hh * ww, ch);
  return {
    y,
    backward: (dy, toInput) => {
      const dx = p.alloc(x.shape);
      trainingNatives().poolBackward(p.heap(), p.at(dy), p.at(dx), n, hh * ww, ch);
      p.done(dy);
      toInput(dx);
    },
  };
}

function denseActForward(p: Pass, layer: DenseAct, x: Buf): { y: Buf; backward: Backward } {
  const dense = denseForward(p, x, variableOf(layer, 'kernel'), variableOf(layer, 'bias'));
  const act = activationForward(p, dense.y, layer.cfg.activation);
  if (act.y !== dense.y) p.done(dense.y);
  return { y: act.y, backward: (dy, toInput) => toInput(dense.backward(act.backward(dy))) };
}

/** Inverted dropout: x times the layer's next mask (0, or 1 / (1 - rate)), products rounded to float32 as tfjs's Mul. */
function dropoutForward(p: Pass, layer: Dropout, x: Buf): { y: Buf; backward: Backward } {
  if (layer.cfg.rate === 0) return { y: x, backward: (dy, toInput) => toInput(dy) };
  const maskTensor = layer.nextMask(x.shape);
  const mask = maskTensor.dataSync() as Float32Array;
  maskTensor.dispose();
  const y = p.alloc(x.shape);
  multiply(p, x, mask, y);
  return {
    y,
    backward: (dy, toInput) => {
      const dx = p.alloc(dy.shape);
      multiply(p, dy, mask, dx);
      p.done(dy);
      toInput(dx);
    },
  };
}

function multiply(p: Pass, a: Buf, mask: Float32Array, out: Buf): void {
  const h = p.heap();
  const n = mask.length;
  const av = new Float32Array(h, p.at(a), n);
  const ov = new Float32Array(h, p.at(out), n);
  for (let i = 0; i < n; i++) ov[i] = Math.fround((av[i] ?? 0) * (mask[i] ?? 0));
}

/** The residual sum; its gradient goes to both inputs unchanged. */
function addForward(p: Pass, a: Buf, b: Buf, inputs: readonly number[]): { y: Buf; backward: Backward } {
  const y = p.alloc(a.shape);
  inferenceNatives().add(p.heap(), p.at(a), p.at(b), p.at(y), tf.util.sizeFromShape(a.shape));
  return {
    y,
    backward: (dy) => {
      dy.readers = 2;
      for (const i of inputs) p.accumulate(i, dy);
    },
  };
}

/** The layer's forward on its inputs' buffers, or null when the plan has no step for the layer. */
function forwardNode(p: Pass, node: Node, xs: Buf[]): { y: Buf; backward: Backward } | null {
  const { layer } = node;
  const [x, second] = xs;
  if (x === undefined) return null;
  if (layer.getClassName() === 'Add' && second !== undefined && xs.length === 2 && x.shape.join() === second.shape.join()) {
    return addForward(p, x, second, node.inputs);
  }
  if (xs.length !== 1) return null;
  if (layer instanceof ConvBn) return layer.cfg.folded === true ? null : convBnForward(p, layer, x, node.inputs[0] !== 0);
  if (layer instanceof SqueezeExcite) return squeezeExciteForward(p, layer, x);
  if (layer instanceof GlobalAvgPool) return poolForward(p, x);
  if (layer instanceof DenseAct) return denseActForward(p, layer, x);
  if (layer instanceof Dropout) return dropoutForward(p, layer, x);
  return null;
}

const symbolic = (t: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor[] => (Array.isArray(t) ? t : [t]);

/** The model's layers as nodes over value indices (0: the input), or null when the graph is not a plain chain of layers. */
function compileNodes(model: tf.LayersModel): { nodes: Node[]; output: number; readers: number[] } | null {
  const [input] = model.inputs;
  const [output] = model.outputs;
  if (input === undefined || output === undefined || model.inputs.length !== 1 || model.outputs.length !== 1) return null;
  const index = new Map<number, number>([[input.id, 0]]);
  const readers = [0];
  const nodes: Node[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1) return null;
    const inputs = symbolic(layer.input).map((t) => index.get(t.id));
    const [out] = symbolic(layer.output);
    if (out === undefined || inputs.some((i) => i === undefined)) return null;
    const ids = inputs as number[];
    for (const i of ids) readers[i] = (readers[i] ?? 0) + 1;
    index.set(out.id, readers.length);
    nodes.push({ layer, inputs: ids, output: readers.length });
    readers.push(0);
  }
  const out = index.get(output.id);
  if (out === undefined) return null;
  readers[out] = (readers[out] ?? 0) + 1;
  return { nodes, output: out, readers };
}

let planEnabled = true;

/** Turn the plan off (on by default) to train through tfjs's tape: for tests and benchmarks that compare the two. */
export function setTrainPlanEnabled(on: boolean): void {
  planEnabled = on;
}

/**
 * `model`'s training step compiled to native calls, or null where it cannot run: another backend than wasm with our
 * kernels, the plan turned off, a folded model, or a layer or graph shape the plan has no step for.
 */
export function compileTrainPlan(model: tf.LayersModel): TrainPlan | null {
  if (!planEnabled || !useFusedKernels()) return null;
  const compiled = compileNodes(model);
  if (compiled === null) return null;
  const supported = compiled.nodes.every(({ layer }) =>
    layer.getClassName() === 'Add' || (layer instanceof ConvBn && layer.cfg.folded !== true) ||
    layer instanceof SqueezeExcite || layer instanceof GlobalAvgPool || layer instanceof DenseAct || layer instanceof Dropout,
  );
  if (!supported) return null;
  const layouts = new Map<string, Layout>(); // by input shape
  return { lossAndGrads: (images, loss, vars) => runStep(compiled, layouts, images, loss, vars) };
}

type Compiled = { readonly nodes: Node[]; readonly output: number; readonly readers: number[] };

function runStep(
  c: Compiled, layouts: Map<string, Layout>, images: tf.Tensor4D, loss: (logits: tf.Tensor2D) => tf.Scalar, vars: readonly tf.Variable[],
): { value: tf.Scalar; grads: tf.Tensor[] } {
  if (images.dtype !== 'float32') throw new Error(`train plan: images must be float32, got ${images.dtype}`);
  const key = images.shape.join();
  const p = new Pass(currentWasmBackend(), layouts.get(key) ?? null);
  try {
    const { logits, backwards } = forwardAll(p, c, images);
    const { value, dLogits } = lossGradient(p, logits, loss);
    try {
      backwardAll(p, c, backwards, { offset: p.at(dLogits), shape: [...dLogits.shape], readers: 1 });
    } finally {
      dLogits.dispose();
    }
    const grads = vars.map((v) => takeGrad(p, v));
    const layout = p.plannedLayout();
    if (layout !== null) layouts.set(key, layout);
    return { value, grads };
  } finally {
    p.dispose();
  }
}

/** Every layer's forward; the logits, and each layer's backward. */
function forwardAll(p: Pass, c: Compiled, images: tf.Tensor4D): { logits: Buf; backwards: Backward[] } {
  // The input is the images' own data: read, never freed.
  const values: Buf[] = [{ offset: p.at(images), shape: [...images.shape], readers: Number.POSITIVE_INFINITY }];
  const backwards: Backward[] = [];
  for (const node of c.nodes) {
    const xs = node.inputs.map((i) => values[i]).filter((v): v is Buf => v !== undefined);
    const r = xs.length === node.inputs.length ? forwardNode(p, node, xs) : null;
    if (r === null) throw new Error(`train plan: no step for layer ${node.layer.name}`);
    // A new output's one reader (its maker) becomes its readers in the graph; a layer that passes its input on
    // (dropout at rate 0) adds them to the input's.
    r.y.readers += (c.readers[node.output] ?? 0) - (r.y === xs[0] ? 0 : 1);
    values[node.output] = r.y;
    backwards.push(r.backward);
    for (const x of xs) p.done(x);
  }
  const logits = values[c.output];
  if (logits === undefined) throw new Error('train plan: no logits');
  return { logits, backwards };
}

/** The loss (tfjs ops on a copy of the logits) and its gradient at the logits, as tf.variableGrads' backward computes it. */
function lossGradient(p: Pass, logits: Buf, loss: (logits: tf.Tensor2D) => tf.Scalar): { value: tf.Scalar; dLogits: tf.Tensor } {
  const [n = 0, k = 0] = logits.shape;
  const logitsT = tf.tensor2d(new Float32Array(p.heap(), logits.offset, n * k).slice(), [n, k]);
  p.done(logits);
  try {
    const { value, grad } = tf.valueAndGrad((l: tf.Tensor) => loss(l as tf.Tensor2D))(logitsT);
    return { value, dLogits: grad };
  } finally {
    logitsT.dispose();
  }
}

/** Every layer's backward, last first, each input's gradient summed over its readers before it is read. */
function backwardAll(p: Pass, c: Compiled, backwards: Backward[], dLogits: Buf): void {
  p.grads.set(c.output, dLogits);
  for (let i = c.nodes.length - 1; i >= 0; i--) {
    const node = c.nodes[i];
    const backward = backwards[i];
    const dy = node === undefined ? undefined : p.grads.get(node.output);
    if (node === undefined || backward === undefined || dy === undefined) continue;
    p.grads.delete(node.output);
    const input = node.inputs[0] ?? -1;
    backward(dy, (dx) => p.accumulate(input, dx));
  }
  for (const g of p.grads.values()) p.done(g);
  p.grads.clear();
}

function takeGrad(p: Pass, v: tf.Variable): tf.Tensor {
  const info = p.weightGrads.get(v);
  if (info === undefined) throw new Error(`train plan: no gradient for ${v.name}`);
  p.weightGrads.delete(v);
  return tf.engine().makeTensorFromTensorInfo(info);
}
