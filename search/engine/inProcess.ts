// `--workers 0`: evaluations run one at a time in the search process itself (tests, debugging with a plain stack).
// An evaluator that calls process.exit ends the search here; use a pool to be protected from that.
// Nothing can stop a running evaluation in this thread: past its time limit the engine stops waiting for it, fails
// it and starts the next one, while the abandoned call runs on (or stays pending) in the background. An evaluator
// that blocks the event loop (a busy loop, a long synchronous call) cannot be interrupted at all: use a pool.
import { runTask } from '../worker.js';
import { after } from './timer.js';
import { type Engine, type EvalOutcome, type EvalTask, type EvalTimeout, timedOut, type WorkerSetup } from './types.js';

export interface InProcessOptions {
  /** Seconds per evaluation (default: no limit). */
  readonly evalTimeoutSeconds?: EvalTimeout;
}

const CLOSED: EvalOutcome = { ok: false, reason: 'engine closed', seconds: 0 };

export function createInProcessEngine(setup: WorkerSetup, opts: InProcessOptions = {}): Engine {
  const limit = opts.evalTimeoutSeconds ?? null;
  // One at a time: evaluations share this thread's tfjs backend and memory.
  let chain: Promise<unknown> = Promise.resolve();
  let closed = false;
  // Settles the evaluation in progress: close() uses it to stop waiting.
  let current: ((o: EvalOutcome) => void) | null = null;

  const evaluateOne = (task: EvalTask): Promise<EvalOutcome> =>
    new Promise<EvalOutcome>((resolve) => {
      if (closed) return resolve(CLOSED);
      const t0 = performance.now();
      // A timer keeps the process alive while an evaluation is pending, with or without a limit: a promise that never
      // settles holds nothing open, and Node would exit (code 13, unsettled top-level await) in the middle of the run.
      const stop =
        limit === null ? after(Number.POSITIVE_INFINITY, () => {}) : after(limit * 1000, () => finish(timedOut(limit, t0)));
      let settled = false;
      const finish = (o: EvalOutcome): void => {
        if (settled) return;
        settled = true;
        stop();
        if (current === finish) current = null;
        resolve(o);
      };
      current = finish;
      void runTask(setup, task).then(finish);
    });

  return {
    kind: 'in-process',
    concurrency: 1,
    run(task: EvalTask): Promise<EvalOutcome> {
      const next = chain.then(() => evaluateOne(task));
      chain = next;
      return next;
    },
    async close() {
      closed = true;
      current?.(CLOSED);
      await chain;
    },
  };
}
