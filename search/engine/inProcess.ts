// `--workers 0`: evaluations run one at a time in the search process itself (tests, debugging with a plain stack).
// An evaluator that calls process.exit ends the search here; use a pool to be protected from that.
import { runTask } from '../worker.js';
import type { Engine, EvalOutcome, EvalTask, WorkerSetup } from './types.js';

export function createInProcessEngine(setup: WorkerSetup): Engine {
  // One at a time: evaluations share this thread's tfjs backend and memory.
  let chain: Promise<unknown> = Promise.resolve();
  return {
    kind: 'in-process',
    concurrency: 1,
    run(task: EvalTask): Promise<EvalOutcome> {
      const next = chain.then(() => runTask(setup, task));
      chain = next;
      return next;
    },
    async close() {
      await chain;
    },
  };
}
