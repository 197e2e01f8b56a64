// `--workers N`: a Piscina pool of N worker threads (default one per core), each with its own evaluator instance and
// tfjs backend. A worker that dies (process.exit in the evaluator, out of memory) fails its task only: Piscina
// rejects that task and starts a replacement thread.
import { Piscina } from 'piscina';
import { failureReason } from '../worker.js';
import type { Engine, EvalOutcome, EvalTask, WorkerSetup } from './types.js';

const WORKER_URL = new URL('../worker.js', import.meta.url).href;

export interface PoolOptions {
  readonly workers: number;
  /** Heap limit per worker thread in MB (default Node's); a worker above it dies and fails its task. */
  readonly maxOldGenerationSizeMb?: number;
}

export function createPoolEngine(setup: WorkerSetup, opts: PoolOptions): Engine {
  const pool = new Piscina({
    filename: WORKER_URL,
    minThreads: opts.workers,
    maxThreads: opts.workers,
    concurrentTasksPerWorker: 1,
    // Workers stay for the whole search: the evaluator and its dataset are loaded once per thread.
    idleTimeout: 2 ** 31 - 1,
    ...(opts.maxOldGenerationSizeMb === undefined
      ? {}
      : { resourceLimits: { maxOldGenerationSizeMb: opts.maxOldGenerationSizeMb } }),
  });
  // A worker that dies between tasks is reported here rather than to a task; the pool replaces it.
  pool.on('error', () => {});
  return {
    kind: 'pool',
    concurrency: opts.workers,
    async run(task: EvalTask): Promise<EvalOutcome> {
      const t0 = performance.now();
      try {
        return (await pool.run({ setup, task })) as EvalOutcome;
      } catch (e) {
        return { ok: false, reason: `worker crashed: ${failureReason(e)}`, seconds: (performance.now() - t0) / 1000 };
      }
    },
    async close() {
      await pool.destroy();
    },
  };
}
