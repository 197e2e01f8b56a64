// `nas search` and `nas results pareto` print one front for one run: both go through results/pareto.ts, whose rule
// is that a candidate without a finite accuracy and cost has no place on the front.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-search-pareto-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SYNTH = ['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--workers', '0', '--strategy', 'random'];

interface Seqs {
  readonly search: number[];
  readonly results: number[];
}

/** The front `nas search --json` printed and the one `nas results pareto --json` prints, as candidate seqs. */
function fronts(db: string, searchArgs: readonly string[]): Seqs {
  const s = runCli([...searchArgs, '--json', '--db', db]);
  assert.equal(s.status, 0, s.stderr);
  const printed = JSON.parse(s.stdout) as { runId: string; pareto: { seq: number }[] };
  const r = runCli(['results', 'pareto', printed.runId, '--json', '--db', db, '--svg', join(dir, `${printed.runId}.svg`)]);
  assert.equal(r.status, 0, r.stderr);
  const front = (JSON.parse(r.stdout) as { front: { seq: number }[] }).front;
  return { search: printed.pareto.map((c) => c.seq), results: front.map((c) => c.seq) };
}

test('nas search and nas results pareto print the same front for a run', () => {
  const f = fronts(join(dir, 'plain.db'), [...SYNTH, '--budget', '12', '--seed', '5']);
  assert.ok(f.search.length > 0);
  assert.deepEqual(f.search, f.results);
});

test(
  'a stored candidate whose latency is not a finite number is on neither front',
  () => {
    const db = join(dir, 'infinite.db');
    const first = runCli([...SYNTH, '--budget', '6', '--seed', '2', '--json', '--db', db]);
    assert.equal(first.status, 0, first.stderr);
    const runId = (JSON.parse(first.stdout) as { runId: string }).runId;
    // A row written by another tool (or an older nas): JSON text that parses to an infinite latency, with the best
    // accuracy of the run, so a front that kept it would end with it.
    const sql = new Database(db);
    sql.prepare("UPDATE candidates SET metrics = json('{\"accuracy\":0.999,\"latencyMs\":1e999}') WHERE run_id = ? AND seq = 0").run(runId);
    sql.close();
    const f = fronts(db, ['search', '--resume', runId, '--budget', '8']);
    assert.ok(!f.results.includes(0), 'results pareto leaves the infinite latency out');
    assert.deepEqual(f.search, f.results);
  },
);
