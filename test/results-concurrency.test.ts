import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { SCHEMA_VERSION } from '../results/migrations.js';
import { openStore } from '../results/store.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-results-concurrency-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `t${n++}.db`);
const STORE_URL = new URL('../results/store.js', import.meta.url).href;

// Writes EPOCHS epochs of a run, one transaction each, pausing now and then so the reader interleaves.
const WRITER = `
  const { openStore } = await import(__STORE_URL__);
  const store = openStore(__PATH__);
  try {
    for (let e = 0; e < __EPOCHS__; e++) {
      store.recordEpoch({ runId: __RUN__, epoch: e, step: (e + 1) * 10, trainLoss: 1 / (e + 1) });
      if (e % __PAUSE_EVERY__ === 0) await new Promise((r) => setTimeout(r, 2));
    }
  } finally {
    store.close();
  }`;

function writerSource(path: string, runId: string, epochs: number, pauseEvery: number): string {
  return WRITER.replaceAll('__STORE_URL__', JSON.stringify(STORE_URL))
    .replaceAll('__PATH__', JSON.stringify(path))
    .replaceAll('__RUN__', JSON.stringify(runId))
    .replaceAll('__EPOCHS__', String(epochs))
    .replaceAll('__PAUSE_EVERY__', String(pauseEvery));
}

/** Reads the epoch count until `done` resolves; the counts seen never go down and reads never fail. */
async function readWhile(done: Promise<unknown>, read: () => number): Promise<number[]> {
  let finished = false;
  const end = done.finally(() => {
    finished = true;
  });
  const seen: number[] = [];
  while (!finished) {
    seen.push(read());
    await sleep(1);
  }
  await end;
  seen.push(read());
  return seen;
}

const nonDecreasing = (xs: readonly number[]): boolean => xs.every((x, i) => i === 0 || x >= (xs[i - 1] ?? 0));

test('two connections see each other’s committed writes', () => {
  const path = fresh();
  const a = openStore(path);
  const b = openStore(path);
  try {
    const run = a.createRun({ kind: 'train', config: {} });
    assert.equal(b.getRun(run.id)?.id, run.id);
    b.recordEpoch({ runId: run.id, epoch: 0, step: 5 });
    assert.equal(a.listEpochs(run.id).length, 1);
    b.updateRunStatus(run.id, 'finished');
    assert.equal(a.getRun(run.id)?.status, 'finished');
  } finally {
    a.close();
    b.close();
  }
});

test('a worker thread writes while the main thread reads', async () => {
  const path = fresh();
  const store = openStore(path);
  try {
    const run = store.createRun({ kind: 'train', config: {} });
    const source = `(async () => { ${writerSource(path, run.id, 300, 10)} })().catch((e) => { throw e; });`;
    const worker = new Worker(source, { eval: true });
    const exited = new Promise<void>((resolve, reject) => {
      worker.once('error', reject);
      worker.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`worker exited with ${code}`))));
    });
    const seen = await readWhile(exited, () => store.listEpochs(run.id).length);
    assert.ok(nonDecreasing(seen), 'counts never go down');
    assert.equal(seen.at(-1), 300);
    assert.ok(seen.length > 2, 'the reader ran while the writer wrote');
  } finally {
    store.close();
  }
});

test('a child process writes while this process reads, including inside a long read transaction', async () => {
  const path = fresh();
  const store = openStore(path);
  try {
    const run = store.createRun({ kind: 'train', config: {} });
    const child = spawn(process.execPath, ['--input-type=module', '-e', writerSource(path, run.id, 300, 1)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`writer exited ${code}: ${stderr}`))));
    });

    // WAL: a reader holding a snapshot neither blocks the writer nor sees its later commits. A second connection
    // watches the writer move on while the snapshot stays put.
    while (store.listEpochs(run.id).length === 0) await sleep(5);
    const watcher = openStore(path, { readonly: true });
    let snapshot: number;
    try {
      snapshot = store.readSnapshot(() => {
        const first = store.listEpochs(run.id).length;
        const deadline = Date.now() + 30_000;
        while (watcher.listEpochs(run.id).length === first) {
          if (Date.now() > deadline) assert.fail('the writer made no progress during the read transaction');
        }
        assert.equal(store.listEpochs(run.id).length, first);
        return first;
      });
    } finally {
      watcher.close();
    }
    const seen = await readWhile(exited, () => store.listEpochs(run.id).length);
    assert.ok(nonDecreasing([snapshot, ...seen]));
    assert.equal(seen.at(-1), 300);
    assert.deepEqual(
      store.listEpochs(run.id).map((e) => e.epoch),
      Array.from({ length: 300 }, (_, i) => i),
    );
  } finally {
    store.close();
  }
});

test('several processes creating the same new database at once all succeed, and migrate it once', async () => {
  const path = fresh();
  const opener = `
    const { openStore } = await import(${JSON.stringify(STORE_URL)});
    const store = openStore(${JSON.stringify(path)});
    store.createRun({ kind: 'latency', config: { pid: process.pid } });
    process.stdout.write(String(store.schemaVersion));
    store.close();`;
  const results = await Promise.all(
    Array.from(
      { length: 4 },
      () =>
        new Promise<{ code: number | null; out: string; err: string }>((resolve) => {
          const p = spawn(process.execPath, ['--input-type=module', '-e', opener]);
          let out = '';
          let err = '';
          p.stdout.on('data', (d: Buffer) => (out += d.toString()));
          p.stderr.on('data', (d: Buffer) => (err += d.toString()));
          p.once('exit', (code) => resolve({ code, out, err }));
        }),
    ),
  );
  for (const r of results) {
    assert.equal(r.code, 0, r.err);
    assert.equal(r.out, String(SCHEMA_VERSION));
  }
  const store = openStore(path);
  try {
    assert.equal(store.listRuns().length, 4);
  } finally {
    store.close();
  }
});
