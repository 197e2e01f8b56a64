// The one way a command gets an engine: `--workers N` (0: in process, N: a Piscina pool) or `--gpus 0,1` (one process
// per GPU), checked and built here for every caller (nas search, nas netadapt), so that an option means the same
// everywhere and a new engine (a remote queue) is added once.
import { UsageError } from '../../common/errors.js';
import { createInProcessEngine } from './inProcess.js';
import { checkWorkers } from './limits.js';
import { createPoolEngine } from './pool.js';
import { createProcessesEngine } from './processes.js';
import type { Engine, EvalTimeout, WorkerSetup } from './types.js';

export interface EngineOptions {
  /** 0: in process; N: a Piscina pool of N threads. Ignored when gpus is given. */
  readonly workers: number;
  /** One child process per GPU id. */
  readonly gpus?: readonly string[];
  /** Seconds an evaluation may take before it fails as timed out; default: derived from the evaluator's settings. */
  readonly evalTimeoutSeconds?: number;
}

/** The engine the options name; `evalTimeoutSeconds` is the limit resolved by the caller (null: none). */
export function createEngine(setup: WorkerSetup, opts: EngineOptions, evalTimeoutSeconds: EvalTimeout): Engine {
  if (opts.gpus !== undefined && opts.gpus.length > 0) return createProcessesEngine(setup, { gpus: opts.gpus, evalTimeoutSeconds });
  if (opts.workers === 0) return createInProcessEngine(setup, { evalTimeoutSeconds });
  return createPoolEngine(setup, { workers: opts.workers, evalTimeoutSeconds });
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
}

/**
 * `--workers` and `--gpus` checked (an integer within the machine's cap; GPU ids; not both) into EngineOptions, with
 * `defaultWorkers` when neither is given.
 */
export function engineOptionsFrom(given: GivenEngineOptions, defaultWorkers: number): EngineOptions {
  const workers = given.workers;
  if (workers !== undefined) {
    if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers must be an integer >= 0, got ${workers}`);
    checkWorkers(workers);
  }
  if (given.gpus === undefined) return { workers: workers ?? defaultWorkers };
  if (workers !== undefined) throw new UsageError('give either --workers or --gpus (one process per GPU), not both');
  return { workers: 0, gpus: parseGpus(given.gpus) };
}
