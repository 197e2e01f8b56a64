// Where evaluations run. The loop hands an Engine one task per candidate and gets back an outcome that never throws:
// an evaluator exception, a crashed worker or invalid metrics become { ok: false, reason }, so one bad candidate costs
// the search that candidate only. Engines: in process (--workers 0), a Piscina pool (--workers N), one child process
// per GPU (--gpus 0,1), BullMQ jobs on Redis taken by `nas worker` processes (--queue URL).
import type { LatencySourceSpec } from '../../latency/resources.js';
import type { JsonValue } from '../../common/json.js';
import type { ArchSpec } from '../../space/arch.js';
import type { Metrics } from '../types.js';

/** What every worker needs once: which evaluator to load and how to fill in latency. Plain data (sent to workers). */
export interface WorkerSetup {
  /** The evaluator module, as a file: URL; it exports `evaluate` (search/types.ts EvaluateFn). */
  readonly evaluatorUrl: string;
  /**
   * Where latency comes from when the evaluator does not return latencyMs; null: leave it out. The worker loads the
   * source once (a LUT is read once, a module imported once).
   */
  readonly latency: LatencySourceSpec | null;
}

/** One candidate to evaluate: plain data (structured-cloned to workers). */
export interface EvalTask {
  readonly arch: ArchSpec;
  /**
   * The task's name, unique within its run, when the architecture alone is not (NetAdapt: iteration and proposal); a
   * queue job's id is made from it (default: the canonical architecture).
   */
  readonly id?: string;
  /** EvalContext without the progress callback, which cannot cross a thread. */
  readonly context: {
    readonly seed: number;
    readonly arch: string;
    readonly decisions?: readonly number[];
    readonly config: Readonly<Record<string, JsonValue>>;
  };
}

export type EvalOutcome =
  | { readonly ok: true; readonly metrics: Metrics; readonly seconds: number }
  | { readonly ok: false; readonly reason: string; readonly seconds: number };

export type EngineKind = 'in-process' | 'pool' | 'processes' | 'queue';

export interface Engine {
  readonly kind: EngineKind;
  /** How many evaluations run at once; the loop keeps this many in flight. */
  readonly concurrency: number;
  /** Evaluates one candidate; resolves with a failure outcome instead of rejecting. */
  run(task: EvalTask): Promise<EvalOutcome>;
  /** Stops the workers; pending runs resolve as failures. */
  close(): Promise<void>;
}

/**
 * Seconds one evaluation may take before it fails as timed out and its worker is replaced (a pool thread is
 * terminated, a GPU process killed); null: no limit. The in-process engine cannot stop a running evaluation: it stops
 * waiting for it (search/engine/inProcess.ts).
 */
export type EvalTimeout = number | null;

/** The failure reason of a timed-out evaluation. */
export function timedOutReason(seconds: number): string {
  return `timed out after ${seconds} s (--eval-timeout)`;
}

/** The outcome of an evaluation the engine stopped waiting for after `seconds`. */
export function timedOut(seconds: number, t0: number): EvalOutcome {
  return { ok: false, reason: timedOutReason(seconds), seconds: (performance.now() - t0) / 1000 };
}

/** The first line of an error, as a failure reason. */
export function reasonOf(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  const line = err.message.split('\n')[0] ?? '';
  const name = err.name === 'Error' || err.name === '' ? '' : `${err.name}: `;
  return `${name}${line}`.slice(0, 500) || 'unknown error';
}
