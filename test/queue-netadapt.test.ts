// `nas netadapt --queue` with `nas worker` processes on a real redis-server (issue 16, item 4): a tiny seeded run whose
// fine-tunes are queue jobs ends with the in-process result (iterations, chosen proposals, every proposal's accuracy);
// a coordinator killed inside an iteration and resumed re-attaches to its jobs, so no proposal is fine-tuned twice; a
// worker refuses a fine-tune whose parent checkpoint is not on its machine, saying why; bad --queue input is one line.
import assert from 'node:assert/strict';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { isJsonObject, type JsonValue } from '../common/json.js';
import { Job, Queue } from 'bullmq';
import { connect, QUEUE_NAME, QUEUE_PREFIX } from '../search/engine/queue/connection.js';
import type { NetadaptResult } from '../netadapt/types.js';
import { decodeJson } from '../results/json.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeBlock, encodeArch } from '../space/blockString.js';
import { archFromBlocks } from '../space/load.js';
import { runCli, runCliAsync, userError } from './cli-helpers.js';
import { peek, sleep, spawnCli, waitFor } from './process-helpers.js';
import { freePort, queueTestContext, redisSkip, startWorkers, stopWorkers, workerStarted } from './queue-helpers.js';

const { url, fresh } = queueTestContext('queue-netadapt', false);
const db = fresh('.db');
const seedDir = fresh('-seed');

/** A seed small enough to fine-tune in a moment: three inverted-residual blocks at 16 px. */
function tinySeed(): ArchSpec {
  const base = archFromBlocks(['ir_k3_s2_x48_c24_se_re', 'ir_k3_s1_x72_c24_hs', 'ir_k3_s2_x96_c32_hs'].map(decodeBlock), 'tiny');
  return { ...base, input: { size: 16, channels: 3 }, classes: 10, stem: { ...base.stem, stride: 1, out: 16 }, head: { conv: 64, hidden: null, act: 'hswish' } };
}

/** A run of the tiny seed (MAdds stand in for latency, so that the steps are deterministic). */
const netadapt = (out: string, engine: readonly string[]): string[] => [
  'netadapt', '--checkpoint', seedDir, '--data', 'mnist', '--train-images', '400', '--val-images', '100',
  '--latency', 'madds', '--short-steps', '2', '--target', 'latency=0.75x', '--delta', '0.1', ...engine,
  '--no-measure-each', '--bn-images', '100', '--backend', 'wasm', '--db', db, '--out', out, '--seed', '3', '--json',
];

before(() => {
  if (redisSkip !== false) return;
  const spec = fresh('.json');
  writeFileSync(spec, JSON.stringify(tinySeed()));
  const r = runCli([
    'train-final', '--data', 'mnist', '--limit', '400', '--input', '16', '--epochs', '1', '--batch', '25', '--arch', spec,
    '--seed', '1', '--backend', 'wasm', '--db', db, '--out', seedDir, '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
});

/** What two runs of one seed must share: each iteration's choice and accuracy, and every proposal's accuracy. */
function outcome(result: NetadaptResult): unknown {
  const runs = peek(db, (s) => s.listNetadaptIterations(result.runId).map((it) => proposalsOf(it.proposals)));
  return {
    final: encodeArch(result.finalSpec),
    iterations: result.iterations.map((i) => [i.iteration, i.what, i.latencyPredictedMs, i.accuracy, i.proposals]),
    proposals: runs,
  };
}

function proposalsOf(v: JsonValue): unknown[] {
  assert.ok(Array.isArray(v), 'stored proposals are a list');
  return v.map((p) => (isJsonObject(p) ? [p['index'], p['arch'], p['accuracy'], p['error']] : p));
}

const jobLines = (outs: readonly string[]): string[] => outs.flatMap((o) => o.split('\n').filter((l) => l.includes('"event":"job"')));

test('NetAdapt with --queue and two nas workers, killed and resumed, ends as in process, each proposal fine-tuned once', { skip: redisSkip }, async () => {
  const local = runCli(netadapt(fresh('-local'), ['--workers', '0']));
  assert.equal(local.status, 0, local.stderr);
  const want = outcome(JSON.parse(local.stdout) as NetadaptResult);
  assert.ok((JSON.parse(local.stdout) as NetadaptResult).iterations.length >= 2, 'the run takes two steps or more');

  const workers = startWorkers(url(), 2, {});
  await Promise.all(workers.map(workerStarted));
  // Killed once the second iteration's jobs are in the queue (a worker began one); resumed, it waits for those jobs.
  const out = fresh('-killed');
  const coordinator = spawnCli(netadapt(out, ['--queue', url()]), {});
  await waitFor(() => existsSync(join(out, 'it-002')), 'the second iteration to start');
  coordinator.child.kill('SIGKILL');
  const killed = await coordinator.done;
  const runId = /run (na-[0-9a-f-]+)/.exec(killed.stderr)?.[1] ?? '';
  assert.ok(runId !== '', killed.stderr);
  const resumed = await runCliAsync(['netadapt', '--resume', runId, '--queue', url(), '--db', db, '--json']);
  assert.equal(resumed.status, 0, resumed.stderr);
  const got = JSON.parse(resumed.stdout) as NetadaptResult;
  assert.deepEqual(outcome(got), want);
  const outs = await stopWorkers(workers);
  const jobs = jobLines(outs);
  const proposals = (r: NetadaptResult): number => r.iterations.reduce((a, i) => a + i.proposals, 0);
  // Each proposal fine-tuned once: the resumed coordinator added no second job for any of them.
  assert.equal(jobs.length, proposals(got));
  assert.ok(outs.every((o) => jobLines([o]).length > 0), 'both workers took jobs');
  assert.ok(jobs.every((l) => l.includes('"ok":true')), jobs.join('\n'));
  await refusedElsewhere();
});

/** A job's failure reason, once it failed. */
async function failure(queue: Queue, id: string): Promise<string> {
  for (;;) {
    const job = await Job.fromId(queue, id);
    if (job !== undefined && (await job.getState()) === 'failed') return job.failedReason;
    await sleep(100);
  }
}

/**
 * A fine-tune as another machine would see it, whose coordinator's directories are not mounted there: a finished
 * job's data with its parent checkpoint and run directory moved, added to the queue; the worker refuses it.
 */
async function refusedElsewhere(): Promise<void> {
  const redis = connect(url());
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: QUEUE_PREFIX });
  const workers = startWorkers(url(), 1, {});
  try {
    const [done] = await queue.getJobs(['completed'], 0, 0);
    const data = decodeJson(JSON.stringify(done?.data ?? null));
    assert.ok(isJsonObject(data) && isJsonObject(data['task']), 'a finished fine-tune job');
    const task = data['task'];
    const context = task['context'];
    assert.ok(isJsonObject(context) && isJsonObject(context['config']));
    const config = { ...context['config'], parent: '/elsewhere/seed', out: '/elsewhere/run/it-001/p-00' };
    await queue.add('evaluate', { ...data, task: { ...task, context: { ...context, config } } }, { jobId: 'elsewhere' });
    const reason = await failure(queue, 'elsewhere');
    assert.match(reason, /refused the job: the parent checkpoint \/elsewhere\/seed is not on this machine/);
    assert.match(reason, /mounts at the same path/);
  } finally {
    await stopWorkers(workers);
    await queue.close();
    redis.disconnect();
  }
}

test('netadapt --queue beside --workers, or with a Redis that is not there, is one line, exit 2, before anything is trained', { skip: redisSkip }, async () => {
  userError(runCli(netadapt(fresh('-both'), ['--workers', '0', '--queue', url()])), 'nas worker');
  const nobody = `redis://127.0.0.1:${await freePort()}/0`;
  userError(runCli(netadapt(fresh('-nobody'), ['--queue', nobody])), 'cannot reach Redis');
});
