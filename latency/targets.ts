// Resource targets as users type them: `latency=15ms`, `latency=0.8x` (a factor of a seed network's latency),
// `madds=60M`, `params=2M`, each optionally with its own reward exponents: `latency=15ms,w=-0.15` or
// `latency=15ms,alpha=0,beta=-1`. Shared by `nas search` (the MnasNet reward) and `nas netadapt` (the budget).
import { UsageError } from '../common/errors.js';

export const RESOURCES = ['latency', 'madds', 'params'] as const;
export type Resource = (typeof RESOURCES)[number];

export interface Target {
  readonly resource: Resource;
  /** Milliseconds for latency, a count for madds and params; a factor when `relative`. */
  readonly value: number;
  /** `latency=0.8x`: value is a factor of a reference network's figure (NetAdapt's seed). */
  readonly relative: boolean;
  /** Reward exponent when the resource is within the target (MnasNet's alpha), if the user gave one. */
  readonly alpha?: number;
  /** Reward exponent when the resource exceeds the target (MnasNet's beta), if the user gave one. */
  readonly beta?: number;
  /** As typed. */
  readonly text: string;
}

const COUNT_UNITS: Readonly<Record<string, number>> = { '': 1, k: 1e3, K: 1e3, m: 1e6, M: 1e6, g: 1e9, G: 1e9 };
const TIME_UNITS: Readonly<Record<string, number>> = { '': 1, ms: 1, s: 1000, us: 1e-3 };

const EXAMPLES = 'e.g. latency=15ms, latency=0.8x, madds=60M, params=2M, latency=15ms,w=-0.07';

function bad(text: string, why: string): never {
  throw new UsageError(`--target ${text}: ${why} (${EXAMPLES})`);
}

function parseNumber(text: string, s: string, what: string): number {
  const v = s.trim() === '' ? Number.NaN : Number(s);
  if (!Number.isFinite(v)) bad(text, `${what} must be a number, got '${s}'`);
  return v;
}

/** Parse one `--target` value; throws a one-line UsageError naming what is wrong. */
export function parseTarget(text: string): Target {
  const [head = '', ...extras] = text.split(',');
  const eq = head.indexOf('=');
  if (eq < 0) bad(text, "expected resource=value");
  const resource = head.slice(0, eq).trim();
  if (!(RESOURCES as readonly string[]).includes(resource)) {
    bad(text, `unknown resource '${resource}', expected one of ${RESOURCES.join(', ')}`);
  }
  const raw = head.slice(eq + 1).trim();
  // A sign is read, so that '-5ms' is refused for what it is (not greater than 0), not as "not a number".
  const m = /^([-+]?[0-9]*\.?[0-9]+(?:e[-+]?[0-9]+)?)\s*([A-Za-z]*)$/.exec(raw);
  if (m === null) bad(text, `value '${raw}' is not a number with an optional unit`);
  const num = Number(m[1]);
  const unit = m[2] ?? '';
  let value: number;
  let relative = false;
  if (unit === 'x') {
    relative = true;
    value = num;
  } else if (resource === 'latency') {
    const f = TIME_UNITS[unit];
    if (f === undefined) bad(text, `unknown latency unit '${unit}', expected ms, s, us or x`);
    value = num * f;
  } else {
    const f = COUNT_UNITS[unit];
    if (f === undefined) bad(text, `unknown ${resource} unit '${unit}', expected K, M, G or x`);
    value = num * f;
  }
  if (!(value > 0)) bad(text, `the value must be greater than 0, got ${raw}`);
  let alpha: number | undefined;
  let beta: number | undefined;
  for (const e of extras) {
    const [k = '', v = ''] = e.split('=');
    const key = k.trim();
    if (key === 'w') alpha = beta = parseNumber(text, v, 'w');
    else if (key === 'alpha') alpha = parseNumber(text, v, 'alpha');
    else if (key === 'beta') beta = parseNumber(text, v, 'beta');
    else bad(text, `unknown option '${key}', expected w, alpha or beta`);
  }
  return {
    resource: resource as Resource,
    value,
    relative,
    ...(alpha === undefined ? {} : { alpha }),
    ...(beta === undefined ? {} : { beta }),
    text,
  };
}

/** Parse every `--target`; at most one per resource. */
export function parseTargets(texts: readonly string[]): Target[] {
  const out = texts.map(parseTarget);
  const seen = new Set<Resource>();
  for (const t of out) {
    if (seen.has(t.resource)) throw new UsageError(`--target: ${t.resource} is given twice; give one target per resource`);
    seen.add(t.resource);
  }
  return out;
}

/** A target's value as a human reads it: 15 ms, 60M MAdds, 2M params, 0.8x. */
export function formatTarget(t: Target): string {
  if (t.relative) return `${t.resource} ${t.value}x`;
  if (t.resource === 'latency') return `latency ${t.value} ms`;
  const v = t.value >= 1e6 ? `${+(t.value / 1e6).toFixed(3)}M` : t.value >= 1e3 ? `${+(t.value / 1e3).toFixed(3)}K` : `${t.value}`;
  return `${t.resource} ${v}`;
}
