import assert from 'node:assert/strict';
import { test } from 'node:test';
import { costOf, type ArchCost } from '../space/cost.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';

const cost = (name: string): ArchCost => costOf(resolve(referenceArch(name)));

function near(actual: number, expected: number, tolerance: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= tolerance * expected, `${what}: ${actual} not within ${tolerance * 100}% of ${expected}`);
}

test('mobilenetv3-large: 5,483,032 trainable, 5,507,432 with BN stats, 216.6M MAdds', () => {
  const c = cost('mobilenetv3-large');
  assert.equal(c.params, 5_483_032);
  assert.equal(c.paramsWithBnStats, 5_507_432);
  near(c.madds, 216.6e6, 0.005, 'MAdds');
  assert.equal(c.madds, 216_589_760, 'torchvision conv + linear count');
});

test('mobilenetv3-small: 2,542,856 trainable, 2,554,968 with BN stats, 56.5M MAdds', () => {
  const c = cost('mobilenetv3-small');
  assert.equal(c.params, 2_542_856);
  assert.equal(c.paramsWithBnStats, 2_554_968);
  near(c.madds, 56.5e6, 0.005, 'MAdds');
  assert.equal(c.madds, 56_510_400, 'torchvision conv + linear count');
});

test('width 0.75 matches the paper: Large 3.994M / 154.6M, Small 2.042M / 43.4M', () => {
  const large = cost('mobilenetv3-large-0.75');
  near(large.params, 3.994e6, 0.01, 'Large 0.75 params');
  near(large.madds, 154.6e6, 0.005, 'Large 0.75 MAdds');
  const small = cost('mobilenetv3-small-0.75');
  near(small.params, 2.042e6, 0.01, 'Small 0.75 params');
  near(small.madds, 43.4e6, 0.005, 'Small 0.75 MAdds');
});

test('mobilenetv2 and mnasnet-b1 match torchvision exactly', () => {
  const v2 = cost('mobilenetv2');
  assert.equal(v2.params, 3_504_872);
  assert.equal(v2.paramsWithBnStats, 3_538_984);
  assert.equal(v2.madds, 300_774_272);
  const b1 = cost('mnasnet-b1');
  assert.equal(b1.params, 4_383_312);
  assert.equal(b1.paramsWithBnStats, 4_421_232);
  assert.equal(b1.madds, 314_415_872);
});

test('mnasnet-a1: about 3.9M params and 312M MAdds', () => {
  const c = cost('mnasnet-a1');
  near(c.params, 3.9e6, 0.02, 'params');
  near(c.madds, 312e6, 0.02, 'MAdds');
});

test('minimalistic variants: Large 3.9M / 209M (TF-slim), Small about 2.0M', () => {
  const large = cost('mobilenetv3-large-minimal');
  near(large.params, 3.9e6, 0.01, 'params');
  near(large.madds, 209e6, 0.005, 'MAdds');
  near(cost('mobilenetv3-small-minimal').params, 2.0e6, 0.03, 'Small params');
});

test('layers carry the builder paths and the totals are their sums', () => {
  const c = cost('mobilenetv3-large');
  const paths = c.layers.map((l) => l.path);
  assert.equal(paths[0], 'stem');
  assert.deepEqual(paths.slice(-3), ['head.conv', 'head.hidden', 'head.classifier']);
  assert.deepEqual(
    paths.filter((p) => p.startsWith('s2.b0.')),
    ['s2.b0.expand', 's2.b0.dw', 's2.b0.se.reduce', 's2.b0.se.expand', 's2.b0.project'],
  );
  assert.deepEqual(
    paths.filter((p) => p.startsWith('s0.b0.')),
    ['s0.b0.dw', 's0.b0.project'],
    'no expand conv when exp == in',
  );
  assert.equal(new Set(paths).size, paths.length);
  assert.equal(
    c.layers.reduce((t, l) => t + l.params, 0),
    c.params,
  );
  assert.equal(
    c.layers.reduce((t, l) => t + l.madds, 0),
    c.madds,
  );
});

test('per-layer shapes, params and MAdds follow the convention (no conv bias, BN gamma/beta, biased FCs)', () => {
  const byPath = new Map(cost('mobilenetv3-large').layers.map((l) => [l.path, l]));
  assert.deepEqual(byPath.get('stem'), {
    path: 'stem',
    op: 'conv',
    inShape: [224, 224, 3],
    outShape: [112, 112, 16],
    kernel: 3,
    stride: 2,
    params: 3 * 3 * 3 * 16 + 2 * 16,
    bnStats: 32,
    madds: 112 * 112 * 16 * 27,
  });
  assert.deepEqual(byPath.get('s2.b0.dw'), {
    path: 's2.b0.dw',
    op: 'dw',
    inShape: [56, 56, 72],
    outShape: [28, 28, 72],
    kernel: 5,
    stride: 2,
    params: 25 * 72 + 2 * 72,
    bnStats: 144,
    madds: 28 * 28 * 72 * 25,
  });
  assert.deepEqual(byPath.get('s2.b0.se.reduce'), {
    path: 's2.b0.se.reduce',
    op: 'se-reduce',
    inShape: [1, 1, 72],
    outShape: [1, 1, 24],
    kernel: 1,
    stride: 1,
    params: 72 * 24 + 24,
    bnStats: 0,
    madds: 72 * 24,
  });
  assert.equal(byPath.get('head.classifier')?.params, 1280 * 1000 + 1000);
  assert.equal(byPath.get('head.hidden')?.op, 'hidden');
});

test('input size and classes change the counts', () => {
  const spec = referenceArch('mobilenetv3-small');
  const c = costOf(resolve({ ...spec, input: { size: 32, channels: 1 }, classes: 10 }));
  const base = cost('mobilenetv3-small');
  // One input channel instead of three (stem), 10 classes instead of 1000 (classifier weights and biases).
  assert.equal(c.params, base.params - 2 * 9 * 16 - 1024 * 990 - 990);
  assert.ok(c.madds < base.madds / 10);
});
