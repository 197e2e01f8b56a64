import assert from 'node:assert/strict';
import { before, test } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { measureArch, measureLatency } from '../latency/runners/node.js';
import { buildModel } from '../model/build.js';
import { encodeArch } from '../space/blockString.js';
import { loadArch } from '../space/load.js';
import { resolve } from '../space/resolve.js';

const TINY = ['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_hs'];

before(async () => {
  await useBackend('wasm', { threads: 1 });
});

test('a tiny arch at input 32 on wasm: positive finite figures, one thread, no tensor leak', async () => {
  const spec = loadArch(TINY, { input: 32, classes: 10 });
  await measureArch(spec, { warmup: 1, runs: 2 }); // first build registers kernels/weights caches
  const tensors0 = tf.memory().numTensors;
  const m = await measureArch(spec, { warmup: 2, runs: 5 });
  assert.equal(tf.memory().numTensors, tensors0);
  assert.equal(m.backend, 'wasm');
  assert.equal(m.threads, 1);
  assert.deepEqual(m.input, [32, 32, 3]);
  assert.equal(m.arch, encodeArch(spec));
  assert.equal(m.runs, 5);
  assert.equal(m.samplesMs.length, 5);
  for (const v of [m.medianMs, m.meanMs, m.minMs, m.maxMs, ...m.samplesMs]) assert.ok(Number.isFinite(v) && v > 0, String(v));
  assert.ok(m.minMs <= m.medianMs && m.medianMs <= m.maxMs);
  assert.ok(m.iqrMs >= 0 && m.madMs >= 0);
});

test('measureLatency leaves the tensor count unchanged and honours minSeconds', () => {
  const model = buildModel(resolve(loadArch(TINY, { input: 32, classes: 10 })));
  try {
    const tensors0 = tf.memory().numTensors;
    const m = measureLatency(model, { input: [32, 32, 3], warmup: 1, runs: 1, minSeconds: 0.05 });
    assert.equal(tf.memory().numTensors, tensors0);
    assert.ok(m.runs >= 1 && m.samplesMs.reduce((a, b) => a + b, 0) >= 50);
  } finally {
    model.dispose();
  }
});

test('bad counts are usage errors', () => {
  const model = buildModel(resolve(loadArch(TINY, { input: 32, classes: 10 })));
  try {
    assert.throws(() => measureLatency(model, { input: [32, 32, 3], warmup: 0, runs: 0 }), /--runs must be an integer >= 1/);
    assert.throws(() => measureLatency(model, { input: [32, 32, 3], warmup: -1, runs: 1 }), /--warmup/);
  } finally {
    model.dispose();
  }
});

test('MobileNetV3-Small measures slower than a 2-block net at input 64 (ordering only)', async () => {
  const opts = { warmup: 3, runs: 9 };
  const small = await measureArch(loadArch(['mobilenetv3-small'], { input: 64 }), opts);
  const tiny = await measureArch(loadArch(TINY, { input: 64, classes: 10 }), opts);
  assert.ok(small.medianMs > tiny.medianMs, `mobilenetv3-small ${small.medianMs} ms vs 2-block ${tiny.medianMs} ms`);
});
