// What the browser runner asks of the latency page and what it answers: plain JSON, so any tfjs runtime that
// answers the same requests can stand in for the page (docs/LATENCY_LUT.md).
import type { ArchSpec } from '../../space/arch.js';
import type { EntryRef } from '../entryModels.js';

export interface PageInit {
  readonly backend: 'wasm' | 'webgl';
  /** wasm threads; 1 takes the non-threaded SIMD binary. */
  readonly threads: number;
  /** URL prefix of the tfjs-backend-wasm .wasm files. */
  readonly wasmPath: string;
}

export interface PageReady {
  readonly backend: string;
  /** Threads the backend computes with (null: webgl). */
  readonly threads: number | null;
  readonly wasmSimd: boolean | null;
  /** WebGL renderer (e.g. SwiftShader), null on wasm. */
  readonly renderer: string | null;
  readonly crossOriginIsolated: boolean;
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

export interface ArchsRequest extends PageRounds {
  readonly archs: readonly ArchSpec[];
  /** Weight initialiser seed of the whole networks. */
  readonly seed: number;
}

/** Installed on the page's globalThis as `nasLatency`; each measuring call answers one list of ms samples per model. */
export interface LatencyPageApi {
  init(req: PageInit): Promise<PageReady>;
  measureEntries(req: EntriesRequest): number[][];
  measureArchs(req: ArchsRequest): number[][];
}
