// `--workers N`: a Piscina pool of N worker threads (default one per core), each with its own evaluator instance and
// tfjs backend. A worker that dies (process.exit in the evaluator, out of memory) fails its task only: Piscina
// rejects that task and starts a replacement thread. A worker whose wasm heap is spent ends itself after its task
// (search/worker.ts), its outcome kept, so that the next candidate starts on a fresh heap. An evaluation past its
// time limit is aborted: Piscina terminates the thread running it (which ends a never-settling promise and a busy
// loop alike; a call blocked inside a native addon ends only when it returns) and starts another.
import { MessageChannel, type MessagePort, receiveMessageOnPort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { failureReason, type GateSlot, type PoolMessage } from '../worker.js';
import { createGate, slotFreed, timesHere } from './measureGate.js';
import { after } from './timer.js';
import { type Engine, type EvalOutcome, type EvalTask, type EvalTimeout, timedOut, type WorkerSetup } from './types.js';

const WORKER_URL = new URL('../worker.js', import.meta.url).href;

export interface PoolOptions {
  readonly workers: number;
  /** Heap limit per worker thread in MB (default Node's); a worker above it dies and fails its task. */
  readonly maxOldGenerationSizeMb?: number;
  /** Seconds per evaluation (default: no limit). */
  readonly evalTimeoutSeconds?: EvalTimeout;
  /** Threads of the native kernels in each worker thread (default 1). */
  readonly threads?: number;
}

/**
 * Calls expire once the task has run `seconds` in its worker. The clock starts when the worker stamps `started`, not
 * when the task is handed over: a replacement thread takes seconds to start on a busy machine, and counting that
 * would time out the healthy task waiting for it (and, with a short limit, every task after a timeout). Until the
 * stamp, the watch looks again every `seconds`.
 */
function watch(started: BigInt64Array, seconds: number, expire: () => void): () => void {
  const limitMs = seconds * 1000;
  const check = (): void => {
    const at = Number(Atomics.load(started, 0));
    const left = at === 0 ? limitMs : at + limitMs - Date.now();
    if (at !== 0 && left <= 0) return expire();
    cancel = after(left, check);
  };
  let cancel = after(limitMs, check);
  return () => cancel();
}

/** An outcome as runTask makes it (its metrics checked there by checkMetrics). */
function isOutcome(v: unknown): v is EvalOutcome {
  if (v === null || typeof v !== 'object' || !('ok' in v) || !('seconds' in v) || typeof v.seconds !== 'number') return false;
  if (v.ok === false) return 'reason' in v && typeof v.reason === 'string';
  return v.ok === true && 'metrics' in v && v.metrics !== null && typeof v.metrics === 'object';
}

/** The outcome a worker posted before it ended itself (search/worker.ts: its wasm heap spent), or null. */
function retiredOutcome(port: MessagePort): EvalOutcome | null {
  const posted: unknown = receiveMessageOnPort(port)?.message;
  return isOutcome(posted) ? posted : null;
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
  const limit = opts.evalTimeoutSeconds ?? null;
  const gate = timesHere(setup.latency) ? createGate(opts.workers) : null;
  const free = Array.from({ length: opts.workers }, (_, i) => i);
  return {
    kind: 'pool',
    concurrency: opts.workers,
    async run(task: EvalTask): Promise<EvalOutcome> {
      const t0 = performance.now();
      const abort = new AbortController();
      const started = new BigInt64Array(new SharedArrayBuffer(8));
      const stop = limit === null ? () => {} : watch(started, limit, () => abort.abort());
      const { port1, port2 } = new MessageChannel();
      const slot = gate === null ? undefined : free.shift();
      const gated: GateSlot | undefined = gate === null || slot === undefined ? undefined : { gate, slot };
      try {
        const msg: PoolMessage = { setup, task, started, retire: port2, ...(opts.threads === undefined ? {} : { threads: opts.threads }), ...(gated ? { gate: gated } : {}) };
        return (await pool.run(msg, { signal: abort.signal, transferList: [port2] })) as EvalOutcome;
      } catch (e) {
        if (abort.signal.aborted && limit !== null) return timedOut(limit, t0);
        return retiredOutcome(port1) ?? { ok: false, reason: `worker crashed: ${failureReason(e)}`, seconds: (performance.now() - t0) / 1000 };
      } finally {
        stop();
        port1.close();
        if (gate !== null && slot !== undefined) {
          slotFreed(gate, slot);
          free.push(slot);
        }
      }
    },
    async close() {
      await pool.destroy();
    },
  };
}
