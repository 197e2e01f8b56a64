// What tests of processes that run side by side share: a CLI spawned in the background, polling a database read-only
// while it is being written, and SQLite's own check of a database file.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { openStore, type Store } from '../results/store.js';
import { CLI, type CliRun } from './cli-helpers.js';

export interface Spawned {
  readonly child: ChildProcess;
  readonly done: Promise<CliRun>;
}

/** The CLI in the background with extra environment variables; `done` settles when it exits. */
export function spawnCli(args: readonly string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done };
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Reads the database (read-only) with fn; null while it has no schema yet. */
export function peek<T>(db: string, fn: (s: Store) => T): T | null {
  if (!existsSync(db)) return null;
  try {
    const s = openStore(db, { readonly: true });
    try {
      return fn(s);
    } finally {
      s.close();
    }
  } catch {
    return null;
  }
}

/** Polls until check passes; fails after 60 s. */
export async function waitFor(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

export function runIds(db: string): string[] {
  return peek(db, (s) => s.listRuns().map((r) => r.id)) ?? [];
}

/** PRAGMA integrity_check passes. */
export function integrityOk(db: string): void {
  const raw = new Database(db, { readonly: true });
  try {
    assert.deepEqual(raw.pragma('integrity_check'), [{ integrity_check: 'ok' }]);
  } finally {
    raw.close();
  }
}
