// Timing ONNX Runtime sessions, shared by the onnxruntime runner (onnxruntime-node, in this process) and the latency
// page's ort-web engine (onnxruntime-web in Chromium): the same loop as timing.ts's for tfjs models, for a session
// whose run is asynchronous, and in the same interleaved rounds.
import { guardedPrepared, type PreparedArchs } from './prepared.js';
import { roundCount, type RoundsOptions, roundTiming, type TimingOptions } from './timing.js';

/** One session with its feeds bound: a forward pass, its output returned whole. */
export type RunOnce = () => Promise<unknown>;

/** Untimed runs, then timed ones until `runs` samples and `minSeconds` are reached; samples in ms. */
export async function timeRuns(once: RunOnce, t: Pick<TimingOptions, 'warmup' | 'runs' | 'minSeconds'>): Promise<number[]> {
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

/** The sessions timed together in interleaved rounds (timing.ts); one list of samples per session. */
export async function timeRunsInterleaved(sessions: readonly RunOnce[], opts: RoundsOptions): Promise<number[][]> {
  const samples = sessions.map(() => [] as number[]);
  for (let r = 0; r < roundCount(opts); r++) {
    for (const [i, once] of sessions.entries()) samples[i]?.push(...(await timeRuns(once, roundTiming(opts, r))));
  }
  return samples;
}

/** An ONNX Runtime session (onnxruntime-node's or onnxruntime-web's) with its input bound. */
export interface BoundSession<F> {
  readonly session: { run(feeds: F): Promise<unknown>; release(): Promise<void> };
  readonly feeds: F;
}

export const runOf =
  <F>(s: BoundSession<F>): RunOnce =>
  () =>
    s.session.run(s.feeds);

export async function releaseAll<F>(sessions: readonly BoundSession<F>[]): Promise<void> {
  for (const s of sessions) await s.session.release();
}

/** Open sessions kept to be timed a few runs per request (prepared.ts), each run timed as timeRuns times it. */
export function preparedSessions<F>(sessions: readonly BoundSession<F>[]): PreparedArchs {
  return guardedPrepared(sessions, (s, runs) => timeRuns(runOf(s), { warmup: 0, runs }), () => releaseAll(sessions));
}

/** A tfjs shape (batch first, channels last) as the ONNX model's batch-1 dims (NCHW for feature maps). */
export function nchw(shape: readonly (number | null)[]): number[] {
  const dims = shape.slice(1).map((d) => d ?? 1);
  const [h, w, c] = dims;
  return dims.length === 3 && h !== undefined && w !== undefined && c !== undefined ? [1, c, h, w] : [1, ...dims];
}

/** A fixed input of `dims`: the values do not change the time of these operators, a fixed pattern keeps runs reproducible. */
export function fixedInput(dims: readonly number[]): Float32Array {
  return Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => (i % 251) / 251);
}
