// `nas bench proxy-fidelity --smoke` through the real CLI: the JSON holds a row per architecture (cheapest first)
// and a summary per score whose tau-b and rho are what the rows give when recomputed here; a rerun on the same
// --db and --out evaluates and trains nothing again; bad options are one line.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isJsonObject, type JsonObject, type JsonValue } from '../common/json.js';
import { kendallTau, spearmanRho } from '../common/rankCorrelation.js';
import { openStore } from '../results/store.js';
import { runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-proxy-fidelity-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'f.db');
const out = join(dir, 'study');

const LABELS = ['params', 'madds', 'zero-cost:naswot', 'zero-cost:synflow', 'proxy:cheap', 'proxy:default', 'proxy:dear'];

function objects(v: JsonValue | undefined, what: string): JsonObject[] {
  assert.ok(Array.isArray(v), `${what} is a list`);
  return v.map((x, i) => {
    assert.ok(isJsonObject(x), `${what}[${i}] is an object`);
    return x;
  });
}

function num(o: JsonObject, k: string): number {
  const v = o[k];
  assert.equal(typeof v, 'number', `${k}: ${JSON.stringify(v)}`);
  return Number(v);
}

function smoke(...extra: string[]): { result: JsonObject; stderr: string } {
  const r = runCli(['bench', 'proxy-fidelity', '--smoke', '--json', '--db', db, '--out', out, ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const result: JsonValue = JSON.parse(r.stdout) as JsonValue; // JSON.parse gives JSON data; its shape is checked next
  assert.ok(isJsonObject(result), r.stdout);
  return { result, stderr: r.stderr };
}

/** Each row's mean test top-1 over its trainings, and the rows sorted by MAdds. */
function checkRows(rows: readonly JsonObject[]): void {
  assert.equal(rows.length, 4);
  for (const [i, row] of rows.entries()) {
    assert.equal(row['index'], i);
    if (i > 0) assert.ok(num(row, 'madds') >= num(rows[i - 1] ?? row, 'madds'), 'cheapest first');
    const trained = objects(row['trained'], `rows[${i}].trained`);
    assert.equal(trained.length, i === 0 || i === 3 ? 2 : 1, `arch ${i}: seed 0, and seed 1 for the noise subset #0, #3`);
    const top1 = trained.map((t) => num(t, 'top1'));
    for (const a of top1) assert.ok(a >= 0 && a <= 1);
    assert.ok(Math.abs(num(row, 'accuracy') - top1.reduce((a, b) => a + b, 0) / top1.length) < 1e-12);
    assert.ok(isJsonObject(row['scores']));
  }
}

/** tau-b and rho of every score as recomputed from the rows; each in [-1, 1]. */
function checkSettings(settings: readonly JsonObject[], rows: readonly JsonObject[]): void {
  assert.deepEqual(settings.map((s) => s['label']), LABELS);
  for (const s of settings) {
    const label = String(s['label']);
    const pairs = rows.flatMap((r) => {
      const scores = r['scores'];
      const v = isJsonObject(scores) ? scores[label] : null;
      return typeof v === 'number' ? [[v, num(r, 'accuracy')] as const] : [];
    });
    assert.equal(s['n'], pairs.length, label);
    const xs = pairs.map((p) => p[0]);
    const ys = pairs.map((p) => p[1]);
    for (const [k, f] of [['kendallTau', kendallTau], ['spearmanRho', spearmanRho]] as const) {
      const got = s[k];
      const want = f(xs, ys);
      if (Number.isNaN(want)) assert.equal(got, null, `${label} ${k}`);
      else {
        assert.ok(typeof got === 'number' && Math.abs(got - want) < 1e-12 && got >= -1 && got <= 1, `${label} ${k}: ${String(got)} vs ${want}`);
      }
    }
    const cost = num(s, 'secondsPerCandidate');
    assert.ok(label === 'params' || label === 'madds' ? cost === 0 : cost > 0, `${label} cost ${cost}`);
  }
}

test('--smoke --json: rows per architecture, and tau-b / rho per score as the rows give them', () => {
  const { result } = smoke();
  assert.equal(result['space'], 'mnasnet-small-input');
  assert.equal(result['dataset'], 'fashion-mnist');
  assert.deepEqual(result['seeds'], [0, 1]);
  assert.deepEqual(result['noiseArchs'], [0, 3]);
  const rows = objects(result['rows'], 'rows');
  checkRows(rows);
  checkSettings(objects(result['settings'], 'settings'), rows);
  const noise = result['noise'];
  assert.ok(isJsonObject(noise));
  assert.equal(noise['archs'], 2);
  const diff = num(noise, 'meanAbsDiff');
  assert.ok(diff >= 0 && diff <= 1);

  // The same --db and --out again: every score and training comes from the store, none is redone.
  const trainRuns = (): number => {
    const store = openStore(db, { readonly: true });
    try {
      return store.listRuns({ kind: 'train' }).length;
    } finally {
      store.close();
    }
  };
  assert.equal(trainRuns(), 6);
  const again = smoke();
  assert.equal(trainRuns(), 6, 'no training again');
  const progress = again.stderr.split('\n').filter((l) => /^\[/.test(l) && !/^\[train \d+\/\d+ seed \d+\] #\d+ v1_/.test(l));
  assert.equal(progress.length, 5 * 4 + 6, again.stderr);
  for (const line of progress) assert.match(line, /\(stored\)/);
  assert.deepEqual(again.result['rows'], result['rows']);
  assert.deepEqual(again.result['settings'], result['settings']);
  // --stored-only reads the same table from the store.
  assert.deepEqual(smoke('--stored-only').result['settings'], result['settings']);
});

test('--stored-only on an empty database evaluates and trains nothing: no pairs, no correlation', () => {
  const r = runCli(['bench', 'proxy-fidelity', '--smoke', '--stored-only', '--json', '--db', join(dir, 'empty.db'), '--out', join(dir, 'none')]);
  assert.equal(r.status, 0, r.stderr);
  const result: JsonValue = JSON.parse(r.stdout) as JsonValue; // JSON.parse gives JSON data; its shape is checked next
  assert.ok(isJsonObject(result));
  for (const row of objects(result['rows'], 'rows')) assert.equal(row['accuracy'], null);
  for (const s of objects(result['settings'], 'settings')) {
    assert.equal(s['n'], 0);
    assert.equal(s['kendallTau'], null);
  }
  assert.match(r.stderr, /not trained yet/);
});

test('bad options are one line, exit code 2', () => {
  userError(runCli(['bench', 'proxy-fidelity', '--archs', '2', '--db', join(dir, 'b.db'), '--out', join(dir, 'b')]), '--archs must be an integer >= 3');
  userError(runCli(['bench', 'proxy-fidelity', '--settings', 'bogus', '--db', join(dir, 'b.db'), '--out', join(dir, 'b')]), '--settings bogus');
  userError(runCli(['bench', 'proxy-fidelity', '--settings', 'x:proxyEpochs=-1', '--db', join(dir, 'b.db'), '--out', join(dir, 'b')]), "'proxyEpochs'");
});
