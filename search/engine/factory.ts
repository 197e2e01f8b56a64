// The one way a command gets an engine: `--workers N` (0: in process, N: a Piscina pool), `--gpus 0,1` (one process
// per GPU) or `--queue URL` (BullMQ jobs on Redis for `nas worker` processes), checked and built here for every caller
// (nas search, nas netadapt), so that an option means the same everywhere.
import { setNativeThreadsIfLoaded } from '../../backend/native.js';
import { availableCores, checkThreads, threadsPerWorker } from '../../backend/threads.js';
import { UsageError } from '../../common/errors.js';
import { createInProcessEngine } from './inProcess.js';
import { checkWorkers } from './limits.js';
import { createPoolEngine } from './pool.js';
import { createProcessesEngine } from './processes.js';
import { parseQueueUrl } from './queue/connection.js';
import { createQueueEngine } from './queue/coordinator.js';
import type { Engine, EvalTimeout, WorkerSetup } from './types.js';

export interface EngineOptions {
  /** 0: in process; N: a Piscina pool of N threads. Ignored when gpus is given. */
  readonly workers: number;
  /** One child process per GPU id. */
  readonly gpus?: readonly string[];
  /** Seconds an evaluation may take before it fails as timed out; default: derived from the evaluator's settings. */
  readonly evalTimeoutSeconds?: number;
  /** A Redis URL: evaluations are BullMQ jobs that `nas worker` processes take. */
  readonly queue?: string;
  /** Threads of the native kernels per worker thread (in process: this thread's); default: as they are (1). */
  readonly threads?: number;
}

/** What a queue engine needs to name its jobs: the run they belong to and its evaluation key. */
export interface EngineScope {
  readonly runId: string;
  readonly evalKey: string;
  /**
   * A job found ended without a result (failed in the queue, or an evaluation's failure) when its task is enqueued
   * again is run again (NetAdapt: a resumed run fine-tunes a failed proposal again, as it does in process); by
   * default its failure is the result (the search's).
   */
  readonly rerunFailed?: boolean;
}

/** The engine the options name; `evalTimeoutSeconds` is the limit resolved by the caller (null: none). */
export function createEngine(setup: WorkerSetup, opts: EngineOptions, evalTimeoutSeconds: EvalTimeout, scope?: EngineScope): Engine {
  if (opts.queue !== undefined) {
    if (scope === undefined) throw new UsageError('--queue is not supported by this command yet; drop it to run the evaluations here');
    return createQueueEngine(setup, { url: opts.queue, ...scope, evalTimeoutSeconds });
  }
  if (opts.gpus !== undefined && opts.gpus.length > 0) return createProcessesEngine(setup, { gpus: opts.gpus, evalTimeoutSeconds });
  if (opts.workers === 0) {
    if (opts.threads !== undefined) setNativeThreadsIfLoaded(opts.threads);
    return createInProcessEngine(setup, { evalTimeoutSeconds });
  }
  return createPoolEngine(setup, { workers: opts.workers, evalTimeoutSeconds, ...(opts.threads === undefined ? {} : { threads: opts.threads }) });
}

/** `--gpus 0,1`: distinct GPU ids (CUDA_VISIBLE_DEVICES values), or a one-line UsageError. */
export function parseGpus(text: string): string[] {
  const ids = text.split(',').map((s) => s.trim());
  if (ids.length === 0 || ids.some((id) => !/^\d+$/.test(id)) || new Set(ids).size !== ids.length) {
    throw new UsageError(`--gpus ${text}: expected distinct GPU ids separated by commas, e.g. 0,1`);
  }
  return ids;
}

/** The options as a user gave them (undefined: not given). */
export interface GivenEngineOptions {
  readonly workers?: number | undefined;
  readonly gpus?: string | undefined;
  readonly queue?: string | undefined;
  /** --threads: native kernel threads per worker. */
  readonly threads?: number | undefined;
}

/**
 * `--workers`, `--gpus` and `--queue` checked (an integer within the machine's cap; GPU ids; a Redis URL; one of them)
 * into EngineOptions, with `defaultWorkers` when none is given; `--threads` (with --workers) checked, by default the
 * cores shared among the workers (workers x threads <= cores; in process: every core).
 */
export function engineOptionsFrom(given: GivenEngineOptions, defaultWorkers: number): EngineOptions {
  if (given.queue !== undefined) {
    if (given.workers !== undefined || given.gpus !== undefined) {
      throw new UsageError('--queue sends the evaluations to `nas worker` processes: give --workers or --gpus to `nas worker`, not with --queue');
    }
    if (given.threads !== undefined) throw new UsageError('--queue sends the evaluations to `nas worker` processes: drop --threads here');
    return { workers: 0, queue: parseQueueUrl(given.queue) };
  }
  const workers = given.workers;
  if (workers !== undefined) {
    if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers must be an integer >= 0, got ${workers}`);
    checkWorkers(workers);
  }
  if (given.gpus === undefined) {
    const w = workers ?? defaultWorkers;
    return { workers: w, threads: given.threads === undefined ? threadsPerWorker(w) : checkThreads(given.threads) };
  }
  if (given.threads !== undefined) throw new UsageError('--threads sets the threads of --workers; GPU processes compute on their GPU: drop --threads');
  if (workers !== undefined) throw new UsageError('give either --workers or --gpus (one process per GPU), not both');
  return { workers: 0, gpus: parseGpus(given.gpus) };
}

/** The split of the cores an engine computes with, for the user: e.g. "2 workers x 1 thread on 2 cores". */
export function describeSplit(opts: EngineOptions, cores = availableCores()): string | null {
  if (opts.threads === undefined) return null;
  const t = `${opts.threads} thread${opts.threads === 1 ? '' : 's'}`;
  const split = opts.workers === 0 ? `in process, ${t}` : `${opts.workers} worker${opts.workers === 1 ? '' : 's'} x ${t}`;
  return `${split} on ${cores} cores${opts.threads * Math.max(1, opts.workers) > cores ? ' (more threads than cores: they take turns)' : ''}`;
}
