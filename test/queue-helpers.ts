// Shared by the queue tests: a real redis-server per test file (bench/redisServer.ts), `nas worker` processes, the evaluation log of
// the eval-pid fixture, and a run's candidates as the comparison of two runs needs them.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { freePort, hasRedisServer, REDIS_SERVER, type RedisServer, startRedisServer } from '../bench/redisServer.js';
import { connect, QUEUE_NAME, QUEUE_PREFIX } from '../search/engine/queue/connection.js';
import { peek, runIds, type Spawned, spawnCli } from './process-helpers.js';

/** node:test's skip value: a reason where redis-server is absent (CI installs the Debian package). */
export const redisSkip: string | false = hasRedisServer() ? false : `${REDIS_SERVER} is absent (Debian package redis-server)`;

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

export { freePort, type RedisServer };

/** `nas worker --queue URL --workers 0` processes with the fixture's environment; each writes JSON lines. */
export function startWorkers(url: string, n: number, env: Record<string, string>, extra: readonly string[] = []): Spawned[] {
  return Array.from({ length: n }, () => spawnCli(['worker', '--queue', url, '--workers', '0', '--json', ...extra], env));
}

/** Stops workers (SIGTERM: each finishes its job and exits 0) and returns their outputs. */
export async function stopWorkers(workers: readonly Spawned[]): Promise<string[]> {
  for (const w of workers) if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGTERM');
  return (await Promise.all(workers.map((w) => w.done))).map((r) => r.stdout);
}

/** Resolves once a worker printed its `started` line (it is connected and taking jobs). */
export async function workerStarted(w: Spawned): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('"event":"started"')) resolve();
    };
    w.child.stdout?.on('data', onData);
    w.child.once('exit', () => reject(new Error(`a worker exited before it started: ${out}`)));
  });
}

export interface LogLine {
  readonly kind: 'start' | 'end';
  readonly pid: number;
  readonly arch: string;
}

/** The eval-pid fixture's log: one line per evaluation begun and ended. */
export function readLog(file: string): LogLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => {
      const [kind, pid, arch] = l.split(' ');
      return { kind: kind === 'start' ? 'start' : 'end', pid: Number(pid), arch: arch ?? '' };
    });
}

/** How many evaluations of each arch began. */
export function startsByArch(log: readonly LogLine[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const l of log) if (l.kind === 'start') m.set(l.arch, (m.get(l.arch) ?? 0) + 1);
  return m;
}

/** A run's candidates in seq order as [seq, arch, status, reward]: what two runs of one seed must share. */
export type CandidateRow = [number, string, string, number | null];

export function candidateRows(db: string, runId: string): CandidateRow[] {
  const rows = peek(db, (s) => s.listCandidates(runId, { orderBy: 'seq' }).map((c): CandidateRow => [c.seq, c.arch, c.status, c.reward]));
  assert.ok(rows !== null, `read ${db}`);
  return rows;
}

/** The queue's job counts by state, read from Redis (BullMQ keys under the nas prefix). */
export async function jobCounts(url: string): Promise<Record<string, number>> {
  const redis = connect(url);
  const q = new Queue(QUEUE_NAME, { connection: redis, prefix: QUEUE_PREFIX });
  try {
    return await q.getJobCounts('waiting', 'active', 'completed', 'failed', 'delayed');
  } finally {
    await q.close();
    redis.disconnect();
  }
}


/** A test file's Redis (started before its tests, where redis-server exists) and temporary directory. */
export interface QueueTestContext {
  /** The server's URL ('' where the tests skip). */
  url(): string;
  server(): RedisServer;
  /** A new path in the file's directory. */
  fresh(ext: string): string;
}

export function queueTestContext(name: string, persist: boolean): QueueTestContext {
  const dir = mkdtempSync(join(tmpdir(), `nas-${name}-`));
  let redis: RedisServer | null = null;
  before(async () => {
    if (redisSkip === false) redis = await startRedisServer(persist);
  });
  after(async () => {
    await redis?.dispose();
    rmSync(dir, { recursive: true, force: true });
  });
  let n = 0;
  return {
    url: () => redis?.url ?? '',
    server: () => {
      assert.ok(redis !== null, 'redis-server started');
      return redis;
    },
    fresh: (ext) => join(dir, `t${n++}${ext}`),
  };
}

/** The one run of a database the CLI made. */
export const onlyRun = (db: string): string => runIds(db)[0] ?? '';
