// Reliability of the evaluation engines through the real CLI (issue 13, items 4 and 5): a hung evaluator fails its
// candidate after --eval-timeout and its worker is replaced, on a pool and in process; --time stops a search whose
// evaluations hang, puts them back in the queue and leaves the run in a true state; --workers is capped.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../results/store.js';
import { maxWorkers } from '../search/engine/limits.js';
import { defaultEvalTimeout } from '../search/evaluators.js';
import { builtinSpace } from '../space/spaces.js';
import { CLI, type CliRun, userError } from './cli-helpers.js';
import { hangsOn } from './fixtures/eval-hangs.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-reliability-engine-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (ext = ''): string => join(dir, `t${n++}${ext}`);
const HANGS = fileURLToPath(new URL('./fixtures/eval-hangs.js', import.meta.url));

/**
 * The CLI with extra environment. A hung search must not hang the test suite: after 90 s the child is killed and
 * the test fails on its exit status (null).
 */
function nas(args: readonly string[], env: Readonly<Record<string, string>> = {}): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const search = (db: string, ...more: string[]): string[] => [
  'search', '--evaluator', HANGS, '--target', 'latency=20ms', '--strategy', 'random', '--seed', '0', '--db', db, ...more,
];

interface Result {
  readonly runId: string;
  readonly status: string;
  readonly stopReason: string;
  readonly message: string;
  readonly counts: { readonly done: number; readonly failed: number; readonly total: number };
}

function result(r: CliRun): Result {
  assert.equal(r.status, 0, `exit code (stderr: ${r.stderr})`);
  return JSON.parse(r.stdout) as Result;
}

function candidates(db: string, runId: string): { arch: string; status: string; failure: string | null }[] {
  const store = openStore(db, { readonly: true });
  try {
    return store.listCandidates(runId, { orderBy: 'seq' }).map((c) => ({ arch: c.arch, status: c.status, failure: c.failure }));
  } finally {
    store.close();
  }
}

function runStatus(db: string, runId: string): string {
  const r = nas(['runs', '--db', db, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const runs = (JSON.parse(r.stdout) as { runs: { id: string; status: string }[] }).runs;
  const run = runs.find((x) => x.id === runId);
  assert.ok(run !== undefined, `run ${runId} listed`);
  return run.status;
}

// One worker (a thread, a process) goes on evaluating only if the hung one was replaced: terminated, killed.
for (const [engine, block] of [
  [['--workers', '2'], '1'],
  [['--workers', '1'], '1'],
  [['--gpus', '7'], '1'],
  [['--workers', '0'], '0'],
] as const) {
  test(`${engine.join(' ')}: a candidate whose evaluation hangs${block === '1' ? ' (blocking its thread)' : ''} fails as timed out and the search spends its budget`, () => {
    const db = fresh('.db');
    const r = result(
      nas(search(db, ...engine, '--budget', '8', '--batch', '8', '--eval-timeout', '1', '--max-failures', '8', '--json'), {
        NAS_FIXTURE_HANG: '3',
        NAS_FIXTURE_BLOCK: block,
      }),
    );
    const cs = candidates(db, r.runId);
    const hung = cs.filter((c) => hangsOn(c.arch, '3'));
    assert.ok(hung.length > 0 && hung.length < cs.length, `the seed gives hung and healthy candidates (${hung.length} of ${cs.length})`);
    assert.equal(r.stopReason, 'budget');
    assert.deepEqual(r.counts, { done: 8 - hung.length, failed: hung.length, total: 8 });
    for (const c of cs) {
      if (hangsOn(c.arch, '3')) assert.match(c.failure ?? '', /^timed out after 1 s/);
      else assert.equal(c.status, 'done');
    }
    assert.equal(runStatus(db, r.runId), 'finished');
  });
}

for (const [workers, block] of [['2', '1'], ['0', '0']] as const) {
  test(`--workers ${workers}: --time stops a search whose evaluations all hang, says why, and --resume evaluates them`, () => {
    const db = fresh('.db');
    const stopped = nas(search(db, '--workers', workers, '--budget', '4', '--batch', '4', '--time', '2s', '--eval-timeout', '1h'), {
      NAS_FIXTURE_HANG: 'all',
      NAS_FIXTURE_BLOCK: block,
    });
    assert.equal(stopped.status, 0, stopped.stderr);
    assert.match(stopped.stdout, /stopped at the time limit \(2 s\)/);
    assert.match(stopped.stdout, /in flight.*queue/);
    const runId = /^run (sr-[\w-]+)/.exec(stopped.stdout)?.[1] ?? '';
    assert.notEqual(runStatus(db, runId), 'running');
    // Nothing failed or was lost: the candidates in flight at the deadline wait in the queue.
    const cs = candidates(db, runId);
    assert.ok(cs.length > 0 && cs.every((c) => c.status === 'queued'), JSON.stringify(cs));

    // The run keeps its --time 2s; the resume lifts it (the healthy evaluator needs no time, but a busy machine might).
    const resumed = result(nas(['search', '--resume', runId, '--workers', workers, '--time', '1h', '--json', '--db', db]));
    assert.equal(resumed.stopReason, 'budget');
    assert.deepEqual(resumed.counts, { done: 4, failed: 0, total: 4 });
    assert.equal(runStatus(db, runId), 'finished');
  });
}

test('--eval-timeout takes a positive duration, however long', () => {
  const db = fresh('.db');
  for (const bad of ['0', '-1', 'soon']) userError(nas(search(db, '--eval-timeout', bad, '--workers', '0')), `--eval-timeout ${bad}`);
  // Longer than a Node timer can wait at once (24.8 days): neither limit may fire early.
  const r = result(nas(search(db, '--eval-timeout', '1000h', '--time', '1000h', '--workers', '0', '--budget', '4', '--json')));
  assert.deepEqual(r.counts, { done: 4, failed: 0, total: 4 });
});

test('--workers above what the machine can run is refused before a run is created, for search and netadapt', () => {
  const db = fresh('.db');
  // More than four per core is above the cap on any machine; 100000 is far above it.
  for (const workers of [String(4 * availableParallelism() + 1), '100000']) {
    userError(nas(search(db, '--workers', workers, '--budget', '1')), `--workers ${workers}`, 'at most');
    assert.ok(!existsSync(db) || nas(['runs', '--db', db, '--json']).stdout.includes('"runs": []'), 'no run was created');
    userError(
      nas(['netadapt', '--checkpoint', join(dir, 'no-such-checkpoint'), '--target', 'latency=0.5x', '--workers', workers, '--db', db]),
      `--workers ${workers}`,
      'at most',
    );
  }
});

test('the worker cap is the smaller of 4 per core and 350 MB per worker in 75% of memory, and at least 1', () => {
  const GB = 2 ** 30;
  assert.equal(maxWorkers(2, 24 * GB).max, 8);
  assert.equal(maxWorkers(64, 4 * GB).max, 8);
  assert.equal(maxWorkers(1, 0.25 * GB).max, 1);
  assert.match(maxWorkers(2, 24 * GB).why, /4 per core on 2 cores.*350 MB/);
});

test('the default --eval-timeout grows with the proxy work, never under 10 minutes; a module gets an hour', async () => {
  const space = builtinSpace('mnasnet-small-input');
  const base = await defaultEvalTimeout('proxy', {}, space);
  // The default input is the arch's own size, 32 px in this space: four times the area of 16 px.
  assert.equal(base, Math.ceil(20 * (8192 + 2000 / 3) * 0.004 * 4));
  assert.equal(await defaultEvalTimeout('proxy', { input: null }, space), base);
  assert.ok((await defaultEvalTimeout('proxy', { proxyEpochs: 4 }, space)) > 3.5 * base);
  assert.ok((await defaultEvalTimeout('proxy', { input: 16 }, space)) < base / 3.5);
  assert.ok((await defaultEvalTimeout('proxy', { backend: 'cpu' }, space)) > 100 * base);
  assert.equal(await defaultEvalTimeout('proxy', { proxyImages: 10 }, space), 600);
  assert.equal(await defaultEvalTimeout('synthetic', {}, space), 600);
  assert.equal(await defaultEvalTimeout(HANGS, {}, space), 3600);
});

test("an evaluator module's own checkConfig refuses bad settings before a run exists, and its expectedSeconds sets the default timeout", async () => {
  const checks = fileURLToPath(new URL('./fixtures/eval-checks.js', import.meta.url));
  const space = builtinSpace('mnasnet-small-input');
  assert.equal(await defaultEvalTimeout(checks, { proxyEpochs: 2 }, space), 2000);
  assert.equal(await defaultEvalTimeout(checks, {}, space), 1000);
  const db = fresh('.db');
  const base = ['search', '--evaluator', checks, '--target', 'latency=20ms', '--workers', '0', '--budget', '2', '--db', db];
  userError(nas([...base, '--proxy-epochs', '5']), 'eval-checks: at most 3 proxy epochs, got 5');
  assert.equal(existsSync(db) ? openStore(db, { readonly: true }).listRuns().length : 0, 0);
  const ok = nas([...base, '--proxy-epochs', '2']);
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stderr, /an evaluation fails after 2000 s \(--eval-timeout\)/);
});
