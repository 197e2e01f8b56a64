// Typed errors. Anything that is the user's fault (bad name, malformed string or JSON, out-of-range option) is a
// NasError with a code; the CLI prints its one-line message and exits with its exit code (2 for bad input).

export const errorCodes = [
  'E_USAGE', // a command-line option is missing, unknown or out of range
  'E_ARCH', // an architecture name, block string or spec is invalid
  'E_BACKEND', // a requested backend cannot be loaded
  'E_NATIVE', // the native kernel addon is missing or broken
  'E_IO', // a file cannot be read or written
  'E_DIVERGED', // training diverged (NaN or infinite loss)
  'E_MEMORY', // a backend ran out of memory (the wasm backend's 4 GiB heap)
  'E_FAILED', // a run stopped because too many of its evaluations failed (the failure budget)
  'E_LEASE', // this process lost its run to another one (a --resume took it over): it stopped without writing
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/** Whether `v` names an error code (one sent from a worker thread, say). */
export function isErrorCode(v: unknown): v is ErrorCode {
  return errorCodes.some((c) => c === v);
}

export class NasError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: number;

  constructor(code: ErrorCode, message: string, exitCode = 2) {
    super(message);
    this.name = 'NasError';
    this.code = code;
    this.exitCode = exitCode;
  }
}

export class UsageError extends NasError {
  constructor(message: string) {
    super('E_USAGE', message, 2);
    this.name = 'UsageError';
  }
}

export class ArchError extends NasError {
  constructor(message: string) {
    super('E_ARCH', message, 2);
    this.name = 'ArchError';
  }
}

/** Codes of a full disk or quota: SQLite's (better-sqlite3's SqliteError.code) and the system's (errno names). */
const DISK_FULL = new Set(['SQLITE_FULL', 'ENOSPC', 'EDQUOT']);

/**
 * The user-facing form of an error the environment caused (a full disk), or null. Writes are atomic (SQLite
 * transactions, checkpoints renamed into place), so what was written before is kept and a run can be resumed.
 */
export function environmentError(e: unknown): NasError | null {
  if (!(e instanceof Error)) return null;
  const code = (e as Error & { code?: unknown }).code;
  if (code === 'SQLITE_BUSY') return busyDatabase();
  if (typeof code !== 'string' || !DISK_FULL.has(code)) return null;
  const path = (e as Error & { path?: unknown }).path;
  const what = typeof path === 'string' ? path : code.startsWith('SQLITE') ? 'the results database' : 'a file';
  return new NasError(
    'E_IO',
    `the disk is full: could not write ${what} (${code}); free some space, then continue with --resume (everything written before is kept)`,
  );
}

/**
 * SQLite's write lock stayed taken past the busy timeout: another process holds it inside a write transaction. A
 * process that is stopped (Ctrl-Z, kill -STOP) keeps the lock until it continues or ends; no takeover can break it.
 */
function busyDatabase(): NasError {
  return new NasError(
    'E_IO',
    'the results database stayed locked by another process (one stopped with Ctrl-Z or kill -STOP keeps its write lock); continue (kill -CONT) or end that process, then try again',
  );
}
