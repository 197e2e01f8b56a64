// The strategies by name: what `nas search --strategy` accepts.
import { UsageError } from '../../common/errors.js';
import type { StrategyFactory, StrategyName } from '../types.js';
import { evolutionStrategy } from './evolution.js';
import { predictorStrategy } from './predictor.js';
import { randomStrategy } from './random.js';
import { rlStrategy } from './rl.js';

export const STRATEGY_NAMES: readonly StrategyName[] = ['rl', 'evolution', 'random', 'predictor'];

const FACTORIES: Readonly<Record<StrategyName, StrategyFactory>> = {
  rl: rlStrategy,
  evolution: evolutionStrategy,
  random: randomStrategy,
  predictor: predictorStrategy,
};

export function strategyFactory(name: StrategyName): StrategyFactory {
  const f = (FACTORIES as Readonly<Record<string, StrategyFactory | undefined>>)[name];
  if (f === undefined || !Object.hasOwn(FACTORIES, name)) {
    throw new UsageError(`unknown strategy '${String(name)}'; use one of ${STRATEGY_NAMES.join(', ')}`);
  }
  return f;
}
