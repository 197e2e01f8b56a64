// Workers announce themselves in Redis: one key per worker, rewritten every HEARTBEAT_SECONDS and after each job
// (one SET, cheap beside a job's own commands) with a time to live of a few periods, so `nas queue status` lists the
// workers alive with their job counts as of their last job, and a worker that died drops out on its own.
import type { Redis } from 'ioredis';
import { QUEUE_PREFIX } from './connection.js';

export const HEARTBEAT_SECONDS = 5;
const TTL_SECONDS = 6 * HEARTBEAT_SECONDS;

export const WORKER_KEY_PREFIX = `${QUEUE_PREFIX}:workers:`;

/** What a worker says of itself in each heartbeat. */
export interface WorkerBeat {
  readonly id: string;
  readonly host: string;
  readonly pid: number;
  readonly engine: string;
  readonly concurrency: number;
  readonly startedAt: string;
  readonly lastBeat: string;
  readonly jobsDone: number;
  readonly jobsFailed: number;
}

export interface Heartbeat {
  /** Writes the beat now (after a job). */
  beat(): void;
  /** Stops beating and removes the worker's key. */
  stop(): Promise<void>;
}

/** Writes the worker's beat now and every HEARTBEAT_SECONDS. */
export function startHeartbeat(redis: Redis, beat: () => Omit<WorkerBeat, 'lastBeat'>): Heartbeat {
  const key = `${WORKER_KEY_PREFIX}${beat().id}`;
  const write = (): void => {
    // A beat lost while Redis is down is simply late: the next one rewrites the key.
    redis.set(key, JSON.stringify({ ...beat(), lastBeat: new Date().toISOString() }), 'EX', TTL_SECONDS).catch(() => {});
  };
  write();
  const timer = setInterval(write, HEARTBEAT_SECONDS * 1000);
  return {
    beat: write,
    async stop() {
      clearInterval(timer);
      await redis.del(key).catch(() => 0);
    },
  };
}
