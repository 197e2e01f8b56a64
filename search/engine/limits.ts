// How many evaluation workers this machine can run: the cap on `--workers` of `nas search` and `nas netadapt` (both
// run their evaluations on these engines). Above it, threads only compete for cores and memory, and a thousand of
// them ran the process out of memory (a V8 fatal error that left the run 'running').
//
// Measured (Node 20, tfjs 4.22, wasm backend; a Piscina pool running the proxy evaluator at its defaults, MNIST at
// 16 px, 8,192 images, one candidate per worker): the process's peak RSS was 393 MB with 1 worker and 991 MB with 3,
// from 51 MB with none: about 340 MB for the first worker and 300 MB for each further one. A worker that loads only
// a light evaluator (the synthetic one) costs about 11 MB. The cap is the smaller of:
//  - WORKERS_PER_CORE per core (os.availableParallelism()): an evaluation keeps a core busy (the wasm backend runs one
//    thread per worker), so more workers than cores only share them; the margin is for evaluators that mostly wait
//    (on a remote service, say), while keeping the number of threads bounded;
//  - the workers that fit in MEMORY_SHARE of the machine's memory at WORKER_MEMORY_MB each (the proxy evaluator's,
//    rounded up). os.totalmem(), not freemem(): the cap should not change from one command to the next with what
//    other programs and the page cache happen to hold.
import { availableParallelism, totalmem } from 'node:os';
import { UsageError } from '../../common/errors.js';

export const WORKERS_PER_CORE = 4;
export const WORKER_MEMORY_MB = 350;
export const MEMORY_SHARE = 0.75;

export interface WorkerCap {
  readonly max: number;
  /** Why, for the error message: both bounds with their inputs. */
  readonly why: string;
}

/** The most workers this machine (cores, memory in bytes) can run; at least 1. */
export function maxWorkers(cores = availableParallelism(), memoryBytes = totalmem()): WorkerCap {
  const byCores = WORKERS_PER_CORE * cores;
  const memoryMb = memoryBytes / 2 ** 20;
  const byMemory = Math.floor((MEMORY_SHARE * memoryMb) / WORKER_MEMORY_MB);
  const gb = (memoryMb / 1024).toFixed(1);
  return {
    max: Math.max(1, Math.min(byCores, byMemory)),
    why: `${WORKERS_PER_CORE} per core on ${cores} cores, and about ${WORKER_MEMORY_MB} MB each in ${Math.round(MEMORY_SHARE * 100)}% of ${gb} GB of memory`,
  };
}

/** Throws a one-line UsageError when `--workers` is above the machine's cap (0, in process, is always allowed). */
export function checkWorkers(workers: number, cap: WorkerCap = maxWorkers()): void {
  if (workers <= cap.max) return;
  throw new UsageError(`--workers ${workers}: at most ${cap.max} on this machine (${cap.why})`);
}
