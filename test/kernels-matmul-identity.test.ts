// BatchMatMul (native sgemm) and the zero-copy Identity on wasm, against the cpu backend.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { assertClose, randn, sizeOf } from './ops-helpers.js';

async function matMulOn(
  backend: 'cpu' | 'wasm', aShape: number[], bShape: number[], transA: boolean, transB: boolean,
): Promise<Float32Array> {
  await useBackend(backend);
  return tf.tidy(() => {
    const a = tf.tensor(randn(sizeOf(aShape), 1), aShape);
    const b = tf.tensor(randn(sizeOf(bShape), 2), bShape);
    return tf.matMul(a, b, transA, transB).dataSync() as Float32Array;
  });
}

describe('BatchMatMul on wasm (native sgemm)', () => {
  const cases: [number[], number[], boolean, boolean][] = [
    [[64, 576], [576, 1024], false, false],
    [[64, 576], [64, 1024], true, false],
    [[64, 1024], [576, 1024], false, true],
    [[13, 7], [5, 13], true, true],
    [[3, 5, 7], [3, 7, 4], false, false],
    [[3, 5, 7], [1, 7, 4], false, false],
    [[1, 7, 5], [2, 7, 6], true, false],
    [[1, 1], [1, 1], false, false],
  ];
  for (const [aShape, bShape, ta, tb] of cases) {
    it(`[${aShape}] x [${bShape}]${ta ? ' transA' : ''}${tb ? ' transB' : ''} matches cpu`, async () => {
      const ref = await matMulOn('cpu', aShape, bShape, ta, tb);
      const got = await matMulOn('wasm', aShape, bShape, ta, tb);
      assertClose(got, ref, 'matMul');
    });
  }
});

describe('Identity on wasm shares memory safely', () => {
  it('a clone outlives its source and frees nothing twice', async () => {
    await useBackend('wasm');
    const before = tf.memory().numTensors;
    const x = tf.tensor1d([1, 2, 3]);
    const y = tf.clone(x);
    x.dispose();
    assert.deepEqual(Array.from(y.dataSync()), [1, 2, 3]);
    const z = tf.add(y, 1);
    y.dispose();
    assert.deepEqual(Array.from(z.dataSync()), [2, 3, 4]);
    z.dispose();
    assert.equal(tf.memory().numTensors, before);
  });
});
