// What a latency runner is: the interface latency/runner.ts opens and latency/runners/*.ts implement. A module of
// its own so that the runners depend on it and not on the module that opens them (which would be an import cycle).
import { cpus } from 'node:os';
import type { ArchSpec } from '../../space/arch.js';
import type { EntryRef } from '../entryModels.js';
import type { PreparedArchs, PrepareOptions } from '../prepared.js';
import type { LatencyStats } from '../stats.js';

export const runnerNames = ['node', 'browser', 'onnxruntime'] as const;
export type RunnerName = (typeof runnerNames)[number];

/** ONNX Runtime's graph optimisation levels, as its session options name them. */
export const ortOptLevels = ['all', 'extended', 'basic', 'disabled'] as const;
export type OrtOptLevel = (typeof ortOptLevels)[number];

/**
 * The onnxruntime runner's backend at a level: `cpu` is ORT's default (every optimisation), `cpu-<level>` the
 * others. The level is part of the backend so that a LUT records it and `validate` reopens the same setting.
 */
export function ortBackendName(level: OrtOptLevel): string {
  return level === 'all' ? 'cpu' : `cpu-${level}`;
}

export interface RunnerMeasureOptions {
  /** Untimed runs of each model before its first timed round. */
  readonly warmup: number;
  /** Timed runs per model, at least (rounded up to a multiple of `rounds`). */
  readonly runs: number;
  /** Interleaved passes over the models (1: each model timed once, in order). */
  readonly rounds: number;
  /** Keep timing each model until this much time is spent on it. */
  readonly minSeconds?: number;
}

export interface ArchMeasureOptions extends RunnerMeasureOptions {
  /** Weight initialiser seed (default 0). */
  readonly seed?: number;
}

export interface LatencyRunner {
  readonly name: RunnerName;
  /** The backend that computes (after `auto` is decided). */
  readonly backend: string;
  /** Threads the backend computes with (null: the runtime decides). */
  readonly threads: number | null;
  /** Where the times hold: the host CPU, and for the browser the Chromium version (and WebGL renderer). */
  readonly machine: string;
  /**
   * What computes, where the machine string does not say it: the node runner's `nas-plan-N` (compiled inference,
   * model/inferencePlan.ts) or `tfjs` (layer by layer). Tables of another engine are refused (latency/lut.ts).
   */
  readonly engine?: string;
  /** Time the models of LUT entries together, in interleaved rounds; stats in the order given. */
  measureEntries(entries: readonly EntryRef[], opts: RunnerMeasureOptions): Promise<LatencyStats[]>;
  /** Time whole networks together, in interleaved rounds; stats in the order given. */
  measureArchs(archs: readonly ArchSpec[], opts: ArchMeasureOptions): Promise<LatencyStats[]>;
  /**
   * Build whole networks once and keep them, to be timed a few runs per request (a paired benchmark's rounds);
   * absent where a runner cannot keep them. The caller closes what it gets.
   */
  prepareArchs?(archs: readonly ArchSpec[], opts?: PrepareOptions): Promise<PreparedArchs>;
  close(): Promise<void>;
}

/** The machine string of this host: CPU model and core count. */
export function machineName(): string {
  const cs = cpus();
  return `${(cs[0]?.model ?? 'unknown cpu').trim()} x${cs.length}`;
}

