// NetAdapt's proposals on the IR and the L2-norm weight transfer. The transfer is exact where it should be: a network
// whose pruned channels carry zero weights gives the same outputs before and after pruning, for an expansion shrink
// and for a bottleneck-group shrink, through squeeze-excite (both styles), residual adds and blocks without an
// expand conv.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { buildModel } from '../model/build.js';
import {
  applyShrink,
  bottleneckGroups,
  makeProposals,
  materialise,
  type Shrink,
  shrinkTargets,
  smallestReachable,
} from '../netadapt/proposals.js';
import { readWeights, transferModel } from '../netadapt/transfer.js';
import type { ArchSpec } from '../space/arch.js';
import { costOf } from '../space/cost.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';
import { tinyArch } from './netadapt-helpers.js';
import { rng } from './random.js';

/** Random weights and batch-norm statistics everywhere, so that nothing is trivially zero. */
function randomise(model: tf.LayersModel, seed: number): void {
  const r = rng(seed);
  for (const w of model.weights) {
    const n = w.shape.reduce((a: number, d) => a * (d ?? 1), 1);
    const name = w.originalName;
    const data = Float32Array.from({ length: n }, () =>
      name.endsWith('moving_variance') ? 0.5 + r() : name.endsWith('gamma') ? 0.5 + r() : (r() * 2 - 1) * 0.5,
    );
    tf.tidy(() => {
      w.write(tf.tensor(data, w.shape as number[]));
    });
  }
}

/** Zero `channels` of weight `name` along `axis`. */
function zero(model: tf.LayersModel, name: string, axis: number, channels: readonly number[]): void {
  const w = model.weights.find((v) => v.originalName === name);
  assert.ok(w, `no weight ${name}`);
  const shape = w.shape as number[];
  const data = w.read().dataSync().slice() as Float32Array;
  const inner = shape.slice(axis + 1).reduce((a, d) => a * d, 1);
  const n = shape[axis] ?? 0;
  const drop = new Set(channels);
  for (let i = 0; i < data.length; i++) if (drop.has(Math.floor(i / inner) % n)) data[i] = 0;
  tf.tidy(() => {
    w.write(tf.tensor(data, shape));
  });
}

/** A channel's producing filters and its batch norm zeroed: the conv outputs exactly zero there. */
function zeroConvBn(model: tf.LayersModel, layer: string, channels: readonly number[], depthwise = false): void {
  zero(model, `${layer}/kernel`, depthwise ? 2 : 3, channels);
  zero(model, `${layer}/gamma`, 0, channels);
  zero(model, `${layer}/beta`, 0, channels);
}

/** SE hidden units zeroed: their ReLU outputs zero, whatever the expand weights. */
function zeroSeHidden(model: tf.LayersModel, block: string, units: readonly number[]): void {
  zero(model, `${block}.se/reduce_kernel`, 1, units);
  zero(model, `${block}.se/reduce_bias`, 0, units);
}

function pick(n: number, k: number, seed: number): number[] {
  const r = rng(seed);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [idx[i], idx[j]] = [idx[j] ?? 0, idx[i] ?? 0];
  }
  return idx.slice(0, k).sort((a, b) => a - b);
}

function outputsOf(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.predict(x) as tf.Tensor).dataSync() as Float32Array);
}

function maxAbsDiff(a: Float32Array, b: Float32Array): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs((a[i] ?? 0) - (b[i] ?? 0)));
  return m;
}

function checkExact(spec: ArchSpec, shrink: Shrink, zeroPruned: (m: tf.LayersModel, pruned: number[]) => void, seed: number): void {
  const model = buildModel(resolve(spec), { seed });
  randomise(model, seed);
  const pruned = pick(shrink.from, shrink.from - shrink.to, seed + 1);
  const x = tf.randomNormal([2, spec.input.size, spec.input.size, spec.input.channels], 0, 1, 'float32', seed);
  const dense = outputsOf(model, x);
  zeroPruned(model, pruned);
  const before = outputsOf(model, x);
  // The zeroing matters: the network computes something else than before it.
  assert.ok(maxAbsDiff(dense, before) > 1e-3);
  const t = transferModel(spec, model, shrink, seed);
  const kept = Array.from({ length: shrink.from }, (_, i) => i).filter((i) => !pruned.includes(i));
  assert.deepEqual(t.kept, kept, 'the L2 norm keeps exactly the non-zero channels');
  const after = outputsOf(t.model, x);
  const diff = maxAbsDiff(before, after);
  assert.ok(diff <= 1e-5, `max abs difference ${diff}`);
  assert.ok(costOf(resolve(t.spec)).params < costOf(resolve(spec)).params);
  x.dispose();
  model.dispose();
  t.model.dispose();
}

describe('netadapt proposals', () => {
  it('groups blocks tied by residual adds with the block that produces their width', () => {
    assert.deepEqual(bottleneckGroups(resolve(tinyArch())), [[0, 1, 2], [3, 4]]);
    const small = resolve(referenceArch('mobilenetv3-small'));
    assert.deepEqual(bottleneckGroups(small), [[0], [1, 2], [3, 4, 5], [6, 7], [8, 9, 10]]);
  });

  it('does not offer the group tied to the stem (MobileNetV3-Large s0.b0 adds the stem output)', () => {
    const large = referenceArch('mobilenetv3-large');
    const targets = shrinkTargets(large).filter((t) => t.kind === 'group');
    assert.ok(!targets.some((t) => t.blocks.includes(0)));
    assert.ok(targets.some((t) => t.blocks[0] === 1));
  });

  it('materialises a width multiplier into the same network at width 1', () => {
    const s = referenceArch('mobilenetv3-small-0.75');
    const m = materialise(s);
    assert.equal(m.width, 1);
    const a = resolve(s);
    const b = resolve(m);
    assert.deepEqual(b.blocks.map((x) => [x.inC, x.exp, x.outC, x.residual, x.se?.reduce]), a.blocks.map((x) => [x.inC, x.exp, x.outC, x.residual, x.se?.reduce]));
    assert.deepEqual([b.stem.outC, b.head.conv, b.head.hidden], [a.stem.outC, a.head.conv, a.head.hidden]);
  });

  it('takes for each layer the largest multiple of 8 that meets the budget, and skips layers that cannot', async () => {
    const spec = tinyArch();
    const madds = (s: ArchSpec): number => costOf(resolve(s)).madds / 1e6;
    const seedMs = madds(spec);
    const budget = seedMs * 0.97;
    const props = await makeProposals(spec, budget, madds);
    assert.ok(props.length > 0);
    for (const p of props) {
      assert.ok(p.latencyMs <= budget);
      assert.equal(p.shrink.to % 8, 0);
      assert.ok(p.shrink.to < p.shrink.from && p.shrink.to >= 8);
      // One step wider does not meet the budget (or is the current width).
      const wider = p.shrink.to + 8;
      if (wider < p.shrink.from) assert.ok(madds(applyShrink(spec, { ...p.shrink, to: wider })) > budget);
    }
    // Under the smallest reachable network nothing is proposed.
    const floor = madds(smallestReachable(spec));
    assert.deepEqual(await makeProposals(spec, floor * 0.5, madds), []);
  });
});

describe('netadapt weight transfer', () => {
  before(async () => {
    await useBackend('wasm');
  });

  it('is exact for an expansion shrink with squeeze-excite (pruned channels zero)', () => {
    const spec = tinyArch();
    // s0.b1: exp 72 -> 48; its SE hidden width follows, makeDivisible(18) = 24 -> makeDivisible(12) = 16.
    const shrink: Shrink = { kind: 'expansion', block: 1, from: 72, to: 48 };
    assert.equal(resolve(applyShrink(spec, shrink)).blocks[1]?.se?.reduce, 16);
    checkExact(spec, shrink, (m, pruned) => {
      zeroConvBn(m, 's0.b1.expand', pruned);
      zeroConvBn(m, 's0.b1.dw', pruned, true);
      zeroSeHidden(m, 's0.b1', pick(24, 8, 99));
    }, 11);
  });

  it('is exact for a group shrink across residual adds, a block without expand conv and both SE styles', () => {
    const spec = tinyArch();
    const shrink: Shrink = { kind: 'group', blocks: [0, 1, 2], from: 24, to: 16 };
    const next = resolve(applyShrink(spec, shrink));
    assert.deepEqual(next.blocks.map((b) => [b.inC, b.exp, b.outC, b.residual]), [
      [16, 48, 16, false],
      [16, 72, 16, true],
      [16, 16, 16, true],
      [16, 16, 32, false],
      [32, 96, 32, true],
    ]);
    // The MnasNet-style SE of s1.b0 reads a quarter of its input: 6 -> 4 hidden units.
    assert.equal(next.blocks[3]?.se?.reduce, 4);
    checkExact(spec, shrink, (m, pruned) => {
      for (const b of ['s0.b0', 's0.b1', 's0.b2']) zeroConvBn(m, `${b}.project`, pruned);
      // Blocks without an expand conv: their depthwise channels follow the group's.
      zeroConvBn(m, 's0.b2.dw', pruned, true);
      zeroConvBn(m, 's1.b0.dw', pruned, true);
      zeroSeHidden(m, 's1.b0', pick(6, 2, 98));
    }, 12);
  });

  it('is exact for the last group, whose width head.conv reads', () => {
    const spec = tinyArch();
    checkExact(spec, { kind: 'group', blocks: [3, 4], from: 32, to: 24 }, (m, pruned) => {
      for (const b of ['s1.b0', 's1.b1']) zeroConvBn(m, `${b}.project`, pruned);
    }, 13);
  });

  it('copies every weight a shrink does not touch', () => {
    const spec = tinyArch();
    const model = buildModel(resolve(spec), { seed: 3 });
    const t = transferModel(spec, model, { kind: 'expansion', block: 4, from: 96, to: 64 }, 3);
    const a = readWeights(model);
    const b = readWeights(t.model);
    for (const name of ['stem/kernel', 's0.b1.expand/kernel', 's1.b1.project/gamma', 'head.conv/kernel', 'head.classifier/kernel']) {
      assert.deepEqual(b.get(name)?.data, a.get(name)?.data, name);
    }
    model.dispose();
    t.model.dispose();
  });
});
