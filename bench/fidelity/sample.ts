// The architectures of a fidelity study: spread over the space's cost range, not drawn at random, so that a rank
// correlation has both small and large networks to order. Many uniform samples from the seeded generator are sorted
// by MAdds (the search's default latency source, `--latency madds`: free and the same on every machine), and N are
// taken at evenly spaced quantiles of that order, from the cheapest to the dearest.
import seedrandom from 'seedrandom';
import { UsageError } from '../../common/errors.js';
import type { ArchSpec } from '../../space/arch.js';
import { encodeArch } from '../../space/blockString.js';
import { costOf } from '../../space/cost.js';
import { resolve } from '../../space/resolve.js';
import { applySample, type SearchSpace, sampleUniform } from '../../space/searchSpace.js';

export interface StudyArch {
  /** 0..N-1, cheapest first. */
  readonly index: number;
  readonly arch: ArchSpec;
  readonly canonical: string;
  readonly decisions: readonly number[];
  readonly madds: number;
  readonly params: number;
  /** Where in the pool's MAdds order it was taken (0: the cheapest, 1: the dearest). */
  readonly quantile: number;
}

type Drawn = Omit<StudyArch, 'index' | 'quantile'>;

function drawPool(space: SearchSpace, pool: number, seed: number): Drawn[] {
  const rng = seedrandom(`proxy-fidelity-${seed}`);
  const seen = new Map<string, Drawn>();
  for (let i = 0; i < pool; i++) {
    const decisions = sampleUniform(space, rng);
    const arch = applySample(space, decisions);
    const canonical = encodeArch(arch);
    if (seen.has(canonical)) continue;
    const cost = costOf(resolve(arch));
    seen.set(canonical, { arch, canonical, decisions, madds: cost.madds, params: cost.params });
  }
  return [...seen.values()].sort((a, b) => a.madds - b.madds || (a.canonical < b.canonical ? -1 : 1));
}

/**
 * `n` distinct architectures of `space` at evenly spaced MAdds quantiles of `pool` seeded uniform samples, of those
 * with at most `maxMadds` MAdds when given (a study on the part of the space a latency target leaves, or that this
 * machine can train).
 */
export function sampleAcrossCost(space: SearchSpace, n: number, pool: number, seed: number, maxMadds: number | null = null): StudyArch[] {
  const drawn = drawPool(space, pool, seed).filter((d) => maxMadds === null || d.madds <= maxMadds);
  if (drawn.length < n) {
    const cap = maxMadds === null ? '' : ` with at most ${maxMadds} MAdds`;
    throw new UsageError(`--archs ${n}: the ${pool} samples drawn hold only ${drawn.length} distinct architectures${cap}; raise --pool${cap ? ' or --max-madds' : ''}`);
  }
  // With at least n distinct samples, round(i (M - 1) / (n - 1)) is strictly increasing: n distinct picks.
  return Array.from({ length: n }, (_, i) => {
    const q = n === 1 ? 0 : i / (n - 1);
    const pick = drawn[Math.round(q * (drawn.length - 1))];
    if (pick === undefined) throw new Error('quantile index out of range');
    return { ...pick, index: i, quantile: q };
  });
}
