// What the commands that read a checkpoint (eval, predict, export) share: the --allow-fallback option and the check
// of their count options, whose messages name the option as typed and its range.
import { UsageError } from '../common/errors.js';

export const allowFallbackOption = {
  type: 'boolean',
  default: false,
  describe: "when a run directory's newest checkpoint is corrupt, use the newest intact one (and say so) instead of refusing",
} as const;

/** A count option (--limit, --batch, --top) must be a whole number >= 1. */
export function checkCount(option: string, value: number, what?: string): void {
  if (!Number.isInteger(value) || value < 1) {
    const got = Number.isNaN(value) ? 'a value that is not a number' : String(value);
    throw new UsageError(`${option} must be an integer >= 1${what === undefined ? '' : ` (${what})`}, got ${got}`);
  }
}
