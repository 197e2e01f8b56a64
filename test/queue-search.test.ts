// `nas search --queue` with `nas worker` processes on a real redis-server (issue 16): the same seed gives exactly the
// in-process candidates and rewards, each candidate evaluated once, and `nas queue status` lists the jobs and workers; bad --queue input is one line; a worker refuses a
// job whose evaluator file differs from the coordinator's, and the candidate keeps that reason.
import assert from 'node:assert/strict';
import { appendFileSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { UsageError } from '../common/errors.js';
import { parseQueueUrl, redactedUrl } from '../search/engine/queue/connection.js';
import { runCli, runCliAsync, userError } from './cli-helpers.js';
import { peek, runIds, spawnCli, waitFor } from './process-helpers.js';
import {
  candidateRows, fixture, freePort, jobCounts, onlyRun, queueTestContext, readLog, redisSkip, startsByArch, startWorkers,
  stopWorkers, workerStarted,
} from './queue-helpers.js';

const { url, fresh } = queueTestContext('queue-search', false);

const searchArgs = (evaluator: string, budget: number): string[] =>
  ['search', '--evaluator', evaluator, '--target', 'madds=60M', '--strategy', 'random', '--budget', String(budget), '--batch', '6', '--seed', '7', '--json'];

test('a coordinator and three nas worker processes give exactly the in-process candidates and rewards, each evaluated once', { skip: redisSkip }, async () => {
  const log = fresh('.log');
  const workers = startWorkers(url(), 3, { NAS_FIXTURE_LOG: log, NAS_FIXTURE_SLEEP_MS: '0' });
  await Promise.all(workers.map(workerStarted));
  const [dbQueue, dbLocal] = [fresh('.db'), fresh('.db')];
  const q = await runCliAsync([...searchArgs(fixture('eval-pid'), 18), '--queue', url(), '--db', dbQueue]);
  assert.equal(q.status, 0, q.stderr);
  const local = runCli([...searchArgs(fixture('eval-pid'), 18), '--workers', '0', '--db', dbLocal]);
  assert.equal(local.status, 0, local.stderr);
  const status = await runCliAsync(['queue', 'status', url(), '--json']);
  assert.equal(status.status, 0, status.stderr);
  const outs = await stopWorkers(workers);

  const rows = candidateRows(dbQueue, onlyRun(dbQueue));
  assert.equal(rows.length, 18);
  assert.ok(rows.every((r) => r[2] === 'done'), JSON.stringify(rows));
  assert.deepEqual(rows, candidateRows(dbLocal, onlyRun(dbLocal)));
  const starts = startsByArch(readLog(log));
  assert.equal(starts.size, 18);
  assert.ok([...starts.values()].every((k) => k === 1), 'each candidate evaluated once');
  assert.ok(new Set(readLog(log).map((l) => l.pid)).size >= 2, 'the jobs were shared between workers');
  const jobs = outs.flatMap((o) => o.split('\n').filter((l) => l.includes('"event":"job"')));
  assert.equal(jobs.length, 18);
  assert.equal((await jobCounts(url()))['completed'], 18);
  // `nas queue status`: the jobs by state and the three workers' heartbeats, with the jobs each ran.
  const st = JSON.parse(status.stdout) as { jobs: Record<string, number>; workers: { pid: number; jobsDone: number }[] };
  assert.deepEqual(st.jobs, { waiting: 0, active: 0, delayed: 0, completed: 18, failed: 0 });
  assert.deepEqual(st.workers.map((w) => w.pid).sort(), workers.map((w) => w.child.pid).sort());
  assert.equal(st.workers.reduce((a, w) => a + w.jobsDone, 0), 18);
});

test('--queue: a URL that is not redis://, --workers beside it, or a Redis that is not there is one line, exit 2, and no run', { skip: redisSkip }, async () => {
  const db = fresh('.db');
  const base = searchArgs('synthetic', 4);
  assert.throws(() => parseQueueUrl('http://127.0.0.1:6379'), (e: Error) => e instanceof UsageError && /redis:\/\//.test(e.message));
  assert.throws(() => parseQueueUrl('redis://127.0.0.1:6379/x'), (e: Error) => e instanceof UsageError && /must be a number/.test(e.message));
  assert.equal(parseQueueUrl('rediss://:secret@example.org:6380/2'), 'rediss://:secret@example.org:6380/2');
  assert.equal(redactedUrl('redis://:secret@127.0.0.1:6379/0'), 'redis://:***@127.0.0.1:6379/0');
  userError(runCli([...base, '--queue', url(), '--workers', '2', '--db', db]), 'nas worker');
  const nobody = `redis://127.0.0.1:${await freePort()}/0`;
  userError(runCli([...base, '--queue', nobody, '--db', db]), 'cannot reach Redis', 'start redis-server');
  assert.deepEqual(runIds(db), [], 'no run was created');
  userError(runCli(['worker', '--queue', nobody]), 'cannot reach Redis');
  userError(runCli(['worker', '--queue', url(), '--concurrency', '0']), '--concurrency');
});

test('a worker refuses a job whose evaluator file differs from the coordinator\'s, and the candidate keeps the reason', { skip: redisSkip }, async () => {
  // A copy of the fixture that the coordinator hashes as it starts, changed before any worker reads it.
  const modDir = fresh('-mod');
  mkdirSync(modDir);
  for (const f of ['eval-pid.js', 'fixture-metrics.js']) copyFileSync(fixture(f.replace('.js', '')), join(modDir, f));
  const evaluator = join(modDir, 'eval-pid.js');
  const db = fresh('.db');
  const coordinator = spawnCli([...searchArgs(evaluator, 2), '--max-failures', '0', '--queue', url(), '--db', db], {});
  await waitFor(() => peek(db, (s) => s.listCandidates(onlyRun(db), { status: 'running' }).length === 2) === true, 'the jobs to be enqueued');
  appendFileSync(evaluator, '// changed after the coordinator started\n');
  const workers = startWorkers(url(), 1, {});
  const r = await coordinator.done;
  await stopWorkers(workers);
  assert.equal(r.status, 1, r.stderr);
  const failures = peek(db, (s) => s.listCandidates(onlyRun(db), { status: 'failed' }).map((c) => c.failure ?? '')) ?? [];
  assert.equal(failures.length, 2);
  for (const f of failures) assert.match(f, /^worker \S+ refused the job: evaluator \S+eval-pid\.js differs from the coordinator's \(sha256 \w+ here, \w+ there\)$/);
});
