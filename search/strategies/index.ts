// The strategies by name: what `nas search --strategy` accepts.
import type { StrategyFactory, StrategyName } from '../types.js';
import { evolutionStrategy } from './evolution.js';
import { checkStrategyName } from './names.js';
import { predictorStrategy } from './predictor.js';
import { randomStrategy } from './random.js';
import { rlStrategy } from './rl.js';

export { STRATEGY_NAMES } from './names.js';

const FACTORIES: Readonly<Record<StrategyName, StrategyFactory>> = {
  rl: rlStrategy,
  evolution: evolutionStrategy,
  random: randomStrategy,
  predictor: predictorStrategy,
};

export function strategyFactory(name: StrategyName): StrategyFactory {
  return FACTORIES[checkStrategyName(name)];
}
