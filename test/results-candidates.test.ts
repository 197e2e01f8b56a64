import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { evalKeyOf, JsonColumnError } from '../common/json.js';
import { openStore, type Store } from '../results/store.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-results-candidates-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `t${n++}.db`);
const STORE_URL = new URL('../results/store.js', import.meta.url).href;

const KEY = evalKeyOf({ dataset: 'mnist', proxyEpochs: 1, input: 28, latency: 'madds' });

function withStore(fn: (store: Store) => void): void {
  const store = openStore(fresh());
  try {
    fn(store);
  } finally {
    store.close();
  }
}

test('evalKeyOf depends on the settings, not on key order', () => {
  assert.equal(evalKeyOf({ a: 1, b: { c: 2, d: 3 } }), evalKeyOf({ b: { d: 3, c: 2 }, a: 1 }));
  assert.notEqual(evalKeyOf({ a: 1 }), evalKeyOf({ a: 2 }));
  assert.match(KEY, /^[0-9a-f]{16}$/);
});

test('an arch enqueued twice in a run is one candidate; seq numbers the distinct archs', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'search', config: {} });
    const a = store.enqueueCandidate({ runId: run.id, arch: 'arch-a', evalKey: KEY, decisions: [0, 2, 1] });
    const b = store.enqueueCandidate({ runId: run.id, arch: 'arch-b', evalKey: KEY, decisions: [1, 1, 1] });
    const again = store.enqueueCandidate({ runId: run.id, arch: 'arch-a', evalKey: KEY, decisions: [0, 2, 1] });
    assert.equal(a.created, true);
    assert.equal(b.created, true);
    assert.equal(again.created, false);
    assert.deepEqual(again.candidate, a.candidate);
    assert.deepEqual([a.candidate.seq, b.candidate.seq], [0, 1]);
    assert.deepEqual(a.candidate.decisions, [0, 2, 1]);
    assert.equal(a.candidate.status, 'queued');
    assert.equal(store.countCandidates(run.id).total, 2);
    assert.equal(store.getCandidateBySeq(run.id, 1)?.arch, 'arch-b');

    // Another run may hold the same arch.
    const other = store.createRun({ kind: 'search', config: {} });
    const c = store.enqueueCandidate({ runId: other.id, arch: 'arch-a', evalKey: KEY });
    assert.equal(c.created, true);
    assert.equal(c.candidate.seq, 0);
    assert.equal(c.candidate.decisions, null);

    assert.throws(
      () => store.enqueueCandidate({ runId: run.id, arch: 'arch-c', evalKey: KEY, decisions: [0.5] }),
      JsonColumnError,
    );
  });
});

test('claims take the oldest queued candidate, and none when the queue is empty', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'search', config: {} });
    for (const arch of ['a', 'b', 'c']) store.enqueueCandidate({ runId: run.id, arch, evalKey: KEY });
    const first = store.claimCandidate(run.id, 'worker-1');
    assert.equal(first?.arch, 'a');
    assert.equal(first?.status, 'running');
    assert.equal(first?.worker, 'worker-1');
    assert.equal(first?.attempts, 1);
    assert.notEqual(first?.startedAt, null);
    assert.equal(store.claimCandidate(run.id, 'worker-2')?.arch, 'b');
    assert.equal(store.claimCandidate(run.id, 'worker-1')?.arch, 'c');
    assert.equal(store.claimCandidate(run.id, 'worker-1'), null);
    assert.deepEqual(store.countCandidates(run.id), { queued: 0, running: 3, done: 0, failed: 0, total: 3 });
  });
});

test('done and failed candidates keep their metrics, reward, reason and timings; retry requeues', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'search', config: {} });
    for (const arch of ['a', 'b', 'c']) store.enqueueCandidate({ runId: run.id, arch, evalKey: KEY });
    const a = store.claimCandidate(run.id, 'w');
    const b = store.claimCandidate(run.id, 'w');
    const c = store.claimCandidate(run.id, 'w');
    assert.ok(a !== null && b !== null && c !== null);

    const done = store.markCandidateDone(a.id, {
      metrics: { accuracy: 0.91, latencyMs: 12.5, params: 2_000_000, madds: 60e6 },
      reward: 0.88,
    });
    assert.equal(done.status, 'done');
    assert.equal(done.reward, 0.88);
    assert.deepEqual(done.metrics, { accuracy: 0.91, latencyMs: 12.5, params: 2_000_000, madds: 60e6 });
    assert.notEqual(done.finishedAt, null);

    const failed = store.markCandidateFailed(b.id, 'loss is NaN at step 40');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.failure, 'loss is NaN at step 40');

    const retried = store.markCandidateFailed(c.id, 'worker exited (code 137)', { retry: true });
    assert.equal(retried.status, 'queued');
    assert.equal(retried.worker, null);
    const again = store.claimCandidate(run.id, 'w2');
    assert.equal(again?.id, c.id);
    assert.equal(again?.attempts, 2);

    assert.throws(() => store.markCandidateDone(c.id, { metrics: { accuracy: Number.NaN } }), JsonColumnError);
    assert.throws(() => store.markCandidateDone(c.id, { metrics: {}, reward: Infinity }), JsonColumnError);
    assert.equal(store.getCandidate(c.id)?.status, 'running');

    assert.deepEqual(
      store.listCandidates(run.id, { orderBy: 'reward' }).map((x) => x.arch),
      ['a', 'b', 'c'],
    );
    assert.deepEqual(
      store.listCandidates(run.id, { status: 'failed' }).map((x) => x.arch),
      ['b'],
    );
  });
});

test('requeueInFlight puts the running candidates of a run back in the queue, and only those', () => {
  withStore((store) => {
    const run = store.createRun({ kind: 'search', config: {} });
    const other = store.createRun({ kind: 'search', config: {} });
    for (const arch of ['a', 'b', 'c', 'd']) store.enqueueCandidate({ runId: run.id, arch, evalKey: KEY });
    store.enqueueCandidate({ runId: other.id, arch: 'z', evalKey: KEY });
    const a = store.claimCandidate(run.id, 'w1');
    store.claimCandidate(run.id, 'w2');
    store.claimCandidate(other.id, 'w3');
    assert.ok(a !== null);
    store.markCandidateDone(a.id, { metrics: { accuracy: 0.5 } });

    assert.equal(store.requeueInFlight(run.id), 1);
    assert.deepEqual(store.countCandidates(run.id), { queued: 3, running: 0, done: 1, failed: 0, total: 4 });
    assert.equal(store.countCandidates(other.id).running, 1, "another run's evaluations are not touched");
    const b = store.getCandidateBySeq(run.id, 1);
    assert.equal(b?.status, 'queued');
    assert.equal(b?.worker, null);
    assert.equal(b?.startedAt, null);
    assert.equal(store.claimCandidate(run.id, 'w4')?.arch, 'b', 'the requeued one is first again');
    assert.equal(store.requeueInFlight(run.id), 1);
  });
});

test('a cached result is found across runs only with the same evaluation key and a done status', () => {
  withStore((store) => {
    const first = store.createRun({ kind: 'search', config: {} });
    store.enqueueCandidate({ runId: first.id, arch: 'a', evalKey: KEY });
    store.enqueueCandidate({ runId: first.id, arch: 'b', evalKey: KEY });
    const a = store.claimCandidate(first.id, 'w');
    const b = store.claimCandidate(first.id, 'w');
    assert.ok(a !== null && b !== null);
    assert.equal(store.cachedResult('a', KEY), null, 'not while it runs');
    store.markCandidateDone(a.id, { metrics: { accuracy: 0.9 }, reward: 0.8 });
    store.markCandidateFailed(b.id, 'oom');

    const hit = store.cachedResult('a', KEY);
    assert.equal(hit?.runId, first.id);
    assert.deepEqual(hit?.metrics, { accuracy: 0.9 });
    assert.equal(store.cachedResult('b', KEY), null, 'a failure is not cached');
    assert.equal(store.cachedResult('a', evalKeyOf({ dataset: 'mnist', proxyEpochs: 5 })), null);
    assert.equal(store.cachedResult('never-seen', KEY), null);
  });
});

interface ClaimReport {
  readonly claimed: readonly number[];
}

/** A worker thread with its own connection that claims candidates of a run until the queue is empty. */
function claimInWorker(path: string, runId: string, worker: string): Promise<ClaimReport> {
  const source = `
    const { parentPort, workerData } = require('node:worker_threads');
    import(workerData.storeUrl).then(({ openStore }) => {
      const store = openStore(workerData.path);
      const claimed = [];
      try {
        for (let c; (c = store.claimCandidate(workerData.runId, workerData.worker)) !== null; ) {
          claimed.push(c.id);
          store.markCandidateDone(c.id, { metrics: { by: workerData.worker } });
        }
      } finally {
        store.close();
      }
      parentPort.postMessage({ claimed });
    });`;
  return new Promise((resolve, reject) => {
    const w = new Worker(source, { eval: true, workerData: { storeUrl: STORE_URL, path, runId, worker } });
    w.once('message', (m: ClaimReport) => resolve(m));
    w.once('error', reject);
    w.once('exit', (code) => {
      if (code !== 0) reject(new Error(`worker exited with ${code}`));
    });
  });
}

test('two connections claim different candidates', () => {
  const path = fresh();
  const a = openStore(path);
  const b = openStore(path);
  try {
    const run = a.createRun({ kind: 'search', config: {} });
    for (const arch of ['x', 'y', 'z']) a.enqueueCandidate({ runId: run.id, arch, evalKey: KEY });
    const fromA = a.claimCandidate(run.id, 'a');
    const fromB = b.claimCandidate(run.id, 'b');
    const fromA2 = a.claimCandidate(run.id, 'a');
    assert.deepEqual([fromA?.arch, fromB?.arch, fromA2?.arch], ['x', 'y', 'z']);
    assert.equal(b.claimCandidate(run.id, 'b'), null);
  } finally {
    a.close();
    b.close();
  }
});

test('concurrent claims from four worker threads take every candidate exactly once', async () => {
  const path = fresh();
  const store = openStore(path);
  try {
    const run = store.createRun({ kind: 'search', config: {} });
    const enqueue = (i: number): number =>
      store.enqueueCandidate({ runId: run.id, arch: `arch-${i}`, evalKey: KEY }).candidate.id;
    const ids = store.transaction(() => Array.from({ length: 400 }, (_, i) => enqueue(i)));
    const reports = await Promise.all(['w0', 'w1', 'w2', 'w3'].map((w) => claimInWorker(path, run.id, w)));
    const claimed = reports.flatMap((r) => r.claimed);
    assert.equal(claimed.length, ids.length, 'no candidate claimed twice');
    assert.deepEqual(
      [...claimed].sort((x, y) => x - y),
      ids,
    );
    assert.deepEqual(store.countCandidates(run.id), { queued: 0, running: 0, done: 400, failed: 0, total: 400 });
    assert.ok(store.listCandidates(run.id).every((c) => c.attempts === 1));
  } finally {
    store.close();
  }
});
