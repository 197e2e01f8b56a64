import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeDivisible } from '../space/makeDivisible.js';

test('makeDivisible rounds to the nearest multiple of 8', () => {
  assert.equal(makeDivisible(30), 32);
  assert.equal(makeDivisible(26), 24);
  assert.equal(makeDivisible(28), 32);
  assert.equal(makeDivisible(720), 720);
});

test('makeDivisible never goes below the divisor', () => {
  assert.equal(makeDivisible(1), 8);
  assert.equal(makeDivisible(4), 8);
  assert.equal(makeDivisible(0.5, 16), 16);
});

test('makeDivisible adds a divisor when rounding down loses more than 10%', () => {
  // 72 / 4 = 18 -> 16 is below 0.9 * 18 = 16.2, so 24 (MobileNetV3-Large's first SE width).
  assert.equal(makeDivisible(18), 24);
  assert.equal(makeDivisible(27), 32);
});

test('makeDivisible honours another divisor', () => {
  assert.equal(makeDivisible(50, 16), 48);
  assert.equal(makeDivisible(10, 4), 12);
});
