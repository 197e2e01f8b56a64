// Shared by the queue tests: a real redis-server on a free loopback port with its own temporary directory (stopped
// and started again on the same port and data for the restart test), `nas worker` processes, the evaluation log of
// the eval-pid fixture, and a run's candidates as the comparison of two runs needs them.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { connect, QUEUE_NAME, QUEUE_PREFIX } from '../search/engine/queue/connection.js';
import { peek, type Spawned, sleep, spawnCli } from './process-helpers.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

/** node:test's skip value: a reason where redis-server is absent (CI installs the Debian package). */
export const redisSkip: string | false = existsSync(REDIS_SERVER) ? false : `${REDIS_SERVER} is absent (Debian package redis-server)`;

export const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

/** A loopback port nothing listens on (the kernel's choice, released again). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface RedisServer {
  readonly url: string;
  /** Stops the server (SIGTERM: with persistence on, it writes its data first). */
  stop(): Promise<void>;
  /** Starts it again on the same port and directory. */
  start(): Promise<void>;
  /** Stops it and removes its directory. */
  dispose(): Promise<void>;
}

async function pingable(url: string): Promise<boolean> {
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  r.on('error', () => {});
  try {
    await r.connect();
    return (await r.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

/** A redis-server of its own; `persist`: append-only file, fsync'd on every write (nothing acknowledged is lost). */
export async function startRedis(persist: boolean): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nas-redis-'));
  const url = `redis://127.0.0.1:${port}/0`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always'];
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    for (let i = 0; i < 200 && !(await pingable(url)); i++) await sleep(25);
    assert.ok(await pingable(url), `redis-server did not start on port ${port}`);
  };
  const stop = async (): Promise<void> => {
    const c: ChildProcess | null = child;
    child = null;
    if (c === null || c.exitCode !== null) return;
    await new Promise<void>((r) => {
      c.once('exit', () => r());
      c.kill('SIGTERM');
    });
  };
  await start();
  return { url, stop, start, dispose: async () => (await stop(), rmSync(dir, { recursive: true, force: true })) };
}

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

