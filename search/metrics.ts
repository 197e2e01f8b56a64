// What an evaluator returns, checked before it is stored: a plain JSON object whose accuracy is a number in [0, 1].
// Each problem is a failure reason that says what the evaluator returned (a string is not "not a number"), and a
// circular or absurdly deep object is named instead of overflowing the stack.
import type { Metrics } from './types.js';

/** Deeper than this, an object is refused (well below what would overflow the stack). */
export const MAX_METRICS_DEPTH = 64;

/** A value as a failure reason shows it: its type when that is the problem, e.g. `a string ("0.5")`. */
export function describeValue(v: unknown): string {
  if (v === undefined) return 'missing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `a string (${JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}...` : v)})`;
  if (typeof v === 'number') return String(v);
  if (Array.isArray(v)) return 'an array';
  return typeof v === 'object' ? 'an object' : `a ${typeof v}`;
}

class MetricsProblem extends Error {}

/** Throws a MetricsProblem naming the first value that plain, finite JSON cannot hold. */
function checkJson(v: unknown, path: string, open: Map<object, string>): void {
  if (v === null || v === undefined || typeof v === 'string' || typeof v === 'boolean') return;
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new MetricsProblem(`${path} is ${v}`);
    return;
  }
  if (typeof v !== 'object') throw new MetricsProblem(`${path} is a ${typeof v}`);
  const back = open.get(v);
  if (back !== undefined) throw new MetricsProblem(`${path} refers back to ${back} (a circular object); return plain JSON data`);
  if (open.size >= MAX_METRICS_DEPTH) throw new MetricsProblem(`${path} is nested more than ${MAX_METRICS_DEPTH} levels deep`);
  open.set(v, path);
  const entries: [string, unknown][] = Array.isArray(v) ? v.map((x, i) => [`[${i}]`, x]) : Object.entries(v).map(([k, x]) => [`.${k}`, x]);
  for (const [k, x] of entries) checkJson(x, `${path}${k}`, open);
  open.delete(v);
}

function checkAccuracy(acc: unknown): void {
  if (typeof acc === 'number' && Number.isFinite(acc) && acc >= 0 && acc <= 1) return;
  if (typeof acc === 'number') {
    throw new MetricsProblem(Number.isFinite(acc) ? `accuracy ${acc} is outside [0, 1]` : `accuracy ${acc} is not a finite number in [0, 1]`);
  }
  throw new MetricsProblem(`accuracy is ${describeValue(acc)}; the evaluator must return a number in [0, 1]`);
}

function checkLatency(lat: unknown): void {
  if (lat === undefined || (typeof lat === 'number' && lat > 0)) return;
  const what = typeof lat === 'number' ? String(lat) : describeValue(lat);
  throw new MetricsProblem(`latencyMs is ${what}; the evaluator must return a number of milliseconds > 0 (or leave it out)`);
}

/** Metrics as the store can keep them: accuracy a finite number in [0, 1], every other value plain finite JSON. */
export function checkMetrics(raw: unknown): Metrics {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error(`the evaluator returned ${describeValue(raw)}, not a metrics object such as { accuracy: 0.9 }`);
  }
  try {
    const m = raw as Record<string, unknown>;
    checkAccuracy(m['accuracy']);
    checkJson(m, 'metrics', new Map());
    checkLatency(m['latencyMs']);
    // A plain copy: class instances and prototypes do not survive the store anyway.
    return JSON.parse(JSON.stringify(m)) as Metrics;
  } catch (e) {
    if (e instanceof MetricsProblem) throw new Error(`invalid metrics: ${e.message}`);
    throw e;
  }
}
