// Whole-network latency on the local tfjs backend (the `node` runner): batch 1, input already on the backend,
// untimed warm-up, then timed forward passes that include reading the result back.
import { performance } from 'node:perf_hooks';
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, type BackendName, useBackend } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import { buildModel } from '../model/build.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { resolve } from '../space/resolve.js';
import { type SampleSummary, summarize } from './stats.js';

export interface MeasureOptions {
  /** Input [height, width, channels]; the batch is 1. */
  readonly input: readonly [number, number, number];
  /** Untimed runs first (JIT, allocator and XNNPACK packing settle). */
  readonly warmup: number;
  /** Timed runs, at least. */
  readonly runs: number;
  /** Keep timing past `runs` until this much time has been spent timing (default 0). */
  readonly minSeconds?: number;
}

export interface LatencyStats extends SampleSummary {
  readonly runs: number;
  readonly samplesMs: readonly number[];
}

function checkInt(name: string, v: number, min: number): void {
  if (!Number.isInteger(v) || v < min) {
    throw new UsageError(`--${name} must be an integer >= ${min}, got ${v}`);
  }
}

/** Check the run counts the way the CLI names them, so a bad value fails before any model is built. */
export function checkMeasureCounts(opts: { warmup: number; runs: number; minSeconds?: number }): void {
  checkInt('warmup', opts.warmup, 0);
  checkInt('runs', opts.runs, 1);
  const min = opts.minSeconds ?? 0;
  if (!(Number.isFinite(min) && min >= 0)) throw new UsageError(`--min-seconds must be >= 0, got ${min}`);
}

/** Time `model`'s forward pass on the current backend. */
export function measureLatency(model: tf.LayersModel, opts: MeasureOptions): LatencyStats {
  checkMeasureCounts(opts);
  for (const d of opts.input) checkInt('input', d, 1);
  const minMs = (opts.minSeconds ?? 0) * 1000;
  const x = tf.randomUniform([1, ...opts.input], 0, 1, 'float32', 1);
  // dataSync inside the run: on asynchronous backends predict only enqueues work.
  const once = (): void => {
    tf.tidy(() => {
      const y = model.predict(x);
      for (const t of Array.isArray(y) ? y : [y]) t.dataSync();
    });
  };
  const samplesMs: number[] = [];
  try {
    for (let i = 0; i < opts.warmup; i++) once();
    let spent = 0;
    while (samplesMs.length < opts.runs || spent < minMs) {
      const t0 = performance.now();
      once();
      const dt = performance.now() - t0;
      samplesMs.push(dt);
      spent += dt;
    }
  } finally {
    x.dispose();
  }
  return { ...summarize(samplesMs), runs: samplesMs.length, samplesMs };
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
  readonly backend: BackendName;
  /** Threads the backend computed with (null: libtensorflow decides). */
  readonly threads: number | null;
  readonly input: readonly [number, number, number];
}

/** Select the backend, build `spec`, time it, dispose it. */
export async function measureArch(spec: ArchSpec, opts: MeasureArchOptions): Promise<ArchLatency> {
  checkMeasureCounts(opts);
  if (opts.threads !== undefined) checkInt('threads', opts.threads, 1);
  const arch = encodeArch(spec);
  const resolved = resolve(spec);
  const info = await useBackend(opts.backend ?? 'wasm', { threads: opts.threads ?? 1 });
  const input = [resolved.inputSize, resolved.inputSize, resolved.inputChannels] as const;
  const model = buildModel(resolved, { seed: opts.seed ?? 0 });
  try {
    const stats = measureLatency(model, {
      input,
      warmup: opts.warmup,
      runs: opts.runs,
      ...(opts.minSeconds === undefined ? {} : { minSeconds: opts.minSeconds }),
    });
    return { arch, name: spec.name, backend: info.name, threads: info.threads, input, ...stats };
  } finally {
    model.dispose();
  }
}
