// Fault injection (issue 13): 20 seeded trials of a search with 2 workers, each killed (SIGKILL) or stopped past its
// lease (SIGSTOP) at a random point and resumed. Every run must end with exactly its budget of distinct, done
// candidates; a candidate may be evaluated twice only if it was in flight when the fault hit; the database must pass
// PRAGMA integrity_check.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import seedrandom from 'seedrandom';
import { openStore } from '../results/store.js';
import type { CliRun } from './cli-helpers.js';
import { integrityOk, peek, runIds, type Spawned, sleep, spawnCli, waitFor } from './process-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-faults-'));
const children: Spawned[] = [];
// A failed trial must not leave a stopped search behind (it would keep this test file, and the suite, waiting).
after(() => {
  for (const c of children) if (c.child.exitCode === null && c.child.signalCode === null) c.child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const TRIALS = 20;
const BUDGET = 12;
const BATCH = 4;
const EVALUATOR = fileURLToPath(new URL('./fixtures/eval-block.js', import.meta.url));
// A 1 s lease so that a stopped search can be taken over quickly; each evaluation sleeps so that faults land mid-batch.
const ENV = { NAS_LEASE_SECONDS: '1', NAS_FIXTURE_SLEEP_MS: '200' };

interface Trial {
  readonly fault: 'SIGKILL' | 'SIGSTOP';
  /** The fault hits once this many candidates are done, plus `delayMs`. */
  readonly afterDone: number;
  readonly delayMs: number;
  readonly strategy: string;
}

function trials(): Trial[] {
  const rng = seedrandom('nas-fault-injection');
  return Array.from({ length: TRIALS }, (_, i) => ({
    fault: i % 2 === 0 ? 'SIGKILL' : 'SIGSTOP',
    afterDone: Math.floor(rng() * (BUDGET - BATCH)),
    delayMs: Math.floor(rng() * 200),
    strategy: rng() < 0.5 ? 'evolution' : 'random',
  }));
}

function search(args: readonly string[], log: string): Spawned {
  const s = spawnCli(['search', ...args, '--json'], { ...ENV, NAS_FIXTURE_LOG: log });
  children.push(s);
  return s;
}

const doneArchs = (db: string, runId: string): Set<string> =>
  new Set(peek(db, (s) => s.listCandidates(runId).filter((c) => c.status === 'done').map((c) => c.arch)) ?? []);

interface Resumed {
  readonly resume: Spawned | null;
  readonly refused: CliRun | null;
  readonly doneBefore: Set<string>;
}

/**
 * Hits the first process with the fault; returns the resume and what was done when the first process lost the run.
 * A stop that lands inside one of the first process's write transactions leaves SQLite's write lock taken: no
 * takeover is possible, the resume says so (`refused`), and once continued the first process finishes the run.
 */
async function injectAndResume(t: Trial, first: Spawned, db: string, runId: string, log: string): Promise<Resumed> {
  assert.equal(first.child.exitCode, null, 'the search ended before the fault: choose an earlier point');
  first.child.kill(t.fault);
  const resumeArgs = ['--resume', runId, '--workers', '2', '--db', db];
  if (t.fault === 'SIGKILL') {
    await first.done;
    return { resume: search(resumeArgs, log), refused: null, doneBefore: doneArchs(db, runId) };
  }
  // A stopped process cannot write: what is done now is all it finished before it lost the run.
  await sleep(50);
  const doneBefore = doneArchs(db, runId);
  await waitFor(() => peek(db, (s) => Date.now() - Date.parse(s.requireRun(runId).updatedAt) > 1500) === true, 'the lease to expire');
  const resume = search(resumeArgs, log);
  let refused: CliRun | null = null;
  void resume.done.then((r) => (refused = r));
  await waitFor(() => refused !== null || peek(db, (s) => s.requireRun(runId).owner === `${hostname()}:${resume.child.pid}`) === true, 'the takeover');
  first.child.kill('SIGCONT');
  if (refused !== null) return { resume: null, refused, doneBefore };
  return { resume, refused: null, doneBefore };
}

/** Evaluations per arch, from the fixture's log (`pid arch` per evaluation begun). */
function evaluations(log: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const line of readFileSync(log, 'utf8').split('\n').filter((l) => l !== '')) {
    const [pid, arch] = line.split(' ') as [string, string];
    out.set(arch, [...(out.get(arch) ?? []), pid]);
  }
  return out;
}

function checkRun(db: string, runId: string, log: string, doneBefore: Set<string>, label: string): void {
  const s = openStore(db, { readonly: true });
  try {
    const cands = s.listCandidates(runId);
    assert.equal(cands.length, BUDGET, `${label}: candidates`);
    assert.equal(new Set(cands.map((c) => c.arch)).size, BUDGET, `${label}: distinct`);
    assert.ok(cands.every((c) => c.status === 'done'), `${label}: all done`);
    assert.equal(s.requireRun(runId).status, 'finished', `${label}: run status`);
  } finally {
    s.close();
  }
  integrityOk(db);
  const twice = [...evaluations(log)].filter(([, pids]) => pids.length > 1).map(([arch]) => arch);
  for (const arch of twice) assert.ok(!doneBefore.has(arch), `${label}: ${arch} was done before the fault, yet evaluated again`);
  assert.ok(twice.length <= BATCH, `${label}: ${twice.length} candidates evaluated twice, more than a batch in flight`);
  assert.ok(twice.every((arch) => (evaluations(log).get(arch)?.length ?? 0) === 2), `${label}: evaluated at most twice`);
}

/** One trial: run, fault, resume, check. Returns whether the stop landed inside a write transaction. */
async function runTrial(i: number, t: Trial): Promise<boolean> {
  const label = `trial ${i} (${t.fault} after ${t.afterDone} done + ${t.delayMs} ms, ${t.strategy})`;
  const db = join(dir, `t${i}.db`);
  const log = join(dir, `t${i}.log`);
  const args = ['--evaluator', EVALUATOR, '--target', 'latency=20ms', '--strategy', t.strategy, '--seed', String(i)];
  const first = search([...args, '--workers', '2', '--budget', String(BUDGET), '--batch', String(BATCH), '--db', db], log);
  let runId = '';
  await waitFor(() => {
    runId = runIds(db)[0] ?? '';
    return runId !== '' && doneArchs(db, runId).size >= t.afterDone;
  }, `${label}: ${t.afterDone} candidates done`);
  await sleep(t.delayMs);
  const { resume, refused, doneBefore } = await injectAndResume(t, first, db, runId, log);
  if (resume === null) {
    // Stopped inside a write transaction: the resume could not take the run and said why; the first one finishes it.
    assert.equal(refused?.status, 2, `${label}: ${refused?.stderr}`);
    assert.match(refused?.stderr ?? '', /^nas: the results database stayed locked by another process/m);
    const old = await first.done;
    assert.equal(old.status, 0, `${label}: the continued process must finish the run: ${old.stderr}`);
  } else {
    const [old, cont] = await Promise.all([first.done, resume.done]);
    assert.equal(cont.status, 0, `${label}: resume failed: ${cont.stderr}`);
    if (t.fault === 'SIGSTOP') assert.match(old.stderr, /was taken over by another process/, `${label}: the stopped process must say it lost the run`);
  }
  checkRun(db, runId, log, doneBefore, label);
  return resume === null;
}

// The trials are independent (own database, own log) and mostly wait on the fixture's sleeps and on leases, so two
// run at a time: the suite's time, not the test's coverage, is what that saves.
const PARALLEL = 2;

test(`fault injection: ${TRIALS} searches killed or stopped at random points and resumed end with exactly their budget`, async () => {
  const all = trials();
  const locked: boolean[] = [];
  for (let i = 0; i < all.length; i += PARALLEL) {
    const batch = all.slice(i, i + PARALLEL).map((t, j) => runTrial(i + j, t));
    locked.push(...(await Promise.all(batch)));
  }
  // Most stops land between transactions; each must have ended one of the two ways above.
  const n = locked.filter(Boolean).length;
  assert.ok(n < TRIALS / 2, `${n} of ${TRIALS} stops landed inside a write transaction`);
});
