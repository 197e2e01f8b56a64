// A redis-server of its own for a benchmark or a test: a free loopback port, a temporary directory, persistence on or
// off, stopped (SIGTERM, so that it writes its data) and started again on the same port and data.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { NasError } from '../common/errors.js';

export const REDIS_SERVER = '/usr/bin/redis-server';

export const hasRedisServer = (): boolean => existsSync(REDIS_SERVER);

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

async function untilPingable(url: string): Promise<void> {
  for (let i = 0; i < 400; i++) {
    if (await pingable(url)) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new NasError('E_IO', `${REDIS_SERVER} did not answer on ${url} within 10 s`);
}

/** A redis-server of its own; `persist`: append-only file, fsync'd on every write (nothing acknowledged is lost). */
export async function startRedisServer(persist: boolean): Promise<RedisServer> {
  if (!hasRedisServer()) throw new NasError('E_IO', `${REDIS_SERVER} is absent: install the Debian package redis-server`);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'nas-redis-'));
  const url = `redis://127.0.0.1:${port}/0`;
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always'];
  let child: ChildProcess | null = null;
  const start = async (): Promise<void> => {
    child = spawn(REDIS_SERVER, args, { stdio: 'ignore' });
    await untilPingable(url);
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
