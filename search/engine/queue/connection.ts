// The Redis a distributed search uses, named by `--queue URL` (coordinator and workers alike): a redis:// or
// rediss:// (TLS) URL with an optional password and database number, taken as ioredis takes it. All keys live under
// one BullMQ prefix, so a database can hold other data beside a search's queue.
import type { Redis } from 'ioredis';
import { NasError, UsageError } from '../../../common/errors.js';
import { ioredis } from './packages.js';

/** BullMQ's key prefix and queue name: the queue's keys are `nas:evaluations:*`, the workers' heartbeats `nas:workers:*`. */
export const QUEUE_PREFIX = 'nas';
export const QUEUE_NAME = 'evaluations';

/** `--queue` checked: redis://[user:password@]host[:port][/db] or rediss://...; returns it as given. */
export function parseQueueUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--queue ${text}: expected a Redis URL such as redis://127.0.0.1:6379/0 (rediss:// for TLS)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    throw new UsageError(`--queue ${text}: expected a redis:// or rediss:// URL, got ${url.protocol.replace(':', '')}://`);
  }
  if (url.hostname === '') throw new UsageError(`--queue ${text}: the URL names no host; e.g. redis://127.0.0.1:6379/0`);
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) throw new UsageError(`--queue ${text}: the database after the host must be a number, e.g. /0`);
  return text;
}

/** The URL without its password, for messages and status output. */
export function redactedUrl(text: string): string {
  const url = new URL(text);
  if (url.password !== '') url.password = '***';
  return url.toString();
}

/**
 * A connection as BullMQ wants it: commands wait through a Redis restart (maxRetriesPerRequest null) and ioredis
 * reconnects on its own, so a restarted Redis with its data on disk continues the search where it was.
 */
export function connect(url: string): Redis {
  const redis: Redis = new (ioredis().Redis)(url, { maxRetriesPerRequest: null, lazyConnect: false });
  // Connection errors are retried by ioredis; without a listener each one would be printed as unhandled.
  redis.on('error', () => {});
  return redis;
}

/** Seconds the first contact with Redis may take before a command gives up with an error. */
export const REACH_SECONDS = 5;

/**
 * One PING, with no retries: a wrong host, port or password is one clear error at the start, instead of a process
 * that waits for a Redis that is not there (later, connections wait through outages).
 */
export async function checkReachable(url: string): Promise<void> {
  const r: Redis = new (ioredis().Redis)(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null, connectTimeout: REACH_SECONDS * 1000 });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
  } catch (e) {
    const why = (e instanceof Error ? e.message : String(e)).split('\n')[0];
    throw new NasError('E_USAGE', `--queue ${redactedUrl(url)}: cannot reach Redis (${why}); start redis-server there or fix the URL`);
  } finally {
    r.disconnect();
  }
}
