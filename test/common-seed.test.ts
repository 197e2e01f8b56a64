// The derived seeds are part of every seeded result: these values were computed by the three functions they
// replaced (search/seed.ts, netadapt/loop.ts mixSeed, model/build.ts layerSeed), so a change that moves them shows.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { mixSeed, nameSeed } from '../common/seed.js';
import { candidateSeed } from '../search/seed.js';

test('candidateSeed keeps its values', () => {
  assert.deepEqual([candidateSeed(0, 'a'), candidateSeed(3, 'v1_x'), candidateSeed(-5, '')], [111002120, 1033941690, 93815662]);
});

test('mixSeed keeps its values, for any number including out-of-range ones', () => {
  assert.deepEqual([mixSeed(1, 2, 3), mixSeed(7, 0, 0), mixSeed(2 ** 31 + 5, -1, 1.5), mixSeed()], [1456420779, 234675671, 1221463236, 18652614]);
});

test('nameSeed keeps the per-layer values of the builder, UTF-16 code units included', () => {
  const got = [nameSeed(0, 'stem'), nameSeed(7, 's3.b1.expand'), nameSeed(-1, 'head.classifier'), nameSeed(2 ** 31 + 3, 'é𝑥')];
  assert.deepEqual(got, [977536409, 394831407, 687945031, 6050696]);
});
