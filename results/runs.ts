// Runs: one row per `nas train-final`, `nas search`, `nas netadapt` or latency measurement. A running process
// refreshes updated_at (its heartbeat); a 'running' run whose heartbeat is old, or whose owner process is gone, is
// stale: it crashed, was killed or is stuck, and may be resumed. Taking a run over raises its lease generation
// (lease.ts), so the process that lost it can tell.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { NasError } from '../common/errors.js';
import type { Conn } from './conn.js';
import type { JsonValue } from '../common/json.js';
import { decodeJson, decodeJsonOrNull, encodeJson } from './json.js';
import { DEFAULT_LEASE_SECONDS, heartbeatSeconds, type Lease, LeaseLostError, leaseSeconds } from './lease.js';

export const RUN_KINDS = ['train', 'search', 'netadapt', 'latency'] as const;
export type RunKind = (typeof RUN_KINDS)[number];

export const RUN_STATUSES = ['running', 'finished', 'failed', 'killed'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

/** Run ids read `tf-20261129-1a2b3c`: kind, UTC date, random suffix. */
export const RUN_ID_PREFIX: Readonly<Record<RunKind, string>> = {
  train: 'tf',
  search: 'sr',
  netadapt: 'na',
  latency: 'lt',
};

/** A run whose heartbeat is older than this many seconds is stale (NAS_LEASE_SECONDS changes it: lease.ts). */
export const DEFAULT_STALE_SECONDS = DEFAULT_LEASE_SECONDS;

/** How often startHeartbeat refreshes a run by default: well within DEFAULT_STALE_SECONDS. */
export const HEARTBEAT_SECONDS = 10;

// No ':' or '#', so that `run:ID#best` parses.
const RUN_ID = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface RunRecord {
  readonly id: string;
  readonly kind: RunKind;
  readonly status: RunStatus;
  readonly config: JsonValue;
  readonly seed: number | null;
  /** Canonical arch string, where the run has one architecture. */
  readonly arch: string | null;
  /** `host:pid` of the process that runs (or last ran) it. */
  readonly owner: string | null;
  readonly createdAt: string;
  /** The heartbeat: every write to the run refreshes it. */
  readonly updatedAt: string;
  readonly result: JsonValue | null;
  readonly error: string | null;
}

export interface NewRun {
  readonly kind: RunKind;
  /** JSON data: the resolved options the run was started with. */
  readonly config: unknown;
  readonly seed?: number;
  readonly arch?: string;
  /** Default: a fresh `tf-YYYYMMDD-xxxxxx` id. */
  readonly id?: string;
  /** Default 'running'. */
  readonly status?: RunStatus;
  /** Default: this process (processOwner()). */
  readonly owner?: string;
}

export interface RunFilter {
  readonly kind?: RunKind;
  readonly status?: RunStatus;
  readonly limit?: number;
}

export interface StaleOptions {
  readonly staleAfterSeconds?: number;
  /** Default: the current time (the store's clock, in Store methods). */
  readonly now?: Date;
}

export interface AcquireOptions extends StaleOptions {
  /** Default: this process (processOwner()). */
  readonly owner?: string;
}

export interface RunsApi {
  createRun(run: NewRun): RunRecord;
  getRun(id: string): RunRecord | null;
  /** For the CLI: the run, or a NasError naming it. */
  requireRun(id: string): RunRecord;
  /** Newest first. */
  listRuns(filter?: RunFilter): RunRecord[];
  /** Sets the status (and the error text, cleared when not given). */
  updateRunStatus(id: string, status: RunStatus, error?: string): RunRecord;
  setRunResult(id: string, result: unknown): RunRecord;
  /** setRunResult and status 'finished' in one transaction. */
  finishRun(id: string, result: unknown): RunRecord;
  /** Runs with status 'running', stale or not. */
  findRunning(kind?: RunKind): RunRecord[];
  /** Runs with status 'running' that are stale (see isRunStale). */
  findStaleRuns(opts?: StaleOptions & { readonly kind?: RunKind }): RunRecord[];
  /** Refreshes the run's heartbeat. */
  heartbeat(id: string): void;
  /**
   * Takes a run over to continue it (resume): status 'running', owned by this process. Throws a NasError when the run
   * is running in another live process; a stale run is taken over.
   */
  acquireRun(id: string, opts?: AcquireOptions): RunRecord;
  /** acquireRun, returning the lease whose token the new owner's writes are fenced with (checkLease). */
  takeLease(id: string, opts?: AcquireOptions): Lease;
  /** Throws LeaseLostError unless the run still holds this lease; inside a write transaction, it fences the write. */
  checkLease(lease: Lease): void;
  /** The heartbeat of a lease holder: refreshes updated_at while the lease holds, else throws LeaseLostError. */
  renewLease(lease: Lease): void;
}

interface RunRow {
  id: string;
  kind: RunKind;
  status: RunStatus;
  config: string;
  seed: number | null;
  arch: string | null;
  owner: string | null;
  created_at: string;
  updated_at: string;
  result: string | null;
  error: string | null;
  lease: number;
  leased_at: string | null;
}

function toRecord(r: RunRow): RunRecord {
  return {
    id: r.id,
    kind: r.kind,
    status: r.status,
    config: decodeJson(r.config),
    seed: r.seed,
    arch: r.arch,
    owner: r.owner,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    result: decodeJsonOrNull(r.result),
    error: r.error,
  };
}

/** This process, as a run owner. */
export function processOwner(): string {
  return `${hostname()}:${process.pid}`;
}

function ownerIsDead(owner: string | null): boolean {
  if (owner === null) return true;
  const at = owner.lastIndexOf(':');
  const host = owner.slice(0, at);
  const pid = Number(owner.slice(at + 1));
  // Only a process on this machine can be checked; elsewhere the heartbeat decides.
  if (host !== hostname() || !Number.isInteger(pid)) return false;
  if (pid === process.pid) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

/**
 * True when the run is 'running' but nothing runs it: its heartbeat is older than staleAfterSeconds, or its owner was
 * a process on this machine that no longer exists.
 */
export function isRunStale(run: RunRecord, opts: StaleOptions = {}): boolean {
  if (run.status !== 'running') return false;
  const now = (opts.now ?? new Date()).getTime();
  const limitMs = (opts.staleAfterSeconds ?? leaseSeconds()) * 1000;
  return now - Date.parse(run.updatedAt) > limitMs || ownerIsDead(run.owner);
}

export function newRunId(kind: RunKind, at: Date): string {
  const day = at.toISOString().slice(0, 10).replaceAll('-', '');
  return `${RUN_ID_PREFIX[kind]}-${day}-${randomBytes(3).toString('hex')}`;
}

export function runsApi(c: Conn): RunsApi {
  const get = (id: string): RunRow | undefined => c.stmt<RunRow>('SELECT * FROM runs WHERE id = ?').get(id);

  const must = (id: string): RunRow => {
    const r = get(id);
    if (r === undefined) throw new NasError('E_USAGE', `unknown run ${id}; \`nas runs\` lists them`);
    return r;
  };

  const api: RunsApi = {
    createRun(run) {
      if (run.id !== undefined && !RUN_ID.test(run.id)) {
        throw new NasError('E_USAGE', `invalid run id '${run.id}': use letters, digits, '.', '_' and '-'`);
      }
      if (run.seed !== undefined && !Number.isSafeInteger(run.seed)) {
        throw new NasError('E_USAGE', `invalid seed ${run.seed}: an integer is needed`);
      }
      const config = encodeJson(run.config, 'runs.config');
      const insert = c.stmt(
        `INSERT INTO runs (id, kind, status, config, seed, arch, owner, created_at, updated_at)
         VALUES (@id, @kind, @status, @config, @seed, @arch, @owner, @now, @now) ON CONFLICT (id) DO NOTHING`,
      );
      return c.write(() => {
        // A random suffix collides about once in 16 million runs of a day; try again then.
        for (let attempt = 0; attempt < 8; attempt++) {
          const id = run.id ?? newRunId(run.kind, c.clock());
          const changes = insert.run({
            id,
            kind: run.kind,
            status: run.status ?? 'running',
            config,
            seed: run.seed ?? null,
            arch: run.arch ?? null,
            owner: run.owner ?? processOwner(),
            now: c.now(),
          }).changes;
          if (changes === 1) return toRecord(must(id));
          if (run.id !== undefined) throw new NasError('E_USAGE', `run ${run.id} already exists`);
        }
        throw new Error('could not draw a fresh run id');
      });
    },

    getRun(id) {
      const r = get(id);
      return r === undefined ? null : toRecord(r);
    },

    requireRun(id) {
      return toRecord(must(id));
    },

    listRuns(filter = {}) {
      const rows = c
        .stmt<RunRow>(
          `SELECT * FROM runs WHERE (@kind IS NULL OR kind = @kind) AND (@status IS NULL OR status = @status)
           ORDER BY created_at DESC, id DESC LIMIT @limit`,
        )
        .all({ kind: filter.kind ?? null, status: filter.status ?? null, limit: filter.limit ?? -1 });
      return rows.map(toRecord);
    },

    updateRunStatus(id, status, error) {
      return c.write(() => {
        must(id);
        c.stmt('UPDATE runs SET status = ?, error = ?, updated_at = ? WHERE id = ?').run(
          status,
          error ?? null,
          c.now(),
          id,
        );
        return toRecord(must(id));
      });
    },

    setRunResult(id, result) {
      const text = encodeJson(result, 'runs.result');
      return c.write(() => {
        must(id);
        c.stmt('UPDATE runs SET result = ?, updated_at = ? WHERE id = ?').run(text, c.now(), id);
        return toRecord(must(id));
      });
    },

    finishRun(id, result) {
      return c.write(() => {
        api.setRunResult(id, result);
        return api.updateRunStatus(id, 'finished');
      });
    },

    findRunning(kind) {
      return c
        .stmt<RunRow>(
          `SELECT * FROM runs WHERE status = 'running' AND (@kind IS NULL OR kind = @kind) ORDER BY created_at, id`,
        )
        .all({ kind: kind ?? null })
        .map(toRecord);
    },

    findStaleRuns(opts = {}) {
      return api.findRunning(opts.kind).filter((r) => isRunStale(r, { ...opts, now: opts.now ?? c.clock() }));
    },

    heartbeat(id) {
      const changes = c.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(c.now(), id).changes;
      if (changes === 0) must(id);
    },

    acquireRun(id, opts = {}) {
      return c.write(() => {
        api.takeLease(id, opts);
        return toRecord(must(id));
      });
    },

    takeLease(id, opts = {}) {
      return c.write(() => {
        const row = must(id);
        const run = toRecord(row);
        const me = opts.owner ?? processOwner();
        const stale = isRunStale(run, { ...opts, now: opts.now ?? c.clock() });
        if (run.status === 'running' && run.owner !== me && !stale) {
          const ago = Math.max(0, Math.round((c.clock().getTime() - Date.parse(run.updatedAt)) / 1000));
          throw new NasError(
            'E_USAGE',
            `run ${id} is busy: running in ${run.owner ?? 'another process'} (heartbeat ${ago}s ago)`,
          );
        }
        const now = c.now();
        c.stmt(
          `UPDATE runs SET status = 'running', owner = ?, error = NULL, updated_at = ?, lease = lease + 1, leased_at = ?
           WHERE id = ?`,
        ).run(me, now, now, id);
        return { runId: id, owner: me, generation: row.lease + 1, takenAt: now };
      });
    },

    checkLease(lease) {
      const row = c
        .stmt<Pick<RunRow, 'owner' | 'lease' | 'leased_at'>>('SELECT owner, lease, leased_at FROM runs WHERE id = ?')
        .get(lease.runId);
      if (row === undefined) must(lease.runId);
      else if (row.owner !== lease.owner || row.lease !== lease.generation) {
        throw new LeaseLostError(lease, row.owner, row.leased_at);
      }
    },

    renewLease(lease) {
      c.write(() => {
        api.checkLease(lease);
        c.stmt('UPDATE runs SET updated_at = ? WHERE id = ?').run(c.now(), lease.runId);
      });
    },
  };
  return api;
}

/**
 * Refreshes the run's heartbeat every few seconds until stop() (the timer does not keep the process alive). The
 * beats come between awaits, so a long synchronous stretch delays them: keep training steps async.
 */
export function startHeartbeat(
  store: Pick<RunsApi, 'heartbeat'>,
  runId: string,
  everySeconds = Math.min(HEARTBEAT_SECONDS, heartbeatSeconds()),
): { stop(): void } {
  store.heartbeat(runId);
  const timer = setInterval(() => store.heartbeat(runId), everySeconds * 1000);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}
