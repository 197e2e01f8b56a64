// The fidelity study's and the pipeline's trainings (bench/fidelity/training.ts Trainer) run each in a fresh worker
// thread, so that a long series never shares one wasm heap. Trained there, a network must come out exactly as
// trained in this process (same backend, same seed), the epoch lines must come back, and a rerun must still read
// the stored result or continue the run directory's last checkpoint. Trained in this process, the first test fails
// with the wasm heap full.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { useBackend } from '../backend/select.js';
import { Trainer, type TrainingSetup } from '../bench/fidelity/training.js';
import { loadDataset } from '../data/load.js';
import { openStore, type Store } from '../results/store.js';
import { applyOverrides, defaultTrainConfig } from '../train/config.js';
import { trainFinal } from '../train/final.js';
import { fillWasmHeap } from './heap-helpers.js';
import { tinyArch } from './train-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-trainer-'));
let store: Store;
before(async () => {
  await useBackend('wasm');
  store = openStore(join(dir, 'nas.db'));
});
after(() => {
  store.close();
  rmSync(dir, { recursive: true, force: true });
});

const recipe = applyOverrides(defaultTrainConfig, ['batchSize=25', 'evalBatchSize=50', 'ema=null', 'schedule.warmupEpochs=0']);
const subset = { trainImages: 300, testImages: 100 } as const;

function setup(outDir: string, epochs: number, lines: string[] = []): TrainingSetup {
  return { store, recipe, epochs, bnDecay: 0.9, dataset: 'mnist', dataDir: null, ...subset, outDir, storedOnly: false, onEpoch: (l) => lines.push(l) };
}

/** The same training as the Trainer's, run here by trainFinal itself. */
async function trainHere(trainer: Trainer, seed: number, epochs: number): Promise<{ top1: number; losses: (number | null)[] }> {
  const arch = trainer.archAsTrained(tinyArch(10, 16));
  const data = await loadDataset('mnist', { input: { size: 16, channels: 3 }, seed, limit: { train: subset.trainImages, test: subset.testImages } });
  const config = applyOverrides(recipe, [`epochs=${epochs}`, `seed=${seed}`]);
  const r = await trainFinal({ arch, config, data, outDir: join(dir, `here-${seed}`), resume: false, store });
  return { top1: r.test.top1, losses: store.listEpochs(r.runId).map((e) => e.trainLoss) };
}

describe('Trainer in a worker thread', () => {
  it('trains with a fresh heap, gives the in-process result, posts the epoch lines; a rerun reads the result', async () => {
    const lines: string[] = [];
    const trainer = new Trainer(setup(join(dir, 'study'), 2, lines));
    // This process's heap is full (as after many trainings): the worker's is not.
    const release = fillWasmHeap(2 ** 19);
    const r = await trainer.train('tiny', tinyArch(10, 16), 1).finally(release);
    assert.ok(r !== null && !r.stored);
    const here = await trainHere(trainer, 1, 2);
    assert.equal(r.top1, here.top1);
    assert.deepEqual(store.listEpochs(r.runId).map((e) => e.trainLoss), here.losses);
    assert.equal(lines.length, 2);
    assert.match(lines[1] ?? '', /^epoch 2: train loss \d\.\d{4}, val top-1/);
    const again = await trainer.train('tiny', tinyArch(10, 16), 1);
    assert.deepEqual(again, { ...r, stored: true });
  });

  it('continues an interrupted run from its last checkpoint', async () => {
    const trainer = new Trainer(setup(join(dir, 'resumed'), 2));
    const whole = await trainer.train('tiny', tinyArch(10, 16), 2);
    assert.ok(whole !== null);
    // As if killed after the first epoch's checkpoint: the second one gone, the run no longer running.
    assert.ok(existsSync(join(whole.dir, 'epoch-0002')));
    rmSync(join(whole.dir, 'epoch-0002'), { recursive: true });
    store.updateRunStatus(whole.runId, 'killed');
    const lines: string[] = [];
    const resumed = await new Trainer(setup(join(dir, 'resumed'), 2, lines)).train('tiny', tinyArch(10, 16), 2);
    assert.deepEqual(lines.map((l) => l.split(':')[0]), ['epoch 2'], 'only the second epoch is trained again');
    assert.ok(resumed !== null && !resumed.stored);
    assert.equal(resumed.runId, whole.runId);
    assert.equal(resumed.top1, whole.top1);
    assert.deepEqual(store.getRun(whole.runId)?.status, 'finished');
  });
});
