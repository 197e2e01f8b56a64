// The `onnxruntime` runner: ONNX Runtime (onnxruntime-node, CPU execution provider) in this process. Each LUT entry
// and whole network is built as the node runner builds it, converted to its ONNX form (model/exportOnnx.ts, the form
// `nas export --format onnx` ships) and timed in a session of its own, so a search aimed at an ONNX Runtime
// deployment measures the runtime it deploys on.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../../backend/select.js';
import { buildModel } from '../../model/build.js';
import { onnxBytes } from '../../model/exportOnnx.js';
import { ONNX_INPUT } from '../../model/onnxConvert.js';
import { resolve } from '../../space/resolve.js';
import { entryModel } from '../entryModels.js';
import { statsOf } from '../stats.js';
import { roundCount, type RoundsOptions, roundTiming, type TimingOptions } from '../timing.js';
import { type LatencyRunner, machineName, ortBackendName, type OrtOptLevel } from './interface.js';

interface TimedSession {
  readonly session: ort.InferenceSession;
  readonly feeds: Record<string, ort.Tensor>;
}

/** A session of `model`'s ONNX form with a fixed batch-1 input; `model` is disposed. */
async function sessionOf(model: tf.LayersModel, options: ort.InferenceSession.SessionOptions): Promise<TimedSession> {
  const inShape = model.inputs[0]?.shape ?? [];
  let bytes: Uint8Array;
  try {
    bytes = onnxBytes(model);
  } finally {
    model.dispose();
  }
  const session = await ort.InferenceSession.create(bytes, options);
  const dims = nchw(inShape);
  // The input's values do not change the time of these operators; a fixed pattern keeps runs reproducible.
  const data = Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i % 251) / 251);
  return { session, feeds: { [ONNX_INPUT]: new ort.Tensor('float32', data, dims) } };
}

/** A tfjs shape (batch first, channels last) as the ONNX model's batch-1 dims (NCHW for feature maps). */
function nchw(shape: readonly (number | null)[]): number[] {
  const dims = shape.slice(1).map((d) => d ?? 1);
  const [h, w, c] = dims;
  return dims.length === 3 && h !== undefined && w !== undefined && c !== undefined ? [1, c, h, w] : [1, ...dims];
}

/** Untimed runs, then timed ones until `runs` samples and `minSeconds` are reached; samples in ms. */
async function timeSession(s: TimedSession, t: Pick<TimingOptions, 'warmup' | 'runs' | 'minSeconds'>): Promise<number[]> {
  // The output comes back whole, feature maps too: writing it into a preallocated tensor instead timed the same
  // (10th percentiles 0.222 and 0.220 ms for mobilenetv3-large's first block, a 112x112x16 output, 300 runs each).
  const once = (): Promise<unknown> => s.session.run(s.feeds);
  for (let i = 0; i < t.warmup; i++) await once();
  const minMs = (t.minSeconds ?? 0) * 1000;
  const samplesMs: number[] = [];
  let spent = 0;
  while (samplesMs.length < t.runs || spent < minMs) {
    const t0 = performance.now();
    await once();
    const dt = performance.now() - t0;
    samplesMs.push(dt);
    spent += dt;
  }
  return samplesMs;
}

/** Sessions of each item, timed together in the interleaved rounds of latency/timing.ts, released whatever happens. */
async function timeBuiltSessions<T>(
  items: readonly T[],
  make: (item: T) => tf.LayersModel,
  options: ort.InferenceSession.SessionOptions,
  opts: RoundsOptions,
): Promise<number[][]> {
  const sessions: TimedSession[] = [];
  try {
    for (const item of items) sessions.push(await sessionOf(make(item), options));
    const samples = sessions.map(() => [] as number[]);
    for (let r = 0; r < roundCount(opts); r++) {
      for (const [i, s] of sessions.entries()) samples[i]?.push(...(await timeSession(s, roundTiming(opts, r))));
    }
    return samples;
  } finally {
    for (const s of sessions) await s.session.release();
  }
}

export async function openOrtRunner(level: OrtOptLevel, threads: number): Promise<LatencyRunner> {
  // The models are built by tfjs before conversion: any backend does, so one already chosen (training's) is kept.
  if (!tf.engine().backendName) await useBackend('cpu');
  const options: ort.InferenceSession.SessionOptions = {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    // One model runs at a time, operator after operator: parallel execution would only add a second pool.
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: level,
  };
  return {
    name: 'onnxruntime',
    backend: ortBackendName(level),
    threads,
    machine: `${machineName()}; ONNX Runtime ${ort.env.versions.node ?? ort.env.versions.common}`,
    measureEntries: async (entries, opts) =>
      statsOf(await timeBuiltSessions(entries, (e) => entryModel(resolve(e.arch), e.piece), options, opts)),
    measureArchs: async (archs, opts) =>
      statsOf(await timeBuiltSessions(archs, (spec) => buildModel(resolve(spec), { seed: opts.seed ?? 0, folded: true }), options, opts)),
    close: async () => undefined,
  };
}
