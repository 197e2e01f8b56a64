// Proposals that spend the budget: samples whose architectures are new to the run and distinct within the batch.
// The loop counts its budget in distinct architectures, so a strategy that proposes a known one gets it back for free
// and learns nothing; a strategy that keeps doing so stalls (the run used to stop early with budget left).
import { type SearchSpace, sampleUniform, spaceSize } from '../../space/searchSpace.js';
import type { ProposeContext } from '../types.js';
import { randomIndex, type Rng } from './rng.js';
import { optionCounts } from './state.js';

/** Draws a strategy makes per wanted sample before it falls back to a uniform new one. */
export const NOVEL_TRIES_PER_SAMPLE = 64;
/** Spaces up to this many samples are enumerated when random draws no longer find new architectures. */
const ENUMERATE_LIMIT = 4096;

/** Tracks the keys taken in one batch, against the run's known ones. */
export class NoveltyFilter {
  private readonly taken = new Set<string>();
  constructor(readonly context: ProposeContext | undefined) {}

  /** True when the sample's architecture is new to the run and to this batch. */
  isNew(decisions: readonly number[]): boolean {
    if (this.context === undefined) return true;
    const key = this.context.keyOf(decisions);
    return !this.taken.has(key) && !this.context.isKnown(key);
  }

  /** True (and the key is taken) when the sample is new. */
  accept(decisions: readonly number[]): boolean {
    if (!this.isNew(decisions)) return false;
    this.take(decisions);
    return true;
  }

  /** Takes a sample whatever its novelty, so that later draws avoid repeating it in the batch. */
  take(decisions: readonly number[]): void {
    if (this.context !== undefined) this.taken.add(this.context.keyOf(decisions));
  }

  /** The same as take. */
  force(decisions: readonly number[]): void {
    this.take(decisions);
  }
}

/**
 * A new sample when the strategy's own draws found none: uniform draws, then (in a small space) a uniform choice among
 * every sample not yet taken; a known one only when the space has no new architecture left.
 */
export function uniformNovel(space: SearchSpace, rng: Rng, filter: NoveltyFilter, tries = NOVEL_TRIES_PER_SAMPLE): number[] {
  let sample = sampleUniform(space, rng);
  for (let a = 1; a < tries && !filter.isNew(sample); a++) sample = sampleUniform(space, rng);
  if (!filter.isNew(sample) && spaceSize(space) <= BigInt(ENUMERATE_LIMIT)) {
    const left = allSamples(space).filter((d) => filter.isNew(d));
    if (left.length > 0) sample = left[randomIndex(rng, left.length)] as number[];
  }
  filter.take(sample);
  return sample;
}

/** Every sample of a small space, in mixed-radix order. */
function allSamples(space: SearchSpace): number[][] {
  const radix = optionCounts(space);
  const out: number[][] = [];
  const cur = radix.map(() => 0);
  for (;;) {
    out.push([...cur]);
    let i = cur.length - 1;
    while (i >= 0 && (cur[i] as number) + 1 === radix[i]) cur[i--] = 0;
    if (i < 0) return out;
    cur[i] = (cur[i] as number) + 1;
  }
}

/** n samples from `draw`, each new and distinct where the filter tells, else from `fallback` (e.g. uniformNovel). */
export function fillNovel(
  n: number,
  filter: NoveltyFilter,
  draw: () => number[],
  fallback: () => number[],
  tries = NOVEL_TRIES_PER_SAMPLE,
): number[][] {
  const out: number[][] = [];
  for (let k = 0; k < n; k++) {
    let sample: number[] | null = null;
    for (let a = 0; a < tries && sample === null; a++) {
      const d = draw();
      if (filter.accept(d)) sample = d;
    }
    out.push(sample ?? fallback());
  }
  return out;
}

/**
 * n samples from `draw`, new and distinct where the context tells; after `tries` draws for one slot without a new
 * one, the last draw is used as it is.
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
    filter.take(sample);
    out.push(sample);
  }
  return out;
}
