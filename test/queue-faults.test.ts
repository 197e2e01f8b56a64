// Faults of a distributed search, the queue's way (issue 16): a `nas worker` killed with SIGKILL mid-job has its job
// taken by another worker after BullMQ's stalled-job check, and the search ends with exactly its budget of distinct
// candidates, none evaluated twice but the killed job; a coordinator killed with SIGKILL and resumed re-attaches to
// the jobs still in the queue (no job added twice, no candidate evaluated twice) and ends as the in-process run.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './cli-helpers.js';
import { peek, sleep, spawnCli, waitFor } from './process-helpers.js';
import {
  candidateRows, fixture, jobCounts, onlyRun, queueTestContext, readLog, redisSkip, startsByArch, startWorkers, stopWorkers,
  workerStarted,
} from './queue-helpers.js';

const { url, fresh } = queueTestContext('queue-faults', false);

const SEARCH = ['search', '--evaluator', fixture('eval-pid'), '--target', 'madds=60M', '--strategy', 'random', '--budget', '12', '--batch', '6', '--seed', '3', '--json'];

/** The pid of a worker that began an evaluation it has not ended, with that arch; null when none is mid-job. */
function midJob(log: string, pids: ReadonlySet<number>): { pid: number; arch: string } | null {
  const open = new Map<string, { pid: number; arch: string }>();
  for (const l of readLog(log)) {
    const key = `${l.pid} ${l.arch}`;
    if (l.kind === 'start') open.set(key, { pid: l.pid, arch: l.arch });
    else open.delete(key);
  }
  return [...open.values()].find((o) => pids.has(o.pid)) ?? null;
}

test('a worker killed with SIGKILL mid-job: another takes its job after the stalled check; the budget, distinct, once each but that job', { skip: redisSkip }, async () => {
  const log = fresh('.log');
  const workers = startWorkers(url(), 3, { NAS_FIXTURE_LOG: log, NAS_FIXTURE_SLEEP_MS: '400' }, ['--stall-timeout', '3s']);
  await Promise.all(workers.map(workerStarted));
  const db = fresh('.db');
  const coordinator = spawnCli([...SEARCH, '--queue', url(), '--db', db], {});
  const victim = workers[0];
  assert.ok(victim?.child.pid !== undefined);
  let killed: { pid: number; arch: string } | null = null;
  await waitFor(() => (killed = midJob(log, new Set([victim.child.pid ?? -1]))) !== null, 'the first worker to be mid-job');
  victim.child.kill('SIGKILL');
  const r = await coordinator.done;
  await stopWorkers(workers);
  assert.equal(r.status, 0, r.stderr);

  const rows = candidateRows(db, onlyRun(db));
  assert.equal(rows.length, 12);
  assert.ok(rows.every((row) => row[2] === 'done'), JSON.stringify(rows));
  const starts = startsByArch(readLog(log));
  assert.equal(starts.size, 12);
  const twice = [...starts].filter(([, k]) => k !== 1);
  assert.deepEqual(twice, [[killed?.['arch'], 2]], 'only the killed job was evaluated again');
});

test('a coordinator killed with SIGKILL and --resume\'d re-attaches to the jobs in the queue and ends as the in-process run', { skip: redisSkip }, async () => {
  const log = fresh('.log');
  const env = { NAS_LEASE_SECONDS: '1' };
  const workers = startWorkers(url(), 2, { NAS_FIXTURE_LOG: log, NAS_FIXTURE_SLEEP_MS: '300' });
  await Promise.all(workers.map(workerStarted));
  const db = fresh('.db');
  const first = spawnCli([...SEARCH, '--queue', url(), '--db', db], env);
  const state = (): { done: number; running: number } | null =>
    peek(db, (s) => ({ done: s.listCandidates(onlyRun(db), { status: 'done' }).length, running: s.listCandidates(onlyRun(db), { status: 'running' }).length }));
  await waitFor(() => { const c = state(); return c !== null && c.done >= 2 && c.running >= 2; }, 'jobs done and jobs in the queue');
  first.child.kill('SIGKILL');
  await first.done;
  const runId = onlyRun(db);
  // The killed process's lease runs out (NAS_LEASE_SECONDS=1) while its jobs go on in the workers.
  await sleep(1600);
  const resumed = await spawnCli(['search', '--resume', runId, '--queue', url(), '--db', db, '--json'], env).done;
  await stopWorkers(workers);
  assert.equal(resumed.status, 0, resumed.stderr);

  const starts = startsByArch(readLog(log));
  assert.equal(starts.size, 12);
  assert.ok([...starts.values()].every((k) => k === 1), 'no candidate evaluated twice');
  const local = fresh('.db');
  assert.equal(runCli([...SEARCH, '--workers', '0', '--db', local]).status, 0);
  assert.deepEqual(candidateRows(db, runId), candidateRows(local, onlyRun(local)));
  // One job per candidate of this run: the resumed coordinator added none of them again (the first test's 12 also).
  assert.equal((await jobCounts(url()))['completed'], 24);
});
