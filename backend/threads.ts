// How many threads the native kernels compute with (`--threads`): the checks of a requested count and the defaults.
// Training, eval and predict use every core by default; latency measurement one thread (its figures stand for one
// phone core); a search or NetAdapt run splits the cores between its workers (workers x threads <= cores).
import { availableParallelism } from 'node:os';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';

/** The most threads the native pool starts (backend/native/src/threads.h kMaxThreads). */
export const maxThreads = 256;

/** The cores this process may run on. */
export function availableCores(): number {
  return availableParallelism();
}

/** A --threads value: a positive integer up to maxThreads, or a one-line UsageError saying what to pass. */
export function checkThreads(value: unknown, option = '--threads'): number {
  checkInteger(option, value, 1, `threads of the native kernels, at most ${maxThreads}`);
  if (value === undefined) throw new UsageError(`${option} needs a value: a thread count from 1 to ${maxThreads}`);
  if (value > maxThreads) throw new UsageError(`${option} must be at most ${maxThreads}, got ${value}`);
  return value;
}

/** The one-line warning when more threads than cores are asked for (allowed: they share the cores), else null. */
export function oversubscribed(threads: number, workers = 1, cores = availableCores()): string | null {
  if (threads * workers <= cores) return null;
  const what = workers > 1 ? `${workers} workers x ${threads} threads` : `${threads} threads`;
  return `warning: ${what} on ${cores} cores: the threads will take turns on the cores, which is slower than ${cores}`;
}

/** Threads per worker when the user gave none: the cores shared out, at least one each. */
export function threadsPerWorker(workers: number, cores = availableCores()): number {
  return Math.max(1, Math.floor(cores / Math.max(1, workers)));
}
