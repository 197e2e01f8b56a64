// The strategy names `nas search --strategy` accepts, apart from the strategies (the rl one loads tfjs) so that
// settings are checked without loading them.
import { UsageError } from '../../common/errors.js';
import type { StrategyName } from '../types.js';

export const STRATEGY_NAMES: readonly StrategyName[] = ['rl', 'evolution', 'random', 'predictor'];

/** `name` as a StrategyName, or a UsageError listing the strategies. */
export function checkStrategyName(name: string): StrategyName {
  const known = STRATEGY_NAMES.find((n) => n === name);
  if (known === undefined) throw new UsageError(`unknown strategy '${name}'; use one of ${STRATEGY_NAMES.join(', ')}`);
  return known;
}
