// Redis stopped and started again in the middle of a distributed search (issue 16), with its persistence on
// (append-only file, fsync always): the coordinator and the workers reconnect on their own, and the search ends with
// the in-process run's candidates and rewards, every finished job still in the queue: nothing acknowledged is lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runCli } from './cli-helpers.js';
import { peek, sleep, spawnCli, waitFor } from './process-helpers.js';
import {
  candidateRows, fixture, jobCounts, onlyRun, queueTestContext, redisSkip, startWorkers, stopWorkers, workerStarted,
} from './queue-helpers.js';

const { server: redisServer, fresh } = queueTestContext('queue-restart', true);

const SEARCH = ['search', '--evaluator', fixture('eval-pid'), '--target', 'madds=60M', '--strategy', 'random', '--budget', '12', '--batch', '4', '--seed', '5', '--json'];

test('Redis stopped and restarted mid-run (persistence on): the search ends as the in-process run, no finished job lost', { skip: redisSkip }, async () => {
  const server = redisServer();
  const workers = startWorkers(server.url, 2, { NAS_FIXTURE_SLEEP_MS: '200' });
  await Promise.all(workers.map(workerStarted));
  const db = fresh('.db');
  const coordinator = spawnCli([...SEARCH, '--queue', server.url, '--db', db], {});
  const done = (): number => peek(db, (s) => s.listCandidates(onlyRun(db), { status: 'done' }).length) ?? 0;
  await waitFor(() => done() >= 4, 'a first batch done');
  await server.stop();
  const doneAtStop = done();
  await sleep(1000);
  await server.start();
  const r = await coordinator.done;
  await stopWorkers(workers);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(doneAtStop < 12, `Redis stopped mid-run (${doneAtStop} of 12 done)`);

  const local = fresh('.db');
  assert.equal(runCli([...SEARCH, '--workers', '0', '--db', local]).status, 0);
  const rows = candidateRows(db, onlyRun(db));
  assert.equal(rows.length, 12);
  assert.deepEqual(rows, candidateRows(local, onlyRun(local)));
  assert.equal((await jobCounts(server.url))['completed'], 12);
});
