// Whole-network latency on an open runner: batch 1, input already on the backend, untimed warm-up, then timed
// forward passes that include reading the result back (the loop is timing.ts, shared with the browser runner's page).
// The local tfjs backend's own entry points (measureArch, measureLatency) are runners/node.ts, so that the checks
// here load without tfjs.
import type { BackendChoice } from '../backend/choices.js';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { resolve } from '../space/resolve.js';
import type { LatencyRunner } from './runners/interface.js';
import type { LatencyStats } from './stats.js';
import type { TimingOptions } from './timing.js';

export type MeasureOptions = TimingOptions;

/** Check the run counts the way the CLI names them, so a bad value fails before any model is built. */
export function checkMeasureCounts(opts: { warmup: number; runs: number; minSeconds?: number }): void {
  checkInteger('--warmup', opts.warmup, 0);
  checkInteger('--runs', opts.runs, 1);
  const min = opts.minSeconds ?? 0;
  if (!(Number.isFinite(min) && min >= 0)) throw new UsageError(`--min-seconds must be >= 0, got ${min}`);
}

export interface MeasureArchOptions {
  readonly warmup: number;
  readonly runs: number;
  readonly minSeconds?: number;
  /** Default wasm. */
  readonly backend?: BackendChoice;
  /** wasm threads, default 1. */
  readonly threads?: number;
  /** Weight initialiser seed (default 0); weights do not change the time of dense kernels but keep runs identical. */
  readonly seed?: number;
}

export interface ArchLatency extends LatencyStats {
  /** The canonical arch string. */
  readonly arch: string;
  readonly name: string;
  /** The runner that measured (node, browser). */
  readonly runner: string;
  readonly backend: string;
  /** Threads the backend computed with (null: the runtime decides). */
  readonly threads: number | null;
  readonly input: readonly [number, number, number];
}

/** Time `spec` whole on an open runner: warm-up, then timed runs (and `minSeconds`), one arch at a time. */
export async function measureArchOn(
  runner: LatencyRunner,
  spec: ArchSpec,
  opts: Pick<MeasureArchOptions, 'warmup' | 'runs' | 'minSeconds' | 'seed'>,
): Promise<ArchLatency> {
  checkMeasureCounts(opts);
  const resolved = resolve(spec);
  const input = [resolved.inputSize, resolved.inputSize, resolved.inputChannels] as const;
  const [stats] = await runner.measureArchs([spec], {
    warmup: opts.warmup,
    runs: opts.runs,
    rounds: 1,
    seed: opts.seed ?? 0,
    ...(opts.minSeconds === undefined ? {} : { minSeconds: opts.minSeconds }),
  });
  if (stats === undefined) throw new Error(`runner ${runner.name} returned no measurement`);
  return { arch: encodeArch(spec), name: spec.name, runner: runner.name, backend: runner.backend, threads: runner.threads, input, ...stats };
}
