// `nas netadapt --queue` with `nas worker` processes on a real redis-server (issue 16, item 4): a tiny seeded run whose
// fine-tunes are queue jobs ends with the in-process result (iterations, chosen proposals, every proposal's accuracy);
// a coordinator killed inside an iteration and resumed re-attaches to its jobs, so no proposal is fine-tuned twice; a
// worker refuses a fine-tune whose parent checkpoint is not on its machine, saying why; a failed fine-tune's job is
// run again by a resumed NetAdapt coordinator rather than re-read; bad --queue input is one line.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { before, test } from 'node:test';
import { isJsonObject, type JsonValue } from '../common/json.js';
import { Queue } from 'bullmq';
import { connect, QUEUE_NAME, QUEUE_PREFIX } from '../search/engine/queue/connection.js';
import { createQueueEngine } from '../search/engine/queue/coordinator.js';
import { parseJobData } from '../search/engine/queue/jobs.js';
import type { EvalOutcome, EvalTask } from '../search/engine/types.js';
import type { NetadaptResult } from '../netadapt/types.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeBlock, encodeArch } from '../space/blockString.js';
import { archFromBlocks } from '../space/load.js';
import { runCli, runCliAsync, userError } from './cli-helpers.js';
import { peek, spawnCli, waitFor } from './process-helpers.js';
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
  await failuresRerun();
});

/** A finished fine-tune job's task, as the coordinator sent it. */
async function finishedTask(): Promise<EvalTask> {
  const redis = connect(url());
  const queue = new Queue(QUEUE_NAME, { connection: redis, prefix: QUEUE_PREFIX });
  try {
    const [done] = await queue.getJobs(['completed'], 0, 0);
    return parseJobData(done?.data).task;
  } finally {
    await queue.close();
    redis.disconnect();
  }
}

/** The task with its parent checkpoint and output elsewhere. */
const moved = (t: EvalTask, parent: string, out: string): EvalTask => ({ ...t, context: { ...t.context, config: { ...t.context.config, parent, out } } });

/** One task run by a queue engine of run `runId`, as a (resumed) NetAdapt coordinator (rerun) or a search's would. */
async function runOnQueue(runId: string, task: EvalTask, rerunFailed: boolean): Promise<EvalOutcome> {
  const setup = { evaluatorUrl: new URL('../netadapt/finetune.js', import.meta.url).href, latency: null };
  const engine = createQueueEngine(setup, { url: url(), runId, evalKey: 'k', evalTimeoutSeconds: null, rerunFailed });
  try {
    return await engine.run(task);
  } finally {
    await engine.close();
  }
}

/**
 * Fine-tunes that end without a result: one whose coordinator's directories are not on the worker's machine (refused,
 * with the reason), one whose parent is not a checkpoint (the fine-tune fails). Enqueued again, each is re-read, or
 * run again by a coordinator that reruns failures (NetAdapt's resume).
 */
async function failuresRerun(): Promise<void> {
  const task = await finishedTask();
  const elsewhere = moved(task, '/elsewhere/seed', '/elsewhere/run/it-001/p-00');
  const notCheckpoint = fresh('-empty');
  mkdirSync(notCheckpoint);
  const broken = moved(task, notCheckpoint, join(notCheckpoint, 'it-001', 'p-00'));
  const workers = startWorkers(url(), 1, {});
  let outs: string[] = [];
  try {
    const refused = await runOnQueue('elsewhere', elsewhere, false);
    assert.ok(!refused.ok && /refused the job: the parent checkpoint \/elsewhere\/seed is not on this machine/.test(refused.reason), JSON.stringify(refused));
    assert.match(refused.reason, /mounts at the same path/);
    const first = await runOnQueue('broken', broken, false);
    assert.ok(!first.ok, 'a parent that is no checkpoint fails the fine-tune');
    assert.deepEqual(await runOnQueue('broken', broken, false), first, 're-read, not run again');
    assert.ok(!(await runOnQueue('broken', broken, true)).ok);
    assert.ok(!(await runOnQueue('elsewhere', elsewhere, true)).ok);
  } finally {
    outs = await stopWorkers(workers);
  }
  // Run: each failure once, and again when rerun; never for the re-read.
  assert.equal(jobLines(outs).length, 4, outs.join('\n'));
}

test('netadapt --queue beside --workers, or with a Redis that is not there, is one line, exit 2, before anything is trained', { skip: redisSkip }, async () => {
  userError(runCli(netadapt(fresh('-both'), ['--workers', '0', '--queue', url()])), 'nas worker');
  const nobody = `redis://127.0.0.1:${await freePort()}/0`;
  userError(runCli(netadapt(fresh('-nobody'), ['--queue', nobody])), 'cannot reach Redis');
});
