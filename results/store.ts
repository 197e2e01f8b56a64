// The results store: one SQLite file per project, shared by concurrent processes and worker threads (WAL mode, a
// busy timeout), with a versioned schema (migrations.ts). Open one Store per thread and close it in a finally.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { NasError } from '../common/errors.js';
import { type CandidatesApi, candidatesApi } from './candidates.js';
import { type CheckpointsApi, checkpointsApi } from './checkpoints.js';
import { createConn } from './conn.js';
import { type EpochsApi, epochsApi } from './epochs.js';
import { type LatencyApi, latencyApi } from './latency.js';
import { migrate, SCHEMA_VERSION, userVersion } from './migrations.js';
import { type NetadaptApi, netadaptApi } from './netadapt.js';
import { type RunsApi, runsApi } from './runs.js';
import { type StrategyApi, strategyApi } from './strategy.js';

export const DEFAULT_DB_PATH = './nas.db';

/** How long a write waits for another connection's write lock before failing with SQLITE_BUSY. */
export const DEFAULT_BUSY_TIMEOUT_MS = 15_000;

export interface StoreOptions {
  /** Open without writing: the file must exist and have the current schema. */
  readonly readonly?: boolean;
  readonly busyTimeoutMs?: number;
  /** The clock for timestamps and staleness (tests). */
  readonly now?: () => Date;
}

export interface Store
  extends RunsApi,
    EpochsApi,
    CheckpointsApi,
    CandidatesApi,
    StrategyApi,
    LatencyApi,
    NetadaptApi {
  readonly path: string;
  readonly readonly: boolean;
  /** PRAGMA user_version of the file: the number of migrations applied. */
  readonly schemaVersion: number;
  /**
   * Runs fn in one write transaction (BEGIN IMMEDIATE): the store calls it makes take effect together, or not at all
   * if it throws. fn must be synchronous.
   */
  transaction<T>(fn: () => T): T;
  /** Runs fn in one read transaction: every read inside sees the same committed state, whatever others write. */
  readSnapshot<T>(fn: () => T): T;
  /** Closes the connection; calling it again does nothing. */
  close(): void;
}

const SQLITE_MAGIC = 'SQLite format 3\0';

function ioError(path: string, why: string): NasError {
  return new NasError('E_IO', `results database ${path}: ${why}`);
}

/** Refuses, without touching it, a file that exists and is not a SQLite database. */
function checkExistingFile(path: string, readonly: boolean): void {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw ioError(path, 'is a directory, not a database file');
    size = st.size;
  } catch (e) {
    if (e instanceof NasError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      if (readonly) throw ioError(path, 'no such file: nothing has run with this --db yet');
      return;
    }
    throw ioError(path, (e as Error).message);
  }
  if (size === 0) return;
  const header = Buffer.alloc(SQLITE_MAGIC.length);
  const fd = openSync(path, 'r');
  try {
    readSync(fd, header, 0, header.length, 0);
  } finally {
    closeSync(fd);
  }
  if (header.toString('latin1') !== SQLITE_MAGIC) {
    throw ioError(path, 'is not a SQLite database; refusing to use it (--db names the results file)');
  }
}

function sqliteCode(e: unknown): string | undefined {
  return e instanceof Database.SqliteError ? e.code : undefined;
}

/** Opens (creating and migrating if needed) the results database at path. */
export function openStore(path: string, opts: StoreOptions = {}): Store {
  const readonly = opts.readonly === true;
  const memory = path === ':memory:';
  if (!memory) checkExistingFile(path, readonly);

  let db: Database.Database;
  try {
    db = new Database(path, {
      readonly,
      fileMustExist: readonly,
      timeout: opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS,
    });
  } catch (e) {
    throw ioError(path, (e as Error).message);
  }

  let version: number;
  try {
    // Reads come first: a damaged or foreign file must fail here, before anything is written to it. One read
    // transaction, so that another process creating the schema meanwhile is seen entirely or not at all.
    const seen = db.transaction(() => ({
      version: userVersion(db),
      tables: (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n,
    }))();
    version = seen.version;
    if (version > SCHEMA_VERSION) {
      throw ioError(
        path,
        `was written by a newer nas (schema version ${version}; this nas knows up to ${SCHEMA_VERSION}): ` +
          'upgrade nas to use it',
      );
    }
    if (version === 0 && seen.tables > 0) {
      throw ioError(path, 'is a SQLite database but not a nas results store; refusing to use it');
    }
    if (readonly) {
      if (version < SCHEMA_VERSION) {
        throw ioError(
          path,
          version === 0
            ? 'is empty: nothing has run with this --db yet'
            : `has schema version ${version}, older than this nas's ${SCHEMA_VERSION}: ` +
              'any nas command that writes to it upgrades it',
        );
      }
    } else if (!memory) {
      db.pragma('journal_mode = WAL');
    }
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    if (!readonly) migrate(db);
    version = userVersion(db);
  } catch (e) {
    db.close();
    if (e instanceof NasError) throw e;
    const code = sqliteCode(e);
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw ioError(path, 'is not a SQLite database or is damaged; refusing to use it');
    }
    throw ioError(path, (e as Error).message);
  }

  const conn = createConn(db, opts.now ?? (() => new Date()));
  let closed = false;
  return {
    path,
    readonly,
    schemaVersion: version,
    ...runsApi(conn),
    ...epochsApi(conn),
    ...checkpointsApi(conn),
    ...candidatesApi(conn),
    ...strategyApi(conn),
    ...latencyApi(conn),
    ...netadaptApi(conn),
    transaction: (fn) => conn.write(fn),
    readSnapshot: (fn) => db.transaction(fn).deferred(),
    close() {
      if (closed) return;
      closed = true;
      db.close();
    },
  };
}
