// The rounds of bench/inference-vs-peers.ts --paired: one network kept built on several runtimes (latency/prepared.ts),
// then rounds of one timed forward pass on each, the order rotating each round. A ratio between two runtimes is
// taken per round, over the same few milliseconds, so the machine's drift over seconds to minutes falls on both
// sides of it; the spread of the per-round ratios says how far the median of them can be trusted.
import type { PreparedArchs } from '../latency/prepared.js';
import { median, quantile } from '../latency/stats.js';

export interface PairRounds {
  /** Untimed runs on each runtime before the first round. */
  readonly warmup: number;
  /** Rounds, each one timed run on every runtime. */
  readonly pairs: number;
}

/** `xs` rotated left by `r` (the order of round `r`). */
export function rotated<T>(xs: readonly T[], r: number): T[] {
  const k = xs.length === 0 ? 0 : r % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

/** Network `index` of each prepared set, warmed up, then timed once per round in rotating order; ms per round by key. */
export async function timePairs<K extends string>(prepared: ReadonlyMap<K, PreparedArchs>, index: number, o: PairRounds): Promise<Map<K, number[]>> {
  const keys = [...prepared.keys()];
  const samples = new Map<K, number[]>(keys.map((k) => [k, []]));
  const timeOnce = async (k: K, runs: number): Promise<number[]> => {
    const p = prepared.get(k);
    return p === undefined ? [] : p.time(index, runs);
  };
  if (o.warmup > 0) for (const k of keys) await timeOnce(k, o.warmup);
  for (let r = 0; r < o.pairs; r++) {
    for (const k of rotated(keys, r)) samples.get(k)?.push(...(await timeOnce(k, 1)));
  }
  return samples;
}

/** The median of per-round ratios and their 25th and 75th percentiles. */
export interface RatioSpread {
  readonly median: number;
  readonly p25: number;
  readonly p75: number;
}

/** ours[i] / peer[i] for each round both were timed in. */
export function pairRatios(ours: readonly number[], peer: readonly number[]): RatioSpread {
  const n = Math.min(ours.length, peer.length);
  if (n === 0) throw new RangeError('paired ratios of no rounds');
  const ratios = Array.from({ length: n }, (_, i) => (ours[i] ?? Number.NaN) / (peer[i] ?? Number.NaN));
  return { median: median(ratios), p25: quantile(ratios, 0.25), p75: quantile(ratios, 0.75) };
}
