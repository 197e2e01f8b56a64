// Where a run's candidates in flight stand in the queue (`nas results show RUN --queue URL`): each one's job read
// from Redis by its id (the run's and the architecture's, search/engine/queue/jobs.ts), with its state, the worker
// that took it and since when. Read only; a Redis that cannot be reached is a view that says so, not an error, so the
// store's own view is still shown.
import type { Job, Queue as QueueType } from 'bullmq';
import { checkReachable, connect, QUEUE_NAME, QUEUE_PREFIX, redactedUrl } from './connection.js';
import { jobIdOf } from './jobs.js';
import { bullmq } from './packages.js';

/** A candidate in flight, as the store knows it. */
export interface InFlightCandidate {
  readonly seq: number;
  readonly arch: string;
}

/** Its job: waiting, active (on `worker` since `since`), delayed (a retry's wait), or 'missing' from the queue. */
export interface JobProgress {
  readonly seq: number;
  readonly jobId: string;
  readonly state: string;
  /** The worker that took it (`nas worker`'s id, host-pid); null while it waits. */
  readonly worker: string | null;
  /** When it was taken (active), else when it was added; ISO time, null when missing. */
  readonly since: string | null;
  /** Attempts begun: more than one after a worker died mid-job or an error BullMQ retries. */
  readonly attempts: number;
}

export type QueueView =
  | { readonly queue: string; readonly reachable: true; readonly jobs: readonly JobProgress[] }
  | { readonly queue: string; readonly reachable: false; readonly reason: string };

const iso = (ms: number | undefined): string | null => (ms === undefined || ms === 0 ? null : new Date(ms).toISOString());

async function progressOf(queue: QueueType, runId: string, c: InFlightCandidate): Promise<JobProgress> {
  const jobId = jobIdOf(runId, c.arch);
  const job: Job | undefined = await bullmq().Job.fromId(queue, jobId);
  if (job === undefined) return { seq: c.seq, jobId, state: 'missing', worker: null, since: null, attempts: 0 };
  const state = await job.getState();
  const active = state === 'active';
  return {
    seq: c.seq,
    jobId,
    state,
    worker: active ? (job.processedBy ?? null) : null,
    since: active ? iso(job.processedOn) : iso(job.timestamp),
    attempts: job.attemptsStarted,
  };
}

/** The jobs of a run's candidates in flight, or why the queue could not be read. */
export async function queueProgress(url: string, runId: string, candidates: readonly InFlightCandidate[]): Promise<QueueView> {
  const where = redactedUrl(url);
  try {
    await checkReachable(url);
  } catch (e) {
    return { queue: where, reachable: false, reason: e instanceof Error ? e.message : String(e) };
  }
  const redis = connect(url);
  const queue: QueueType = new (bullmq().Queue)(QUEUE_NAME, { connection: redis, prefix: QUEUE_PREFIX });
  try {
    const jobs: JobProgress[] = [];
    for (const c of candidates) jobs.push(await progressOf(queue, runId, c));
    return { queue: where, reachable: true, jobs };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
