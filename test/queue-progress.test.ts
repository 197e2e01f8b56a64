// `nas results show RUN --queue URL` on a real redis-server (issue 16, item 5): a search whose candidates are queue
// jobs shows each one in flight with its state read from the queue (active on worker W since T, or waiting), in text
// and JSON; a queue that cannot be reached is one line beside the store's view; without --queue a line says how.
import assert from 'node:assert/strict';
import { hostname } from 'node:os';
import { test } from 'node:test';
import type { JobProgress } from '../search/engine/queue/progress.js';
import { runCliAsync } from './cli-helpers.js';
import { peek, spawnCli, waitFor } from './process-helpers.js';
import { fixture, freePort, onlyRun, queueTestContext, readLog, redisSkip, startWorkers, stopWorkers, workerStarted } from './queue-helpers.js';

const { url, fresh } = queueTestContext('queue-progress', false);

interface Shown {
  inQueue: number;
  queue: { queue: string; reachable: boolean; reason?: string; jobs?: JobProgress[] } | null;
  candidates: { running: number };
}

async function show(db: string, runId: string, ...extra: string[]): Promise<{ text: string; json: Shown }> {
  const args = ['results', 'show', runId, '--db', db, ...extra];
  const [text, json] = await Promise.all([runCliAsync(args), runCliAsync([...args, '--json'])]);
  assert.equal(text.status, 0, text.stderr);
  assert.equal(json.status, 0, json.stderr);
  return { text: text.stdout, json: JSON.parse(json.stdout) as Shown };
}

test('results show --queue: the candidates in flight with their jobs (active on worker W since T, waiting); unreachable is one line', { skip: redisSkip }, async () => {
  // One worker taking one job at a time, whose evaluations outlast the test: one job active, two waiting.
  const log = fresh('.log');
  const env = { NAS_FIXTURE_LOG: log, NAS_FIXTURE_SLEEP_MS: '120000' };
  const [worker] = startWorkers(url(), 1, env, ['--concurrency', '1']);
  assert.ok(worker !== undefined);
  await workerStarted(worker);
  const db = fresh('.db');
  const search = ['search', '--evaluator', fixture('eval-pid'), '--target', 'madds=60M', '--strategy', 'random', '--budget', '3', '--batch', '3'];
  const coordinator = spawnCli([...search, '--seed', '4', '--queue', url(), '--db', db], {});
  try {
    await waitFor(() => readLog(log).length === 1, 'the worker to begin a job');
    const runId = onlyRun(db);
    await waitFor(() => peek(db, (s) => s.countCandidates(runId).running) === 3, 'three candidates in flight');

    const seen = await show(db, runId, '--queue', url());
    const jobs = seen.json.queue?.jobs ?? [];
    assert.equal(seen.json.inQueue, 3);
    assert.deepEqual(jobs.map((j) => j.state).sort(), ['active', 'waiting', 'waiting']);
    const active = jobs.find((j) => j.state === 'active');
    assert.equal(active?.worker, `${hostname()}-${worker.child.pid}`);
    assert.ok(active.since !== null && Date.parse(active.since) <= Date.now(), String(active.since));
    assert.ok(jobs.every((j) => j.state === 'active' || j.worker === null));
    assert.match(seen.text, /in queue +3 candidates' jobs on redis:\/\/127\.0\.0\.1:\d+\/0:/);
    assert.match(seen.text, new RegExp(`active +${hostname()}-${worker.child.pid ?? 'none'} +\\d{4}-\\d\\d-\\d\\d .* s ago`));

    const nobody = `redis://127.0.0.1:${await freePort()}/0`;
    const unreachable = await show(db, runId, '--queue', nobody);
    assert.deepEqual([unreachable.json.queue?.reachable, unreachable.json.candidates.running], [false, 3]);
    const lines = unreachable.text.split('\n').filter((l) => l.startsWith('in queue'));
    assert.equal(lines.length, 1);
    assert.match(lines[0] ?? '', /3 candidates; the queue cannot be read \(.*cannot reach Redis.*\): the store's view only/);
    assert.match(unreachable.text, /candidates +3: 0 done, 0 failed, 3 running, 0 queued/);

    const plain = await show(db, runId);
    assert.equal(plain.json.queue, null);
    assert.match(plain.text, /in queue +3 candidates on a queue's workers \(add --queue URL to see their jobs\)/);
  } finally {
    coordinator.child.kill('SIGKILL');
    worker.child.kill('SIGKILL');
    await coordinator.done;
    await stopWorkers([worker]);
  }
});
