// `nas search --queue URL`: the search process is the coordinator. Each candidate the loop hands the engine becomes
// one BullMQ job (search/engine/queue/jobs.ts) that any `nas worker` on the queue takes; the engine waits for it with
// BullMQ's own job.waitUntilFinished (QueueEvents) and returns its outcome, which the loop writes to the store as for
// any engine. The job id is the run's and the architecture's, so a resumed coordinator that enqueues a candidate
// still in the queue (or finished while it was down) attaches to that job instead of adding another.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { evaluatorHash } from '../../evaluators.js';
import { type Engine, type EvalOutcome, type EvalTask, type EvalTimeout, reasonOf, type WorkerSetup } from '../types.js';
import { connect, QUEUE_NAME, QUEUE_PREFIX } from './connection.js';
import { jobEvaluatorRef } from './evaluatorRef.js';
import { type JobData, jobIdOf, parseOutcome } from './jobs.js';
import { bullmq } from './packages.js';

/** Jobs the coordinator keeps in the queue at once: a batch larger than this waits in the store, still queued. */
export const QUEUE_IN_FLIGHT = 1000;

/** Finished jobs stay in Redis this long, so that a coordinator resumed within it finds their results. */
export const KEEP_FINISHED_SECONDS = 7 * 24 * 3600;

/** BullMQ retries a job that threw (not an evaluator's failure, which is a result) this many times in all. */
export const JOB_ATTEMPTS = 3;

export interface QueueEngineOptions {
  /** The Redis URL (search/engine/queue/connection.ts). */
  readonly url: string;
  /** The run the jobs belong to: their ids are the run's and the architecture's. */
  readonly runId: string;
  readonly evalKey: string;
  readonly evalTimeoutSeconds: EvalTimeout;
  /** A job already failed in the queue is run again rather than its failure returned (EngineScope.rerunFailed). */
  readonly rerunFailed?: boolean;
}

const CLOSED: EvalOutcome = { ok: false, reason: 'engine closed', seconds: 0 };

/**
 * The queue's events from the stream's present end on: QueueEvents would start reading at '$' only once its first
 * blocking read is sent, and a job finished between our check of it and that read (an instant evaluator, measured:
 * a search stuck after its first batch) would never be reported.
 */
async function listen(queue: Queue, client: Redis, connection: Redis): Promise<QueueEvents> {
  const last = await client.xrevrange(queue.toKey('events'), '+', '-', 'COUNT', 1);
  const lastEventId = last[0]?.[0] ?? '0-0';
  const events = new (bullmq().QueueEvents)(QUEUE_NAME, { connection, prefix: QUEUE_PREFIX, lastEventId });
  await events.waitUntilReady();
  return events;
}

/** How often a waited-for job's state is read from Redis, in case its event never arrives. */
export const POLL_SECONDS = 10;

/**
 * The job's result read from its stored state every POLL_SECONDS: the fallback for an event that never reaches the
 * coordinator (a stream read lost to a reconnection, or any gap like the one `listen` closes), which would otherwise
 * leave the search waiting forever. Its result is what waitUntilFinished gives: the return value, or a throw; an
 * abort (the event answered first) rejects it, unobserved.
 */
export async function pollUntilFinished(queue: Queue, jobId: string, signal: AbortSignal, pollSeconds = POLL_SECONDS): Promise<unknown> {
  for (;;) {
    await sleep(pollSeconds * 1000, undefined, { signal });
    const job = await bullmq().Job.fromId<unknown, unknown>(queue, jobId);
    if (job === undefined) throw new Error(`job ${jobId} is no longer in the queue`);
    const state = await job.getState();
    if (state === 'completed') return job.returnvalue;
    if (state === 'failed') throw new Error(job.failedReason);
  }
}

/** Whether a finished job's return value is a successful outcome (a malformed one is not). */
function succeeded(returnValue: unknown): boolean {
  try {
    return parseOutcome(returnValue).ok;
  } catch {
    return false;
  }
}

/**
 * A job that ended without a result, failed in the queue or completed with an evaluation's failure, put back to run
 * again (EngineScope.rerunFailed): attaching to it would return the old failure.
 */
async function rerunIfFailed(queue: Queue, jobId: string): Promise<void> {
  const job = await bullmq().Job.fromId<unknown, unknown>(queue, jobId);
  if (job === undefined) return;
  const state = await job.getState();
  if (state === 'failed' || (state === 'completed' && !succeeded(job.returnvalue))) {
    await job.retry(state, { resetAttemptsMade: true, resetAttemptsStarted: true });
  }
}

export function createQueueEngine(setup: WorkerSetup, opts: QueueEngineOptions): Engine {
  const connections = [connect(opts.url), connect(opts.url)] as const;
  const queue: Queue = new (bullmq().Queue)(QUEUE_NAME, { connection: connections[0], prefix: QUEUE_PREFIX });
  const events = listen(queue, connections[0], connections[1]);
  // Every job waited for listens for the queue's closing: more than Node's default of 10 at once is expected here.
  queue.setMaxListeners(QUEUE_IN_FLIGHT + 10);
  const base: Omit<JobData, 'task'> = {
    evaluator: jobEvaluatorRef(setup.evaluatorUrl),
    evaluatorHash: evaluatorHash(setup.evaluatorUrl),
    latency: setup.latency,
    evalKey: opts.evalKey,
    evalTimeoutSeconds: opts.evalTimeoutSeconds,
  };
  let closed = false;
  let onClose: () => void = () => {};
  const closing = new Promise<EvalOutcome>((resolve) => (onClose = () => resolve(CLOSED)));

  const waitFor = async (task: EvalTask): Promise<EvalOutcome> => {
    const job = await queue.add('evaluate', { ...base, task }, {
      jobId: jobIdOf(opts.runId, task.id ?? task.context.arch),
      attempts: JOB_ATTEMPTS,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: { age: KEEP_FINISHED_SECONDS },
      removeOnFail: { age: KEEP_FINISHED_SECONDS },
    });
    // queue.add of an id in the queue returns that job as it is: a resumed coordinator attaches to it.
    if (opts.rerunFailed === true) await rerunIfFailed(queue, job.id ?? '');
    const poll = new AbortController();
    try {
      return parseOutcome(await Promise.race([job.waitUntilFinished(await events), pollUntilFinished(queue, job.id ?? '', poll.signal)]));
    } finally {
      poll.abort();
    }
  };

  return {
    kind: 'queue',
    concurrency: QUEUE_IN_FLIGHT,
    async run(task: EvalTask): Promise<EvalOutcome> {
      if (closed) return CLOSED;
      const t0 = performance.now();
      try {
        return await Promise.race([waitFor(task), closing]);
      } catch (e) {
        // A job that failed in the queue (refused by a worker, stalled too often, retries spent): its reason.
        return { ok: false, reason: reasonOf(e), seconds: (performance.now() - t0) / 1000 };
      }
    },
    async close() {
      closed = true;
      onClose();
      // Events that never started (Redis unreachable) have nothing to close.
      await (await events.catch(() => null))?.close();
      await queue.close();
      for (const c of connections) c.disconnect();
    },
  };
}
