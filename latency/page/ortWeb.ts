// The latency page's ort-web engine: onnxruntime-web's wasm execution provider timing the ONNX form of each model
// (converted in Node by latency/onnxForm.ts, as `nas export --format onnx` writes it), with the loop the
// onnxruntime runner uses in Node (ortTiming.ts). tfjs stays loaded beside it, to compare the two engines' outputs.
import * as tf from '@tensorflow/tfjs';
import * as ort from 'onnxruntime-web/wasm';
import { ONNX_INPUT, ONNX_OUTPUT } from '../../model/onnxConvert.js';
import { fixedInput, preparedSessions, releaseAll, runOf, timeRunsInterleaved } from '../ortTiming.js';
import { parityModel } from '../parityWeights.js';
import { hold } from './held.js';
import type { OnnxModel, PageRounds, ParityRequest } from './protocol.js';

interface OpenSession {
  readonly session: ort.InferenceSession;
  readonly feeds: Record<string, ort.Tensor>;
}

const open: OpenSession[] = [];

/** The wasm provider on `threads` threads (1: no worker; more need the page's cross-origin isolation). */
export function initOrtWeb(wasmPath: string, threads: number): { threads: number; version: string } {
  ort.env.wasm.wasmPaths = wasmPath;
  ort.env.wasm.numThreads = threads;
  // Sessions run on the page's own thread, as tfjs's do: a proxy worker would add a message hop to every run.
  ort.env.wasm.proxy = false;
  return { threads, version: ort.env.versions.web ?? ort.env.versions.common };
}

function bytesOf(base64: string): Uint8Array {
  const text = atob(base64);
  const bytes = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
  return bytes;
}

async function sessionOf(req: OnnxModel, input: Float32Array): Promise<OpenSession> {
  const session = await ort.InferenceSession.create(bytesOf(req.onnx), {
    executionProviders: ['wasm'],
    graphOptimizationLevel: 'all',
    executionMode: 'sequential',
  });
  return { session, feeds: { [ONNX_INPUT]: new ort.Tensor('float32', input, [...req.dims]) } };
}

export async function openOnnx(req: OnnxModel): Promise<number> {
  open.push(await sessionOf(req, fixedInput(req.dims)));
  return open.length;
}

export async function measureOnnx(req: PageRounds): Promise<number[][]> {
  const sessions = open.splice(0);
  try {
    return await timeRunsInterleaved(sessions.map(runOf), req);
  } finally {
    await releaseAll(sessions);
  }
}

export function prepareOnnx(): number {
  return hold(preparedSessions(open.splice(0)));
}

/** ort-web's and tfjs's outputs on one input (the ONNX model takes it NCHW, tfjs NHWC): their largest difference. */
export async function onnxParity(req: ParityRequest): Promise<number> {
  const input = Float32Array.from(fixedInput(req.dims), (v, i) => v * 2 - 1 + (i % 7) / 7);
  const s = await sessionOf(req, input);
  const model = parityModel(req.arch, req.seed);
  try {
    const theirs = (await s.session.run(s.feeds))[ONNX_OUTPUT]?.data;
    if (!(theirs instanceof Float32Array)) throw new Error(`the ONNX model returned no float ${ONNX_OUTPUT}`);
    const x = tf.tidy(() => tf.tensor(input, [...req.dims]).transpose([0, 2, 3, 1]));
    const ours = model.predict(x);
    x.dispose();
    if (!(ours instanceof tf.Tensor)) throw new Error('the tfjs model returned more than one output');
    const mine = await ours.data();
    ours.dispose();
    if (mine.length !== theirs.length) throw new Error(`outputs differ in size: tfjs ${mine.length}, ort-web ${theirs.length}`);
    return Float32Array.from(mine).reduce((m, v, i) => Math.max(m, Math.abs(v - (theirs[i] ?? Number.NaN))), 0);
  } finally {
    model.dispose();
    await s.session.release();
  }
}
