// The training loop on a tiny network and synthetic blobs: it learns, calls its hooks, stops at maxSteps, does not
// leak tensors, evaluates EMA weights, stops a divergent run with E_DIVERGED and keeps the last good checkpoint.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../backend/select.js';
import { NasError } from '../common/errors.js';
import { buildModel } from '../model/build.js';
import { resolve } from '../space/resolve.js';
import type { EpochMetrics } from '../train/checkpoint.js';
import { listCheckpoints, loadCheckpointModel, readCheckpoint } from '../train/checkpoint.js';
import { parseTrainConfig } from '../train/config.js';
import { evaluateModel } from '../train/evaluate.js';
import { type StepProgress, trainModel } from '../train/loop.js';
import { makeSchedule } from '../train/schedule.js';
import { blobSplit, tinyArch } from './train-helpers.js';

const arch = tinyArch();
const train = blobSplit({ size: 256, classes: 4, imageSize: 16, seed: 1 });
const val = blobSplit({ name: 'val', size: 100, classes: 4, imageSize: 16, seed: 2 });
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'nas-train-loop-'));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function logitsOf(model: tf.LayersModel, images: tf.Tensor4D): Float32Array {
  return tf.tidy(() => (model.apply(images, { training: false }) as tf.Tensor).dataSync() as Float32Array);
}

describe('trainModel', () => {
  it('learns the blobs, calling onStep every step and onEpochEnd every epoch', async () => {
    await useBackend('wasm');
    const model = buildModel(resolve(arch), { seed: 1 });
    const config = parseTrainConfig({
      epochs: 6,
      batchSize: 32,
      optimizer: { type: 'adamw', lr: 0.005 },
      weightDecay: 0.05,
      schedule: { type: 'cosine', warmupEpochs: 0.5 },
      clipGradNorm: 1,
    });
    const steps: StepProgress[] = [];
    const epochs: EpochMetrics[] = [];
    const result = await trainModel({
      model,
      arch,
      config,
      train,
      evalSplit: val,
      hooks: { onStep: (p) => steps.push(p), onEpochEnd: (m) => void epochs.push(m) },
    });
    assert.equal(steps.length, 48);
    const schedule = makeSchedule(config.schedule, config.optimizer.lr, { stepsPerEpoch: 8, totalSteps: 48 });
    steps.forEach((p, i) => {
      assert.equal(p.step, i + 1);
      assert.equal(p.epoch, Math.floor(i / 8));
      assert.equal(p.stepInEpoch, (i % 8) + 1);
      assert.equal(p.lr, schedule(i));
      assert.ok(Number.isFinite(p.loss) && p.imagesPerSec > 0);
    });
    assert.deepEqual(
      epochs.map((m) => [m.epoch, m.step]),
      [1, 2, 3, 4, 5, 6].map((e) => [e, e * 8]),
    );
    assert.deepEqual(result.history, epochs);
    assert.equal(result.steps, 48);
    assert.equal(result.checkpoint, null);
    const final = result.final;
    assert.ok(final && final.count === 100 && final.top5 === 1);
    assert.ok(final.top1 >= 0.7, `top-1 after 6 epochs: ${final.top1}`);
    assert.ok((epochs[5]?.trainLoss ?? 9) < (epochs[0]?.trainLoss ?? 0), 'the training loss falls');
    model.dispose();
  });

  it('stops after maxSteps, inside an epoch, with the schedule spanning those steps', async () => {
    await useBackend('wasm');
    const model = buildModel(resolve(arch), { seed: 2 });
    const config = parseTrainConfig({ epochs: 1, batchSize: 32, optimizer: { lr: 0.1 }, schedule: { type: 'cosine', minLr: 0 } });
    const lrs: number[] = [];
    const dir = tempDir();
    const result = await trainModel({ model, arch, config, train, runDir: dir, maxSteps: 12, hooks: { onStep: (p) => lrs.push(p.lr) } });
    assert.equal(result.steps, 12);
    assert.equal(lrs.length, 12);
    assert.ok((lrs[11] ?? 1) < 0.003, `last lr ${lrs[11]}`);
    assert.deepEqual(
      result.history.map((m) => m.epoch),
      [1, 1.5],
    );
    assert.deepEqual(
      (await listCheckpoints(dir)).map((c) => c.name),
      ['epoch-0001', 'step-00000012'],
    );
    model.dispose();
  });

  it('does not leak tensors across epochs (wasm fused updates, and tfjs ops on cpu)', async () => {
    for (const backend of ['wasm', 'cpu'] as const) {
      await useBackend(backend);
      const before = tf.memory().numTensors;
      const model = buildModel(resolve(arch), { seed: 3 });
      const cpu = backend === 'cpu';
      const small = blobSplit({ size: cpu ? 32 : 256, classes: 4, imageSize: 16, seed: 4 });
      const evalSplit = blobSplit({ name: 'val', size: cpu ? 8 : 100, classes: 4, imageSize: 16, seed: 5 });
      const epochs = 3;
      const config = parseTrainConfig({
        epochs,
        batchSize: 16,
        optimizer: { type: 'rmsprop', lr: 0.01 },
        ema: { decay: 0.99, warmup: true },
        clipGradNorm: 1,
        labelSmoothing: 0.1,
      });
      const counts: number[] = [];
      await trainModel({
        model,
        arch,
        config,
        train: small,
        evalSplit,
        hooks: { onEpochEnd: () => void counts.push(tf.memory().numTensors), onStep: () => void counts.push(tf.memory().numTensors) },
      });
      const perEpoch = counts.length / epochs;
      const epochEnds = counts.filter((_, i) => (i + 1) % perEpoch === 0);
      assert.ok(
        epochEnds.every((c) => c === epochEnds[0]),
        `${backend}: live tensors at epoch ends ${epochEnds.join(', ')}`,
      );
      const steps = counts.filter((_, i) => (i + 1) % perEpoch !== 0);
      assert.ok(
        steps.every((c) => c === steps[0]),
        `${backend}: live tensors after steps vary: ${[...new Set(steps)].join(', ')}`,
      );
      model.dispose();
      assert.equal(tf.memory().numTensors, before, `${backend}: tensors left after training and disposing the model`);
    }
    await useBackend('wasm');
  });

  it('evaluates the EMA weights when EMA is on, and saves them in the checkpoint', async () => {
    await useBackend('wasm');
    const model = buildModel(resolve(arch), { seed: 5 });
    const config = parseTrainConfig({ epochs: 2, batchSize: 32, optimizer: { type: 'adamw', lr: 0.005 }, ema: { decay: 0.95 } });
    const dir = tempDir();
    const result = await trainModel({ model, arch, config, train, evalSplit: val, runDir: dir });
    const raw = await evaluateModel(model, val, { batchSize: config.evalBatchSize });
    const { model: emaModel, weights } = await loadCheckpointModel(dir);
    assert.equal(weights, 'ema');
    const ema = await evaluateModel(emaModel, val, { batchSize: config.evalBatchSize });
    assert.deepEqual(result.final, ema, 'the loop reports the EMA model');
    assert.notEqual(raw.loss, ema.loss, 'EMA and raw weights differ');
    const { model: rawModel } = await loadCheckpointModel(dir, { weights: 'raw' });
    const x = tf.randomNormal([4, 16, 16, 3], 0, 1, 'float32', 9) as tf.Tensor4D;
    assert.deepEqual(logitsOf(rawModel, x), logitsOf(model, x), 'tf.loadLayersModel of the checkpoint gives the trained model');
    tf.dispose([x]);
    for (const m of [model, emaModel, rawModel]) m.dispose();
  });

  it('stops a divergent run with E_DIVERGED naming the step and lr, keeping the last good checkpoint', async () => {
    await useBackend('wasm');
    const model = buildModel(resolve(arch), { seed: 6 });
    const poisoned = blobSplit({ size: 256, classes: 4, imageSize: 16, seed: 1, nanAtEpoch: 1 });
    const config = parseTrainConfig({ epochs: 3, batchSize: 32, optimizer: { lr: 0.1 } });
    const dir = tempDir();
    await assert.rejects(
      trainModel({ model, arch, config, train: poisoned, runDir: dir }),
      (e: unknown) => {
        assert.ok(e instanceof NasError && e.code === 'E_DIVERGED', String(e));
        assert.match(e.message, /diverged at step 9 \(epoch 2, lr 0\.07500\): the loss is NaN/);
        assert.match(e.message, /last good checkpoint is .*epoch-0001/);
        return true;
      },
    );
    assert.deepEqual(
      (await listCheckpoints(dir)).map((c) => c.name),
      ['epoch-0001'],
    );
    assert.equal(readFileSync(join(dir, 'latest'), 'utf8').trim(), 'epoch-0001');
    const ck = await readCheckpoint(join(dir, 'epoch-0001'), arch);
    assert.equal(ck.loop.step, 8);
    model.dispose();

    const wild = buildModel(resolve(arch), { seed: 6 });
    const huge = parseTrainConfig({ epochs: 3, batchSize: 32, optimizer: { lr: 1e30 }, schedule: { type: 'constant' } });
    await assert.rejects(trainModel({ model: wild, arch, config: huge, train }), (e: unknown) => {
      assert.ok(e instanceof NasError && e.code === 'E_DIVERGED', String(e));
      assert.match(e.message, /diverged at step \d+ \(epoch 1, lr 1\.000e\+30\): the loss is (NaN|Infinity); no checkpoint was written/);
      return true;
    });
    wild.dispose();
  });

  it('refuses to start a fresh run in a directory that holds checkpoints', async () => {
    await useBackend('wasm');
    const model = buildModel(resolve(arch), { seed: 7 });
    const config = parseTrainConfig({ epochs: 1, batchSize: 64 });
    const dir = tempDir();
    await trainModel({ model, arch, config, train, runDir: dir });
    await assert.rejects(trainModel({ model, arch, config, train, runDir: dir }), /already holds checkpoints/);
    model.dispose();
  });

  it('evaluateModel counts every image, top-5 is 1 with 4 classes, maxImages stops early', async () => {
    await useBackend('wasm');
    const model = buildModel(resolve(arch), { seed: 8 });
    const m = await evaluateModel(model, val, { batchSize: 32 });
    assert.equal(m.count, 100);
    assert.equal(m.top5, 1);
    assert.ok(Math.abs(m.loss - Math.log(4)) < 0.1, `untrained loss ${m.loss}`);
    const part = await evaluateModel(model, val, { batchSize: 32, maxImages: 40 });
    assert.equal(part.count, 64);
    model.dispose();
  });
});
