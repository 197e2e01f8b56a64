// One training step of MobileNetV3-Small on wasm (our kernels and fused ops) against the cpu backend (tfjs's own
// kernels and autograd), plus memorisation and leak checks.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { setFusedOpsEnabled } from '../backend/ops/kernels.js';
import { setDirectSavesEnabled } from '../backend/ops/savedTensors.js';
import { useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { setTrainPlanEnabled } from '../model/trainPlan.js';
import { setNativeThreads } from '../backend/native.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';
import { costOf } from '../space/cost.js';
import { parseTrainConfig } from '../train/config.js';
import { WeightEma } from '../train/ema.js';
import { createOptimizer, modelParams } from '../train/optimizers.js';
import { classifierLoss, makeOptimizerStep, makeTrainStep, trainableVariables } from '../train/step.js';

const arch = resolve({ ...referenceArch('mobilenetv3-small'), input: { size: 32, channels: 3 }, classes: 10 });

/** Deterministic batch: images from a small LCG, labels i mod classes. */
function batch(n: number): { images: Float32Array; labels: Int32Array } {
  const images = new Float32Array(n * 32 * 32 * 3);
  let s = 12345;
  for (let i = 0; i < images.length; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    images[i] = (s / 2 ** 32) * 2 - 1;
  }
  const labels = Int32Array.from({ length: n }, (_, i) => i % arch.classes);
  return { images, labels };
}

function tensors(b: { images: Float32Array; labels: Int32Array }): { x: tf.Tensor4D; y: tf.Tensor2D } {
  const n = b.labels.length;
  return {
    x: tf.tensor4d(b.images, [n, 32, 32, 3]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(b.labels, 'int32'), arch.classes)) as tf.Tensor2D,
  };
}

/** Loss and gradients (by variable name) of one forward/backward pass on the current backend. */
function lossAndGrads(b: { images: Float32Array; labels: Int32Array }): { loss: number; grads: Map<string, Float32Array> } {
  const model = buildModel(arch, { seed: 7 });
  const { x, y } = tensors(b);
  const { value, grads } = tf.variableGrads(() => classifierLoss(model, x, y), trainableVariables(model));
  const out = new Map<string, Float32Array>();
  for (const [name, g] of Object.entries(grads)) out.set(name.replace(/_\d+$/, ''), g.dataSync() as Float32Array);
  const loss = value.dataSync()[0] ?? Number.NaN;
  tf.dispose([value, x, y, ...Object.values(grads)]);
  model.dispose();
  return { loss, grads: out };
}

describe('training MobileNetV3-Small', () => {
  it('builds a model whose parameter count equals the cost model', async () => {
    await useBackend('wasm');
    const model = buildModel(arch);
    const cost = costOf(arch);
    assert.equal(model.countParams(), cost.paramsWithBnStats);
    const trainable = model.trainableWeights.reduce((a, w) => a + w.shape.reduce((p: number, d) => p * (d ?? 1), 1), 0);
    assert.equal(trainable, cost.params);
    assert.ok(model.getLayer('s1.b0.expand'), 'layers are named after block paths');
    model.dispose();
  });

  it('gives the same loss and gradients on cpu and wasm (within 1e-3)', async () => {
    const b = batch(8);
    await useBackend('cpu');
    const ref = lossAndGrads(b);
    await useBackend('wasm');
    const got = lossAndGrads(b);
    assert.ok(Math.abs(ref.loss - got.loss) <= 1e-3, `loss cpu ${ref.loss} wasm ${got.loss}`);
    assert.equal(got.grads.size, ref.grads.size);
    for (const [name, r] of ref.grads) {
      const g = got.grads.get(name);
      assert.ok(g, `wasm has no gradient for ${name}`);
      let maxRef = 0;
      let maxDiff = 0;
      for (let i = 0; i < r.length; i++) {
        maxRef = Math.max(maxRef, Math.abs(r[i] ?? 0));
        maxDiff = Math.max(maxDiff, Math.abs((r[i] ?? 0) - (g[i] ?? Number.NaN)));
      }
      assert.ok(maxDiff <= 1e-3 * Math.max(maxRef, 1e-3), `${name}: max diff ${maxDiff}, max |grad| ${maxRef}`);
    }
  });

  it('memorises a fixed batch on wasm (loss < 0.1) without leaking tensors', async () => {
    await useBackend('wasm');
    const model = buildModel(arch, { seed: 3 });
    const optimizer = tf.train.adam(0.01);
    const step = makeTrainStep(model, optimizer);
    const { x, y } = tensors(batch(16));
    let loss = Number.NaN;
    let tensorsAtStep2 = -1;
    for (let i = 1; i <= 300 && !(loss < 0.1 && i > 10); i++) {
      const l = step(x, y);
      loss = l.dataSync()[0] ?? Number.NaN;
      l.dispose();
      if (i === 2) tensorsAtStep2 = tf.memory().numTensors;
      if (i === 10) assert.equal(tf.memory().numTensors, tensorsAtStep2, 'live tensors grew between steps 2 and 10');
    }
    assert.ok(loss < 0.1, `loss after training: ${loss}`);
    tf.dispose([x, y]);
    optimizer.dispose();
    model.dispose();
  });

  it('takes the same optimizer step (smoothing, clipping, SGD, EMA) fused on wasm as with tfjs ops on cpu', async () => {
    const b = batch(8);
    const cfg = parseTrainConfig({
      optimizer: { type: 'sgd', lr: 0.5, momentum: 0.9, nesterov: true },
      weightDecay: 1e-3,
      labelSmoothing: 0.1,
      clipGradNorm: 0.5,
      ema: { decay: 0.5 },
    });
    const after = async (backend: 'cpu' | 'wasm'): Promise<{ fused: boolean; weights: Float32Array[]; ema: Float32Array[] }> => {
      await useBackend(backend);
      const model = buildModel(arch, { seed: 7 });
      const optimizer = createOptimizer(modelParams(model, cfg.wdExclude), cfg.optimizer, cfg.weightDecay);
      const ema = new WeightEma(model, { decay: 0.5, warmup: false, warmupPower: 1 });
      const step = makeOptimizerStep(model, { optimizer, labelSmoothing: cfg.labelSmoothing, clipGradNorm: cfg.clipGradNorm, ema });
      const x = tf.tensor4d(b.images, [8, 32, 32, 3]);
      const y = tf.tensor1d(b.labels, 'int32');
      const before = model.weights.map((w) => w.read().dataSync() as Float32Array);
      step(x, y, 0.5).dispose();
      // Changes, not values: they are what the step computes (the initial weights are the same on both backends).
      const delta = (a: Float32Array, i: number): Float32Array => a.map((v, k) => v - (before[i]?.[k] ?? 0));
      const out = {
        fused: optimizer.fused,
        weights: model.weights.map((w, i) => delta(w.read().dataSync() as Float32Array, i)),
        ema: ema.getState().weights.map((w, i) => delta(w.data, i)),
      };
      tf.dispose([x, y]);
      optimizer.dispose();
      ema.dispose();
      model.dispose();
      return out;
    };
    const ref = await after('cpu');
    const got = await after('wasm');
    assert.equal(ref.fused, false);
    assert.equal(got.fused, true, 'the wasm step uses the fused native update');
    for (const [what, r, g] of [
      ['weights', ref.weights, got.weights],
      ['EMA', ref.ema, got.ema],
    ] as const) {
      r.forEach((rw, i) => {
        const gw = g[i] ?? new Float32Array(0);
        let maxRef = 0;
        let maxDiff = 0;
        for (let k = 0; k < rw.length; k++) {
          maxRef = Math.max(maxRef, Math.abs(rw[k] ?? 0));
          maxDiff = Math.max(maxDiff, Math.abs((rw[k] ?? 0) - (gw[k] ?? Number.NaN)));
        }
        assert.ok(maxDiff <= 2e-3 * Math.max(maxRef, 1e-4), `${what} ${i}: max diff ${maxDiff}, max |change| ${maxRef}`);
      });
    }
  });

  it('trains the same with saves made directly as through tfjs clones (bit for bit), and as the composite ops', async () => {
    await useBackend('wasm');
    setTrainPlanEnabled(false); // the tape's saves are under test; the plan (next test) has none
    const b = batch(8);
    const sgd = parseTrainConfig({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 } }).optimizer;
    const train = async (): Promise<{ losses: number[]; weights: Float32Array[]; identities: number }> => {
      const model = buildModel(arch, { seed: 5 });
      const optimizer = createOptimizer(modelParams(model, 'none'), sgd, 0);
      const step = makeOptimizerStep(model, { optimizer, labelSmoothing: 0.1, clipGradNorm: null, ema: null });
      const x = tf.tensor4d(b.images, [8, 32, 32, 3]);
      const y = tf.tensor1d(b.labels, 'int32');
      const losses: number[] = [];
      const run = (): void => {
        const l = step(x, y, 0.1);
        losses.push(l.dataSync()[0] ?? Number.NaN);
        l.dispose();
      };
      run();
      const profile = await tf.profile(run);
      run();
      const weights = model.weights.map((w) => w.read().dataSync().slice() as Float32Array);
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
      return { losses, weights, identities: profile.kernels.filter((k) => k.name === 'Identity').length };
    };
    const direct = await train().finally(() => setTrainPlanEnabled(true));
    setTrainPlanEnabled(false);
    setDirectSavesEnabled(false);
    const cloned = await train().finally(() => {
      setDirectSavesEnabled(true);
      setTrainPlanEnabled(true);
    });
    assert.ok(cloned.identities > 100 && direct.identities < cloned.identities / 10, `Identity kernels a step: ${direct.identities} direct, ${cloned.identities} cloned`);
    assert.deepEqual(direct.losses, cloned.losses);
    direct.weights.forEach((w, i) => assert.deepEqual(w, cloned.weights[i], `weight ${i}`));
    // The fused ops' registered gradients against the composite ops' (tfjs kernels under tf.customGrad).
    setFusedOpsEnabled(false);
    const composite = await train().finally(() => setFusedOpsEnabled(true));
    direct.losses.forEach((l, i) => {
      const c = composite.losses[i] ?? Number.NaN;
      assert.ok(Math.abs(l - c) <= 1e-4 * Math.abs(c), `step ${i + 1}: loss ${l} fused, ${c} composite`);
    });
  });
  it('trains bit for bit as tfjs tape does with the native plan (dropout, squeeze-excite, residuals, moving averages), at 1 and 2 threads', async () => {
    await useBackend('wasm');
    const b = batch(8);
    const sgd = parseTrainConfig({ optimizer: { type: 'sgd', lr: 0.1, momentum: 0.9 } }).optimizer;
    const large = resolve({ ...referenceArch('mobilenetv3-large'), input: { size: 32, channels: 3 }, classes: 10 });
    const train = (a: typeof arch, threads: number, planned: boolean): { losses: number[]; weights: Float32Array[]; tensors: number } => {
      setNativeThreads(threads);
      setTrainPlanEnabled(planned);
      const model = buildModel(a, { seed: 5 });
      const optimizer = createOptimizer(modelParams(model, 'none'), sgd, 0);
      const step = makeOptimizerStep(model, { optimizer, labelSmoothing: 0.1, clipGradNorm: 1, ema: null });
      const x = tf.tensor4d(b.images, [8, 32, 32, 3]);
      const y = tf.tensor1d(b.labels, 'int32');
      const losses: number[] = [];
      let tensors = 0;
      for (let i = 0; i < 3; i++) {
        const l = step(x, y, 0.1);
        losses.push(l.dataSync()[0] ?? Number.NaN);
        l.dispose();
        // Tensors, and buffers on the heap (the plan's are not tensors).
        const held = tf.memory().numTensors * 1e6 + (tf.backend() as unknown as { numDataIds(): number }).numDataIds();
        if (i === 1) tensors = held;
        else if (i === 2) assert.equal(held, tensors, 'tensors or heap buffers leaked by a step');
      }
      const weights = model.weights.map((w) => w.read().dataSync().slice() as Float32Array);
      tf.dispose([x, y]);
      optimizer.dispose();
      model.dispose();
      return { losses, weights, tensors };
    };
    try {
      for (const [a, threads] of [[arch, 1], [arch, 2], [large, 2]] as const) {
        const tape = train(a, threads, false);
        const plan = train(a, threads, true);
        assert.ok(a.dropout > 0 && plan.losses.every(Number.isFinite), 'a network with dropout trains');
        assert.deepEqual(plan.losses, tape.losses, `${a.spec.name}, ${threads} threads: losses`);
        // Every weight, batch-norm moving averages included.
        plan.weights.forEach((w, i) => assert.deepEqual(w, tape.weights[i], `${a.spec.name}, ${threads} threads: weight ${i}`));
      }
    } finally {
      setTrainPlanEnabled(true);
      setNativeThreads(1);
    }
  });
});
