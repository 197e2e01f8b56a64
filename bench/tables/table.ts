// A benchmark table opened for one accuracy column: each row's metrics as the search sees them (the table
// evaluator returns them, the harness computes the table's best reward from them: one function for both, so the two
// agree to the bit), and its held-out test accuracy. Opened once per process.
import { UsageError } from '../../common/errors.js';
import type { JsonValue } from '../../common/json.js';
import type { Metrics } from '../../search/types.js';
import { type CostMetric, type LoadedAdapter, loadAdapter } from './adapter.js';
import { readCsvFile } from './csv.js';

/** Which table, adapter and column: the table evaluator's context.config (plain JSON, stored with each run). */
export interface TableSpec {
  /** How the user named the table (`nb201`, a file as typed): for messages. */
  readonly name: string;
  /** The adapter module's absolute path. */
  readonly adapter: string;
  /** The table file's absolute path. */
  readonly table: string;
  /** The accuracy column searched on. */
  readonly column: string;
  /**
   * Reported as latencyMs for every row when the adapter maps no latency column, so that the accuracy-only target
   * (exponent 0, see bench/searchHarness.ts) has a latency to read; it never changes a reward.
   */
  readonly latencyStandInMs?: number;
}

/** One row: its metrics as the search sees them (accuracy in [0, 1], mapped costs) and its test accuracy. */
export interface TableRow {
  readonly metrics: Metrics;
  /** The test column's accuracy in [0, 1], or null when the searched column has none. */
  readonly test: number | null;
}

export interface BenchTable {
  readonly spec: TableSpec;
  readonly adapter: LoadedAdapter;
  /** The column reported beside the searched one (adapter.test), or null. */
  readonly testColumn: string | null;
  /** The rows by key, in file order. */
  readonly rows: ReadonlyMap<string, TableRow>;
}

/** The spec from an evaluator's context.config; a malformed one is a UsageError naming the key. */
export function tableSpecOf(config: Readonly<Record<string, JsonValue>>): TableSpec {
  const str = (k: string): string => {
    const v = config[k];
    if (typeof v !== 'string' || v === '') throw new UsageError(`table evaluator: config.${k} must be a non-empty string, got ${JSON.stringify(v)}`);
    return v;
  };
  const standIn = config['latencyStandInMs'];
  if (standIn !== undefined && !(typeof standIn === 'number' && standIn > 0)) {
    throw new UsageError(`table evaluator: config.latencyStandInMs must be a number > 0, got ${JSON.stringify(standIn)}`);
  }
  const spec = { name: str('name'), adapter: str('adapter'), table: str('table'), column: str('column') };
  return standIn === undefined ? spec : { ...spec, latencyStandInMs: standIn };
}

const opened = new Map<string, Promise<BenchTable>>();

/** The table for a spec, read and checked once per process (the harness and the in-process evaluator share it). */
export function openTable(spec: TableSpec): Promise<BenchTable> {
  const k = JSON.stringify(spec);
  let p = opened.get(k);
  if (p === undefined) {
    p = load(spec);
    opened.set(k, p);
    p.catch(() => opened.delete(k));
  }
  return p;
}

async function load(spec: TableSpec): Promise<BenchTable> {
  const adapter = await loadAdapter(spec.adapter);
  const { header, rows } = readCsvFile(spec.table, spec.name);
  const fail = (what: string): never => {
    throw new UsageError(`table ${spec.name}: ${what}`);
  };
  const columnIndex = (name: string, role: string): number => {
    const i = header.indexOf(name);
    if (i < 0) fail(`no column '${name}' (${role}); its columns: ${header.join(', ')}`);
    return i;
  };
  const keyAt = columnIndex(adapter.keyColumn, "the adapter's keyColumn");
  const scale = adapter.percent === false ? 1 : 100;
  const numbers = (name: string, role: string, accuracy: boolean): Float64Array => {
    const i = columnIndex(name, role);
    return Float64Array.from(rows, (r, n) => {
      const text = r[i] ?? '';
      const v = text.trim() === '' ? Number.NaN : Number(text) / (accuracy ? scale : 1);
      const ok = accuracy ? v >= 0 && v <= 1 : v > 0 && Number.isFinite(v);
      if (!ok) fail(`column '${name}', data row ${n + 1}: '${text}' is not ${accuracy ? (scale === 100 ? 'a percentage' : 'an accuracy in [0, 1]') : 'a number > 0'}`);
      return v;
    });
  };
  const acc = numbers(spec.column, 'the searched column', true);
  const testColumn = adapter.test?.[spec.column] ?? null;
  const test = testColumn === null ? null : numbers(testColumn, `the test column of ${spec.column}`, true);
  const costs = Object.entries(adapter.columns ?? {}).map(([metric, col]) => [metric as CostMetric, numbers(col, `the adapter's ${metric} column`, false)] as const);
  const standIn = adapter.columns?.latencyMs === undefined ? spec.latencyStandInMs : undefined;
  const byKey = new Map<string, TableRow>();
  const index = new Map<string, number>();
  rows.forEach((r, n) => {
    const key = r[keyAt] as string;
    if (index.has(key)) fail(`key '${key}' (column ${adapter.keyColumn}) is on data rows ${(index.get(key) ?? 0) + 1} and ${n + 1}; keys must be unique`);
    index.set(key, n);
    const metrics: { accuracy: number } & { [metric in CostMetric]?: number } = { accuracy: acc[n] as number };
    if (standIn !== undefined) metrics.latencyMs = standIn;
    for (const [metric, values] of costs) metrics[metric] = values[n] as number;
    byKey.set(key, { metrics, test: test === null ? null : (test[n] as number) });
  });
  return { spec, adapter, testColumn, rows: byKey };
}
