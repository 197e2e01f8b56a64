// A NetAdapt state's latency from its own judgement and the last few before it. One paired judgement of a network
// against the seed moves with the machine's load by more than a step: at load 6-12 on 2 cores, judgements of
// networks one 1% step apart went 0.552, 0.567, 0.592 ms while the table said each step saved 1%, and the loop
// re-based every budget on the latest one, so it climbed as often as it descended, and stopped on the first low one.
// The table's differences between consecutive states are deterministic: a past judgement less the table's savings
// since is another estimate of the current state. The mean of the last POOL such estimates has a half to a quarter
// of one judgement's noise; its interval comes from their spread (Student's t), never narrower than the judgements'
// own intervals averaged.

/** One judgement of a state, with the state's figure by the step table (the same ms scale). */
export interface Judged {
  readonly ms: number;
  readonly upperMs: number;
  readonly tableMs: number;
}

export interface Judgement {
  readonly ms: number;
  readonly upperMs: number;
  /** How many judgements it pools. */
  readonly pooled: number;
}

/** Judgements pooled: enough to halve the noise, few enough that the table's per-layer errors stay small. */
export const POOL = 4;

/** One-sided 95% quantiles of Student's t, by degrees of freedom (1..POOL-1). */
const T95: readonly number[] = [Number.NaN, 6.314, 2.92, 2.353];

/** The current state (the last judgement's) estimated from the last POOL judgements. */
export function pooledJudgement(history: readonly Judged[]): Judgement {
  const recent = history.slice(-POOL);
  const now = recent[recent.length - 1];
  if (now === undefined) throw new RangeError('no judgement to pool');
  const n = recent.length;
  if (n === 1) return { ms: now.ms, upperMs: now.upperMs, pooled: 1 };
  const estimates = recent.map((j) => j.ms - (j.tableMs - now.tableMs));
  const mean = estimates.reduce((s, v) => s + v, 0) / n;
  const sd = Math.sqrt(estimates.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  const spread = ((T95[n - 1] ?? T95[T95.length - 1] ?? 2) * sd) / Math.sqrt(n);
  const own = recent.reduce((s, j) => s + (j.upperMs - j.ms), 0) / n / Math.sqrt(n);
  return { ms: mean, upperMs: mean + Math.max(spread, own), pooled: n };
}
