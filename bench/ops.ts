// Milliseconds per call of each fused training op, forward + backward (tf.grads w.r.t. every input with a random
// upstream gradient) and forward alone, on MobileNetV3-Small's shapes (batch 64, input 32x32, NHWC):
//   fused     the op on wasm with its native kernels
//   compos.   the op on wasm with the fused kernels off (its stock-op composite forward and hand-written backward)
//   autograd  tfjs autograd of the straightforward stock-op formula on wasm (what tf.layers does today)
//   cpu       the op on tfjs's cpu backend (the composite path)
// Run: node dist/bench/ops.js [--json] [--quick] [--no-cpu]
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { activation, type ActivationKind } from '../backend/ops/activation.js';
import { batchNormTrain } from '../backend/ops/batchNorm.js';
import { setFusedOpsEnabled } from '../backend/ops/kernels.js';
import { channelScale, globalAvgPool } from '../backend/ops/squeezeExcite.js';

type Variant = 'fused' | 'composite' | 'autograd' | 'cpu';
type Fn = (...xs: tf.Tensor[]) => tf.Tensor;

interface Case {
  readonly op: string;
  readonly shapes: number[][];
  /** Our op. */
  readonly ours: Fn;
  /** The straightforward stock-op formula, differentiated by tfjs's autograd. */
  readonly autograd: Fn;
}

const EPS = 1e-3;

function bnCase(shape: number[]): Case {
  const c = shape[shape.length - 1]!;
  return {
    op: 'batchNormTrain',
    shapes: [shape, [c], [c]],
    ours: (x, g, b) => batchNormTrain(x!, g as tf.Tensor1D, b as tf.Tensor1D, EPS).y,
    autograd: (x, g, b) => {
      const { mean, variance } = tf.moments(x!, Array.from({ length: shape.length - 1 }, (_, i) => i));
      return tf.add(tf.mul(tf.div(tf.sub(x!, mean), tf.sqrt(tf.add(variance, EPS))), g!), b!);
    },
  };
}

function stockActivation(x: tf.Tensor, kind: ActivationKind): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'hswish':
      return tf.div(tf.mul(x, tf.relu6(tf.add(x, 3))), 6);
    case 'hsigmoid':
      return tf.div(tf.relu6(tf.add(x, 3)), 6);
    case 'sigmoid':
      return tf.sigmoid(x);
  }
}

function actCase(kind: ActivationKind, shape: number[]): Case {
  return {
    op: `activation ${kind}`,
    shapes: [shape],
    ours: (x) => activation(x!, kind),
    autograd: (x) => stockActivation(x!, kind),
  };
}

function poolCase(shape: number[]): Case {
  return {
    op: 'globalAvgPool',
    shapes: [shape],
    ours: (x) => globalAvgPool(x as tf.Tensor4D),
    autograd: (x) => tf.mean(x!, [1, 2]),
  };
}

function scaleCase(shape: number[]): Case {
  const [n = 0, , , c = 0] = shape;
  return {
    op: 'channelScale',
    shapes: [shape, [n, c]],
    ours: (x, s) => channelScale(x as tf.Tensor4D, s as tf.Tensor2D),
    autograd: (x, s) => tf.mul(x!, tf.reshape(s!, [n, 1, 1, c])),
  };
}

const N = 64;
const cases: Case[] = [
  bnCase([N, 16, 16, 16]),
  bnCase([N, 8, 8, 16]),
  bnCase([N, 8, 8, 72]),
  bnCase([N, 4, 4, 88]),
  bnCase([N, 2, 2, 240]),
  bnCase([N, 1, 1, 576]),
  actCase('hswish', [N, 16, 16, 16]),
  actCase('relu', [N, 8, 8, 72]),
  actCase('relu', [N, 4, 4, 88]),
  actCase('hswish', [N, 4, 4, 96]),
  actCase('hswish', [N, 2, 2, 240]),
  actCase('hswish', [N, 1024]),
  actCase('relu6', [N, 8, 8, 72]),
  actCase('hsigmoid', [N, 240]),
  actCase('sigmoid', [N, 240]),
  poolCase([N, 8, 8, 16]),
  poolCase([N, 2, 2, 240]),
  poolCase([N, 1, 1, 576]),
  scaleCase([N, 8, 8, 16]),
  scaleCase([N, 2, 2, 96]),
  scaleCase([N, 2, 2, 240]),
  scaleCase([N, 1, 1, 576]),
  // Per-call overhead: a tiny tensor, where the kernels' work is negligible.
  bnCase([1, 1, 1, 8]),
  actCase('hswish', [1, 8]),
];

/** Median ms of fn over enough calls to fill about budgetMs (at least minCalls), after warm-up calls. */
function timeIt(fn: () => void, budgetMs: number, minCalls: number): number {
  for (let i = 0; i < 3; i++) fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < minCalls || (performance.now() - start < budgetMs && times.length < 2000)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

interface Row {
  readonly op: string;
  readonly shape: string;
  /** ms per call: fwd+bwd and fwd alone, per variant. */
  readonly fwdBwd: Partial<Record<Variant, number>>;
  readonly fwd: Partial<Record<Variant, number>>;
}

function measure(c: Case, variant: Variant, budgetMs: number): { fwdBwd: number; fwd: number } {
  const f = variant === 'autograd' ? c.autograd : c.ours;
  const tensorsBefore = tf.memory().numTensors;
  let seed = 1;
  const xs = c.shapes.map((s) => tf.randomNormal(s, 0, 1, 'float32', seed++));
  const yShape = tf.tidy(() => f(...xs).shape);
  const dy = tf.randomNormal(yShape, 0, 1, 'float32', seed++);
  const grads = tf.grads(f);
  const fwdBwd = timeIt(() => tf.dispose(grads(xs, dy)), budgetMs, 5);
  const fwd = timeIt(() => tf.tidy(() => void f(...xs)), budgetMs / 2, 5); // tidy: BN's statistics too
  tf.dispose([...xs, dy]);
  const leaked = tf.memory().numTensors - tensorsBefore;
  if (leaked !== 0) throw new Error(`${c.op} (${variant}) leaked ${leaked} tensors`);
  return { fwdBwd, fwd };
}

async function main(): Promise<void> {
  const json = process.argv.includes('--json');
  const quick = process.argv.includes('--quick');
  const withCpu = !process.argv.includes('--no-cpu');
  const budget = quick ? 100 : 400;
  tf.env().set('PROD', true);
  const variants: Variant[] = ['fused', 'composite', 'autograd', ...(withCpu ? (['cpu'] as const) : [])];
  const rows: Row[] = cases.map((c) => ({ op: c.op, shape: `[${c.shapes[0]!.join(',')}]`, fwdBwd: {}, fwd: {} }));
  for (const v of variants) {
    await tf.setBackend(v === 'cpu' ? 'cpu' : 'wasm');
    setFusedOpsEnabled(v !== 'composite');
    cases.forEach((c, i) => {
      const r = measure(c, v, v === 'cpu' ? budget / 2 : budget);
      rows[i]!.fwdBwd[v] = r.fwdBwd;
      rows[i]!.fwd[v] = r.fwd;
    });
  }
  setFusedOpsEnabled(true);
  if (json) {
    process.stdout.write(`${JSON.stringify({ bench: 'ops', unit: 'ms per call', rows })}\n`);
    return;
  }
  const fmt = (x: number | undefined): string => (x === undefined ? '-' : x < 1 ? x.toFixed(3) : x.toFixed(2));
  const head = ['op', 'shape', ...variants.map((v) => `${v} f+b`), 'fused fwd', 'autograd fwd', 'speedup'];
  const lines = rows.map((r) => [
    r.op,
    r.shape,
    ...variants.map((v) => fmt(r.fwdBwd[v])),
    fmt(r.fwd.fused),
    fmt(r.fwd.autograd),
    `${((r.fwdBwd.autograd ?? NaN) / (r.fwdBwd.fused ?? NaN)).toFixed(1)}x`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  const show = (cells: string[]): string =>
    cells.map((s, i) => (i < 2 ? s.padEnd(widths[i]!) : s.padStart(widths[i]!))).join('  ');
  console.log(`ms per call on MobileNetV3-Small shapes (tfjs ${tf.version.tfjs}); speedup = autograd / fused, fwd+bwd`);
  console.log(show(head));
  for (const l of lines) console.log(show(l));
}

await main();
