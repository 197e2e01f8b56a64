// Regularised (aging) evolution, Real et al. 2019, in the synchronous-batch protocol, with the variation operators of
// Once-for-All's evolutionary search (Cai et al. 2020): a child is either a uniform crossover of two tournament
// winners (probability `crossover`) or a mutation of one winner, in which each decision changes with probability
// `mutationRate` (redrawn until at least one does, so a child is never its parent; rate 0 = exactly one decision, the
// classic operator). Tournaments draw `sample` members without replacement; observed children join the population in
// proposal order and the oldest members leave beyond `population`. Until the population is full, proposals are
// uniform. Given a ProposeContext, every child is new to the run and to its batch: a rejected child is redrawn, then
// mutated in more and more decisions, then replaced by a uniform sample, so the run spends its whole budget.
import type { JsonValue } from '../../common/json.js';
import { type SearchSpace, sampleUniform } from '../../space/searchSpace.js';
import type { Observation, ProposeContext, Strategy, StrategyFactory } from '../types.js';
import { NOVEL_TRIES_PER_SAMPLE, novelSamples } from './novel.js';
import { randomIndex, type Rng, rngFromSeed, rngFromState, rngStateJson } from './rng.js';
import { checkBatch, checkState, intOption, numberOption, optionCounts, rejectUnknown, type StateObject } from './state.js';

/**
 * Defaults, measured with a ProposeContext (every child new) on NAS-Bench-201's three tables (6 decisions; 100 seeds,
 * distinct evaluations to the table's best) and on the synthetic fixture (43 decisions; 40 seeds; soft reward, hard
 * reward at 15 ms where the optimum is feasible, and at 13 ms where the constraint binds); docs/SEARCH.md "Strategies".
 * - population 32 / sample 16, as before: 64/32 and 100/25 were slower on NAS-Bench-201 and no better on the fixture,
 *   16/8 no faster.
 * - crossover 0.75: 0.5-0.75 beat 0 and 0.25 on every table and reward (NAS-Bench-201 cifar10, one-decision
 *   mutation: median 125 without crossover, 106 at 0.75), 0.75 beat 0.5 on NAS-Bench-201 and the binding constraint;
 *   1 (crossover only, no mutation) was slower on NAS-Bench-201 (131-175 against 105-134).
 * - mutationRate 0.02 (about 1.4 changed decisions of 43, one of 6): OFA's 0.1 suits its elitist population (the best
 *   quarter survives each generation); an aging population loses its best, and 0.1 lost everywhere on the fixture
 *   (soft: 862 evaluations to the optimum against 553 at 0.05, crossover 0.5; without crossover, 0.05 and above
 *   reached it in at most 3 of 20 seeds). 0.02 beat 0 where the latency constraint binds, where an improvement often
 *   takes two changed decisions at once.
 */
export const EVOLUTION_DEFAULTS = { population: 32, sample: 16, mutationRate: 0.02, crossover: 0.75 } as const;

/** What a state saved before mutationRate and crossover existed continues with: the one-decision mutation, no crossover. */
const LEGACY_VARIATION = { mutationRate: 0, crossover: 0 } as const;

/** Novelty retries of one slot: the first quarter are ordinary children, the next half escalations, the rest uniform. */
const ORDINARY_TRIES = NOVEL_TRIES_PER_SAMPLE / 4;
const UNIFORM_FROM = (NOVEL_TRIES_PER_SAMPLE * 3) / 4;
/** Escalated mutations change 2 decisions for this many tries, then 3, and so on. */
const TRIES_PER_ESCALATION = 8;

interface Member {
  readonly decisions: readonly number[];
  readonly reward: number;
}

interface Variation {
  readonly mutationRate: number;
  readonly crossover: number;
}

/**
 * The first decision (of m) that a mutation changes, given that at least one does and each does with probability p:
 * P(k) = (1-p)^k p / (1 - (1-p)^m), drawn by inverting its distribution function at u.
 */
function firstChanged(u: number, p: number, m: number): number {
  if (p >= 1) return 0;
  const q = 1 - p;
  const k = Math.floor(Math.log(1 - u * (1 - Math.pow(q, m))) / Math.log(q));
  return Math.max(0, Math.min(m - 1, k));
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
    private readonly variation: Variation,
    /** Oldest first. */
    private readonly members: Member[],
    private pending: number | null,
  ) {
    this.counts = optionCounts(space);
    this.mutable = this.counts.flatMap((c, i) => (c > 1 ? [i] : []));
  }

  propose(n: number, context?: ProposeContext): number[][] {
    // novelSamples draws attempt 0 once at the start of each slot: the slot's index decides whether it fills the
    // population (uniform) or breeds.
    let slot = -1;
    const out = novelSamples(n, context, (attempt) => {
      if (attempt === 0) slot++;
      const filling = this.members.length === 0 || this.members.length + slot < this.population;
      if (filling) return sampleUniform(this.space, this.rng);
      return this.child(attempt);
    });
    this.pending = n;
    return out;
  }

  /** Attempt `attempt` at a new child: ordinary variation first, then wider mutations, then a uniform sample. */
  private child(attempt: number): number[] {
    if (attempt >= UNIFORM_FROM) return sampleUniform(this.space, this.rng);
    if (attempt >= ORDINARY_TRIES) {
      const changes = 2 + Math.floor((attempt - ORDINARY_TRIES) / TRIES_PER_ESCALATION);
      return this.mutateExactly(this.tournament(null).decisions, changes);
    }
    const { crossover, mutationRate } = this.variation;
    if (crossover > 0 && this.members.length > 1 && this.rng() < crossover) {
      const a = this.tournament(null);
      return this.cross(a.decisions, this.tournament(a).decisions);
    }
    return this.mutate(this.tournament(null).decisions, mutationRate);
  }

  /** The best of `sample` members drawn without replacement (from all but `exclude`). */
  private tournament(exclude: Member | null): Member {
    const pool = this.members.flatMap((m, i) => (m === exclude ? [] : [i]));
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

  /** Each decision from either parent with probability 1/2 (a draw only where they differ). */
  private cross(a: readonly number[], b: readonly number[]): number[] {
    return a.map((x, i) => (x === b[i] || this.rng() < 0.5 ? x : (b[i] as number)));
  }

  /** Each mutable decision changes with probability p, given that at least one does (p = 0: exactly one, uniform). */
  private mutate(parent: readonly number[], p: number): number[] {
    const child = [...parent];
    const m = this.mutable.length;
    if (m === 0) return child;
    const first = p === 0 ? randomIndex(this.rng, m) : firstChanged(this.rng(), p, m);
    this.change(child, this.mutable[first] as number);
    if (p > 0) {
      for (let k = first + 1; k < m; k++) if (this.rng() < p) this.change(child, this.mutable[k] as number);
    }
    return child;
  }

  /** `changes` distinct mutable decisions, uniformly chosen, each to another option. */
  private mutateExactly(parent: readonly number[], changes: number): number[] {
    const child = [...parent];
    const pool = [...this.mutable];
    for (let k = 0; k < Math.min(changes, pool.length); k++) {
      const j = k + randomIndex(this.rng, pool.length - k);
      [pool[k], pool[j]] = [pool[j] as number, pool[k] as number];
      this.change(child, pool[k] as number);
    }
    return child;
  }

  /** Decision d to any option but its current one, uniformly. */
  private change(child: number[], d: number): void {
    const c = this.counts[d] as number;
    child[d] = ((child[d] as number) + 1 + randomIndex(this.rng, c - 1)) % c;
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
      mutationRate: this.variation.mutationRate,
      crossover: this.variation.crossover,
      members: this.members.map((m) => ({ decisions: [...m.decisions], reward: m.reward })),
      pending: this.pending,
      rng: rngStateJson(this.rng),
    };
  }
}

const isProbability = (v: number): boolean => v >= 0 && v <= 1;

/** mutationRate and crossover from options (create) or a saved state (restore), each a probability. */
function variationOf(source: Readonly<Record<string, unknown>> | StateObject | undefined, dflt: Variation): Variation {
  return {
    mutationRate: numberOption(source, 'mutationRate', dflt.mutationRate, isProbability, 'a number in [0, 1]'),
    crossover: numberOption(source, 'crossover', dflt.crossover, isProbability, 'a number in [0, 1]'),
  };
}

export const evolutionStrategy: StrategyFactory = {
  create(space, seed, options) {
    rejectUnknown('evolution', options, ['population', 'sample', 'mutationRate', 'crossover']);
    const population = intOption(options, 'population', EVOLUTION_DEFAULTS.population);
    const sample = intOption(options, 'sample', Math.min(EVOLUTION_DEFAULTS.sample, population));
    const variation = variationOf(options, EVOLUTION_DEFAULTS);
    return new EvolutionStrategy(space, rngFromSeed(seed), population, Math.min(sample, population), variation, [], null);
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
      // A state saved before these options existed continues as it ran: one-decision mutations, no crossover.
      variationOf(s, LEGACY_VARIATION),
      members,
      typeof pending === 'number' ? pending : null,
    );
  },
};
