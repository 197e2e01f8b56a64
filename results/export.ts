// A search's candidates as flat rows for `nas results export`: one column per field and per metric, and CSV text
// (RFC 4180 quoting) for spreadsheets and pandas.
import type { CandidateRecord } from './candidates.js';
import type { JsonValue } from '../common/json.js';

export type Cell = string | number | boolean | null;

/** The metrics every built-in evaluator reports, first and in this order; any others follow, sorted by name. */
export const MAIN_METRICS = ['accuracy', 'latencyMs', 'madds', 'params'] as const;

const LEAD = ['runId', 'id', 'seq', 'status', 'reward'] as const;
const TAIL = ['arch', 'decisions', 'failure', 'attempts', 'worker', 'evalKey', 'queuedAt', 'startedAt', 'finishedAt'] as const;

function metricsObject(m: JsonValue | null): Readonly<Record<string, JsonValue>> {
  return m !== null && typeof m === 'object' && !Array.isArray(m) ? (m as Readonly<Record<string, JsonValue>>) : {};
}

const cell = (v: JsonValue | undefined): Cell =>
  v === undefined ? null : v === null || typeof v !== 'object' ? v : JSON.stringify(v);

export interface CandidateTable {
  readonly columns: readonly string[];
  readonly rows: readonly (readonly Cell[])[];
}

/**
 * The candidates as a table: runId, id, seq, status, reward, the main metrics, the other metrics (named `metrics.KEY`
 * where KEY would clash with a field), then arch, decisions (space-separated), failure, attempts, worker, evalKey
 * and the three timestamps. A metric a candidate lacks is an empty cell; object metrics are JSON text.
 */
export function candidateTable(candidates: readonly CandidateRecord[]): CandidateTable {
  const fixed = new Set<string>([...LEAD, ...MAIN_METRICS, ...TAIL]);
  const extra = [...new Set(candidates.flatMap((c) => Object.keys(metricsObject(c.metrics))))]
    .filter((k) => !(MAIN_METRICS as readonly string[]).includes(k))
    .sort();
  const columns = [...LEAD, ...MAIN_METRICS, ...extra.map((k) => (fixed.has(k) ? `metrics.${k}` : k)), ...TAIL];
  const rows = candidates.map((c) => {
    const m = metricsObject(c.metrics);
    return [
      c.runId,
      c.id,
      c.seq,
      c.status,
      c.reward,
      ...MAIN_METRICS.map((k) => cell(m[k])),
      ...extra.map((k) => cell(m[k])),
      c.arch,
      c.decisions === null ? null : c.decisions.join(' '),
      c.failure,
      c.attempts,
      c.worker,
      c.evalKey,
      c.queuedAt,
      c.startedAt,
      c.finishedAt,
    ];
  });
  return { columns, rows };
}

/** One CSV field: quoted when it holds a comma, a quote, a line break or edge spaces; quotes doubled. Null is empty. */
export function csvField(v: Cell): string {
  if (v === null) return '';
  const s = String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

/** CSV text: a header line, then one line per row, each ending in \n. */
export function toCsv(table: CandidateTable): string {
  return [table.columns, ...table.rows].map((r) => `${r.map(csvField).join(',')}\n`).join('');
}
