// JSON as data: the JsonValue type, the check that a value is plain JSON (strictly: JSON.stringify would quietly
// turn NaN into null and a Map into {}), canonical text and the evaluation key built from it. Every layer uses
// these; the store's JSON columns (results/json.ts) are one user.
import { createHash } from 'node:crypto';

export type JsonValue = null | boolean | number | string | readonly JsonValue[] | { readonly [key: string]: JsonValue };
export type JsonObject = { readonly [key: string]: JsonValue };

/** True for a JSON object (not null, not an array); undefined (a missing key) is not one. */
export const isJsonObject = (v: JsonValue | undefined): v is JsonObject => v !== null && v !== undefined && typeof v === 'object' && !Array.isArray(v);

/** Thrown when a value bound for a JSON column is not plain JSON data: a programming error, not the user's. */
export class JsonColumnError extends TypeError {
  constructor(column: string, path: string, why: string) {
    super(`${column}: not JSON data at ${path}: ${why}`);
    this.name = 'JsonColumnError';
  }
}

/** Throws JsonColumnError (naming `column` and the path inside the value) unless value is plain JSON data. */
export function checkJson(value: unknown, column: string, path = '$'): void {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new JsonColumnError(column, path, `${value} is not a finite number`);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((v: unknown, i) => checkJson(v, column, `${path}[${i}]`));
    return;
  }
  if (typeof value === 'object') {
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto !== Object.prototype && proto !== null) {
      throw new JsonColumnError(column, path, `a ${value.constructor.name} is not a plain object`);
    }
    for (const [k, v] of Object.entries(value)) {
      // Absent optional fields are dropped, as JSON.stringify does.
      if (v !== undefined) checkJson(v, column, `${path}.${k}`);
    }
    return;
  }
  throw new JsonColumnError(column, path, `a ${typeof value} is not JSON`);
}

/** JSON with object keys sorted at every level, so equal data gives equal text. */
export function canonicalJson(value: unknown): string {
  checkJson(value, 'canonicalJson');
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
