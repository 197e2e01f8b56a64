// `--latency paired:REF`: a search's candidates judged against a reference network in A/B rounds. The resource
// model must order networks by their real cost (a narrow network under the reference, a wide one over it), the
// reference itself must come out at its own figure, and the CLI must turn `latency=1x` into that figure.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isJsonObject } from '../common/json.js';
import { absoluteTargets } from '../latency/pairedSource.js';
import { createResourceModel, parseLatencySource } from '../latency/resources.js';
import { openStore } from '../results/store.js';
import { encodeArch } from '../space/blockString.js';
import { loadArch } from '../space/load.js';
import { runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-paired-search-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('paired source: parsed as typed, and refused by a worker until the reference is measured', async () => {
  assert.deepEqual(parseLatencySource('paired:mobilenetv3-small'), { kind: 'paired', reference: 'mobilenetv3-small', referenceMs: null });
  assert.throws(() => parseLatencySource('paired:'), /expected lut:FILE, measure, madds, paired:REF or module:FILE/);
  await assert.rejects(createResourceModel(parseLatencySource('paired:mobilenetv3-small')), /was not measured/);
});

test('paired source: latency=Nx becomes N times the reference figure; other targets stay as typed', () => {
  const source = { kind: 'paired', reference: 'x', referenceMs: 0.8 } as const;
  assert.deepEqual(absoluteTargets(['latency=1x', 'latency=0.5x,w=-0.15', 'madds=5M', 'latency=2ms'], source), [
    'latency=0.8000ms',
    'latency=0.4000ms,w=-0.15',
    'madds=5M',
    'latency=2ms',
  ]);
  assert.deepEqual(absoluteTargets(['latency=1x'], { kind: 'madds' }), ['latency=1x']);
});

test('paired source: judged networks are ordered by their cost, the reference at its own figure', async () => {
  const at = (width: number) => loadArch(['mobilenetv3-small'], { input: 32, smallInput: true, width });
  const reference = at(1);
  const model = await createResourceModel({ kind: 'paired', reference: encodeArch(reference), referenceMs: 1 });
  const narrow = await model.latency(at(0.35));
  const wide = await model.latency(at(2));
  const self = await model.latency(reference);
  assert.ok(narrow < 0.9, `width 0.35 judged ${narrow.toFixed(3)}x the reference`);
  assert.ok(wide > 1.2, `width 2 judged ${wide.toFixed(3)}x the reference`);
  assert.ok(self > 0.8 && self < 1.25, `the reference judged ${self.toFixed(3)}x itself`);
  assert.equal(await model.latency(at(0.35)), narrow, 'a network asked for again keeps its first figure');
});

test('nas search --latency paired:REF --target latency=1x: the target is the reference timed, every candidate judged', () => {
  const db = join(dir, 'search.db');
  const args = ['search', '--evaluator', 'zero-cost:synflow', '--strategy', 'random', '--budget', '2', '--batch', '2', '--input', '16'];
  const r = runCli([...args, '--latency', 'paired:mobilenetv3-small', '--target', 'latency=1x', '--workers', '0', '--json', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  const store = openStore(db, { readonly: true });
  try {
    const run = store.listRuns({ kind: 'search' })[0];
    assert.ok(run !== undefined);
    const config = JSON.stringify(run.config);
    const target = /"targets":\["latency=([0-9.]+)ms"\]/.exec(config);
    assert.ok(target !== null && Number(target[1]) > 0, config);
    assert.match(config, /"kind":"paired","reference":"v1_in32x3_/, 'the reference stored at the space input (32 px)');
    const candidates = store.listCandidates(run.id);
    assert.equal(candidates.length, 2);
    for (const c of candidates) {
      const m = c.metrics;
      assert.ok(isJsonObject(m) && m['latencySource'] === 'paired', JSON.stringify(m));
      assert.ok(typeof m['latencyMs'] === 'number' && m['latencyMs'] > 0);
    }
  } finally {
    store.close();
  }
  // Two worker threads: each times its candidates through the pool's gate (search/engine/measureGate.ts), one at a time.
  const pooled = runCli([...args.slice(0, 6), '--budget', '4', '--batch', '2', '--input', '16', '--latency', 'paired:mobilenetv3-small', '--target', 'latency=1x', '--workers', '2', '--json', '--db', join(dir, 'pool.db')]);
  assert.equal(pooled.status, 0, pooled.stderr);
  const ps = openStore(join(dir, 'pool.db'), { readonly: true });
  try {
    const id = ps.listRuns({ kind: 'search' })[0]?.id ?? '';
    const judged = ps.listCandidates(id).map((c) => (isJsonObject(c.metrics) ? c.metrics['latencyMs'] : undefined));
    assert.equal(judged.length, 4);
    assert.ok(judged.every((ms) => typeof ms === 'number' && ms > 0), JSON.stringify(judged));
  } finally {
    ps.close();
  }
  const bad = runCli(['search', '--evaluator', 'zero-cost:synflow', '--target', 'latency=1x', '--budget', '1', '--db', join(dir, 'bad.db')]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /relative target needs a reference network.*--latency paired:REF/);
});
