// Regularised (aging) evolution, Real et al. 2019, in the synchronous-batch protocol: each child is a copy of the
// best of `sample` members drawn (without replacement) from the population, with one decision changed to another
// option; observed children join the population in proposal order and the oldest members leave beyond `population`.
// Until the population is full, proposals are uniform. Defaults are sized for budgets of a few hundred to a few
// thousand samples (the paper used P = 100, S = 25 on 20,000): population 32, sample 16; the greedier tournament
// reached the synthetic optimum about twice as fast as P = 16, S = 4 (docs/SEARCH.md "Strategies").
import type { JsonValue } from '../../results/json.js';
import { type SearchSpace, sampleUniform } from '../../space/searchSpace.js';
import type { Observation, Strategy, StrategyFactory } from '../types.js';
import { randomIndex, type Rng, rngFromSeed, rngFromState, rngStateJson } from './rng.js';
import { checkBatch, checkState, intOption, optionCounts, rejectUnknown } from './state.js';

export const EVOLUTION_DEFAULTS = { population: 32, sample: 16 } as const;

interface Member {
  readonly decisions: readonly number[];
  readonly reward: number;
}

class EvolutionStrategy implements Strategy {
  readonly name = 'evolution' as const;
  private readonly counts: number[];
  /** Decisions with more than one option: the only ones a mutation can change. */
  private readonly mutable: number[];

  constructor(
    private readonly space: SearchSpace,
    private readonly rng: Rng,
    private readonly population: number,
    private readonly sample: number,
    /** Oldest first. */
    private readonly members: Member[],
    private pending: number | null,
  ) {
    this.counts = optionCounts(space);
    this.mutable = this.counts.flatMap((c, i) => (c > 1 ? [i] : []));
  }

  propose(n: number): number[][] {
    const out: number[][] = [];
    for (let k = 0; k < n; k++) {
      const filling = this.members.length === 0 || this.members.length + k < this.population;
      out.push(filling ? sampleUniform(this.space, this.rng) : this.mutate(this.tournament()));
    }
    this.pending = n;
    return out;
  }

  private tournament(): Member {
    const pool = this.members.map((_, i) => i);
    let best: Member | null = null;
    for (let k = 0; k < Math.min(this.sample, pool.length); k++) {
      const j = k + randomIndex(this.rng, pool.length - k);
      [pool[k], pool[j]] = [pool[j] as number, pool[k] as number];
      const m = this.members[pool[k] as number] as Member;
      // Ties go to the earlier draw, so the choice depends only on the generator.
      if (best === null || m.reward > best.reward) best = m;
    }
    return best as Member;
  }

  private mutate(parent: Member): number[] {
    const child = [...parent.decisions];
    if (this.mutable.length === 0) return child;
    const d = this.mutable[randomIndex(this.rng, this.mutable.length)] as number;
    const c = this.counts[d] as number;
    const old = child[d] as number;
    const shift = 1 + randomIndex(this.rng, c - 1); // any option but the current one
    child[d] = (old + shift) % c;
    return child;
  }

  observe(results: readonly Observation[]): void {
    checkBatch(this.name, this.pending, results.length);
    this.pending = null;
    for (const r of results) {
      if (r.reward === null) continue;
      this.members.push({ decisions: [...r.decisions], reward: r.reward });
      if (this.members.length > this.population) this.members.shift();
    }
  }

  toState(): JsonValue {
    return {
      strategy: this.name,
      options: optionCounts(this.space),
      population: this.population,
      sample: this.sample,
      members: this.members.map((m) => ({ decisions: [...m.decisions], reward: m.reward })),
      pending: this.pending,
      rng: rngStateJson(this.rng),
    };
  }
}

export const evolutionStrategy: StrategyFactory = {
  create(space, seed, options) {
    rejectUnknown('evolution', options, ['population', 'sample']);
    const population = intOption(options, 'population', EVOLUTION_DEFAULTS.population);
    const sample = intOption(options, 'sample', Math.min(EVOLUTION_DEFAULTS.sample, population));
    return new EvolutionStrategy(space, rngFromSeed(seed), population, Math.min(sample, population), [], null);
  },
  restore(space, state) {
    const s = checkState('evolution', space, state);
    const members = (s['members'] as readonly { decisions: number[]; reward: number }[]).map((m) => ({
      decisions: [...m.decisions],
      reward: m.reward,
    }));
    const pending = s['pending'];
    return new EvolutionStrategy(
      space,
      rngFromState(s['rng']),
      s['population'] as number,
      s['sample'] as number,
      members,
      typeof pending === 'number' ? pending : null,
    );
  },
};
