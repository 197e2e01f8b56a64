// Whole networks timed side by side, so that NetAdapt's reported latencies are comparable with each other.
import type { BackendChoice } from '../backend/select.js';
import { openRunner } from '../latency/runner.js';
import { measureArchsInterleaved } from '../latency/validate.js';
import type { ArchSpec } from '../space/arch.js';
import { ensureBackend } from './finetune.js';

/**
 * Whole-network latency of `specs` on the node runner (wasm, one thread), timed together in interleaved rounds so
 * that a spell of load falls on all of them alike: the 10th percentile of `runs` runs, the lowest of two passes.
 * The training backend is selected again afterwards.
 */
export async function measureTogether(specs: readonly ArchSpec[], runs: number, backend: BackendChoice): Promise<number[]> {
  const runner = await openRunner('node', { backend: 'wasm', threads: 1 });
  try {
    return await measureArchsInterleaved(runner, specs, { statistic: 'p10', warmup: 5, runs: Math.max(runs, 20) });
  } finally {
    await runner.close();
    await ensureBackend(backend);
  }
}
