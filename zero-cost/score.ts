// The zero-cost scores as a library call (what `nas search --evaluator zero-cost:NAME` runs for each candidate, and
// what a fidelity study calls directly): build the architecture with its seed's initial weights and score it.
import * as tf from '@tensorflow/tfjs';
import { UsageError } from '../common/errors.js';
import { buildModel } from '../model/build.js';
import type { ArchSpec } from '../space/arch.js';
import { resolve } from '../space/resolve.js';
import type { ZeroCostScore } from './config.js';
import { naswotOf } from './naswot.js';
import { synflowOf } from './synflow.js';

/** A minibatch as data/ prepares it: NHWC float32 images, normalised, at the network's input size. */
export interface ImageBatch {
  readonly images: Float32Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
}

export interface ZeroCostResult {
  readonly name: ZeroCostScore;
  /** naswot: ln|det K|; synflow: ln(synflow). Higher is better; -Infinity for a singular NASWOT kernel. */
  readonly score: number;
  /** What the score was computed from (naswot: units, images; synflow: synflow, output). */
  readonly detail: Readonly<Record<string, number>>;
  readonly seconds: number;
}

/** A candidate seed folded into the builder's range, so any safe integer is accepted. */
function weightSeed(seed: number): number {
  if (!Number.isSafeInteger(seed)) throw new UsageError(`the zero-cost seed must be an integer, got ${seed}`);
  return ((seed % 2147483647) + 2147483647) % 2147483647;
}

function naswotOn(model: tf.LayersModel, arch: ArchSpec, batch: ImageBatch | null): ZeroCostResult['detail'] & { score: number } {
  if (batch === null) throw new UsageError('naswot scores a minibatch of images: give one');
  const { size, channels } = arch.input;
  if (batch.height !== size || batch.width !== size || batch.channels !== channels) {
    throw new UsageError(`naswot: the minibatch is ${batch.height}x${batch.width}x${batch.channels}, the network takes ${size}x${size}x${channels}`);
  }
  const images = tf.tensor4d(batch.images, [batch.count, size, size, channels]);
  try {
    return { ...naswotOf(model, images) };
  } finally {
    images.dispose();
  }
}

/**
 * Scores `arch` (at its own input size) with its weights initialised from `seed` as model/build.ts draws them.
 * naswot needs `batch`; synflow ignores it (its input is all ones). Selects no backend: the caller's is used.
 */
export function zeroCostScore(name: ZeroCostScore, arch: ArchSpec, batch: ImageBatch | null, seed: number): ZeroCostResult {
  const t0 = performance.now();
  const resolved = resolve(arch);
  const model = buildModel(resolved, { seed: weightSeed(seed) });
  try {
    if (name === 'naswot') {
      const { score, ...detail } = naswotOn(model, arch, batch);
      return { name, score, detail, seconds: (performance.now() - t0) / 1000 };
    }
    const r = synflowOf(resolved, model);
    return { name, score: Math.log(r.synflow), detail: { synflow: r.synflow, output: r.output }, seconds: (performance.now() - t0) / 1000 };
  } finally {
    model.dispose();
  }
}
