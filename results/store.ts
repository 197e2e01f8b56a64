// The results store: one SQLite file per project, shared by concurrent processes and worker threads (WAL mode, a
// busy timeout), with a versioned schema (migrations.ts). Open one Store per thread and close it in a finally.
import { accessSync, constants, statSync } from 'node:fs';
import Database from 'better-sqlite3';
import { environmentError, NasError } from '../common/errors.js';
import { type CandidatesApi, candidatesApi } from './candidates.js';
import { type CheckpointsApi, checkpointsApi } from './checkpoints.js';
import { createConn } from './conn.js';
import { type EpochsApi, epochsApi } from './epochs.js';
import { type LatencyApi, latencyApi } from './latency.js';
import { migrate, SCHEMA_VERSION, userVersion } from './migrations.js';
import { type NetadaptApi, netadaptApi } from './netadapt.js';
import { inMemoryCopy, openForReading } from './readOnly.js';
import { type RunsApi, runsApi } from './runs.js';
import { type StrategyApi, strategyApi } from './strategy.js';

export const DEFAULT_DB_PATH = './nas.db';

/** How long a write waits for another connection's write lock before failing with SQLITE_BUSY. */
export const DEFAULT_BUSY_TIMEOUT_MS = 15_000;

export interface StoreOptions {
  /**
   * Open without writing anything, even where the file or its directory is read-only: the file must exist; one with
   * an older schema is read upgraded in memory and left as it is.
   */
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

function ioError(path: string, why: string): NasError {
  return new NasError('E_IO', `results database ${path}: ${why}`);
}

/**
 * Whether SQLite reads the file as a database. Asked through SQLite itself, never through a file descriptor of ours:
 * closing any other descriptor of a file drops every POSIX lock this process holds on it (SQLite's "How To Corrupt
 * An SQLite Database File", 2.2), so a store already open in this process would lose its locks, and another process
 * closing its connection would take itself for the last one and delete the -wal in use (seen: `nas bench pipeline`
 * died with "disk I/O error"). SQLite keeps its own descriptors open while a connection of this process holds locks.
 */
function isDatabase(path: string): boolean {
  try {
    accessSync(path, constants.R_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw ioError(path, code === 'EACCES' ? 'permission denied: this user cannot read it' : (e as Error).message);
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(path, { readonly: true, fileMustExist: true });
    db.pragma('schema_version', { simple: true });
    return true;
  } catch (e) {
    // Anything but "not a database" (side files that cannot be made, a lock) is for the real open to report.
    return !(e instanceof Database.SqliteError && e.code === 'SQLITE_NOTADB');
  } finally {
    db?.close();
  }
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
  if (!isDatabase(path)) {
    throw ioError(path, 'is not a SQLite database; refusing to use it (--db names the results file)');
  }
}

function sqliteCode(e: unknown): string | undefined {
  return e instanceof Database.SqliteError ? e.code : undefined;
}

interface Opened {
  readonly db: Database.Database;
  /** The file's user_version once opened (a read-only open leaves an older one as it is). */
  readonly version: number;
}

interface Seen {
  readonly version: number;
  readonly tables: number;
}

/** What the file holds, read in one transaction: another process creating the schema is seen entirely or not at all. */
function inspect(db: Database.Database): Seen {
  return db.transaction(() => ({
    version: userVersion(db),
    tables: (db.prepare('SELECT count(*) AS n FROM sqlite_schema').get() as { n: number }).n,
  }))();
}

/** Refuses a file written by a newer nas or by another program, before anything is written to it. */
function checkSchema(path: string, seen: Seen): void {
  if (seen.version > SCHEMA_VERSION) {
    throw ioError(
      path,
      `was written by a newer nas (schema version ${seen.version}; this nas knows up to ${SCHEMA_VERSION}): ` +
        'upgrade nas to use it',
    );
  }
  if (seen.version === 0 && seen.tables > 0) {
    throw ioError(path, 'is a SQLite database but not a nas results store; refusing to use it');
  }
}

/** Opens, creating and migrating if needed, in WAL mode. */
function openWritable(path: string, timeoutMs: number): Opened {
  const db = new Database(path, { timeout: timeoutMs });
  return settle(path, db, () => {
    if (path !== ':memory:') db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return { db, version: userVersion(db) };
  });
}

/**
 * Opens for reading only, writing nothing (readOnly.ts: even where the file or its directory is read-only). A file
 * with an older schema is read through an in-memory copy upgraded by the migrations; the file stays as it is.
 */
function openReadonly(path: string, timeoutMs: number): Opened {
  const db = openForReading(path, timeoutMs);
  return settle(path, db, (seen) => {
    if (seen.version === 0) throw ioError(path, 'is empty: nothing has run with this --db yet');
    const read = seen.version < SCHEMA_VERSION && !db.memory ? inMemoryCopy(db) : db;
    if (read !== db) db.close();
    try {
      read.pragma('foreign_keys = ON');
      if (read.memory) {
        // A private copy: upgraded if older, then read-only like the file, so that no write vanishes silently.
        migrate(read);
        read.pragma('query_only = ON');
      }
    } catch (e) {
      if (read !== db) read.close();
      throw e;
    }
    return { db: read, version: seen.version };
  });
}

/** Checks the schema of a just-opened db and finishes opening it with then; closes it and explains any failure. */
function settle(path: string, db: Database.Database, then: (seen: Seen) => Opened): Opened {
  try {
    const seen = inspect(db);
    checkSchema(path, seen);
    return then(seen);
  } catch (e) {
    if (db.open) db.close();
    throw openError(path, e);
  }
}

function openError(path: string, e: unknown): NasError {
  if (e instanceof NasError) return e;
  // A lock held past the busy timeout (the migration or WAL switch needs the write lock) or a full disk: the same
  // one line as anywhere else, not the bare SQLite message.
  const env = environmentError(e);
  if (env !== null) return env;
  const code = sqliteCode(e);
  if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
    return ioError(path, 'is not a SQLite database or is damaged; refusing to use it');
  }
  return ioError(path, (e as Error).message);
}

/** Opens (creating and migrating if needed) the results database at path. */
export function openStore(path: string, opts: StoreOptions = {}): Store {
  const readonly = opts.readonly === true;
  if (path !== ':memory:') checkExistingFile(path, readonly);
  const timeoutMs = opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS;
  let opened: Opened;
  try {
    opened = readonly ? openReadonly(path, timeoutMs) : openWritable(path, timeoutMs);
  } catch (e) {
    throw openError(path, e);
  }
  const { db, version } = opened;
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
