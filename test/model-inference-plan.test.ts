// The compiled forward pass (model/inferencePlan.ts) against model.execute on the same folded model: equal bit for
// bit, following weights set after compiling, allocating nothing per run, and declining what it cannot run.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { entryModel } from '../latency/entryModels.js';
import { buildModel } from '../model/build.js';
import { compileInference } from '../model/inferencePlan.js';
import type { ArchSpec } from '../space/arch.js';
import { referenceArch } from '../space/reference.js';
import { type ResolvedArch, resolve } from '../space/resolve.js';

function small(input: number, padding: ArchSpec['padding'] = 'same'): ResolvedArch {
  return resolve({ ...referenceArch('mobilenetv3-small'), input: { size: input, channels: 3 }, padding });
}

function shapeOf(a: ResolvedArch): number[] {
  return [1, a.inputSize, a.inputSize, a.inputChannels];
}

function executed(model: tf.LayersModel, x: tf.Tensor): Float32Array {
  return tf.tidy(() => (model.execute(x, model.outputs[0]?.name ?? '') as tf.Tensor).dataSync() as Float32Array);
}

function assertSame(got: Float32Array | undefined, want: Float32Array, what: string): void {
  assert.ok(got !== undefined, `${what}: no output`);
  assert.equal(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) assert.ok(Object.is(got[i], want[i]), `${what}: element ${i}: ${got[i]} != ${want[i]}`);
}

describe('inference plan', () => {
  it('equals model.execute bit for bit (MobileNetV3-Small, both paddings; a block with squeeze-excite and residual)', async () => {
    await useBackend('wasm', { threads: 1 });
    for (const a of [small(64), small(40, 'symmetric')]) {
      const model = buildModel(a, { seed: 3, folded: true });
      const x = tf.randomUniform(shapeOf(a), -1, 2, 'float32', 5);
      const plan = compileInference(model, shapeOf(a));
      assert.ok(plan !== null, 'a folded MobileNetV3-Small compiles');
      assertSame(plan.run(x)[0], executed(model, x), `Small@${a.inputSize} ${a.padding}`);
      assert.equal(plan.run(x, 'one')[0]?.length, 1);
      plan.dispose();
      model.dispose();
      x.dispose();
    }
    const a = small(64);
    const index = a.blocks.findIndex((b) => b.se !== null && b.residual);
    assert.ok(index >= 0);
    const block = entryModel(a, { kind: 'block', index });
    const b = a.blocks[index]!;
    const x = tf.randomUniform([1, b.inSize, b.inSize, b.inC], -1, 1, 'float32', 6);
    const plan = compileInference(block, x.shape);
    assert.ok(plan !== null);
    assertSame(plan.run(x)[0], executed(block, x), `block ${index}`);
    plan.dispose();
    block.dispose();
    x.dispose();
  });

  it('follows weights set after compiling, and a run allocates no tensor', async () => {
    await useBackend('wasm', { threads: 1 });
    const a = small(32);
    const model = buildModel(a, { seed: 1, folded: true });
    const plan = compileInference(model, shapeOf(a));
    assert.ok(plan !== null);
    const x = tf.randomUniform(shapeOf(a), 0, 1, 'float32', 2);
    const before = plan.run(x)[0]?.slice();
    const other = buildModel(a, { seed: 2, folded: true });
    model.setWeights(other.getWeights());
    other.dispose();
    const memory = tf.memory();
    const after = plan.run(x)[0];
    assert.deepEqual([tf.memory().numTensors, tf.memory().numBytes], [memory.numTensors, memory.numBytes]);
    assertSame(after, executed(model, x), 'after setWeights');
    assert.notDeepEqual(after, before);
    assert.throws(() => plan.run(tf.zeros([1, 8, 8, 3])), /expected a float32 input of shape \[1, 32, 32, 3\]/);
    plan.dispose();
    model.dispose();
    x.dispose();
  });

  it('declines an unfolded model and backends without our kernels', async () => {
    await useBackend('wasm', { threads: 1 });
    const a = small(32);
    const unfolded = buildModel(a, { seed: 1 });
    assert.equal(compileInference(unfolded, shapeOf(a)), null);
    unfolded.dispose();
    await useBackend('cpu');
    const model = buildModel(a, { seed: 1, folded: true });
    assert.equal(compileInference(model, shapeOf(a)), null);
    model.dispose();
  });
});
