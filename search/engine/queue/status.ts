// `nas queue status URL`: what the queue holds (jobs by state, from BullMQ) and the workers alive (their heartbeats,
// search/engine/queue/heartbeat.ts), read without changing anything.
import type { Queue as QueueType } from 'bullmq';
import { connect, QUEUE_NAME, QUEUE_PREFIX, redactedUrl } from './connection.js';
import { WORKER_KEY_PREFIX, type WorkerBeat } from './heartbeat.js';
import { bullmq } from './packages.js';

export interface QueueStatus {
  readonly queue: string;
  readonly jobs: { readonly waiting: number; readonly active: number; readonly delayed: number; readonly completed: number; readonly failed: number };
  readonly workers: readonly WorkerBeat[];
}

/** A heartbeat as stored, checked; null when it is not one (another program's key, a damaged value). */
export function parseBeat(text: string | null): WorkerBeat | null {
  let v: unknown;
  try {
    v = JSON.parse(text ?? '');
  } catch {
    return null;
  }
  if (typeof v !== 'object' || v === null) return null;
  const o = new Map(Object.entries(v));
  const str = (k: string): string | null => (typeof o.get(k) === 'string' ? String(o.get(k)) : null);
  const num = (k: string): number | null => (typeof o.get(k) === 'number' ? Number(o.get(k)) : null);
  const [id, host, engine, startedAt, lastBeat] = ['id', 'host', 'engine', 'startedAt', 'lastBeat'].map(str);
  const [pid, concurrency, jobsDone, jobsFailed] = ['pid', 'concurrency', 'jobsDone', 'jobsFailed'].map(num);
  if (id == null || host == null || engine == null || startedAt == null || lastBeat == null) return null;
  if (pid == null || concurrency == null || jobsDone == null || jobsFailed == null) return null;
  return { id, host, pid, engine, concurrency, startedAt, lastBeat, jobsDone, jobsFailed };
}

async function workerBeats(redis: ReturnType<typeof connect>): Promise<WorkerBeat[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${WORKER_KEY_PREFIX}*`, 'COUNT', 100);
    cursor = next;
    keys.push(...found);
  } while (cursor !== '0');
  const values = keys.length === 0 ? [] : await redis.mget(...keys);
  return values.map(parseBeat).filter((b): b is WorkerBeat => b !== null).sort((a, b) => a.id.localeCompare(b.id));
}

export async function queueStatus(url: string): Promise<QueueStatus> {
  const redis = connect(url);
  const queue: QueueType = new (bullmq().Queue)(QUEUE_NAME, { connection: redis, prefix: QUEUE_PREFIX });
  try {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'completed', 'failed');
    const n = (k: string): number => c[k] ?? 0;
    const jobs = { waiting: n('waiting'), active: n('active'), delayed: n('delayed'), completed: n('completed'), failed: n('failed') };
    return { queue: redactedUrl(url), jobs, workers: await workerBeats(redis) };
  } finally {
    await queue.close();
    redis.disconnect();
  }
}
