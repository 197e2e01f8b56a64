// The `onnxruntime` runner: ONNX Runtime (onnxruntime-node, CPU execution provider) in this process. Each LUT entry
// and whole network is built as the node runner builds it, converted to its ONNX form (model/exportOnnx.ts, the form
// `nas export --format onnx` ships) and timed in a session of its own, so a search aimed at an ONNX Runtime
// deployment measures the runtime it deploys on.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-node';
import { useBackend } from '../../backend/select.js';
import { ONNX_INPUT } from '../../model/onnxConvert.js';
import { resolve } from '../../space/resolve.js';
import { entryModel, wholeModel } from '../entryModels.js';
import { statsOf } from '../stats.js';
import { onnxFormOf } from '../onnxForm.js';
import { fixedInput, preparedSessions, releaseAll, runOf, timeRunsInterleaved } from '../ortTiming.js';
import type { RoundsOptions } from '../timing.js';
import { type LatencyRunner, machineName, ortBackendName, type OrtOptLevel } from './interface.js';

interface TimedSession {
  readonly session: ort.InferenceSession;
  readonly feeds: Record<string, ort.Tensor>;
}

/** A session of `model`'s ONNX form with a fixed batch-1 input; `model` is disposed. */
async function sessionOf(model: tf.LayersModel, options: ort.InferenceSession.SessionOptions): Promise<TimedSession> {
  const { bytes, dims } = onnxFormOf(model);
  const session = await ort.InferenceSession.create(bytes, options);
  return { session, feeds: { [ONNX_INPUT]: new ort.Tensor('float32', fixedInput(dims), dims) } };
}

/** A session of each item; if one fails to open, those opened before it are released. */
async function openSessions<T>(items: readonly T[], make: (item: T) => tf.LayersModel, options: ort.InferenceSession.SessionOptions): Promise<TimedSession[]> {
  const sessions: TimedSession[] = [];
  try {
    for (const item of items) sessions.push(await sessionOf(make(item), options));
    return sessions;
  } catch (e) {
    await releaseAll(sessions);
    throw e;
  }
}

/** Sessions of each item, timed together in the interleaved rounds of latency/timing.ts, released whatever happens. */
async function timeBuiltSessions<T>(
  items: readonly T[],
  make: (item: T) => tf.LayersModel,
  options: ort.InferenceSession.SessionOptions,
  opts: RoundsOptions,
): Promise<number[][]> {
  const sessions = await openSessions(items, make, options);
  try {
    // The output comes back whole, feature maps too: writing it into a preallocated tensor instead timed the same
    // (10th percentiles 0.222 and 0.220 ms for mobilenetv3-large's first block, a 112x112x16 output, 300 runs each).
    return await timeRunsInterleaved(sessions.map(runOf), opts);
  } finally {
    await releaseAll(sessions);
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
    measureArchs: async (archs, opts) => statsOf(await timeBuiltSessions(archs, (spec) => wholeModel(spec, opts.seed).model, options, opts)),
    prepareArchs: async (archs, opts) => preparedSessions(await openSessions(archs, (spec) => wholeModel(spec, opts?.seed).model, options)),
    close: async () => undefined,
  };
}
