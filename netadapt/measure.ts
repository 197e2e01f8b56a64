// Whole networks timed on the node runner (wasm, one thread): side by side at the end of a run, and lent to the
// paired latency source (latency/paired.ts) for each judgement during it.
import { type BackendChoice, useBackend } from '../backend/select.js';
import type { WithRunner } from '../latency/paired.js';
import { openRunner } from '../latency/runner.js';
import { measureArchsInterleaved } from '../latency/validate.js';
import type { ArchSpec } from '../space/arch.js';

/**
 * The node runner (wasm, one thread) for the time of `fn`; the training backend is selected again afterwards
 * (unconditionally: opening the runner switched the process's backend, whatever was chosen before).
 */
export function nodeRunnerFor(backend: BackendChoice): WithRunner {
  return async (fn) => {
    const runner = await openRunner('node', { backend: 'wasm', threads: 1 });
    try {
      return await fn(runner);
    } finally {
      await runner.close();
      await useBackend(backend);
    }
  };
}

/**
 * Whole-network latency of `specs`, timed together in interleaved rounds so that a spell of load falls on all of
 * them alike: the 10th percentile of `runs` runs, the lowest of two passes.
 */
export async function measureTogether(specs: readonly ArchSpec[], runs: number, backend: BackendChoice): Promise<number[]> {
  return nodeRunnerFor(backend)((runner) => measureArchsInterleaved(runner, specs, { statistic: 'p10', warmup: 5, runs: Math.max(runs, 20) }));
}
