// `nas bench pipeline --smoke` through the real CLI: the table's JSON has every network (the reference, the best
// searched candidates, the width-scaled reference) with a measured latency, params, MAdds and test top-1 per seed;
// the search's target is the reference's LUT latency; a rerun on the same --db and --out reuses every stage and
// trains nothing again; bad input is one line.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isJsonObject, type JsonObject, type JsonValue } from '../common/json.js';
import { openStore } from '../results/store.js';
import { runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-pipeline-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'p.db');
const out = join(dir, 'pipeline');

const STAGES = ['lut', 'reference', 'search', 'candidates', 'width', 'measure'];

function num(o: JsonObject, k: string): number {
  const v = o[k];
  assert.equal(typeof v, 'number', `${k}: ${JSON.stringify(v)}`);
  return Number(v);
}

function smoke(): { result: JsonObject; stderr: string } {
  const r = runCli(['bench', 'pipeline', '--smoke', '--json', '--db', db, '--out', out]);
  assert.equal(r.status, 0, r.stderr);
  const result: JsonValue = JSON.parse(r.stdout) as JsonValue; // JSON.parse gives JSON data; its shape is checked next
  assert.ok(isJsonObject(result), r.stdout);
  return { result, stderr: r.stderr };
}

function rowsOf(result: JsonObject): JsonObject[] {
  const rows = result['rows'];
  assert.ok(Array.isArray(rows));
  return rows.map((x) => {
    assert.ok(isJsonObject(x));
    return x;
  });
}

function checkRow(row: JsonObject): void {
  assert.ok(num(row, 'latencyMs') > 0, `${String(row['network'])} latency`);
  assert.ok(num(row, 'params') > 0 && num(row, 'madds') > 0);
  const top1 = row['top1'];
  assert.ok(Array.isArray(top1) && top1.length === 2, 'seeds 0 and 1');
  for (const a of top1) assert.ok(typeof a === 'number' && a >= 0 && a <= 1, `top-1 ${String(a)}`);
  const [a = 0, b = 0] = top1.map(Number);
  assert.ok(Math.abs(num(row, 'top1Mean') - (a + b) / 2) < 1e-12);
  assert.ok(Math.abs(num(row, 'top1Spread') - Math.abs(a - b)) < 1e-12);
}

/** A search run's stored settings. */
function searchConfig(runId: string): JsonObject {
  const store = openStore(db, { readonly: true });
  const config = store.getRun(runId)?.config ?? null;
  store.close();
  assert.ok(isJsonObject(config), `run ${runId} has no settings`);
  return config;
}

/** Training runs in the database (one per network and seed). */
function trainRuns(): number {
  const store = openStore(db, { readonly: true });
  const n = store.listRuns({ kind: 'train' }).length;
  store.close();
  return n;
}

test('--smoke --json: every network timed and trained; the target is the reference latency; a rerun redoes nothing', () => {
  const { result } = smoke();
  assert.equal(result['space'], 'mobilenetv3s-small-input');
  const rows = rowsOf(result);
  const names = rows.map((r) => String(r['network']));
  assert.deepEqual(names.slice(0, 3), ['reference', 'searched-1', 'searched-2']);
  assert.match(names[3] ?? '', /^width-x[01]\.\d{3}$/);
  assert.equal(rows.length, 4);
  for (const row of rows) checkRow(row);
  // The search judged every candidate against the reference (paired), and its target is the reference's figure.
  const search = searchConfig(String(result['searchRunId']));
  assert.ok(isJsonObject(search['latency']) && search['latency']['kind'] === 'paired', JSON.stringify(search['latency']));
  assert.ok(Math.abs(num(search['latency'], 'referenceMs') - num(result, 'targetMs')) < 5e-5);
  assert.deepEqual(search['targets'], [`latency=${num(result, 'targetMs').toFixed(4)}ms`]);
  const seconds = result['stageSeconds'];
  assert.ok(isJsonObject(seconds));
  assert.deepEqual(Object.keys(seconds), STAGES);
  for (const s of STAGES) assert.ok(num(seconds, s) > 0, s);
  assert.deepEqual(result['reusedStages'], []);
  assert.equal(trainRuns(), 8, '4 networks x 2 seeds');

  const again = smoke();
  assert.deepEqual(again.result['reusedStages'], STAGES);
  assert.equal(trainRuns(), 8, 'no training again');
  assert.doesNotMatch(again.stderr, /epoch \d/);
  assert.deepEqual(again.result['rows'], result['rows']);
  assert.deepEqual(again.result['stageSeconds'], result['stageSeconds']);
});

test('bad input is one line, exit code 2', () => {
  userError(runCli(['bench', 'pipeline', '--top', '0', '--db', join(dir, 'b.db'), '--out', join(dir, 'b')]), '--top');
  userError(runCli(['bench', 'pipeline', '--space', 'mnasnet', '--db', join(dir, 'b.db'), '--out', join(dir, 'b')]), '--space mnasnet', 'mnasnet-small-input');
  userError(runCli(['bench', 'pipeline', '--proxy', '{"input":', '--db', join(dir, 'b.db'), '--out', join(dir, 'b')]), '--proxy', 'final-epoch');
  userError(runCli(['bench', 'pipeline', '--data', 'imagenet', '--db', join(dir, 'b.db'), '--out', join(dir, 'b')]), '--data imagenet');
  // A directory the pipeline did not create is not written into.
  const foreign = join(dir, 'foreign');
  mkdirSync(foreign);
  writeFileSync(join(foreign, 'notes.txt'), 'mine');
  userError(runCli(['bench', 'pipeline', '--smoke', '--db', join(dir, 'b.db'), '--out', foreign]), '--out', 'not empty');
});
