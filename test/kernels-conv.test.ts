// Our native convolution kernels on the 'wasm' backend (backend/kernels) against tfjs's cpu backend: each kernel
// on seeded random geometries (strides 1 and 2, kernels 1/3/5/7, 'same' / 'valid' / explicit / numeric padding,
// odd sizes, channel counts that are not multiples of 8, batch >= 2) and on MobileNetV3-Small's shapes; the
// gradients tf.grads computes through them; tensor counts over repeated calls; registration; errors.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import {
  registerWasmTrainingKernels, wasmTrainingKernelConfigs, wasmTrainingKernelsRegistered,
} from '../backend/kernels/register.js';

const TOL = 1e-4;

type BackendName = 'cpu' | 'wasm';

async function use(name: BackendName): Promise<void> {
  if (tf.getBackend() !== name) assert.ok(await tf.setBackend(name), `backend ${name} did not initialise`);
}

/** A small LCG: deterministic floats in [-1, 1). */
function lcg(seed: number): () => number {
  let a = (seed * 2654435761) >>> 0;
  return () => {
    a = (Math.imul(a, 1664525) + 1013904223) >>> 0;
    return a / 2147483648 - 1;
  };
}

function randomData(n: number, seed: number): Float32Array {
  const r = lcg(seed);
  return Float32Array.from({ length: n }, r);
}

const sizeOf = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1);

/** max |actual - expected| / max |expected|. */
function relErr(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  assert.equal(actual.length, expected.length, 'output sizes differ');
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < expected.length; i++) {
    const d = Math.abs((actual[i] ?? NaN) - (expected[i] ?? NaN));
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(expected[i] ?? 0));
  }
  return scale === 0 ? diff : diff / scale;
}

interface Input {
  shape: number[];
  data: Float32Array;
}

/** Runs a kernel on the named backend with fresh tensors made there; returns its output's shape and values. */
async function runKernel(
  backend: BackendName, kernel: string, inputs: Record<string, Input>, attrs: Record<string, unknown>,
): Promise<{ shape: number[]; data: Float32Array }> {
  await use(backend);
  const tensors: Record<string, tf.Tensor> = {};
  for (const [k, v] of Object.entries(inputs)) tensors[k] = tf.tensor(v.data, v.shape);
  try {
    const out = tf.engine().runKernel(kernel, tensors, attrs as never) as tf.Tensor;
    const result = { shape: out.shape.slice(), data: out.dataSync() as Float32Array };
    out.dispose();
    return result;
  } finally {
    tf.dispose(Object.values(tensors));
  }
}

async function compareKernel(
  label: string, kernel: string, inputs: Record<string, Input>, attrs: Record<string, unknown>,
): Promise<void> {
  const ref = await runKernel('cpu', kernel, inputs, attrs);
  const got = await runKernel('wasm', kernel, inputs, attrs);
  assert.deepEqual(got.shape, ref.shape, `${label}: output shape`);
  const err = relErr(got.data, ref.data);
  assert.ok(err <= TOL, `${label}: relative error ${err.toExponential(2)} > ${TOL}`);
}

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Geometry {
  n: number;
  h: number;
  w: number;
  cin: number;
  /** conv: output channels; depthwise: channel multiplier. */
  cout: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  pad: Pad;
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

function describeGeometry(g: Geometry, depthwise: boolean): string {
  const pad = typeof g.pad === 'object' ? JSON.stringify(g.pad.slice(1, 3)) : String(g.pad);
  return `x[${g.n},${g.h},${g.w},${g.cin}] ${depthwise ? `mult ${g.cout}` : `cout ${g.cout}`} k${g.kh}x${g.kw} ` +
    `s${g.sh}x${g.sw} pad ${pad}${g.dimRoundingMode ? ` ${g.dimRoundingMode}` : ''}`;
}

/** Seeded random geometries covering the required variety. */
function randomGeometries(count: number, seed: number, depthwise: boolean): Geometry[] {
  const r = lcg(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(((r() + 1) / 2) * xs.length)] as T;
  const kernels = [1, 3, 5, 7] as const;
  const cins = depthwise ? [1, 3, 8, 13, 16, 24, 67, 72] : [1, 3, 5, 8, 13, 16, 24];
  const couts = depthwise ? [1, 1, 1, 2, 3] : [1, 4, 8, 11, 17, 32];
  const out: Geometry[] = [];
  for (let i = 0; i < count; i++) {
    const k = kernels[i % 4]!;
    const square = r() > -0.5;
    const kh = k;
    const kw = square ? k : pick(kernels);
    const s = (Math.floor(i / 4) % 2) + 1; // every (kernel, stride) pair with every padding kind
    const sh = s;
    const sw = r() > -0.6 ? s : 3 - s;
    const padKind = Math.floor(i / 8) % 4;
    let pad: Pad;
    let dimRoundingMode: Geometry['dimRoundingMode'];
    if (padKind === 0) pad = 'same';
    else if (padKind === 1) pad = 'valid';
    else if (padKind === 2) {
      const p = (m: number): number => Math.floor(((r() + 1) / 2) * m);
      pad = [[0, 0], [p(kh), p(kh)], [p(kw), p(kw)], [0, 0]];
    } else {
      pad = Math.floor(((r() + 1) / 2) * Math.min(kh, kw));
      dimRoundingMode = pick(['floor', 'round', 'ceil'] as const);
    }
    const odd = (lo: number): number => lo + 2 * Math.floor(((r() + 1) / 2) * 4) + (lo % 2 === 0 ? 1 : 0);
    const h = odd(Math.max(kh, 3));
    const w = odd(Math.max(kw, 3));
    const g: Geometry = {
      n: 2 + (Math.floor(i / 2) % 2), h, w, cin: pick(cins), cout: pick(couts), kh, kw, sh, sw, pad,
      ...(dimRoundingMode ? { dimRoundingMode } : {}),
    };
    out.push(g);
  }
  return out;
}

function attrsOf(g: Geometry, depthwise: boolean): Record<string, unknown> {
  return {
    strides: [g.sh, g.sw], pad: g.pad, dilations: [1, 1], ...(depthwise ? {} : { dataFormat: 'NHWC' }),
    ...(g.dimRoundingMode ? { dimRoundingMode: g.dimRoundingMode } : {}),
  };
}

/** Output shape (from tfjs's own computeConv2DInfo), or null when the geometry has no output. */
function outShapeOf(g: Geometry, depthwise: boolean): number[] | null {
  const info = tf.backend_util.computeConv2DInfo(
    [g.n, g.h, g.w, g.cin], [g.kh, g.kw, g.cin, g.cout], [g.sh, g.sw], 1, g.pad, g.dimRoundingMode, depthwise,
  );
  return info.outShape.every((d) => d > 0) ? info.outShape : null;
}

/** Checks all three kernels of a geometry (forward, backprop filter, backprop input) against cpu. */
async function checkGeometry(g: Geometry, depthwise: boolean, seed: number): Promise<boolean> {
  const yShape = outShapeOf(g, depthwise);
  if (!yShape) return false;
  const xShape = [g.n, g.h, g.w, g.cin];
  const fShape = [g.kh, g.kw, g.cin, g.cout];
  const x = { shape: xShape, data: randomData(sizeOf(xShape), seed) };
  const f = { shape: fShape, data: randomData(sizeOf(fShape), seed + 1) };
  const dy = { shape: yShape, data: randomData(sizeOf(yShape), seed + 2) };
  const attrs = attrsOf(g, depthwise);
  const label = describeGeometry(g, depthwise);
  const names = depthwise
    ? [tf.DepthwiseConv2dNative, tf.DepthwiseConv2dNativeBackpropFilter, tf.DepthwiseConv2dNativeBackpropInput]
    : [tf.Conv2D, tf.Conv2DBackpropFilter, tf.Conv2DBackpropInput];
  await compareKernel(`${names[0]} ${label}`, names[0]!, { x, filter: f }, attrs);
  await compareKernel(`${names[1]} ${label}`, names[1]!, { x, dy }, { ...attrs, filterShape: fShape });
  await compareKernel(`${names[2]} ${label}`, names[2]!, { dy, filter: f }, { ...attrs, inputShape: xShape });
  return true;
}

before(async () => {
  tf.env().set('PROD', true);
  registerWasmTrainingKernels();
  await use('wasm');
});

describe('conv2d kernels match cpu', () => {
  test('random geometries', async () => {
    let checked = 0;
    const geometries = randomGeometries(48, 11, false);
    for (const [i, g] of geometries.entries()) if (await checkGeometry(g, false, 100 + i)) checked++;
    assert.ok(checked >= 40, `only ${checked} geometries had an output`);
  });

  test('large GEMM paths: K slices, packed and in-place operands, several row blocks, im2col chunks', async () => {
    const cases: Geometry[] = [
      { n: 4, h: 9, w: 9, cin: 300, cout: 200, kh: 1, kw: 1, sh: 1, sw: 1, pad: 'valid' },
      { n: 3, h: 7, w: 7, cin: 40, cout: 600, kh: 1, kw: 1, sh: 1, sw: 1, pad: 'same' },
      { n: 2, h: 10, w: 10, cin: 200, cout: 24, kh: 3, kw: 3, sh: 1, sw: 1, pad: 'same' },
      { n: 2, h: 11, w: 11, cin: 9, cout: 100, kh: 1, kw: 1, sh: 2, sw: 2, pad: 'valid' },
    ];
    for (const [i, g] of cases.entries()) assert.ok(await checkGeometry(g, false, 300 + i));
  });
});

describe('depthwise kernels match cpu', () => {
  test('random geometries (multiplier 1, 2, 3)', async () => {
    let checked = 0;
    const geometries = randomGeometries(48, 12, true);
    for (const [i, g] of geometries.entries()) if (await checkGeometry(g, true, 200 + i)) checked++;
    assert.ok(checked >= 40, `only ${checked} geometries had an output`);
  });
});

describe("MobileNetV3-Small's shapes (batch 2) match cpu", () => {
  const conv = (h: number, cin: number, cout: number, k: number, s: number): Geometry => ({
    n: 2, h, w: h, cin, cout, kh: k, kw: k, sh: s, sw: s, pad: 'same',
  });
  test('convolutions', async () => {
    const shapes = [conv(32, 3, 16, 3, 2), conv(8, 16, 72, 1, 1), conv(4, 72, 24, 1, 1), conv(2, 240, 40, 1, 1),
      conv(1, 96, 576, 1, 1), conv(1, 576, 144, 1, 1), conv(1, 1024, 10, 1, 1)];
    for (const [i, g] of shapes.entries()) assert.ok(await checkGeometry(g, false, 400 + i));
  });
  test('depthwise', async () => {
    const dw = (h: number, c: number, k: number, s: number): Geometry => ({ ...conv(h, c, 1, k, s) });
    const shapes = [dw(16, 16, 3, 2), dw(8, 72, 3, 2), dw(4, 88, 3, 1), dw(4, 96, 5, 2), dw(2, 240, 5, 1),
      dw(2, 288, 5, 2), dw(1, 576, 5, 1)];
    for (const [i, g] of shapes.entries()) assert.ok(await checkGeometry(g, true, 500 + i));
  });
});

/** A small conv net block: conv 3x3/2 'same' -> relu -> depthwise 5x5/2 padded 2 (as torchvision) -> conv 1x1 -> weighted sum. */
function blockLoss(x: tf.Tensor4D, w1: tf.Tensor4D, wd: tf.Tensor4D, w2: tf.Tensor4D, r: tf.Tensor4D): tf.Scalar {
  const a = tf.relu(tf.conv2d(x, w1, 2, 'same'));
  const b = tf.depthwiseConv2d(a, wd, 2, [[0, 0], [2, 2], [2, 2], [0, 0]]);
  const c = tf.conv2d(b, w2, 1, 'valid');
  return tf.sum(tf.mul(c, r));
}

const blockShapes: Record<string, [number, number, number, number]> = {
  x: [3, 13, 13, 5], w1: [3, 3, 5, 12], wd: [5, 5, 12, 1], w2: [1, 1, 12, 9], r: [3, 4, 4, 9],
};

async function blockGrads(backend: BackendName): Promise<Float32Array[]> {
  await use(backend);
  return tf.tidy(() => {
    const t = Object.entries(blockShapes).map(([, s], i) => tf.tensor(randomData(sizeOf(s), 700 + i), s) as tf.Tensor4D);
    const [x, w1, wd, w2, r] = t as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
    const grads = tf.grads((xa, w1a, wda, w2a) =>
      blockLoss(xa as tf.Tensor4D, w1a as tf.Tensor4D, wda as tf.Tensor4D, w2a as tf.Tensor4D, r))([x, w1, wd, w2]);
    return grads.map((g) => g.dataSync() as Float32Array);
  });
}

describe('tf.grads through the kernels', () => {
  test('wasm gradients equal cpu gradients', async () => {
    const ref = await blockGrads('cpu');
    const got = await blockGrads('wasm');
    ['x', 'w1', 'wd', 'w2'].forEach((name, i) => {
      const err = relErr(got[i]!, ref[i]!);
      assert.ok(err <= TOL, `d loss / d ${name}: relative error ${err.toExponential(2)}`);
    });
  });

  test('no tensors leak over repeated calls on wasm', async () => {
    await use('wasm');
    const g: Geometry = { n: 2, h: 9, w: 9, cin: 8, cout: 12, kh: 3, kw: 3, sh: 2, sw: 2, pad: 'same' };
    const attrs = attrsOf(g, false);
    const dwAttrs = attrsOf(g, true);
    const x = tf.tensor(randomData(2 * 9 * 9 * 8, 1), [2, 9, 9, 8]) as tf.Tensor4D;
    const w = tf.tensor(randomData(3 * 3 * 8 * 12, 2), [3, 3, 8, 12]) as tf.Tensor4D;
    const wd = tf.tensor(randomData(3 * 3 * 8, 3), [3, 3, 8, 1]) as tf.Tensor4D;
    const dy = tf.tensor(randomData(2 * 5 * 5 * 12, 4), [2, 5, 5, 12]);
    const dyd = tf.tensor(randomData(2 * 5 * 5 * 8, 5), [2, 5, 5, 8]);
    const wd12 = tf.tensor(randomData(3 * 3 * 12, 6), [3, 3, 12, 1]) as tf.Tensor4D;
    const step = (): void => {
      const outs = [
        tf.engine().runKernel(tf.Conv2D, { x, filter: w }, attrs as never),
        tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy }, { ...attrs, filterShape: w.shape } as never),
        tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter: w }, { ...attrs, inputShape: x.shape } as never),
        tf.engine().runKernel(tf.DepthwiseConv2dNative, { x, filter: wd }, dwAttrs as never),
        tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy: dyd }, { ...dwAttrs, filterShape: wd.shape } as never),
        tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropInput, { dy: dyd, filter: wd }, { ...dwAttrs, inputShape: x.shape } as never),
      ];
      tf.dispose(outs as tf.Tensor[]);
      const grads = tf.tidy(() => tf.grads((a, b) => tf.sum(tf.depthwiseConv2d(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, 'same'), wd12, 2, 'same')))([x, w]));
      tf.dispose(grads);
    };
    for (let i = 0; i < 3; i++) step();
    const before = tf.memory();
    for (let i = 0; i < 20; i++) step();
    const after = tf.memory();
    assert.equal(after.numTensors, before.numTensors, 'numTensors grew');
    assert.equal(after.numBytes, before.numBytes, 'numBytes grew');
    tf.dispose([x, w, wd, wd12, dy, dyd]);
  });
});

describe('registration and errors', () => {
  test('registerWasmTrainingKernels is idempotent and installs ours', async () => {
    registerWasmTrainingKernels();
    registerWasmTrainingKernels();
    assert.ok(wasmTrainingKernelsRegistered());
    for (const c of wasmTrainingKernelConfigs) assert.equal(tf.getKernel(c.kernelName, 'wasm')?.kernelFunc, c.kernelFunc);
  });

  test('unsupported attributes: a clear error, or the stock kernel where there is one', async () => {
    await use('wasm');
    const x = tf.tensor(randomData(2 * 7 * 7 * 4, 1), [2, 7, 7, 4]);
    const dy = tf.tensor(randomData(2 * 7 * 7 * 4, 2), [2, 7, 7, 4]);
    try {
      assert.throws(
        () => tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
          { strides: 1, pad: 'same', dataFormat: 'NCHW', filterShape: [3, 3, 4, 4] } as never),
        /NCHW/,
      );
      assert.throws(
        () => tf.engine().runKernel(tf.DepthwiseConv2dNativeBackpropFilter, { x, dy },
          { strides: 1, pad: 'same', dilations: 2, filterShape: [3, 3, 4, 1] } as never),
        /dilations/,
      );
    } finally {
      tf.dispose([x, dy]);
    }
    // Dilated forward convolutions still work: they go to the stock XNNPACK kernels.
    const dilated = { strides: 1, pad: 'same', dilations: [2, 2], dataFormat: 'NHWC' };
    const xi = { shape: [2, 9, 9, 4], data: randomData(2 * 9 * 9 * 4, 3) };
    await compareKernel('dilated Conv2D', tf.Conv2D, { x: xi, filter: { shape: [3, 3, 4, 6], data: randomData(216, 4) } }, dilated);
    await compareKernel('dilated DepthwiseConv2dNative', tf.DepthwiseConv2dNative,
      { x: xi, filter: { shape: [3, 3, 4, 1], data: randomData(36, 5) } }, dilated);
    // NCHW Conv2DBackpropInput goes to the stock kernel too.
    await compareKernel('NCHW Conv2DBackpropInput', tf.Conv2DBackpropInput,
      { dy: { shape: [2, 6, 5, 5], data: randomData(300, 6) }, filter: { shape: [3, 3, 4, 6], data: randomData(216, 7) } },
      { strides: 2, pad: 'same', dataFormat: 'NCHW', inputShape: [2, 4, 9, 9] });
  });
});
