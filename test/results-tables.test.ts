import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore, type Store } from '../results/store.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-results-tables-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;

function withStore(fn: (store: Store) => void): void {
  let t = Date.parse('2026-11-29T10:00:00.000Z');
  const store = openStore(join(dir, `t${n++}.db`), { now: () => new Date((t += 1000)) });
  try {
    fn(store);
  } finally {
    store.close();
  }
}

test('recording an epoch again replaces it, so a resumed run keeps the redone figures only', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'train', config: {} });
    store.recordEpoch({ runId: run.id, epoch: 0, step: 100, trainLoss: 2.0, valTop1: 0.4, lr: 0.1 });
    store.recordEpoch({ runId: run.id, epoch: 1, step: 200, trainLoss: 1.5, valTop1: 0.5, extra: { note: 'killed' } });
    const redone = store.recordEpoch({
      runId: run.id,
      epoch: 1,
      step: 200,
      trainLoss: 1.4,
      trainAcc: 0.6,
      valLoss: 1.2,
      valTop1: 0.55,
      valTop5: 0.9,
      lr: 0.05,
      imagesPerSec: 812.5,
      wallSeconds: 61.5,
    });
    const epochs = store.listEpochs(run.id);
    assert.deepEqual(
      epochs.map((e) => [e.epoch, e.trainLoss]),
      [
        [0, 2.0],
        [1, 1.4],
      ],
    );
    assert.deepEqual(epochs[1], redone);
    assert.equal(redone.extra, null, 'the redone epoch does not inherit the old extra');
    assert.equal(redone.imagesPerSec, 812.5);
    assert.equal(store.getRun(run.id)?.updatedAt, redone.recordedAt, 'an epoch is a heartbeat');
  });
});

test('a diverged (NaN) loss is stored as NULL and said so in extra', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'train', config: {} });
    const e = store.recordEpoch({ runId: run.id, epoch: 3, step: 400, trainLoss: Number.NaN, extra: { clipped: 2 } });
    assert.equal(e.trainLoss, null);
    assert.deepEqual(e.extra, { clipped: 2, nonFinite: { trainLoss: 'NaN' } });
  });
});

test('latestCheckpoint is the highest epoch and step; recording the same one again replaces its path', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'train', config: {} });
    assert.equal(store.latestCheckpoint(run.id), null);
    store.recordCheckpoint({ runId: run.id, epoch: 0, step: 100, path: 'out/ck-0' });
    store.recordCheckpoint({ runId: run.id, epoch: 2, step: 300, path: 'out/ck-2', metrics: { valTop1: 0.7 } });
    store.recordCheckpoint({ runId: run.id, epoch: 1, step: 200, path: 'out/ck-1' });
    assert.equal(store.latestCheckpoint(run.id)?.path, 'out/ck-2');
    store.recordCheckpoint({ runId: run.id, epoch: 2, step: 300, path: 'out/ck-2b', metrics: { valTop1: 0.71 } });
    const latest = store.latestCheckpoint(run.id);
    assert.equal(latest?.path, 'out/ck-2b');
    assert.deepEqual(latest?.metrics, { valTop1: 0.71 });
    assert.deepEqual(
      store.listCheckpoints(run.id).map((c) => c.epoch),
      [0, 1, 2],
    );
    const other = store.createRun({ kind: 'train', config: {} });
    assert.equal(store.latestCheckpoint(other.id), null);
  });
});

test('strategy state: the latest snapshot is loaded, maxStep bounds it, keep prunes old ones', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'search', config: {} });
    assert.equal(store.loadStrategyState(run.id), null);
    assert.equal(store.latestStrategyStep(run.id), null);
    const rng = { i: 3, j: 17, S: [5, 1, 250] };
    for (const step of [8, 16, 24]) store.saveStrategyState(run.id, step, { step, rng, weights: [[0.5, -0.25]] });
    const latest = store.loadStrategyState(run.id);
    assert.equal(latest?.step, 24);
    assert.deepEqual(latest?.state, { step: 24, rng, weights: [[0.5, -0.25]] });
    assert.equal(store.loadStrategyState(run.id, 20)?.step, 16);
    assert.equal(store.latestStrategyStep(run.id), 24);
    store.saveStrategyState(run.id, 32, { step: 32 }, { keep: 2 });
    assert.equal(store.loadStrategyState(run.id, 20), null, 'steps 8 and 16 were pruned');
    assert.equal(store.loadStrategyState(run.id, 24)?.step, 24);
  });
});

test('latency tables: bulk upsert per key, bulk read, listing', () => {
  withStore((store) => {
    const key = { runner: 'tfjs-predict', backend: 'wasm', machine: 'Xeon 2c', input: '1x224x224x3' };
    const other = { ...key, backend: 'cpu' };
    assert.equal(store.readLatencyTable(key).size, 0);
    store.upsertLatencyEntries(key, [
      { entry: 'ir_k3_s1_x16_c16_re@112', medianMs: 1.25, spreadMs: 0.05, samples: 50 },
      { entry: 'ir_k5_s2_x72_c40_se_re@56', medianMs: 2.5, spreadMs: 0.1, samples: 50 },
    ]);
    store.upsertLatencyEntries(other, [{ entry: 'ir_k3_s1_x16_c16_re@112', medianMs: 9, spreadMs: 1, samples: 20 }]);
    store.upsertLatencyEntries(key, [
      { entry: 'ir_k3_s1_x16_c16_re@112', medianMs: 1.2, spreadMs: 0.04, samples: 100 },
    ]);
    const table = store.readLatencyTable(key);
    assert.equal(table.size, 2);
    assert.equal(table.get('ir_k3_s1_x16_c16_re@112')?.medianMs, 1.2);
    assert.equal(table.get('ir_k3_s1_x16_c16_re@112')?.samples, 100);
    assert.equal(table.get('ir_k5_s2_x72_c40_se_re@56')?.medianMs, 2.5);
    assert.equal(store.readLatencyTable(other).get('ir_k3_s1_x16_c16_re@112')?.medianMs, 9);
    assert.deepEqual(
      store.listLatencyTables().map((t) => [t.backend, t.entries]),
      [
        ['cpu', 1],
        ['wasm', 2],
      ],
    );
    const bad = { entry: 'x', medianMs: 1, spreadMs: 0, samples: 1 };
    assert.throws(() => store.upsertLatencyEntries(key, [{ ...bad, medianMs: Number.NaN }]), /finite/);
    assert.throws(() => store.upsertLatencyEntries(key, [{ ...bad, samples: 0 }]), /positive integer/);
    assert.equal(store.readLatencyTable(key).size, 2);
  });
});

test('NetAdapt iterations are recorded per iteration and replaced when redone', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'netadapt', config: { target: 'latency=0.7x' } });
    const proposals = [
      { what: 's2.b1.expand', width: 64, latencyMs: 9.1, accuracy: 0.88 },
      { what: 'group s3', width: 32, latencyMs: 9.0, accuracy: 0.86 },
    ];
    store.recordNetadaptIteration({ runId: run.id, iteration: 0, proposals });
    const it0 = store.recordNetadaptIteration({
      runId: run.id,
      iteration: 0,
      proposals,
      chosen: proposals[0],
      latencyPredictedMs: 9.1,
      latencyMeasuredMs: 9.3,
      accuracy: 0.88,
    });
    store.recordNetadaptIteration({ runId: run.id, iteration: 1, proposals: [] });
    const all = store.listNetadaptIterations(run.id);
    assert.equal(all.length, 2);
    assert.deepEqual(all[0], it0);
    assert.deepEqual(it0.chosen, proposals[0]);
    assert.equal(all[1]?.chosen, null);
    assert.throws(() =>
      store.recordNetadaptIteration({ runId: run.id, iteration: 2, proposals: [], accuracy: Number.NaN }),
    );
  });
});
