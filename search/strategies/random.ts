// Random search: independent uniform draws per decision from the strategy's seeded generator.
import type { JsonValue } from '../../common/json.js';
import { type SearchSpace, sampleUniform } from '../../space/searchSpace.js';
import type { Observation, ProposeContext, Strategy, StrategyFactory } from '../types.js';
import { fillNovel, NoveltyFilter, uniformNovel } from './novel.js';
import { type Rng, rngFromSeed, rngFromState, rngStateJson } from './rng.js';
import { checkState, optionCounts, rejectUnknown } from './state.js';

class RandomStrategy implements Strategy {
  readonly name = 'random' as const;
  constructor(
    private readonly space: SearchSpace,
    private readonly rng: Rng,
  ) {}

  /** Uniform draws, new to the run where the context tells (sampling without replacement, in effect). */
  propose(n: number, context?: ProposeContext): number[][] {
    const filter = new NoveltyFilter(context);
    const draw = (): number[] => sampleUniform(this.space, this.rng);
    return fillNovel(n, filter, draw, () => uniformNovel(this.space, this.rng, filter));
  }

  observe(_results: readonly Observation[]): void {}

  toState(): JsonValue {
    return { strategy: this.name, options: optionCounts(this.space), rng: rngStateJson(this.rng) };
  }
}

export const randomStrategy: StrategyFactory = {
  create(space, seed, options) {
    rejectUnknown('random', options, []);
    return new RandomStrategy(space, rngFromSeed(seed));
  },
  restore(space, state) {
    const s = checkState('random', space, state);
    return new RandomStrategy(space, rngFromState(s['rng']));
  },
};
