// Options shared by the commands: backend, JSON output, the results database, and --force for output files.
import { existsSync } from 'node:fs';
import type { Options } from 'yargs';
import { backendChoices } from '../backend/choices.js';
import { availableCores, checkThreads, oversubscribed } from '../backend/threads.js';
import type { ReadPath } from '../common/outputPath.js';
import { DEFAULT_DB_PATH } from '../results/store.js';

export const backendOption = {
  choices: backendChoices,
  default: 'auto',
  describe: 'compute backend: auto = tensorflow if @tensorflow/tfjs-node(-gpu) loads, else wasm',
} as const satisfies Options;

export const jsonOption = { type: 'boolean', default: false, describe: 'print the result as JSON' } as const satisfies Options;

export const dbOption = {
  type: 'string',
  default: DEFAULT_DB_PATH,
  describe: 'the results database file',
} as const satisfies Options;

export const forceOption = {
  type: 'boolean',
  default: false,
  describe: 'replace an existing output file (never the database or another input)',
} as const satisfies Options;

/** The results database's files (SQLite keeps -wal, -shm and -journal beside it): no output may be written over them. */
export function databaseReads(db: string): ReadPath[] {
  return [
    { what: 'the results database', path: db },
    ...['wal', 'shm', 'journal'].map((s) => ({ what: `the results database's -${s} file`, path: `${db}-${s}` })),
  ];
}

/** Those of `paths` that exist (arguments that may be a file or not, e.g. --arch), as inputs no output may replace. */
export function existingReads(what: string, paths: readonly (string | undefined)[]): ReadPath[] {
  return paths.filter((p): p is string => p !== undefined && p !== '' && existsSync(p)).map((path) => ({ what, path }));
}

export const threadsOption = {
  type: 'number',
  describe: `threads the native kernels compute with (wasm backend; default: every core, ${availableCores()} here)`,
} as const satisfies Options;

/**
 * The thread count of a command that computes: --threads checked (a one-line error when not 1..256), or every core;
 * more threads than cores is allowed (they share the cores) with a warning on stderr.
 */
export function threadsFrom(value: number | undefined, option = '--threads'): number {
  const threads = value === undefined ? availableCores() : checkThreads(value, option);
  const warning = oversubscribed(threads);
  if (warning !== null) process.stderr.write(`${warning}\n`);
  return threads;
}
