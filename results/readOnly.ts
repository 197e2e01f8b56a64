// Opening a results database to read it, without writing anything, wherever it lies: a shared file, a read-only
// directory, a mounted archive. Internal to results/.
//
// Why `readonly: true` alone is not enough: even a reader of a WAL-mode database needs its -wal and -shm (the
// wal-index) beside it, and SQLite creates them when they are missing, which fails in a directory the reader cannot
// write (SQLITE_READONLY_DIRECTORY, reported as "attempt to write a readonly database"); a -wal without its -shm
// cannot be read there either (SQLITE_CANTOPEN). SQLite's documentation (wal.html, "Read-Only Databases") names the
// ways out: the files exist, or can be created, or the database is `immutable=1`. Immutable does not help: it turns
// off locking and shared memory, and SQLite then refuses a WAL-mode file outright (checked: SQLITE_CANTOPEN).
// Exclusive locking mode, which keeps the wal-index in heap memory, needs a write lock that a read-only file cannot
// take (SQLITE_IOERR_LOCK). So when the side files cannot be made in place, the database and its -wal are copied
// into a private temporary directory, where SQLite makes the -shm and replays the -wal, and read from an in-memory
// snapshot of that copy. The copy races no writer: a process with the database open in WAL mode keeps its -shm
// there, and with an -shm present the in-place open works.
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import Database from 'better-sqlite3';

/** What SQLite says when it cannot open or create the -wal or -shm of a database it opened read-only. */
const NO_SIDE_FILES = new Set([
  'SQLITE_READONLY_DIRECTORY',
  'SQLITE_READONLY_CANTINIT',
  'SQLITE_READONLY_RECOVERY',
  'SQLITE_CANTOPEN',
]);

/** The file's header says WAL mode (byte 19, the read version, is 2). */
function inWalMode(path: string): boolean {
  const header = Buffer.alloc(20);
  const fd = openSync(path, 'r');
  try {
    return readSync(fd, header, 0, header.length, 0) === header.length && header[19] === 2;
  } finally {
    closeSync(fd);
  }
}

/**
 * SQLite could not make the side files of a WAL-mode database. Only then is a copy of the files right: a rollback
 * journal (another mode's side file) would have to be replayed, not left behind.
 */
function cannotMakeSideFiles(path: string, e: unknown): boolean {
  return e instanceof Database.SqliteError && NO_SIDE_FILES.has(e.code) && inWalMode(path);
}

/**
 * A private, writable in-memory copy of db's committed content (its -wal included): migrations can run on it while
 * the file stays as it is.
 */
export function inMemoryCopy(db: Database.Database): Database.Database {
  const bytes = db.serialize();
  // An in-memory database cannot be in WAL mode: the sqlite3_deserialize documentation advises setting bytes 18 and
  // 19 of the header (the file format write and read versions, 2 for WAL) to 1, the rollback journal. Same pages.
  bytes[18] = 1;
  bytes[19] = 1;
  return new Database(bytes);
}

/** Copies the database at path and its -wal into a new temporary directory; returns the copy's path. */
function copyFiles(path: string): string {
  const tmp = mkdtempSync(join(tmpdir(), 'nas-read-'));
  const copy = join(tmp, 'nas.db');
  try {
    // The -wal first: a checkpoint that starts meanwhile only writes pages into the database that it holds.
    if (existsSync(`${path}-wal`)) {
      copyFileSync(`${path}-wal`, `${copy}-wal`);
      chmodSync(`${copy}-wal`, 0o600); // the source's mode came along: SQLite opens the -wal to replay it
    }
    copyFileSync(path, copy);
    chmodSync(copy, 0o600); // and SQLite gives the -shm it creates the database's mode
    return copy;
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

/** An in-memory copy of the database at path, read through a private copy of its files (see the top of this file). */
function copyThenRead(path: string): Database.Database {
  let copy: string;
  try {
    copy = copyFiles(path);
  } catch (e) {
    const why = (e as Error).message;
    throw new Error(`SQLite cannot make its -shm beside it, and a private copy to read failed: ${why}`);
  }
  try {
    const db = new Database(copy, { readonly: true, fileMustExist: true });
    try {
      return inMemoryCopy(db);
    } finally {
      db.close();
    }
  } finally {
    rmSync(dirname(copy), { recursive: true, force: true });
  }
}

/**
 * Opens the existing database at path for reading: in place, read-only, so that reads see what concurrent writers
 * commit; or, when SQLite cannot make its WAL side files there, as an in-memory copy (its `memory` is true).
 */
export function openForReading(path: string, timeoutMs: number): Database.Database {
  const db = new Database(path, { readonly: true, fileMustExist: true, timeout: timeoutMs });
  try {
    db.pragma('user_version'); // the first read opens the -wal and -shm
    return db;
  } catch (e) {
    db.close();
    if (!cannotMakeSideFiles(path, e)) throw e;
  }
  return copyThenRead(path);
}
