// Proposals that spend the budget: samples whose architectures are new to the run and distinct within the batch.
// The loop counts its budget in distinct architectures, so a strategy that proposes a known one gets it back for free
// and learns nothing; a strategy that keeps doing so stalls (the run used to stop early with budget left).
import type { ProposeContext } from '../types.js';

/** Draws a strategy makes per wanted sample before it accepts that the space near its proposals is used up. */
export const NOVEL_TRIES_PER_SAMPLE = 64;

/** Tracks the keys taken in one batch, against the run's known ones. */
export class NoveltyFilter {
  private readonly taken = new Set<string>();
  constructor(private readonly context: ProposeContext | undefined) {}

  /** True (and the key is taken) when the sample's architecture is new to the run and to this batch. */
  accept(decisions: readonly number[]): boolean {
    if (this.context === undefined) return true;
    const key = this.context.keyOf(decisions);
    if (this.taken.has(key) || this.context.isKnown(key)) return false;
    this.taken.add(key);
    return true;
  }

  /** Takes a sample whatever its novelty (a fallback), so that later draws avoid repeating it in the batch. */
  force(decisions: readonly number[]): void {
    if (this.context !== undefined) this.taken.add(this.context.keyOf(decisions));
  }
}

/**
 * n samples from `draw`, new and distinct where the filter can tell; after `tries` draws for one slot without a new
 * one, the last draw is used as it is (a nearly exhausted space still fills its batch).
 */
export function novelSamples(
  n: number,
  context: ProposeContext | undefined,
  draw: (attempt: number) => number[],
  tries = NOVEL_TRIES_PER_SAMPLE,
): number[][] {
  const filter = new NoveltyFilter(context);
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    let sample = draw(0);
    for (let a = 1; a < tries && !filter.accept(sample); a++) sample = draw(a);
    filter.force(sample);
    out.push(sample);
  }
  return out;
}
