// Optimizers, clipping, label smoothing and EMA against float64 references written from the definitions (TF1
// RMSPropOptimizer, TF MomentumOptimizer / PyTorch SGD, PyTorch AdamW), on both update paths: the fused native
// update (wasm) and tfjs ops (wasm with fused off, and the cpu backend).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { fusedSumSquares, fusedUpdatesAvailable } from '../backend/kernels/optimizerUpdate.js';
import { useBackend } from '../backend/select.js';
import { clipByGlobalNorm } from '../train/clip.js';
import { defaultTrainConfig, type OptimizerConfig } from '../train/config.js';
import { emaDecay, WeightEma } from '../train/ema.js';
import { softmaxCrossEntropy } from '../train/loss.js';
import { createOptimizer, decays, type Optimizer, type Param } from '../train/optimizers.js';
import { rng } from './random.js';

type Vec = number[];

const SIZES = [7, 5];
const NAMES = ['b0.expand/kernel', 'b0.expand/gamma'];
const STEPS = 4;
const LRS = [0.1, 0.05, 0.2, 0.07];

function randomVec(seed: number, n: number, scale = 1): Vec {
  const r = rng(seed);
  return Array.from({ length: n }, () => (r() * 2 - 1) * scale);
}
const initial = SIZES.map((n, i) => randomVec(100 + i, n));
const gradsAt = (step: number): Vec[] => SIZES.map((n, i) => randomVec(1000 + step * 10 + i, n, 0.5));

interface RefOptions {
  readonly cfg: OptimizerConfig;
  readonly wd: number;
  readonly scale?: number;
}

/** The reference trajectory in float64: final weights of each parameter. */
function reference({ cfg, wd, scale = 1 }: RefOptions): Vec[] {
  return initial.map((w0, pi) => {
    const decay = decays(NAMES[pi] ?? '', 'bn');
    const w = [...w0];
    const s1: number[] = w.map(() => (cfg.type === 'rmsprop' ? 1 : 0));
    const s2: number[] = w.map(() => 0);
    for (let t = 1; t <= STEPS; t++) {
      const lr = LRS[t - 1] ?? 0;
      const g0 = gradsAt(t)[pi] ?? [];
      for (let i = 0; i < w.length; i++) {
        let g = (g0[i] ?? 0) * scale;
        const wi = w[i] ?? 0;
        if (cfg.type === 'sgd') {
          if (decay) g += wd * wi;
          const m = cfg.momentum * (s1[i] ?? 0) + g;
          s1[i] = m;
          w[i] = wi - lr * (cfg.nesterov ? g + cfg.momentum * m : m);
        } else if (cfg.type === 'rmsprop') {
          if (decay) g += wd * wi;
          const eps = cfg.eps ?? 1e-3;
          const ms = cfg.rho * (s1[i] ?? 0) + (1 - cfg.rho) * g * g;
          const mom = cfg.momentum * (s2[i] ?? 0) + (lr * g) / Math.sqrt(ms + eps);
          s1[i] = ms;
          s2[i] = mom;
          w[i] = wi - mom;
        } else {
          const [b1, b2] = cfg.betas;
          const eps = cfg.eps ?? 1e-8;
          const wd0 = decay ? wi * (1 - lr * wd) : wi;
          const m = b1 * (s1[i] ?? 0) + (1 - b1) * g;
          const v = b2 * (s2[i] ?? 0) + (1 - b2) * g * g;
          s1[i] = m;
          s2[i] = v;
          const mhat = m / (1 - b1 ** t);
          const vhat = v / (1 - b2 ** t);
          w[i] = wd0 - (lr * mhat) / (Math.sqrt(vhat) + eps);
        }
      }
    }
    return w;
  });
}

function makeParams(): Param[] {
  return initial.map((w, i) => ({
    name: NAMES[i] ?? '',
    variable: tf.variable(tf.tensor1d(w)),
    decay: decays(NAMES[i] ?? '', 'bn'),
  }));
}

function run(opt: Optimizer, from: number, to: number, scale = 1): void {
  for (let t = from; t <= to; t++) {
    const grads = gradsAt(t).map((g) => tf.tensor1d(g));
    opt.applyGradients(grads, LRS[t - 1] ?? 0, scale);
    tf.dispose(grads);
  }
}

function weightsOf(params: readonly Param[]): Vec[] {
  return params.map((p) => Array.from(p.variable.dataSync()));
}

function assertClose(got: Vec[], want: Vec[], tol: number, what: string): void {
  got.forEach((g, pi) =>
    g.forEach((v, i) => {
      const w = want[pi]?.[i] ?? Number.NaN;
      assert.ok(Math.abs(v - w) <= tol * Math.max(1, Math.abs(w)), `${what}: param ${pi}[${i}] = ${v}, want ${w}`);
    }),
  );
}

const base = defaultTrainConfig.optimizer;
const cases: [string, OptimizerConfig, number][] = [
  ['sgd', { ...base, type: 'sgd', momentum: 0, nesterov: false }, 0.01],
  ['sgd momentum', { ...base, type: 'sgd', momentum: 0.9 }, 0.01],
  ['sgd nesterov', { ...base, type: 'sgd', momentum: 0.9, nesterov: true }, 0.01],
  ['rmsprop (TF1)', { ...base, type: 'rmsprop', rho: 0.9, momentum: 0.9, eps: 1e-3 }, 0.01],
  ['adamw', { ...base, type: 'adamw', betas: [0.9, 0.999], eps: 1e-8 }, 0.05],
];

describe('optimizers', () => {
  for (const [name, cfg, wd] of cases) {
    it(`${name} follows its reference on the fused path, tfjs ops and cpu`, async () => {
      const want = reference({ cfg, wd });
      for (const [backend, fused] of [
        ['wasm', true],
        ['wasm', false],
        ['cpu', false],
      ] as const) {
        await useBackend(backend);
        const params = makeParams();
        const opt = createOptimizer(params, cfg, wd, { fused });
        if (backend === 'wasm' && fused) assert.equal(opt.fused, fusedUpdatesAvailable());
        run(opt, 1, STEPS);
        assertClose(weightsOf(params), want, 2e-6, `${name} on ${backend}${fused ? ' fused' : ''}`);
        opt.dispose();
        tf.dispose(params.map((p) => p.variable));
      }
      await useBackend('wasm');
    });
  }

  it('applies a gradient scale (clipping) before weight decay', async () => {
    await useBackend('wasm');
    const cfg: OptimizerConfig = { ...base, type: 'sgd', momentum: 0.9 };
    const want = reference({ cfg, wd: 0.01, scale: 0.3 });
    for (const fused of [true, false]) {
      const params = makeParams();
      const opt = createOptimizer(params, cfg, 0.01, { fused });
      run(opt, 1, STEPS, 0.3);
      assertClose(weightsOf(params), want, 2e-6, `scaled, fused ${fused}`);
      opt.dispose();
      tf.dispose(params.map((p) => p.variable));
    }
  });

  it('restores its state exactly: save after 2 steps, restore into a fresh optimizer, same bits after 4', async () => {
    await useBackend('wasm');
    for (const [name, cfg, wd] of cases) {
      const a = makeParams();
      const optA = createOptimizer(a, cfg, wd);
      run(optA, 1, 2);
      const state = optA.getState();
      assert.equal(state.iterations, 2);
      const b = makeParams();
      b.forEach((p, i) => p.variable.assign(a[i]?.variable ?? p.variable));
      const optB = createOptimizer(b, cfg, wd);
      optB.setState(state);
      run(optA, 3, STEPS);
      run(optB, 3, STEPS);
      assert.deepEqual(weightsOf(b), weightsOf(a), `${name}: resumed optimizer diverges`);
      optA.dispose();
      optB.dispose();
      tf.dispose([...a, ...b].map((p) => p.variable));
    }
  });

  it('refuses state of another optimizer type', async () => {
    await useBackend('wasm');
    const p = makeParams();
    const sgd = createOptimizer(p, { ...base, type: 'sgd' }, 0);
    const adam = createOptimizer(p, { ...base, type: 'adamw' }, 0);
    assert.throws(() => adam.setState(sgd.getState()), /optimizer state is for sgd/);
    sgd.dispose();
    adam.dispose();
    tf.dispose(p.map((x) => x.variable));
  });

  it('excludes BN gamma/beta (and biases when asked) from weight decay', () => {
    assert.equal(decays('s1.b0.expand/kernel', 'bn'), true);
    assert.equal(decays('s1.b0.expand/gamma', 'bn'), false);
    assert.equal(decays('stem/beta', 'bn'), false);
    assert.equal(decays('head.classifier/bias', 'bn'), true);
    assert.equal(decays('head.classifier/bias', 'bn-and-bias'), false);
    assert.equal(decays('s1.b0.se/reduce_bias', 'bn-and-bias'), false);
    assert.equal(decays('stem/gamma', 'none'), true);
  });

  it('does not leak tensors on either path', async () => {
    await useBackend('wasm');
    for (const fused of [true, false]) {
      const params = makeParams();
      const opt = createOptimizer(params, { ...base, type: 'adamw' }, 0.01, { fused });
      run(opt, 1, 1);
      const before = tf.memory().numTensors;
      run(opt, 2, STEPS);
      assert.equal(tf.memory().numTensors, before, `fused ${fused}`);
      opt.dispose();
      tf.dispose(params.map((p) => p.variable));
    }
  });
});

describe('gradient clipping', () => {
  it('scales all gradients by maxNorm / globalNorm when the norm is larger', async () => {
    await useBackend('wasm');
    const g = [tf.tensor1d([3, 0]), tf.tensor1d([0, 4])];
    const { grads, norm } = clipByGlobalNorm(g, 1);
    assert.ok(Math.abs((norm.dataSync()[0] ?? 0) - 5) < 1e-6);
    assert.deepEqual(
      grads.map((x) => Array.from(x.dataSync()).map((v) => Math.round(v * 1e5) / 1e5)),
      [
        [0.6, 0],
        [0, 0.8],
      ],
    );
    const small = clipByGlobalNorm(g, 10);
    assert.deepEqual(Array.from(small.grads[1]?.dataSync() ?? []), [0, 4]);
    if (fusedUpdatesAvailable()) assert.ok(Math.abs(fusedSumSquares(g) - 25) < 1e-9);
    tf.dispose([...g, ...grads, norm, ...small.grads, small.norm]);
  });
});

describe('label smoothing', () => {
  it('mixes the one-hot target with the uniform distribution (1 - s) y + s / K', async () => {
    await useBackend('wasm');
    const logits = [
      [2, 0.5, -1],
      [0, 1, 3],
    ];
    const labels = [0, 1];
    const s = 0.1;
    let want = 0;
    logits.forEach((row, n) => {
      const lse = Math.log(row.reduce((a, v) => a + Math.exp(v), 0));
      row.forEach((v, k) => {
        const target = (k === labels[n] ? 1 - s : 0) + s / row.length;
        want -= (target * (v - lse)) / logits.length;
      });
    });
    const got = tf.tidy(() => softmaxCrossEntropy(tf.tensor2d(logits), tf.tensor1d(labels, 'int32'), s).dataSync()[0] ?? 0);
    assert.ok(Math.abs(got - want) < 1e-5, `got ${got}, want ${want}`);
  });
});

describe('EMA decay', () => {
  it('is constant without warm-up and follows timm (1 - (1 + t)^-p, 0 at the first update) with it', () => {
    const cfg = { decay: 0.9999, warmup: false, warmupPower: 2 / 3 };
    assert.equal(emaDecay(cfg, 1), 0.9999);
    const w = { ...cfg, warmup: true };
    assert.equal(emaDecay(w, 1), 0);
    assert.ok(Math.abs(emaDecay(w, 2) - (1 - 2 ** (-2 / 3))) < 1e-12);
    assert.equal(emaDecay(w, 1e9), 0.9999);
  });

  it('moves the averages by e + (w - e)(1 - d) on the fused path, tfjs ops and cpu', async () => {
    const d = 0.75;
    // Sets the model's weights to seeded values; returns them as stored (float32).
    const setWeights = (model: tf.LayersModel, seed: number): Vec[] => {
      tf.tidy(() => {
        const shapes = model.weights.map((w) => w.shape as number[]);
        model.setWeights(shapes.map((shape, i) => tf.tensor(randomVec(seed + i, tf.util.sizeFromShape(shape)), shape)));
      });
      return model.weights.map((w) => Array.from(w.read().dataSync()));
    };
    for (const [backend, fused] of [['wasm', true], ['wasm', false], ['cpu', false]] as const) {
      await useBackend(backend);
      const model = tf.sequential({ layers: [tf.layers.dense({ units: 3, inputShape: [5] })] });
      const start = setWeights(model, 200);
      const ema = new WeightEma(model, { decay: d, warmup: false, warmupPower: 1 }, { fused });
      const now = setWeights(model, 300);
      ema.update();
      const want = start.map((e, i) => e.map((ek, k) => ek + ((now[i]?.[k] ?? 0) - ek) * (1 - d)));
      const got = ema.getState().weights.map((w) => Array.from(w.data));
      assertClose(got, want, 1e-6, `EMA on ${backend}${fused ? ' fused' : ''}`);
      ema.dispose();
      model.dispose();
    }
  });
});
