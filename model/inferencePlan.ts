// A folded model (model/fold.ts) compiled to a list of native kernel calls on the wasm heap: the forward pass
// without tfjs-layers' graph walk and tfjs-core's per-op bookkeeping (tensor tracking, scopes, kernel lookup), which
// at batch 1 cost about 30 us a layer, as much as MobileNetV3-Small's arithmetic (measured: 1.9 of its 5.8 ms).
// The calls are those the layers' inference ops make (backend/ops/inference.ts), so the outputs equal
// model.execute's bit for bit. Buffers are allocated at compile time and reused once their last reader has run
// (the activations of a network fit in a few of them, which stay in cache); a run allocates nothing, so the heap
// cannot grow under it. Node only: the wasm backend with our native kernels.
import * as tf from '@tensorflow/tfjs';
import { actCode, callConv, convGeometry, inferenceNatives } from '../backend/ops/inferenceKernels.js';
import { useFusedKernels } from '../backend/ops/fused.js';
import { currentWasmBackend, heap, offsetOf, type WasmBackend } from '../backend/wasmHeap.js';
import { weightByName } from './fold.js';
import { ConvBn, DenseAct, Dropout, GlobalAvgPool, SqueezeExcite } from './layers.js';

/**
 * What times a network where plans compile: recorded in latency tables (`engine`), so that a table timed by another
 * engine (tfjs layer by layer, or an earlier plan whose times differ) is refused rather than mixed with this one's.
 * Raise the number when a change to the plan moves its times.
 */
export const PLAN_ENGINE = 'nas-plan-2';

/** The engine that computes a forward pass here: PLAN_ENGINE on wasm with our kernels, else tfjs op by op. */
export function inferenceEngine(): string {
  return useFusedKernels() ? PLAN_ENGINE : 'tfjs';
}

export interface InferencePlan {
  /** The input shape the plan was compiled for (batch included). */
  readonly inputShape: readonly number[];
  /** Runs the network on `x` (float32, on the wasm backend); the outputs' data, or only their first element. */
  run(x: tf.Tensor, readBack?: 'all' | 'one'): Float32Array[];
  /** Each native call's layer and its times (ms) in `runs` whole runs on `x`, each call timed where it runs in the pass. */
  profile(x: tf.Tensor, runs: number): { layer: string; samplesMs: number[] }[];
  /** Frees the plan's buffers (the model's weights are the model's). */
  dispose(): void;
}

/** Where a value lives at run time: the input tensor's data, or a buffer of the plan. */
type Slot = { readonly kind: 'input' } | { readonly kind: 'buffer'; readonly buffer: Buffer };

interface Buffer {
  /** Its place on the heap, allocated once the plan is compiled (BufferPool.allocate). */
  info: tf.TensorInfo | null;
  offset: number;
  /** The most floats a value held in it has. */
  floats: number;
  /** Readers still to run (steps, or the plan's outputs, which hold theirs to the end). */
  readers: number;
}

/** One native call; `at` gives a slot's byte offset in this run. */
type Step = (h: ArrayBuffer, at: (s: Slot) => number) => void;

interface Value {
  readonly slot: Slot;
  readonly shape: number[];
}

/** What compiling a layer needs: its values, and buffers for its output. */
interface Compiler {
  readonly backend: WasmBackend;
  output(shape: number[]): Value;
}

/** A weight's offset, read at each run: setWeights gives the variable new data (a new place on the heap). */
const weightOffset = (b: WasmBackend, layer: tf.layers.Layer, suffix: string): (() => number) => {
  const w = weightByName(layer, suffix);
  return () => offsetOf(b, w);
};

function convStep(c: Compiler, layer: ConvBn, x: Value): [Step, Value] | null {
  if (layer.cfg.folded !== true) return null;
  const kernel = weightByName(layer, 'kernel');
  const pad = layer.cfg.padding === 'same' ? 'same' : Math.floor(layer.cfg.kernelSize / 2);
  const geom = convGeometry(x.shape, kernel.shape, layer.cfg.strides, pad, layer.cfg.depthwise);
  const y = c.output(geom.outShape);
  const kind = actCode(layer.cfg.activation, layer.name);
  const [w, bias] = [weightOffset(c.backend, layer, 'kernel'), weightOffset(c.backend, layer, 'bias')];
  return [(h, at) => callConv(layer.cfg.depthwise, h, at(x.slot), w(), at(y.slot), geom.args, bias(), kind), y];
}

function squeezeExciteStep(c: Compiler, layer: SqueezeExcite, x: Value): [Step, Value] {
  const [n = 0, hh = 0, ww = 0, ch = 0] = x.shape;
  const r = weightByName(layer, 'reduce_bias').shape[0] ?? 0;
  const ws = ['reduce_kernel', 'reduce_bias', 'expand_kernel', 'expand_bias'].map((s) => weightOffset(c.backend, layer, s));
  const [w1, b1, w2, b2] = ws as [() => number, () => number, () => number, () => number];
  const gate = actCode(layer.cfg.gate, layer.name);
  const y = c.output(x.shape);
  return [(h, at) => inferenceNatives().se(h, at(x.slot), w1(), b1(), w2(), b2(), at(y.slot), n, hh * ww, ch, r, gate), y];
}

function denseStep(c: Compiler, layer: DenseAct, x: Value): [Step, Value] {
  const [m = 0, k = 0] = x.shape;
  const units = layer.cfg.units;
  const [w, bias] = [weightOffset(c.backend, layer, 'kernel'), weightOffset(c.backend, layer, 'bias')];
  const kind = actCode(layer.cfg.activation, layer.name);
  const y = c.output([m, units]);
  return [(h, at) => inferenceNatives().dense(h, at(x.slot), w(), bias(), at(y.slot), m, k, units, kind), y];
}

function poolStep(c: Compiler, x: Value): [Step, Value] {
  const [n = 0, hh = 0, ww = 0, ch = 0] = x.shape;
  const y = c.output([n, ch]);
  return [(h, at) => inferenceNatives().pool(h, at(x.slot), at(y.slot), n, hh * ww, ch), y];
}

function addStep(c: Compiler, a: Value, b: Value): [Step, Value] | null {
  if (a.shape.join() !== b.shape.join()) return null;
  const y = c.output(a.shape);
  const n = tf.util.sizeFromShape(a.shape);
  return [(h, at) => inferenceNatives().add(h, at(a.slot), at(b.slot), at(y.slot), n), y];
}

/** The step of one layer (no step: its output is its input), or null when the plan cannot run the layer. */
function layerStep(c: Compiler, layer: tf.layers.Layer, xs: Value[]): [Step | null, Value] | null {
  const [x, second] = xs;
  if (x === undefined) return null;
  if (xs.length === 2 && second !== undefined && layer.getClassName() === 'Add') return addStep(c, x, second);
  if (xs.length !== 1) return null;
  if (layer instanceof ConvBn) return convStep(c, layer, x);
  if (layer instanceof SqueezeExcite) return squeezeExciteStep(c, layer, x);
  if (layer instanceof DenseAct) return denseStep(c, layer, x);
  if (layer instanceof GlobalAvgPool) return poolStep(c, x);
  if (layer instanceof Dropout) return [null, x];
  return null;
}

const symbolic = (t: tf.SymbolicTensor | tf.SymbolicTensor[]): tf.SymbolicTensor[] => (Array.isArray(t) ? t : [t]);

/**
 * Buffers reused once free, whatever their size: a value takes the buffer freed last (its lines are the likeliest to
 * be in cache), which grows to the largest value it holds; the buffers are allocated once the plan is compiled.
 * (Reusing only buffers of the same size, as before, left a buffer per distinct shape: MobileNetV3-Large's values
 * then spread over about 10 MB, each layer writing to lines no recent layer had touched.)
 */
class BufferPool {
  private readonly free: Buffer[] = [];
  readonly all: Buffer[] = [];

  constructor(readonly backend: WasmBackend) {}

  take(shape: number[]): Buffer {
    const floats = tf.util.sizeFromShape(shape);
    let b = this.free.pop();
    if (b === undefined) {
      b = { info: null, offset: -1, floats: 0, readers: 0 };
      this.all.push(b);
    }
    b.floats = Math.max(b.floats, floats);
    return b;
  }

  /** One reader of the slot has run; its buffer is free after the last. */
  read(slot: Slot): void {
    if (slot.kind !== 'buffer' || --slot.buffer.readers > 0) return;
    this.free.push(slot.buffer);
  }

  /** Places every buffer on the heap. */
  allocate(): void {
    for (const b of this.all) {
      b.info = this.backend.makeOutput([b.floats], 'float32');
      b.offset = offsetOf(this.backend, b.info);
    }
  }

  dispose(): void {
    for (const b of this.all) if (b.info !== null) this.backend.disposeData(b.info.dataId, true);
  }
}

interface Compiled {
  readonly steps: Step[];
  /** The layer of each step. */
  readonly layers: string[];
  readonly outputs: Value[];
}

/** Readers of each symbolic tensor: the layers that take it, and the model outputs. */
function readerCounts(model: tf.LayersModel): Map<number, number> {
  const counts = new Map<number, number>();
  const count = (t: tf.SymbolicTensor): void => void counts.set(t.id, (counts.get(t.id) ?? 0) + 1);
  for (const layer of model.layers) if (layer.inboundNodes.length > 0 && layer.getClassName() !== 'InputLayer') symbolic(layer.input).forEach(count);
  model.outputs.forEach(count);
  return counts;
}

function compileLayers(model: tf.LayersModel, inputShape: number[], pool: BufferPool): Compiled | null {
  const [input] = model.inputs;
  if (input === undefined || model.inputs.length !== 1) return null;
  const readers = readerCounts(model);
  const values = new Map<number, Value>([[input.id, { slot: { kind: 'input' }, shape: inputShape }]]);
  const steps: Step[] = [];
  const layers: string[] = [];
  for (const layer of model.layers) {
    if (layer.getClassName() === 'InputLayer') continue;
    if (layer.inboundNodes.length !== 1) return null;
    const ins = symbolic(layer.input).map((t) => values.get(t.id));
    const xs = ins.filter((v): v is Value => v !== undefined);
    if (xs.length !== ins.length) return null;
    const compiler: Compiler = { backend: pool.backend, output: (shape) => ({ slot: { kind: 'buffer', buffer: pool.take(shape) }, shape }) };
    const r = layerStep(compiler, layer, xs);
    if (r === null) return null;
    const [step, y] = r;
    if (step !== null) {
      steps.push(step);
      layers.push(layer.name);
    }
    const [sym] = symbolic(layer.output);
    if (sym === undefined) return null;
    if (y.slot.kind === 'buffer') y.slot.buffer.readers += readers.get(sym.id) ?? 0;
    values.set(sym.id, y);
    for (const x of xs) pool.read(x.slot);
  }
  const outputs = model.outputs.map((t) => values.get(t.id));
  return outputs.every((v): v is Value => v !== undefined) ? { steps, layers, outputs } : null;
}

/**
 * `model` (its folded form) compiled for inputs of `inputShape` (batch included), or null when the backend is not
 * wasm with our kernels or a layer has no native step (an unfolded convolution, a layer of another kind).
 */
export function compileInference(model: tf.LayersModel, inputShape: readonly number[]): InferencePlan | null {
  if (!useFusedKernels()) return null;
  const backend = currentWasmBackend();
  const pool = new BufferPool(backend);
  const compiled = compileLayers(model, [...inputShape], pool);
  if (compiled === null) return null;
  pool.allocate();
  return {
    inputShape: [...inputShape],
    run: (x, readBack = 'all') => runPlan(backend, compiled, inputShape, x, readBack),
    profile: (x, runs) => profilePlan(backend, compiled, inputShape, x, runs),
    dispose: () => pool.dispose(),
  };
}

/** The heap and slot offsets of a run on `x`, checked against the plan's input shape. */
function runContext(b: WasmBackend, inputShape: readonly number[], x: tf.Tensor): [ArrayBuffer, (s: Slot) => number] {
  if (x.dtype !== 'float32' || x.shape.join() !== inputShape.join()) {
    throw new Error(`inference plan: expected a float32 input of shape [${inputShape.join(', ')}], got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  const xo = offsetOf(b, x);
  return [heap(b), (s) => (s.kind === 'input' ? xo : s.buffer.offset)];
}

function profilePlan(b: WasmBackend, c: Compiled, inputShape: readonly number[], x: tf.Tensor, runs: number): { layer: string; samplesMs: number[] }[] {
  const [h, at] = runContext(b, inputShape, x);
  const samples = c.steps.map((): number[] => []);
  for (let r = 0; r < runs; r++) {
    c.steps.forEach((step, i) => {
      const t0 = performance.now();
      step(h, at);
      samples[i]?.push(performance.now() - t0);
    });
  }
  return c.layers.map((layer, i) => ({ layer, samplesMs: samples[i] ?? [] }));
}

function runPlan(b: WasmBackend, c: Compiled, inputShape: readonly number[], x: tf.Tensor, readBack: 'all' | 'one'): Float32Array[] {
  const [h, at] = runContext(b, inputShape, x);
  for (const step of c.steps) step(h, at);
  return c.outputs.map((v) => {
    const n = readBack === 'one' ? Math.min(1, tf.util.sizeFromShape(v.shape)) : tf.util.sizeFromShape(v.shape);
    return new Float32Array(h, at(v.slot), n).slice();
  });
}
