// Why a search session stops, decided before each batch, and the message that says so.
import type { Snapshot } from './snapshot.js';

export type StopReason = 'budget' | 'time' | 'converged' | 'exhausted' | 'failures';

/**
 * Batches in a row with nothing new before the search gives up. Every built-in strategy proposes new architectures
 * while the space has them (search/strategies/novel.ts), so this ends only a nearly exhausted space or a user strategy
 * that keeps re-proposing.
 */
export const MAX_EMPTY_BATCHES = 50;

export interface StopRules {
  readonly budget: number;
  readonly maxFailures: number;
  readonly patience: number | null;
  readonly timeSeconds: number | null;
  /** Samples of the space (spaceSize). */
  readonly spaceSize: bigint;
}

/** The reason to stop before the next batch, or null to go on. */
export function stopBefore(snap: Snapshot, rules: StopRules, sessionSamples: number, elapsedSeconds: number): StopReason | null {
  if (snap.failed > rules.maxFailures) return 'failures';
  if (snap.distinct >= rules.budget) return 'budget';
  if (rules.patience !== null && (snap.sinceBest ?? 0) >= rules.patience) return 'converged';
  if (snap.emptyStreak >= MAX_EMPTY_BATCHES || BigInt(snap.distinct) >= rules.spaceSize) return 'exhausted';
  // Checked after a batch, so that every session makes progress (the deadline also cuts a batch short).
  if (rules.timeSeconds !== null && sessionSamples > 0 && elapsedSeconds >= rules.timeSeconds) return 'time';
  return null;
}

export interface StopFacts {
  readonly runId: string;
  readonly distinct: number;
  readonly failed: number;
  /** Evaluations put back in the queue when the deadline cut a batch short; null: it did not. */
  readonly requeuedAtDeadline: number | null;
  /** The reason of the run's last failed candidate (for 'failures'). */
  readonly lastFailure: () => string;
}

export function stopMessage(reason: StopReason, rules: StopRules, x: StopFacts): string {
  const of = `${x.distinct} of ${rules.budget} distinct candidates`;
  switch (reason) {
    case 'budget':
      return `reached the budget of ${x.distinct} distinct candidates`;
    case 'time': {
      const n = x.requeuedAtDeadline;
      const inFlight = n === null ? '' : `, with ${n} evaluation${n === 1 ? '' : 's'} in flight put back in the queue`;
      return `stopped at the time limit (${rules.timeSeconds} s) after ${of}${inFlight}; \`nas search --resume ${x.runId}\` continues`;
    }
    case 'converged':
      return `converged: no better reward in the last ${rules.patience} distinct candidates (--patience), after ${of}`;
    case 'exhausted':
      return `stopped after ${of}: the space is exhausted (every sample evaluated, or ${MAX_EMPTY_BATCHES} batches in a row proposed only architectures already evaluated)`;
    case 'failures':
      return `${x.failed} candidates failed, more than --max-failures ${rules.maxFailures} (last: ${x.lastFailure()}); stopped after ${of}`;
  }
}
