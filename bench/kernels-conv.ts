// Milliseconds per call of each convolution kernel on MobileNetV3-Small's shapes (batch 64, input 32x32, NHWC):
//   ours       our native kernels on the 'wasm' backend (backend/kernels/register.ts)
//   stock      tfjs-backend-wasm's own kernel, where it has one (Conv2D, DepthwiseConv2dNative: XNNPACK;
//              Conv2DBackpropInput: a direct loop)
//   stock-new  forward only: the stock XNNPACK kernel given a new filter tensor every call, as in training
//              (XNNPACK creates an operator, packing the weights, per filter tensor); includes the upload
//   ours-new   the same for ours (same upload)
//   cpu        tfjs's cpu backend
// and, at the end, the sum over all of the net's convolution layers (forward + both gradients, one step).
// Run: node dist/bench/kernels-conv.js [--json] [--quick] [--no-cpu] [--filter=substring] [--variants=ours,stock,...] [--all]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { registerWasmTrainingKernels, unregisterWasmTrainingKernels } from '../backend/kernels/register.js';

type Kind = 'conv' | 'dw';
interface Layer {
  readonly label: string;
  readonly kind: Kind;
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly cin: number;
  readonly cout: number; // conv: output channels; dw: = cin
  readonly k: number;
  readonly s: number;
  /** How many times the layer occurs in the net. */
  readonly count: number;
  /** Whether training needs dX (not for the stem: its input is the image). */
  readonly needsDx: boolean;
}

const N = 64;
const conv = (label: string, h: number, cin: number, cout: number, k = 1, s = 1, count = 1, needsDx = true): Layer => ({
  label, kind: 'conv', n: N, h, w: h, cin, cout, k, s, count, needsDx,
});
const dw = (label: string, h: number, c: number, k: number, s: number, count = 1): Layer => ({
  label, kind: 'dw', n: N, h, w: h, cin: c, cout: c, k, s, count, needsDx: true,
});

/** torchvision mobilenet_v3_small at 32x32: every convolution (SE convolutions act on the pooled 1x1 map). */
const net: Layer[] = [
  conv('stem 3x3/2 3->16 @32', 32, 3, 16, 3, 2, 1, false),
  dw('b1 dw3x3/2 16 @16', 16, 16, 3, 2),
  conv('b1 se 16->8 @1', 1, 16, 8), conv('b1 se 8->16 @1', 1, 8, 16),
  conv('b1 pw 16->16 @8', 8, 16, 16),
  conv('b2 pw 16->72 @8', 8, 16, 72), dw('b2 dw3x3/2 72 @8', 8, 72, 3, 2), conv('b2 pw 72->24 @4', 4, 72, 24),
  conv('b3 pw 24->88 @4', 4, 24, 88), dw('b3 dw3x3 88 @4', 4, 88, 3, 1), conv('b3 pw 88->24 @4', 4, 88, 24),
  conv('b4 pw 24->96 @4', 4, 24, 96), dw('b4 dw5x5/2 96 @4', 4, 96, 5, 2),
  conv('b4 se 96->24 @1', 1, 96, 24), conv('b4 se 24->96 @1', 1, 24, 96), conv('b4 pw 96->40 @2', 2, 96, 40),
  conv('b5 pw 40->240 @2', 2, 40, 240, 1, 1, 2), dw('b5 dw5x5 240 @2', 2, 240, 5, 1, 2),
  conv('b5 se 240->64 @1', 1, 240, 64, 1, 1, 2), conv('b5 se 64->240 @1', 1, 64, 240, 1, 1, 2),
  conv('b5 pw 240->40 @2', 2, 240, 40, 1, 1, 2),
  conv('b7 pw 40->120 @2', 2, 40, 120), dw('b7 dw5x5 120 @2', 2, 120, 5, 1),
  conv('b7 se 120->32 @1', 1, 120, 32), conv('b7 se 32->120 @1', 1, 32, 120), conv('b7 pw 120->48 @2', 2, 120, 48),
  conv('b8 pw 48->144 @2', 2, 48, 144), dw('b8 dw5x5 144 @2', 2, 144, 5, 1),
  conv('b8 se 144->40 @1', 1, 144, 40), conv('b8 se 40->144 @1', 1, 40, 144), conv('b8 pw 144->48 @2', 2, 144, 48),
  conv('b9 pw 48->288 @2', 2, 48, 288), dw('b9 dw5x5/2 288 @2', 2, 288, 5, 2),
  conv('b9 se 288->72 @1', 1, 288, 72), conv('b9 se 72->288 @1', 1, 72, 288), conv('b9 pw 288->96 @1', 1, 288, 96),
  conv('b10 pw 96->576 @1', 1, 96, 576, 1, 1, 2), dw('b10 dw5x5 576 @1', 1, 576, 5, 1, 2),
  conv('b10 se 576->144 @1', 1, 576, 144, 1, 1, 2), conv('b10 se 144->576 @1', 1, 144, 576, 1, 1, 2),
  conv('b10 pw 576->96 @1', 1, 576, 96, 1, 1, 2),
  conv('last pw 96->576 @1', 1, 96, 576),
];

/** The layers shown one by one (the totals cover all of them). */
const shown = new Set([
  'stem 3x3/2 3->16 @32', 'b1 dw3x3/2 16 @16', 'b1 pw 16->16 @8', 'b2 pw 16->72 @8', 'b2 dw3x3/2 72 @8',
  'b2 pw 72->24 @4', 'b3 dw3x3 88 @4', 'b4 dw5x5/2 96 @4', 'b5 pw 40->240 @2', 'b5 dw5x5 240 @2', 'b5 pw 240->40 @2',
  'b9 dw5x5/2 288 @2', 'b10 pw 96->576 @1', 'b10 dw5x5 576 @1', 'b10 pw 576->96 @1',
]);

type Op = 'fwd' | 'dW' | 'dX';
type Variant = 'ours' | 'stock' | 'ours-new' | 'stock-new' | 'cpu';

const kernelOf: Record<Kind, Record<Op, string>> = {
  conv: { fwd: tf.Conv2D, dW: tf.Conv2DBackpropFilter, dX: tf.Conv2DBackpropInput },
  dw: { fwd: tf.DepthwiseConv2dNative, dW: tf.DepthwiseConv2dNativeBackpropFilter, dX: tf.DepthwiseConv2dNativeBackpropInput },
};
const stockWasm = new Set<string>([tf.Conv2D, tf.DepthwiseConv2dNative, tf.Conv2DBackpropInput]);

function shapes(l: Layer): { x: number[]; f: number[]; y: number[] } {
  return {
    x: [l.n, l.h, l.w, l.cin],
    f: l.kind === 'conv' ? [l.k, l.k, l.cin, l.cout] : [l.k, l.k, l.cin, 1],
    y: [l.n, Math.ceil(l.h / l.s), Math.ceil(l.w / l.s), l.cout], // pad 'same'
  };
}

function random(shape: number[], seed: number): tf.Tensor {
  let a = seed >>> 0;
  const n = shape.reduce((p, q) => p * q, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    data[i] = a / 4294967296 - 0.5;
  }
  return tf.tensor(data, shape);
}

/** Mean ms per call: repeats for at least minMs (and minCalls calls), best of `trials` such trials. */
function timeIt(fn: () => void, minMs: number, minCalls = 3, trials = 3): number {
  fn();
  if (trials > 1) fn();
  let best = Infinity;
  for (let trial = 0; trial < trials; trial++) {
    let calls = 0;
    const t0 = performance.now();
    let t = t0;
    while (calls < minCalls || t - t0 < minMs) {
      fn();
      calls++;
      t = performance.now();
    }
    best = Math.min(best, (t - t0) / calls);
  }
  return best;
}

function measure(l: Layer, op: Op, variant: Variant, minMs: number): number | null {
  const kernel = kernelOf[l.kind][op];
  if (variant === 'stock' && !stockWasm.has(kernel)) return null;
  if ((variant === 'ours-new' || variant === 'stock-new') && op !== 'fwd') return null;
  if (op === 'dX' && !l.needsDx) return null;
  const s = shapes(l);
  const attrs: Record<string, unknown> = { strides: [l.s, l.s], pad: 'same', dilations: [1, 1], dataFormat: 'NHWC' };
  const x = random(s.x, 1);
  const f = random(s.f, 2);
  const dy = random(s.y, 3);
  const filterData = f.dataSync().slice();
  const run = (): void => {
    let out: tf.TensorInfo;
    if (op === 'fwd') {
      if (variant === 'ours-new' || variant === 'stock-new') {
        const fresh = tf.tensor(filterData, s.f);
        out = tf.engine().runKernel(kernel, { x, filter: fresh }, attrs as never) as tf.TensorInfo;
        fresh.dispose();
      } else {
        out = tf.engine().runKernel(kernel, { x, filter: f }, attrs as never) as tf.TensorInfo;
      }
    } else if (op === 'dW') {
      out = tf.engine().runKernel(kernel, { x, dy }, { ...attrs, filterShape: s.f } as never) as tf.TensorInfo;
    } else {
      out = tf.engine().runKernel(kernel, { dy, filter: f }, { ...attrs, inputShape: s.x } as never) as tf.TensorInfo;
    }
    tf.dispose(out as tf.Tensor);
  };
  // cpu is slow (up to a second a call): one warm-up and one timed call or more.
  const ms = variant === 'cpu' ? timeIt(run, minMs, 1, 1) : timeIt(run, minMs);
  tf.dispose([x, f, dy]);
  return ms;
}

async function useVariant(v: Variant): Promise<void> {
  const backend = v === 'cpu' ? 'cpu' : 'wasm';
  if (tf.getBackend() !== backend) await tf.setBackend(backend);
  if (v === 'stock' || v === 'stock-new') unregisterWasmTrainingKernels();
  else registerWasmTrainingKernels();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const json = argv.includes('--json');
  const quick = argv.includes('--quick');
  const noCpu = argv.includes('--no-cpu');
  const filter = argv.find((a) => a.startsWith('--filter='))?.slice('--filter='.length);
  const minMs = quick ? 40 : 150;
  tf.env().set('PROD', true);
  await tf.setBackend('wasm');
  registerWasmTrainingKernels();

  const only = argv.find((a) => a.startsWith('--variants='))?.slice('--variants='.length).split(',');
  const variants: Variant[] = (['ours', 'stock', 'ours-new', 'stock-new', 'cpu'] as const).filter(
    (v) => (only ? only.includes(v) : v !== 'cpu' || !noCpu),
  );
  const ops: Op[] = ['fwd', 'dW', 'dX'];
  const results: { layer: string; op: Op; kernel: string; ms: Partial<Record<Variant, number>> }[] = [];
  const layers = net.filter((l) => !filter || l.label.includes(filter));
  // Variant-major, so that each backend / registration switch happens once.
  const table = new Map<string, Partial<Record<Variant, number>>>();
  for (const v of variants) {
    await useVariant(v);
    for (const l of layers) {
      for (const op of ops) {
        // cpu is slow: time it on the shown layers only, and briefly.
        if (v === 'cpu' && !shown.has(l.label)) continue;
        const ms = measure(l, op, v, v === 'cpu' ? minMs / 3 : minMs);
        if (ms === null) continue;
        const key = `${l.label}|${op}`;
        table.set(key, { ...table.get(key), [v]: ms });
      }
    }
  }
  await useVariant('ours');
  for (const l of layers) {
    for (const op of ops) {
      const ms = table.get(`${l.label}|${op}`);
      if (ms) results.push({ layer: l.label, op, kernel: kernelOf[l.kind][op], ms });
    }
  }
  if (json) {
    console.log(JSON.stringify({ results }));
    return;
  }
  const f = (x: number | undefined): string => (x === undefined ? '-' : x.toFixed(3)).padStart(9);
  console.log(`ms per call, batch ${N}, best of 3 trials; tfjs ${tf.version.tfjs}`);
  console.log(`${'layer'.padEnd(24)} ${'op'.padEnd(4)} ${variants.map((v) => v.padStart(9)).join(' ')}`);
  const all = argv.includes('--all');
  for (const r of results) {
    if (!all && !shown.has(r.layer)) continue;
    console.log(`${r.layer.padEnd(24)} ${r.op.padEnd(4)} ${variants.map((v) => f(r.ms[v])).join(' ')}`);
  }
  // Sums over all of the net's layers (x count) per kernel, over the layers where every variant was timed.
  console.log('\nwhole net (all layers x count), ms per training step, per kernel:');
  console.log(`${'kernel'.padEnd(38)} ${variants.filter((v) => v !== 'cpu').map((v) => v.padStart(9)).join(' ')}`);
  for (const kind of ['conv', 'dw'] as const) {
    for (const op of ops) {
      const kernel = kernelOf[kind][op];
      const sums: Partial<Record<Variant, number>> = {};
      for (const l of layers) {
        if (l.kind !== kind) continue;
        const ms = table.get(`${l.label}|${op}`);
        if (!ms) continue;
        for (const v of variants) if (ms[v] !== undefined) sums[v] = (sums[v] ?? 0) + ms[v]! * l.count;
      }
      console.log(`${kernel.padEnd(38)} ${variants.filter((v) => v !== 'cpu').map((v) => f(sums[v])).join(' ')}`);
    }
  }
  // A training step: forward given a new filter tensor (as after every optimizer step), dW, dX.
  let ours = 0;
  let stockWhereAny = 0;
  for (const l of layers) {
    for (const op of ops) {
      const ms = table.get(`${l.label}|${op}`);
      if (!ms) continue;
      const o = op === 'fwd' ? ms['ours-new'] : ms.ours;
      const stock = op === 'fwd' ? ms['stock-new'] : ms.stock;
      ours += (o ?? 0) * l.count;
      stockWhereAny += (stock ?? o ?? 0) * l.count;
    }
  }
  console.log(`all convolution kernels of one training step: ours ${ours.toFixed(2)} ms; ` +
    `stock kernels where tfjs-backend-wasm has them (ours for the rest) ${stockWhereAny.toFixed(2)} ms`);
}

await main();
