import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../results/store.js';
import { type CliOptions, type CliRun, commandHarness, runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-results-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// `nas runs` alone, in a directory of its own (its default database is ./nas.db).
const runs: CliOptions = { entry: commandHarness('../cli/runs.js', 'runsCommand'), cwd: dir };

function userError(r: CliRun, ...parts: string[]): void {
  assert.equal(r.status, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one stderr line, got: ${r.stderr}`);
  for (const p of parts) assert.ok(r.stderr.includes(p), `'${r.stderr.trim()}' should mention '${p}'`);
}

const db = join(dir, 'project.db');
const store = openStore(db);
const train = store.createRun({ kind: 'train', config: { epochs: 2 }, seed: 1, arch: 'v1_in32x1_cls10' });
store.recordEpoch({ runId: train.id, epoch: 0, step: 100, trainLoss: 1.25, valTop1: 0.61, lr: 0.1 });
store.recordEpoch({ runId: train.id, epoch: 1, step: 200, trainLoss: 0.75, valTop1: 0.72, lr: 0.05 });
store.recordCheckpoint({ runId: train.id, epoch: 1, step: 200, path: 'out/epoch-1' });
store.finishRun(train.id, { testTop1: 0.7, testTop5: 0.98 });
const search = store.createRun({ kind: 'search', config: { budget: 3 }, owner: 'gpu-box-7:4242' });
for (const [i, arch] of ['arch-a', 'arch-b', 'arch-c'].entries()) {
  store.enqueueCandidate({ runId: search.id, arch, evalKey: 'k' });
  const c = store.claimCandidate(search.id, 'w');
  if (c !== null && i < 2) store.markCandidateDone(c.id, { metrics: { accuracy: 0.5 + i / 10 }, reward: 0.4 + i / 10 });
}
store.close();

test('runs lists every run, newest first, as a table', () => {
  const r = runCli(['runs', '--db', db], runs);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^id\s+kind\s+status/);
  assert.match(lines[2] ?? '', new RegExp(`^${search.id}\\s+search\\s+running`));
  assert.match(lines[3] ?? '', new RegExp(`^${train.id}\\s+train\\s+finished`));
});

test('runs --kind K --json prints only runs of that kind', () => {
  const r = runCli(['runs', '--db', db, '--kind', 'train', '--json'], runs);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { runs: { id: string; kind: string; stale: boolean; result: unknown }[] };
  assert.deepEqual(
    j.runs.map((x) => x.id),
    [train.id],
  );
  assert.deepEqual(j.runs[0]?.result, { testTop1: 0.7, testTop5: 0.98 });
  assert.equal(j.runs[0]?.stale, false);
});

test('runs show RUN prints the epochs and the latest checkpoint of a training run', () => {
  const r = runCli(['runs', 'show', train.id, '--db', db], runs);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^run\\s+${train.id}$`, 'm'));
  assert.match(r.stdout, /^status\s+finished$/m);
  assert.match(r.stdout, /^\s*1\s+200\s+0\.7500\s+0\.7200/m);
  assert.match(r.stdout, /checkpoint\s+epoch 1, step 200: out\/epoch-1/);
});

test('runs show RUN --json gives the candidates of a search, best first', () => {
  const r = runCli(['runs', 'show', search.id, '--db', db, '--json', '--top', '1'], runs);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as {
    run: { id: string };
    candidates: { total: number; done: number; running: number };
    topCandidates: { arch: string }[];
  };
  assert.equal(j.run.id, search.id);
  assert.deepEqual([j.candidates.total, j.candidates.done, j.candidates.running], [3, 2, 1]);
  assert.deepEqual(
    j.topCandidates.map((c) => c.arch),
    ['arch-b'],
  );
});

test('runs show of an unknown run, a missing database or a non-database file is one line and exit code 2', () => {
  userError(runCli(['runs', 'show', 'tf-nope', '--db', db], runs), 'unknown run tf-nope', 'nas runs');
  userError(runCli(['runs'], runs), 'nas.db', 'no such file');
  const bad = join(dir, 'notes.txt');
  writeFileSync(bad, 'hello\n');
  userError(runCli(['runs', '--db', bad], runs), 'not a SQLite database');
  userError(runCli(['runs', '--db', db, '--kind', 'bogus'], runs), 'kind');
  userError(runCli(['runs', 'show', train.id, '--db', db, '--kind', 'train'], runs), 'kind');
});
