// What a search is asked to do: its settings (stored as the run's config, so a resume needs nothing else), the
// limits of a session, and their checks. Settings read back from the store are checked as carefully as typed ones.
import { NasError, UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import { parseTargets, type Target } from '../latency/targets.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../common/json.js';
import { type SearchSpace, validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import type { RewardOptions } from './reward.js';
import { checkStrategyName } from './strategies/names.js';
import type { StrategyName } from './types.js';

/** A built-in space by name, or a user's space file with its validated JSON (kept in the run, so resume needs no file). */
export type SpaceRef = { readonly name: string } | { readonly file: string; readonly json: JsonValue };

/** Everything that decides a search's samples and results: stored as the run's config. */
export interface SearchSettings {
  readonly space: SpaceRef;
  readonly strategy: StrategyName;
  readonly strategyOptions?: { readonly [key: string]: JsonValue };
  /** `--target` texts as typed (absolute targets only). */
  readonly targets: readonly string[];
  readonly reward: RewardOptions;
  /** 'proxy', 'synthetic', or a module's absolute path. */
  readonly evaluator: string;
  /** Handed to the evaluator as EvalContext.config (dataset, proxy epochs, input, backend, space...). */
  readonly evaluatorConfig: { readonly [key: string]: JsonValue };
  readonly latency: LatencySourceSpec;
  readonly batch: number;
  /** Distinct candidates (done or failed) the run ends with. */
  readonly budget: number;
  /** Stop at this much time in one session (the evaluations in flight go back to the queue); null: no limit. */
  readonly timeSeconds: number | null;
  /** More failed candidates than this stops the run as failed; null: max(5, 25% of the budget). */
  readonly maxFailures: number | null;
  /** Stop ('converged') after this many distinct candidates without a better reward; null or absent: never. */
  readonly patience?: number | null;
}

export interface ResumeOverrides {
  readonly budget?: number;
  readonly timeSeconds?: number | null;
  readonly maxFailures?: number;
  readonly patience?: number | null;
}

/** When a session stops: distinct candidates, session time, failures, candidates without improvement. */
export interface Limits {
  readonly budget: number;
  readonly timeSeconds: number | null;
  readonly maxFailures: number | null;
  readonly patience: number | null;
}

export function defaultMaxFailures(budget: number): number {
  return Math.max(5, Math.ceil(budget / 4));
}

/** Checks settings a library caller may have built by hand; the CLI has checked the same things already. */
export function checkSettings(s: SearchSettings): Target[] {
  checkInteger('--batch', s.batch, 1);
  checkInteger('--budget', s.budget, 1);
  if (s.maxFailures !== null) checkInteger('--max-failures', s.maxFailures, 0);
  if (s.timeSeconds !== null && !(s.timeSeconds > 0)) throw new UsageError(`--time must be positive, got ${s.timeSeconds}`);
  if (s.patience !== undefined && s.patience !== null) checkInteger('--patience', s.patience, 1);
  if (s.targets.length === 0) throw new UsageError('give at least one --target, e.g. --target latency=15ms');
  const targets = parseTargets(s.targets);
  const rel = targets.find((t) => t.relative);
  if (rel !== undefined) {
    throw new UsageError(`--target ${rel.text}: a relative target needs a reference network: give an absolute value, e.g. latency=15ms, or --latency paired:REF`);
  }
  checkStrategyName(s.strategy);
  return targets;
}

export function resolveSpace(ref: SpaceRef): SearchSpace {
  return 'name' in ref ? builtinSpace(ref.name) : validateSpace(ref.json);
}

export function spaceLabel(ref: SpaceRef): string {
  return 'name' in ref ? ref.name : ref.file;
}

/** The latency source the workers use: when a target needs latency, or when it costs nothing (MAdds); else none. */
export function latencyOf(settings: SearchSettings, targets: readonly Target[]): LatencySourceSpec | null {
  const needed = targets.some((t) => t.resource === 'latency') || settings.latency.kind === 'madds';
  return needed ? settings.latency : null;
}

/** Parses a duration option (`--time` unless named): 2h, 30m, 90s, or a number of seconds. */
export function parseDuration(text: string, option = '--time'): number {
  const m = /^\s*([0-9]*\.?[0-9]+)\s*(h|m|s|)\s*$/.exec(text);
  const v = m === null ? Number.NaN : Number(m[1]) * ({ h: 3600, m: 60, s: 1, '': 1 } as const)[m[2] as 'h' | 'm' | 's' | ''];
  if (!(v > 0)) throw new UsageError(`${option} ${text}: expected a duration such as 2h, 30m or 90s`);
  return v;
}


/**
 * A search run's stored config as SearchSettings: the fields the loop relies on are checked (types, not values: the
 * values are checked again by checkSettings and the preflight), so a damaged row is a clear error, not a crash later.
 */
export function settingsFromStore(runId: string, config: JsonValue): SearchSettings {
  const bad = (what: string): NasError => new NasError('E_IO', `run ${runId}: its stored settings are damaged (${what}); the run cannot be resumed`);
  if (!isJsonObject(config) || !hasSettingsShape(config, bad)) throw bad('not an object');
  return config;
}

/** True when every field the loop reads has its type; else throws bad(what is wrong). */
function hasSettingsShape(config: JsonObject, bad: (what: string) => NasError): config is JsonObject & SearchSettings {
  const want = (key: string, ok: (v: JsonValue | undefined) => boolean, what: string): void => {
    if (!ok(config[key])) throw bad(`${key} is not ${what}`);
  };
  const num = (v: JsonValue | undefined): boolean => typeof v === 'number';
  const numOrNull = (v: JsonValue | undefined): boolean => v === null || typeof v === 'number';
  want('space', (v) => isJsonObject(v) && (typeof v['name'] === 'string' || (typeof v['file'] === 'string' && v['json'] !== undefined)), 'a space reference');
  want('strategy', (v) => typeof v === 'string', 'a strategy name');
  want('targets', (v) => Array.isArray(v) && v.every((t) => typeof t === 'string'), 'a list of targets');
  want('reward', (v) => isJsonObject(v) && typeof v['mode'] === 'string', 'reward options');
  want('evaluator', (v) => typeof v === 'string', 'an evaluator');
  want('evaluatorConfig', isJsonObject, 'an object');
  want('latency', (v) => isJsonObject(v) && typeof v['kind'] === 'string', 'a latency source');
  for (const k of ['batch', 'budget']) want(k, num, 'a number');
  for (const k of ['timeSeconds', 'maxFailures']) want(k, numOrNull, 'a number or null');
  want('patience', (v) => v === undefined || numOrNull(v), 'a number or null');
  want('strategyOptions', (v) => v === undefined || isJsonObject(v), 'an object');
  return true;
}
