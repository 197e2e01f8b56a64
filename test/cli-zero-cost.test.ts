// `nas search --evaluator zero-cost:NAME` through the real CLI: candidates are scored at initialisation and stored
// with the metrics the rest of the pipeline reads (accuracy, latency, params, MAdds, reward), the same for a seed
// whether they are scored in this process or in a Piscina worker; a wrong score name or a training option is one
// line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isJsonObject, type JsonObject, type JsonValue } from '../common/json.js';
import { openStore } from '../results/store.js';
import { runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-zero-cost-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `t${n++}.db`);

/** A tiny search: 2 random candidates of the default space, scored at 16 px on MNIST (the embedded dataset). */
interface Row {
  readonly arch: string;
  readonly reward: number | null;
  readonly metrics: JsonObject;
}

function search(name: string, workers: number): { db: string; rows: Row[] } {
  const db = fresh();
  const args = ['search', '--evaluator', `zero-cost:${name}`, '--target', 'latency=20ms', '--strategy', 'random', '--budget', '2', '--batch', '2'];
  const r = runCli([...args, '--input', '16', '--workers', String(workers), '--seed', '3', '--json', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  const result: JsonValue = JSON.parse(r.stdout) as JsonValue; // JSON.parse gives JSON data; its shape is checked next
  assert.ok(isJsonObject(result) && isJsonObject(result['counts']), r.stdout);
  assert.equal(result['status'], 'finished');
  assert.equal(result['counts']['done'], 2);
  const store = openStore(db, { readonly: true });
  try {
    const run = store.listRuns({ kind: 'search' })[0];
    assert.ok(run !== undefined);
    const rows = store.listCandidates(run.id, { orderBy: 'seq' }).map((c) => {
      const metrics = c.metrics ?? undefined;
      assert.ok(isJsonObject(metrics), `candidate ${c.seq} has no metrics`);
      return { arch: c.arch, reward: c.reward, metrics };
    });
    return { db, rows };
  } finally {
    store.close();
  }
}

function checkStored(name: string, rows: readonly Row[]): void {
  for (const row of rows) {
    const m = row.metrics;
    assert.equal(m['zeroCost'], name);
    assert.equal(typeof m['score'], 'number');
    assert.equal(m['input'], 16);
    for (const k of ['accuracy', 'latencyMs', 'params', 'madds']) assert.ok(typeof m[k] === 'number' && m[k] > 0, `${k}: ${String(m[k])}`);
    assert.ok(typeof row.reward === 'number' && row.reward > 0);
  }
}

/** What must not change between two runs with one seed: the archs and their scores (not the timings). */
const scores = (rows: readonly Row[]): unknown[] => rows.map((r) => [r.arch, r.reward, r.metrics['score'], r.metrics['accuracy']]);

test('zero-cost:naswot stores its scores, the same in process and in a worker thread', () => {
  const inProcess = search('naswot', 0);
  checkStored('naswot', inProcess.rows);
  const pooled = search('naswot', 1);
  checkStored('naswot', pooled.rows);
  assert.deepEqual(scores(pooled.rows), scores(inProcess.rows));
});

test('zero-cost:synflow stores its scores, the same for a seed', () => {
  const a = search('synflow', 0);
  checkStored('synflow', a.rows);
  assert.deepEqual(scores(search('synflow', 0).rows), scores(a.rows));
});

test('an unknown zero-cost score and a proxy-training option are one-line errors', () => {
  const base = ['search', '--target', 'latency=20ms', '--workers', '0', '--db', fresh()];
  userError(runCli([...base, '--evaluator', 'zero-cost:unknown']), "unknown zero-cost score 'unknown'", 'zero-cost:naswot or zero-cost:synflow');
  userError(runCli([...base, '--evaluator', 'zero-cost:naswot', '--proxy-epochs', '2']), "'proxyEpochs' is a proxy-training setting");
});
