// Whole networks timed on the run's runner (`--runner`; by default node, wasm, one thread): side by side at the end
// of a run, and lent to the paired latency source (latency/paired.ts) for each judgement during it.
import { type BackendChoice, useBackend } from '../backend/select.js';
import type { WithRunner } from '../latency/paired.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import { openRunner } from '../latency/runner.js';
import { DEFAULT_SOURCE_RUNNER, type SourceRunner } from '../latency/sourceRunner.js';
import { median } from '../latency/stats.js';
import { measureArchsInterleaved } from '../latency/validate.js';
import type { ArchSpec } from '../space/arch.js';

/** The runner a run of `source` times on: its own with `measure` (or paired), else the node default. */
export function timingRunner(source: LatencySourceSpec): SourceRunner {
  return (source.kind === 'measure' || source.kind === 'paired' ? source.runner : undefined) ?? DEFAULT_SOURCE_RUNNER;
}

/**
 * `runner` (default: the node runner, wasm, one thread) for the time of `fn`; the training backend is selected
 * again afterwards (unconditionally: opening a runner may switch the process's backend, whatever was chosen before).
 */
export function runnerFor(backend: BackendChoice, runner: SourceRunner = DEFAULT_SOURCE_RUNNER): WithRunner {
  return async (fn) => {
    const opened = await openRunner(runner.name, { backend: runner.backend, threads: runner.threads });
    try {
      return await fn(opened);
    } finally {
      await opened.close();
      await useBackend(backend);
    }
  };
}

/**
 * Whole-network latency of `specs`, timed together in interleaved rounds so that a spell of load falls on all of
 * them alike: the 10th percentile of `runs` runs, the lowest of two passes.
 */
export async function measureTogether(specs: readonly ArchSpec[], runs: number, backend: BackendChoice, runner?: SourceRunner): Promise<number[]> {
  return runnerFor(backend, runner)((runner) => measureArchsInterleaved(runner, specs, { statistic: 'p10', warmup: 5, runs: Math.max(runs, 20) }));
}

/** Passes of a measurement against the seed; each gives one paired ratio (3: a median that one spell cannot move). */
const PASSES = 3;

/** The seed's figure (the median of its p10 over every pass) and each other network's: its ratio to the seed x that. */
export interface AgainstSeed {
  readonly seedMs: number;
  readonly ms: readonly number[];
}

/**
 * Combines passes measured against the seed: `passes[i]` holds network i's passes, each [seed p10, network p10] over
 * one stretch of time. A network's ratio is the median over its passes of the ratio within a pass, so both figures of
 * a ratio come from the same seconds (the lowest figure of each network over passes, what measureTogether keeps, can
 * take the seed's from one pass and the network's from another).
 */
export function combineAgainstSeed(passes: readonly (readonly (readonly [number, number])[])[]): AgainstSeed {
  const seedMs = median(passes.flatMap((ps) => ps.map(([seed]) => seed)));
  return { seedMs, ms: passes.map((ps) => seedMs * median(ps.map(([seed, net]) => net / seed))) };
}

/**
 * Each of `others` timed in alternation with the seed alone, as the loop judges a network, `runs` runs a pass. Not all
 * together: a third network in the rotation changes the cache state each one runs in (MobileNetV3-Small at 32 px and
 * a NetAdapt result of it read 0.76-0.79x among three with the width baseline and 0.81-0.85x as a pair, 4 repeats
 * each), so the end would check another ratio than the one the loop judged.
 */
export async function measureAgainstSeed(
  seed: ArchSpec,
  others: readonly ArchSpec[],
  runs: number,
  backend: BackendChoice,
  runner?: SourceRunner,
): Promise<AgainstSeed> {
  return runnerFor(backend, runner)(async (runner) => {
    const passes: (readonly [number, number])[][] = [];
    for (const other of others) {
      const mine: (readonly [number, number])[] = [];
      const onSweep = (f: readonly number[]): void => void mine.push([f[0] ?? Number.NaN, f[1] ?? Number.NaN]);
      await measureArchsInterleaved(runner, [seed, other], { statistic: 'p10', warmup: 5, runs: Math.max(runs, 20), sweeps: PASSES, onSweep });
      passes.push(mine);
    }
    return combineAgainstSeed(passes);
  });
}

