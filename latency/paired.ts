// Latency judged relative to a reference network, in terms that survive a machine's drift. On a shared machine a
// network timed now and another timed minutes later differ by the load between them as much as by their own cost
// (a NetAdapt seed timed at 2.73 ms under load at the start, proposals at 1.30 ms later: a 0.94x result read as
// 0.48x). So every candidate is timed in alternation with the reference (A/B rounds over the same seconds, as
// paired benchmarking does) and judged by the ratio of the two, times the reference's figure: a slow phase of the
// machine falls on both and cancels. The ratio is of the 10th percentiles of the interleaved samples, the figure the
// end of a NetAdapt run checks (measured here at load 6 on 2 cores, where most 1 ms runs are preempted: the median of
// per-round ratios of round minima moved with the run count, 0.67 to 0.73 for one pair, where p10 ratios agreed).
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { RUNS_PER_ROUND } from './runner.js';
import type { LatencyRunner } from './runners/interface.js';
import { mean, quantile } from './stats.js';

/** A runner lent for one measurement (opened and closed, or the training backend restored, around `fn`). */
export type WithRunner = <T>(fn: (runner: LatencyRunner) => Promise<T>) => Promise<T>;

export interface PairedOptions {
  /** A/B rounds per judgement (each: one untimed and RUNS_PER_ROUND timed runs of each network). */
  readonly rounds: number;
  /** Untimed runs of each network before the first round. */
  readonly warmup: number;
}

/** One judgement of a search candidate against its reference (`--latency paired:REF`). */
export const SEARCH_JUDGEMENT: PairedOptions = { rounds: 30, warmup: 5 };

/** A ratio of latencies, and the upper end of its one-sided 95% interval (the ratio itself when not estimated). */
export interface Ratio {
  readonly ratio: number;
  readonly upper: number;
}

const p10 = (xs: readonly number[]): number => quantile(xs, 0.1);

/**
 * cand / ref from samples taken in alternation (in the order taken, the same count of each): the ratio of their
 * 10th percentiles. With `blocks` >= 2 the samples are also cut into that many consecutive stretches, each gives a
 * ratio, and their spread bounds the whole one's: upper = ratio + 2 standard errors.
 */
export function pairedRatio(ref: readonly number[], cand: readonly number[], blocks = 1): Ratio {
  const n = Math.min(ref.length, cand.length);
  if (n < blocks || n === 0) throw new RangeError(`paired ratio of ${ref.length} and ${cand.length} samples in ${blocks} blocks`);
  const ratio = p10(cand.slice(0, n)) / p10(ref.slice(0, n));
  if (blocks < 2) return { ratio, upper: ratio };
  const size = Math.floor(n / blocks);
  const parts = Array.from({ length: blocks }, (_, b) => p10(cand.slice(b * size, (b + 1) * size)) / p10(ref.slice(b * size, (b + 1) * size)));
  const m = mean(parts);
  const sd = Math.sqrt(parts.reduce((s, v) => s + (v - m) ** 2, 0) / (blocks - 1));
  return { ratio, upper: ratio + (2 * sd) / Math.sqrt(blocks) };
}

/** `cand`'s latency as a multiple of `ref`'s, timed in alternation on `runner` (samples come back in round order). */
export async function measureRatio(runner: LatencyRunner, ref: ArchSpec, cand: ArchSpec, opts: PairedOptions & { blocks?: number }): Promise<Ratio> {
  const rounds = Math.max(1, opts.rounds);
  const [a, b] = await runner.measureArchs([ref, cand], { warmup: opts.warmup, runs: rounds * RUNS_PER_ROUND, rounds });
  if (a === undefined || b === undefined) throw new Error(`runner ${runner.name} returned no measurement`);
  return pairedRatio(a.samplesMs, b.samplesMs, opts.blocks);
}

/**
 * Seconds of untimed runs before the reference is timed. The first measurement in a process is slow (wasm code not
 * yet optimised, caches cold): MobileNetV3-Small at 32 px read 1.11 and 1.64 ms first, then 0.68-0.87 ms from the
 * third second on (two fresh processes, 10 measurements each).
 */
const WARM_SECONDS = 3;

/** The reference's own figure: the 10th percentile of its runs, timed alone after a warm-up (it sets the scale, not the ratios). */
export async function measureReference(runner: LatencyRunner, ref: ArchSpec, opts: PairedOptions): Promise<number> {
  const rounds = Math.max(1, opts.rounds);
  await runner.measureArchs([ref], { warmup: opts.warmup, runs: 1, rounds: 1, minSeconds: WARM_SECONDS });
  const [a] = await runner.measureArchs([ref], { warmup: opts.warmup, runs: rounds * RUNS_PER_ROUND, rounds });
  if (a === undefined) throw new Error(`runner ${runner.name} returned no measurement`);
  return p10(a.samplesMs);
}

export interface PairedLatency {
  /** The reference's latency in ms, measured once: every judgement is a ratio to the reference times this. */
  readonly referenceMs: number;
  /** Judged latency in ms (the first judgement of a network is kept: asked again, the same figure). */
  latency(spec: ArchSpec): Promise<number>;
  /**
   * A fresh judgement of `blocks` x the usual rounds, which replaces the kept one (to confirm a decision that rests
   * on it): ms, and the upper end of its 95% interval.
   */
  remeasure(spec: ArchSpec, blocks: number): Promise<{ ms: number; upperMs: number }>;
  /** `cand` against another network than the reference, `blocks` x the usual rounds: cand / ref. */
  ratio(ref: ArchSpec, cand: ArchSpec, blocks: number): Promise<Ratio>;
}

/** Judge networks against `reference`, whose figure is `referenceMs`, on the runners `withRunner` lends. */
export function pairedLatency(reference: ArchSpec, referenceMs: number, withRunner: WithRunner, opts: PairedOptions): PairedLatency {
  const refKey = encodeArch(reference);
  const kept = new Map<string, number>([[refKey, referenceMs]]);
  const judge = async (spec: ArchSpec, blocks: number): Promise<{ ms: number; upperMs: number }> => {
    if (encodeArch(spec) === refKey) return { ms: referenceMs, upperMs: referenceMs };
    const r = await withRunner((runner) => measureRatio(runner, reference, spec, { ...opts, rounds: blocks * opts.rounds, blocks }));
    kept.set(encodeArch(spec), referenceMs * r.ratio);
    return { ms: referenceMs * r.ratio, upperMs: referenceMs * r.upper };
  };
  return {
    referenceMs,
    latency: async (spec) => kept.get(encodeArch(spec)) ?? (await judge(spec, 1)).ms,
    remeasure: judge,
    ratio: (a, b, blocks) => withRunner((runner) => measureRatio(runner, a, b, { ...opts, rounds: blocks * opts.rounds, blocks })),
  };
}

/** Judge networks against `reference`, its figure measured first, on the runners `withRunner` lends. */
export async function openPairedLatency(reference: ArchSpec, withRunner: WithRunner, opts: PairedOptions): Promise<PairedLatency> {
  const referenceMs = await withRunner((r) => measureReference(r, reference, opts));
  return pairedLatency(reference, referenceMs, withRunner, opts);
}
