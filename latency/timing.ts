// The timing loop of every runner, browser-safe (no Node imports): the node runner and the latency page both time
// through it, so a LUT measured in Chromium means the same thing as one measured in Node.
import * as tf from '@tensorflow/tfjs';
import { guardedPrepared, type PreparedArchs } from './prepared.js';

export interface TimingOptions {
  /** Input [height, width, channels]; the batch is 1. */
  readonly input: readonly [number, number, number];
  /** Untimed runs first (JIT, allocator and XNNPACK packing settle). */
  readonly warmup: number;
  /** Timed runs, at least. */
  readonly runs: number;
  /** Keep timing past `runs` until this much time has been spent timing (default 0). */
  readonly minSeconds?: number;
  /**
   * What each run reads back: the whole output (default; a network's logits), or one element of it (a LUT entry,
   * whose output is a feature map the whole network never reads back: copying it out would be counted in every
   * entry). One element still waits for the whole computation on asynchronous backends.
   */
  readonly readBack?: 'all' | 'one';
  /** The model compiled for this input (the node runner's model/inferencePlan.ts), timed in place of model.execute. */
  readonly compiled?: CompiledForward;
}

/** A compiled forward pass: the same outputs as the model's, read back as TimingOptions.readBack says. */
export interface CompiledForward {
  run(x: tf.Tensor, readBack: 'all' | 'one'): unknown;
  dispose(): void;
}

/** A model ready to run: its input on the backend, and one forward pass that reads the result back. */
interface ReadyForward {
  readonly once: () => void;
  dispose(): void;
}

/** `model` with a fixed batch-1 input of `opts.input` on the current backend; `once` reads back as `opts.readBack` says. */
function readyForward(model: tf.LayersModel, opts: Pick<TimingOptions, 'input' | 'readBack' | 'compiled'>): ReadyForward {
  const x = tf.randomUniform([1, ...opts.input], 0, 1, 'float32', 1);
  // dataSync inside the run: on asynchronous backends (webgl) execute only enqueues work.
  const one = opts.readBack === 'one';
  // execute, not predict: predict copies its input into batches first (a Slice as large as the input), a cost a
  // layer inside a network never pays; summed over a network's entries it overstated wide early stages.
  const outputs = model.outputs.map((o) => o.name);
  const compiled = opts.compiled;
  const once = (): void => {
    if (compiled !== undefined) {
      compiled.run(x, one ? 'one' : 'all');
      return;
    }
    tf.tidy(() => {
      const y = model.execute(x, outputs);
      for (const t of Array.isArray(y) ? y : [y]) {
        if (one && t.size > 1) tf.slice(t, t.shape.map(() => 0), t.shape.map(() => 1)).dataSync();
        else t.dataSync();
      }
    });
  };
  return { once, dispose: () => x.dispose() };
}

/** Timed calls of `once` until there are `runs` samples and `minMs` ms have been spent; samples in ms. */
function timeLoop(once: () => void, runs: number, minMs = 0): number[] {
  const samplesMs: number[] = [];
  let spent = 0;
  while (samplesMs.length < runs || spent < minMs) {
    const t0 = performance.now();
    once();
    const dt = performance.now() - t0;
    samplesMs.push(dt);
    spent += dt;
  }
  return samplesMs;
}

/**
 * Time `model`'s forward pass on the current backend: batch 1, input already on the backend, untimed warm-up, then
 * timed runs that include reading the result back. Returns the samples in ms. Counts are not checked here.
 */
export function timeForward(model: tf.LayersModel, opts: TimingOptions): number[] {
  const ready = readyForward(model, opts);
  try {
    for (let i = 0; i < opts.warmup; i++) ready.once();
    return timeLoop(ready.once, opts.runs, (opts.minSeconds ?? 0) * 1000);
  } finally {
    ready.dispose();
  }
}

export interface RoundsOptions {
  readonly warmup: number;
  /** Timed runs per model, at least (rounded up to a multiple of `rounds`). */
  readonly runs: number;
  /** Interleaved passes over the models (at most `runs`). */
  readonly rounds: number;
  readonly minSeconds?: number;
}

/**
 * Time several models in interleaved rounds (each round times runs / rounds runs of every model, the warm-up in the
 * first round), so that a burst of load from other processes spreads over all of them instead of inflating the few
 * timed during it. One list of samples per model.
 */
export interface TimedModel {
  readonly model: tf.LayersModel;
  readonly input: readonly [number, number, number];
  readonly readBack?: 'all' | 'one';
  readonly compiled?: CompiledForward;
}

/** The interleaved rounds of `opts`, at least one and at most `runs`. */
export function roundCount(opts: RoundsOptions): number {
  return Math.max(1, Math.min(opts.rounds, opts.runs));
}

/** What each model runs in round `r`: the warm-up in the first round, one untimed run in the others. */
export function roundTiming(opts: RoundsOptions, r: number): Pick<TimingOptions, 'warmup' | 'runs' | 'minSeconds'> {
  const rounds = roundCount(opts);
  return {
    warmup: r === 0 ? opts.warmup : 1,
    runs: Math.ceil(opts.runs / rounds),
    ...(opts.minSeconds === undefined ? {} : { minSeconds: opts.minSeconds / rounds }),
  };
}

export function timeInterleaved(
  models: readonly TimedModel[],
  opts: RoundsOptions,
): number[][] {
  const samples = models.map(() => [] as number[]);
  for (let r = 0; r < roundCount(opts); r++) {
    models.forEach((m, i) => {
      const xs = timeForward(m.model, {
        input: m.input,
        ...(m.readBack === undefined ? {} : { readBack: m.readBack }),
        ...(m.compiled === undefined ? {} : { compiled: m.compiled }),
        ...roundTiming(opts, r),
      });
      samples[i]?.push(...xs);
    });
  }
  return samples;
}

function disposeTimed(m: TimedModel): void {
  m.compiled?.dispose();
  m.model.dispose();
}

/** A model of each item; if one fails to build, those built before it are disposed. */
function buildAll<T>(items: readonly T[], make: (item: T) => TimedModel): TimedModel[] {
  const models: TimedModel[] = [];
  try {
    for (const item of items) models.push(make(item));
    return models;
  } catch (e) {
    for (const m of models) disposeTimed(m);
    throw e;
  }
}

/** Build a model of each item, time them together with timeInterleaved, and dispose them whatever happens. */
export function timeBuilt<T>(
  items: readonly T[],
  make: (item: T) => TimedModel,
  opts: RoundsOptions,
): number[][] {
  const models = buildAll(items, make);
  try {
    return timeInterleaved(models, opts);
  } finally {
    for (const m of models) disposeTimed(m);
  }
}

/** Build a model of each item and keep it, with its input, to be timed a few runs per request (prepared.ts). */
export function prepareBuilt<T>(items: readonly T[], make: (item: T) => TimedModel): PreparedArchs {
  const models = buildAll(items, make);
  const ready = models.map((m) => readyForward(m.model, m));
  return guardedPrepared(
    ready,
    async (r, runs) => timeLoop(r.once, runs),
    async () => {
      for (const r of ready) r.dispose();
      for (const m of models) disposeTimed(m);
    },
  );
}
