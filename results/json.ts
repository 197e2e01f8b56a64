// JSON columns: what goes in is checked here (strictly: JSON.stringify would quietly turn NaN into null and a Map
// into {}), and the database checks it again with json_valid, so no tool can store text that does not parse.
import { createHash } from 'node:crypto';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };

/** Thrown when a value bound for a JSON column is not plain JSON data: a programming error, not the user's. */
export class JsonColumnError extends TypeError {
  constructor(column: string, path: string, why: string) {
    super(`${column}: not JSON data at ${path}: ${why}`);
    this.name = 'JsonColumnError';
  }
}

function check(value: unknown, column: string, path: string): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new JsonColumnError(column, path, `${value} is not a finite number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v: unknown, i) => check(v, column, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new JsonColumnError(column, path, `a ${value.constructor.name} is not a plain object`);
    }
    for (const [k, v] of Object.entries(value)) {
      // Absent optional fields are dropped, as JSON.stringify does.
      if (v !== undefined) check(v, column, `${path}.${k}`);
    }
    return;
  }
  throw new JsonColumnError(column, path, `a ${typeof value} is not JSON`);
}

/** JSON text for a column; throws JsonColumnError for NaN, Infinity, undefined, functions, class instances. */
export function encodeJson(value: unknown, column: string): string {
  check(value, column, '$');
  return JSON.stringify(value);
}

export function encodeJsonOrNull(value: unknown, column: string): string | null {
  return value === undefined || value === null ? null : encodeJson(value, column);
}

export function decodeJson(text: string): JsonValue {
  return JSON.parse(text) as JsonValue;
}

export function decodeJsonOrNull(text: string | null): JsonValue | null {
  return text === null ? null : decodeJson(text);
}

/** JSON with object keys sorted at every level, so equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  check(value, 'canonicalJson', '$');
  const sort = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(sort);
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v)
        .filter(([, x]) => x !== undefined)
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return Object.fromEntries(entries.map(([k, x]) => [k, sort(x)]));
    }
    return v;
  };
  return JSON.stringify(sort(value));
}

/**
 * The evaluation key of a candidate: a short hash of the settings that decide its metrics (proxy-training config,
 * dataset, input size, latency model...). A cached result is reused only when the keys are equal.
 */
export function evalKeyOf(evaluationSettings: unknown): string {
  return createHash('sha256').update(canonicalJson(evaluationSettings)).digest('hex').slice(0, 16);
}
