import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { NasError } from '../common/errors.js';
import { DEFAULT_STALE_SECONDS, isRunStale, processOwner, startHeartbeat } from '../results/runs.js';
import { openStore, type Store } from '../results/store.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-results-runs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `t${n++}.db`);
const STORE_URL = new URL('../results/store.js', import.meta.url).href;

/** A store whose clock the test moves. */
function clocked(path = fresh()): { store: Store; advance: (seconds: number) => void } {
  let t = Date.parse('2026-11-29T10:00:00.000Z');
  const store = openStore(path, { now: () => new Date(t) });
  return { store, advance: (s) => (t += s * 1000) };
}

test('run ids name the kind and the UTC day and are unique', () => {
  const { store } = clocked();
  try {
    const ids = new Set<string>();
    for (let i = 0; i < 200; i++) ids.add(store.createRun({ kind: 'train', config: {} }).id);
    assert.equal(ids.size, 200);
    for (const id of ids) assert.match(id, /^tf-20261129-[0-9a-f]{6}$/);
    assert.match(store.createRun({ kind: 'search', config: {} }).id, /^sr-20261129-/);
    assert.match(store.createRun({ kind: 'netadapt', config: {} }).id, /^na-20261129-/);
    assert.match(store.createRun({ kind: 'latency', config: {} }).id, /^lt-20261129-/);
  } finally {
    store.close();
  }
});

test('createRun records everything it is given; a chosen id must be new and well-formed', () => {
  const { store } = clocked();
  try {
    const run = store.createRun({ kind: 'train', config: { lr: 0.1 }, seed: 42, arch: 'v1_x', id: 'my-run.1' });
    assert.deepEqual(run, {
      id: 'my-run.1',
      kind: 'train',
      status: 'running',
      config: { lr: 0.1 },
      seed: 42,
      arch: 'v1_x',
      owner: processOwner(),
      createdAt: '2026-11-29T10:00:00.000Z',
      updatedAt: '2026-11-29T10:00:00.000Z',
      result: null,
      error: null,
    });
    assert.throws(() => store.createRun({ kind: 'train', config: {}, id: 'my-run.1' }), /already exists/);
    assert.throws(() => store.createRun({ kind: 'train', config: {}, id: 'run:1#best' }), /invalid run id/);
    assert.throws(() => store.createRun({ kind: 'train', config: {}, seed: 1.5 }), /invalid seed/);
  } finally {
    store.close();
  }
});

test('getRun returns null for an unknown run; requireRun throws a NasError that points to `nas runs`', () => {
  const { store } = clocked();
  try {
    assert.equal(store.getRun('tf-nope'), null);
    assert.throws(
      () => store.requireRun('tf-nope'),
      (e: unknown) =>
        e instanceof NasError && e.exitCode === 2 && e.message === 'unknown run tf-nope; `nas runs` lists them',
    );
    assert.throws(() => store.updateRunStatus('tf-nope', 'failed'), /unknown run tf-nope/);
    assert.throws(() => store.heartbeat('tf-nope'), /unknown run tf-nope/);
  } finally {
    store.close();
  }
});

test('listRuns is newest first and filters by kind and status', () => {
  const { store, advance } = clocked();
  try {
    const a = store.createRun({ kind: 'train', config: {} });
    advance(1);
    const b = store.createRun({ kind: 'search', config: {} });
    advance(1);
    const c = store.createRun({ kind: 'train', config: {} });
    store.updateRunStatus(a.id, 'finished');
    const ids = (rs: readonly { id: string }[]): string[] => rs.map((r) => r.id);
    assert.deepEqual(ids(store.listRuns()), [c.id, b.id, a.id]);
    assert.deepEqual(ids(store.listRuns({ kind: 'train' })), [c.id, a.id]);
    assert.deepEqual(ids(store.listRuns({ kind: 'train', status: 'running' })), [c.id]);
    assert.deepEqual(ids(store.listRuns({ limit: 1 })), [c.id]);
    assert.deepEqual(ids(store.listRuns({ kind: 'latency' })), []);
    assert.deepEqual(ids(store.findRunning()), [b.id, c.id]);
    assert.deepEqual(ids(store.findRunning('search')), [b.id]);
  } finally {
    store.close();
  }
});

test('status, error and result updates refresh the heartbeat', () => {
  const { store, advance } = clocked();
  try {
    const run = store.createRun({ kind: 'train', config: {} });
    advance(5);
    const failed = store.updateRunStatus(run.id, 'failed', 'loss diverged (NaN) at epoch 3');
    assert.equal(failed.status, 'failed');
    assert.equal(failed.error, 'loss diverged (NaN) at epoch 3');
    assert.equal(failed.updatedAt, '2026-11-29T10:00:05.000Z');
    assert.equal(failed.createdAt, '2026-11-29T10:00:00.000Z');
    advance(5);
    const withResult = store.setRunResult(run.id, { top1: 0.91, top5: 0.99 });
    assert.deepEqual(withResult.result, { top1: 0.91, top5: 0.99 });
    assert.equal(withResult.status, 'failed', 'setRunResult leaves the status');
    const finished = store.finishRun(run.id, { top1: 0.92 });
    assert.equal(finished.status, 'finished');
    assert.equal(finished.error, null);
    assert.deepEqual(finished.result, { top1: 0.92 });
    advance(5);
    store.heartbeat(run.id);
    assert.equal(store.getRun(run.id)?.updatedAt, '2026-11-29T10:00:15.000Z');
  } finally {
    store.close();
  }
});

test('a running run whose heartbeat is older than the limit is stale; a heartbeat makes it fresh again', () => {
  const { store, advance } = clocked();
  try {
    // Another machine's process: only its heartbeat tells whether it lives.
    const run = store.createRun({ kind: 'search', config: {}, owner: 'gpu-box-7:4242' });
    const done = store.createRun({ kind: 'train', config: {}, owner: 'gpu-box-7:4243' });
    store.finishRun(done.id, {});
    advance(DEFAULT_STALE_SECONDS - 1);
    assert.deepEqual(store.findStaleRuns(), []);
    advance(2);
    assert.deepEqual(
      store.findStaleRuns().map((r) => r.id),
      [run.id],
    );
    assert.deepEqual(store.findStaleRuns({ staleAfterSeconds: 3600 }), []);
    assert.deepEqual(store.findStaleRuns({ kind: 'train' }), [], 'a finished run is never stale');
    store.heartbeat(run.id);
    assert.deepEqual(store.findStaleRuns(), []);
  } finally {
    store.close();
  }
});

test('a running run whose owner process on this machine has died is stale at once', () => {
  const path = fresh();
  openStore(path).close();
  const child = spawnSync(
    process.execPath,
    [
      '--input-type=module',
      '-e',
      `const { openStore } = await import(${JSON.stringify(STORE_URL)});
       const s = openStore(process.argv[1]);
       process.stdout.write(s.createRun({ kind: 'search', config: {} }).id);
       s.close();`,
      path,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(child.status, 0, child.stderr);
  const store = openStore(path);
  try {
    const run = store.requireRun(child.stdout);
    assert.equal(run.owner, `${hostname()}:${child.pid}`);
    assert.equal(isRunStale(run), true);
    assert.equal(isRunStale(store.createRun({ kind: 'search', config: {} })), false, 'this process lives');
  } finally {
    store.close();
  }
});

test('acquireRun takes over a stale or ended run, and refuses one that another live process runs', () => {
  const { store, advance } = clocked();
  try {
    const remote = store.createRun({ kind: 'search', config: {}, owner: 'gpu-box-7:4242' });
    assert.throws(
      () => store.acquireRun(remote.id),
      (e: unknown) =>
        e instanceof NasError && /run .* is busy: running in gpu-box-7:4242 \(heartbeat 0s ago\)/.test(e.message),
    );
    advance(DEFAULT_STALE_SECONDS + 1);
    const mine = store.acquireRun(remote.id);
    assert.equal(mine.owner, processOwner());
    assert.equal(mine.status, 'running');

    // A live process on this machine (our parent) with a fresh heartbeat keeps its run.
    const local = store.createRun({ kind: 'search', config: {}, owner: `${hostname()}:${process.ppid}` });
    assert.throws(() => store.acquireRun(local.id), /is busy/);

    const killed = store.createRun({ kind: 'netadapt', config: {}, owner: 'gpu-box-7:1' });
    store.updateRunStatus(killed.id, 'killed', 'SIGKILL');
    const resumed = store.acquireRun(killed.id);
    assert.equal(resumed.status, 'running');
    assert.equal(resumed.error, null);

    assert.equal(store.acquireRun(resumed.id).id, resumed.id, 'the owner may acquire its own run again');
  } finally {
    store.close();
  }
});

test('startHeartbeat refreshes the run until stopped', async () => {
  const { store, advance } = clocked();
  try {
    const run = store.createRun({ kind: 'train', config: {}, owner: 'gpu-box-7:4242' });
    advance(DEFAULT_STALE_SECONDS + 1);
    const beat = startHeartbeat(store, run.id, 0.01);
    try {
      assert.deepEqual(store.findStaleRuns(), [], 'the first beat is immediate');
      advance(DEFAULT_STALE_SECONDS + 1);
      while (store.findStaleRuns().length > 0) await sleep(5);
    } finally {
      beat.stop();
    }
    const at = store.requireRun(run.id).updatedAt;
    advance(1);
    await sleep(50);
    assert.equal(store.requireRun(run.id).updatedAt, at, 'no beat after stop');
  } finally {
    store.close();
  }
});
