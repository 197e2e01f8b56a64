// What every strategy's saved state shares: which strategy, which space (its decisions' option counts) and the
// options it was created with, checked on restore so a state never continues on another space.
import { NasError } from '../../common/errors.js';
import { checkInteger } from '../../common/intOption.js';
import type { JsonValue } from '../../common/json.js';
import { decisions, type SearchSpace } from '../../space/searchSpace.js';
import type { StrategyName } from '../types.js';

export type StateObject = { readonly [key: string]: JsonValue };

export function optionCounts(space: SearchSpace): number[] {
  return decisions(space).map((d) => d.options);
}

/** The state as an object of strategy `name` made for `space`; throws a NasError otherwise. */
export function checkState(name: StrategyName, space: SearchSpace, state: JsonValue): StateObject {
  if (state === null || typeof state !== 'object' || Array.isArray(state)) {
    throw new NasError('E_USAGE', `${name} strategy state: expected an object, got ${state === null ? 'null' : typeof state}`);
  }
  const s = state as StateObject;
  if (s['strategy'] !== name) {
    throw new NasError('E_USAGE', `strategy state is for '${String(s['strategy'])}', not '${name}'`);
  }
  if (JSON.stringify(s['options']) !== JSON.stringify(optionCounts(space))) {
    throw new NasError('E_USAGE', `${name} strategy state was saved for another search space than '${space.name}' (its decisions differ)`);
  }
  return s;
}

/** A whole-number strategy option >= min, or its default when not given; a UsageError naming the option otherwise. */
export function intOption(options: Readonly<Record<string, unknown>> | undefined, key: string, dflt: number, min = 1): number {
  const v = options?.[key];
  checkInteger(`strategy option ${key}`, v, min);
  return v ?? dflt;
}

export function numberOption(
  options: Readonly<Record<string, unknown>> | undefined,
  key: string,
  dflt: number,
  ok: (v: number) => boolean,
  want: string,
): number {
  const v = options?.[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || !ok(v)) {
    throw new NasError('E_USAGE', `strategy option ${key} must be ${want}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** One of `allowed`, or the default. */
export function stringOption<T extends string>(
  options: Readonly<Record<string, unknown>> | undefined,
  key: string,
  dflt: T,
  allowed: readonly T[],
): T {
  const v = options?.[key];
  if (v === undefined) return dflt;
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    throw new NasError('E_USAGE', `strategy option ${key} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  }
  return v as T;
}

/** Unknown option keys are mistakes (a typo would silently change nothing). */
export function rejectUnknown(name: StrategyName, options: Readonly<Record<string, unknown>> | undefined, known: readonly string[]): void {
  for (const k of Object.keys(options ?? {})) {
    if (!known.includes(k)) throw new NasError('E_USAGE', `${name} strategy: unknown option '${k}' (known: ${known.join(', ') || 'none'})`);
  }
}

export function checkBatch(name: StrategyName, pending: number | null, got: number): void {
  if (pending === null) throw new Error(`${name} strategy: observe() without a proposed batch`);
  if (pending !== got) throw new Error(`${name} strategy: observe() got ${got} results for a batch of ${pending}`);
}
