// What the browser runner asks of the latency page and what it answers: plain JSON, so any tfjs runtime that
// answers the same requests can stand in for the page (docs/LATENCY_LUT.md).
import type { ArchSpec } from '../../space/arch.js';
import type { EntryRef } from '../entryModels.js';

/** The page's backends: tfjs on wasm or webgl, or onnxruntime-web's wasm execution provider (`--engine ort-web`). */
export type PageBackend = 'wasm' | 'webgl' | 'ort-web';

export interface PageInit {
  readonly backend: PageBackend;
  /** wasm threads; 1 takes the non-threaded SIMD binary. */
  readonly threads: number;
  /** URL prefix of the tfjs-backend-wasm .wasm files. */
  readonly wasmPath: string;
  /** URL prefix of onnxruntime-web's .wasm and .mjs files. */
  readonly ortWasmPath: string;
}

export interface PageReady {
  readonly backend: string;
  /** Threads the backend computes with (null: webgl). */
  readonly threads: number | null;
  readonly wasmSimd: boolean | null;
  /** WebGL renderer (e.g. SwiftShader), null on wasm. */
  readonly renderer: string | null;
  readonly crossOriginIsolated: boolean;
  /** onnxruntime-web's version on the ort-web engine, else null. */
  readonly ortVersion: string | null;
}

export interface PageRounds {
  readonly warmup: number;
  readonly runs: number;
  readonly rounds: number;
  readonly minSeconds?: number;
}

export interface EntriesRequest extends PageRounds {
  readonly entries: readonly EntryRef[];
}

export interface ArchsToBuild {
  readonly archs: readonly ArchSpec[];
  /** Weight initialiser seed of the whole networks. */
  readonly seed: number;
}

export interface ArchsRequest extends ArchsToBuild, PageRounds {}

/** Networks the page keeps built (prepareArchs, prepareOnnx), by the id it answered. */
export interface PreparedRef {
  readonly id: number;
}

/** `runs` single forward passes of network `index` of the prepared networks `id`. */
export interface PreparedRuns extends PreparedRef {
  readonly index: number;
  readonly runs: number;
}

/** A model in its ONNX form (latency/onnxForm.ts), sent to the ort-web engine. */
export interface OnnxModel {
  /** The ONNX bytes, base64. */
  readonly onnx: string;
  /** The input's dims at batch 1 (NCHW). */
  readonly dims: readonly number[];
}

/** One network's ONNX form and how the page builds the same network with tfjs, to compare their outputs. */
export interface ParityRequest extends OnnxModel {
  readonly arch: ArchSpec;
  readonly seed: number;
}

/** Installed on the page's globalThis as `nasLatency`; each measuring call answers one list of ms samples per model. */
export interface LatencyPageApi {
  init(req: PageInit): Promise<PageReady>;
  measureEntries(req: EntriesRequest): number[][];
  measureArchs(req: ArchsRequest): number[][];
  /** ort-web: open a session of `req` (sent one at a time, as each may be megabytes); answers the sessions open. */
  openOnnx(req: OnnxModel): Promise<number>;
  /** ort-web: time the open sessions in interleaved rounds, then release them; one list of samples per session. */
  measureOnnx(req: PageRounds): Promise<number[][]>;
  /** tfjs: build the networks and keep them (latency/prepared.ts); answers their id. */
  prepareArchs(req: ArchsToBuild): number;
  /** ort-web: keep the sessions opened (openOnnx) instead of timing them; answers their id. */
  prepareOnnx(): number;
  /** The ms of each of `runs` forward passes of one prepared network. */
  timePrepared(req: PreparedRuns): Promise<number[]>;
  /** Release prepared networks. */
  closePrepared(req: PreparedRef): Promise<void>;
  /** The largest absolute difference between ort-web's and tfjs's outputs on the same input. */
  onnxParity(req: ParityRequest): Promise<number>;
}
