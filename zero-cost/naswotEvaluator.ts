// `--evaluator zero-cost:naswot`: the module the search's workers import (search/evaluators.ts).
import { zeroCostEvaluator } from './evaluate.js';

export const evaluate = zeroCostEvaluator('naswot');
