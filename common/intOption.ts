// The check of a whole-number option (a count, a seed, a number of workers), shared by the CLI and by what it calls,
// so that every such option fails with the same one line: what it must be and what it got.
import { UsageError } from './errors.js';

function shown(value: unknown): string {
  if (typeof value === 'number') return Number.isNaN(value) ? 'a value that is not a number' : String(value);
  return JSON.stringify(value) ?? String(value);
}

/**
 * A UsageError unless `value` is an integer >= min, e.g. `--batch must be an integer >= 1, got 2.5`; `option` is the
 * option as the user gave it (`--batch`, `strategy option elite`) and `what` says what it counts. An option not
 * given (undefined) passes.
 */
export function checkInteger(option: string, value: unknown, min = 1, what?: string): asserts value is number | undefined {
  if (value === undefined || (typeof value === 'number' && Number.isInteger(value) && value >= min)) return;
  throw new UsageError(`${option} must be an integer >= ${min}${what === undefined ? '' : ` (${what})`}, got ${shown(value)}`);
}
