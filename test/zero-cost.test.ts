// The zero-cost scores against independent computations: NASWOT's log-determinant and kernel on hand-made matrices
// and activation patterns, its unit count against the IR; synflow against PyTorch in double precision (a network
// with fixed weights, test/reference/synflow_torch.py), against the builder's own forward pass, and against Euler's
// theorem on a network of ReLUs without skips (each layer's theta * dR/dtheta sums to R).
import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import { decodeArch } from '../space/blockString.js';
import { type ResolvedArch, resolve } from '../space/resolve.js';
import { mappedValue, scoreAccuracy } from '../zero-cost/accuracy.js';
import { parseZeroCostConfig } from '../zero-cost/config.js';
import { logDet } from '../zero-cost/logdet.js';
import { codeKernel, naswotOf } from '../zero-cost/naswot.js';
import { type ImageBatch, zeroCostScore } from '../zero-cost/score.js';
import { synflowOf } from '../zero-cost/synflow.js';
import { rng } from './random.js';
import { TINY_ARCH, tinyNet } from './zero-cost-helpers.js';

before(async () => {
  await useBackend('wasm');
});

const close = (a: number, b: number, rel: number): void => assert.ok(Math.abs(a - b) <= rel * Math.abs(b), `${a} vs ${b}`);

function images(count: number, size: number, channels: number, seed: number): ImageBatch {
  const r = rng(seed);
  return { images: Float32Array.from({ length: count * size * size * channels }, () => r() * 2 - 1), count, height: size, width: size, channels };
}

test('logDet: hand-computed determinants, -Infinity for a singular matrix', () => {
  close(logDet(Float64Array.of(2, 1, 1, 2), 2), Math.log(3), 1e-12);
  // det [[4, 2, 2], [2, 4, 2], [2, 2, 4]] = 32 (needs a row swap: [[0, 1], [1, 0]] has det -1, so it is refused).
  close(logDet(Float64Array.of(4, 2, 2, 2, 4, 2, 2, 2, 4), 3), Math.log(32), 1e-12);
  close(logDet(Float64Array.of(1, 2, 0, 2, 5, 0, 0, 0, 3), 3), Math.log(3), 1e-12);
  assert.equal(logDet(Float64Array.of(1, 1, 1, 1), 2), -Infinity);
  assert.throws(() => logDet(Float64Array.of(0, 1, 1, 0), 2), /not positive semi-definite/);
});

test('codeKernel: K counts the units at which two images agree (a hand-made activation pattern)', () => {
  // Codes over 4 units, split over two sources: image 0 = 1011, image 1 = 1101, image 2 = 0001 (0 exactly is inactive).
  const a = tf.tensor4d([0.5, -0.7, 2, 3, 0, -1], [3, 1, 1, 2]);
  const b = tf.tensor2d([1, 4, -2, 0.1, -3, 9], [3, 2]);
  const { kernel, units } = codeKernel([a, b], 3);
  assert.equal(units, 4);
  assert.deepEqual(Array.from(kernel), [4, 2, 2, 2, 4, 2, 2, 2, 4]);
  close(logDet(kernel, 3), Math.log(32), 1e-12);
  tf.dispose([a, b]);
});

/** NASWOT's units from the IR: every rectified conv output, each SE's hidden layer, head.hidden. */
function unitsOf(arch: ResolvedArch): number {
  const area = (s: number): number => s * s;
  let n = area(arch.stem.outSize) * arch.stem.outC;
  for (const b of arch.blocks) {
    if (b.type === 'conv') n += area(b.outSize) * b.outC;
    else n += (b.hasExpand ? area(b.inSize) * b.exp : 0) + area(b.outSize) * b.exp + (b.se?.reduce ?? 0);
  }
  return n + area(arch.head.inSize) * arch.head.conv + (arch.head.hidden ?? 0);
}

test('naswot: every rectified unit counted; the batch order does not matter; a repeated image makes K singular', () => {
  const arch = resolve(decodeArch(TINY_ARCH));
  const model = buildModel(arch, { seed: 3 });
  const batch = images(12, 9, 2, 1);
  const x = tf.tensor4d(batch.images, [12, 9, 9, 2]);
  const before = tf.memory().numTensors;
  const r = naswotOf(model, x);
  assert.equal(tf.memory().numTensors, before, 'naswot leaks no tensor');
  assert.equal(r.units, unitsOf(arch));
  assert.ok(Number.isFinite(r.score) && r.score > 0 && r.score <= 12 * Math.log(r.units), `score ${r.score}`);
  const reversed = tf.reverse(x, 0) as tf.Tensor4D;
  close(naswotOf(model, reversed).score, r.score, 1e-9);
  const repeated = tf.concat([x.slice([0], [11]), x.slice([0], [1])]) as tf.Tensor4D;
  assert.equal(naswotOf(model, repeated).score, -Infinity);
  tf.dispose([x, reversed, repeated]);
  model.dispose();
});

test('synflow matches PyTorch in double precision on a network with fixed weights', () => {
  // /usr/bin/python3 test/reference/synflow_torch.py on tinyNetJson() (the command is in zero-cost-helpers.ts).
  const { arch, model } = tinyNet();
  const r = synflowOf(arch, model);
  close(r.synflow, 5900.78737419726, 1e-12);
  close(r.output, 617.0120739465303, 1e-12);
  model.dispose();
});

test("synflow's forward pass is the builder's network (|theta|, all-ones input)", () => {
  // ReLU6 as ReLU: synflow's own choice (zero-cost/synflow.ts), which the builder does not make.
  const { arch, model } = tinyNet(TINY_ARCH.replace('_r6', '_re'));
  for (const w of model.weights) w.write(tf.abs(w.read()));
  const ones = tf.ones([1, arch.inputSize, arch.inputSize, arch.inputChannels]);
  const out = model.predict(ones);
  assert.ok(out instanceof tf.Tensor);
  close(synflowOf(arch, model).output, out.sum().dataSync()[0] ?? Number.NaN, 1e-5);
  tf.dispose([ones, out]);
  model.dispose();
});

test('synflow of a ReLU network without skips is (weight layers) x R: Euler, layer by layer', () => {
  const blocks = 'stem_k3_s1_c4_re:ir_k3_s2_x8_c4_re_noskip,ir_k3_s1_x8_c4_re_noskip:head_c8_re';
  const spec = decodeArch(`v1_in8x1_cls3_w1_padsym_bn0.99_eps0.001_drop0.2:${blocks}`);
  const arch = resolve(spec);
  const model = buildModel(arch, { seed: 5 });
  const r = synflowOf(arch, model);
  // stem + 2 x (expand, dw, project) + head.conv + classifier; biases are 0 at initialisation.
  close(r.synflow, 9 * r.output, 1e-12);
  model.dispose();
});

test('zeroCostScore is deterministic for a seed and follows the seed', () => {
  const spec = decodeArch(TINY_ARCH);
  const batch = images(8, 9, 2, 2);
  for (const name of ['naswot', 'synflow'] as const) {
    const a = zeroCostScore(name, spec, batch, 7);
    assert.equal(zeroCostScore(name, spec, batch, 7).score, a.score);
    assert.notEqual(zeroCostScore(name, spec, batch, 8).score, a.score);
  }
  assert.throws(() => zeroCostScore('naswot', spec, null, 7), /minibatch/);
  assert.throws(() => zeroCostScore('naswot', spec, images(8, 10, 2, 2), 7), /10x10x2.*9x9x2/);
});

test("the score's accuracy is monotone, in (0, 1), and 0 for a singular NASWOT kernel", () => {
  const none = { center: null, scale: null };
  const acc = [600, 650, 700].map((s) => scoreAccuracy('naswot', mappedValue('naswot', s, 64), none));
  assert.ok(acc[0]! > 0 && acc[0]! < acc[1]! && acc[1]! < acc[2]! && acc[2]! < 1, acc.join(' '));
  assert.equal(scoreAccuracy('naswot', mappedValue('naswot', -Infinity, 64), none), 0);
  assert.equal(scoreAccuracy('synflow', 10, { center: 10, scale: 3 }), 0.5);
});

test('zero-cost config: unknown keys and proxy-training keys are one-line errors', () => {
  assert.throws(() => parseZeroCostConfig({ colour: 1 }), /unknown zero-cost config key 'colour'/);
  assert.throws(() => parseZeroCostConfig({ proxyEpochs: 2 }), /'proxyEpochs' is a proxy-training setting/);
  assert.throws(() => parseZeroCostConfig({ batch: 1 }), /'batch' must be an integer in 2\.\.1024/);
  assert.equal(parseZeroCostConfig({ dataset: 'fashion-mnist', input: null }).input, null);
});
