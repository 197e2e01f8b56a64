// Latency lookup tables: per measurement setting (runner, backend, machine, input), the median time of each
// resolved block shape (the entry key), so that an arch's latency is a sum of lookups.
import type { Conn } from './conn.js';

export interface LatencyTableKey {
  /** What measured: e.g. 'tfjs-predict', 'tflite-benchmark'. */
  readonly runner: string;
  readonly backend: string;
  /** A machine description: CPU model, threads, GPU... */
  readonly machine: string;
  /** The network input the table is for, e.g. '1x224x224x3'. */
  readonly input: string;
}

export interface LatencyEntryInput {
  /** The resolved block's shape string. */
  readonly entry: string;
  readonly medianMs: number;
  /** Dispersion of the samples (the measuring code's choice, e.g. the interquartile range), in ms. */
  readonly spreadMs: number;
  readonly samples: number;
  /** The 10th percentile of the samples (absent in entries measured before nas recorded it). */
  readonly p10Ms?: number;
}

export interface LatencyEntry extends LatencyEntryInput {
  readonly measuredAt: string;
}

export interface LatencyTableInfo extends LatencyTableKey {
  readonly entries: number;
  readonly lastMeasuredAt: string;
}

export interface LatencyApi {
  /** Inserts or replaces entries of one table, all in one transaction; returns how many. */
  upsertLatencyEntries(key: LatencyTableKey, entries: readonly LatencyEntryInput[]): number;
  /** The whole table, by entry key (empty when there is none). */
  readLatencyTable(key: LatencyTableKey): ReadonlyMap<string, LatencyEntry>;
  listLatencyTables(): LatencyTableInfo[];
}

interface EntryRow {
  entry: string;
  median_ms: number;
  spread_ms: number;
  samples: number;
  p10_ms: number | null;
  measured_at: string;
}

export function latencyApi(c: Conn): LatencyApi {
  return {
    upsertLatencyEntries(key, entries) {
      for (const e of entries) {
        if (!(Number.isFinite(e.medianMs) && e.medianMs >= 0 && Number.isFinite(e.spreadMs) && e.spreadMs >= 0)) {
          throw new RangeError(`latency entry ${e.entry}: times must be finite and >= 0`);
        }
        if (e.p10Ms !== undefined && !(Number.isFinite(e.p10Ms) && e.p10Ms >= 0)) {
          throw new RangeError(`latency entry ${e.entry}: p10Ms must be finite and >= 0`);
        }
        if (!(Number.isInteger(e.samples) && e.samples > 0)) {
          throw new RangeError(`latency entry ${e.entry}: samples must be a positive integer`);
        }
      }
      const upsert = c.stmt(
        `INSERT INTO latency_lut (runner, backend, machine, input, entry, median_ms, spread_ms, samples, p10_ms, measured_at)
         VALUES (@runner, @backend, @machine, @input, @entry, @median_ms, @spread_ms, @samples, @p10_ms, @measured_at)
         ON CONFLICT (runner, backend, machine, input, entry) DO UPDATE SET median_ms = excluded.median_ms,
           spread_ms = excluded.spread_ms, samples = excluded.samples, p10_ms = excluded.p10_ms,
           measured_at = excluded.measured_at`,
      );
      return c.write(() => {
        const now = c.now();
        for (const e of entries) {
          upsert.run({
            runner: key.runner,
            backend: key.backend,
            machine: key.machine,
            input: key.input,
            entry: e.entry,
            median_ms: e.medianMs,
            spread_ms: e.spreadMs,
            samples: e.samples,
            p10_ms: e.p10Ms ?? null,
            measured_at: now,
          });
        }
        return entries.length;
      });
    },

    readLatencyTable(key) {
      const rows = c
        .stmt<EntryRow>(
          `SELECT entry, median_ms, spread_ms, samples, p10_ms, measured_at FROM latency_lut
           WHERE runner = ? AND backend = ? AND machine = ? AND input = ?`,
        )
        .all(key.runner, key.backend, key.machine, key.input);
      const entries = rows.map(
        (r): LatencyEntry => ({
          entry: r.entry,
          medianMs: r.median_ms,
          spreadMs: r.spread_ms,
          samples: r.samples,
          ...(r.p10_ms === null ? {} : { p10Ms: r.p10_ms }),
          measuredAt: r.measured_at,
        }),
      );
      return new Map(entries.map((e) => [e.entry, e]));
    },

    listLatencyTables() {
      return c
        .stmt<LatencyTableKey & { entries: number; lastMeasuredAt: string }>(
          `SELECT runner, backend, machine, input, count(*) AS entries, max(measured_at) AS lastMeasuredAt
           FROM latency_lut GROUP BY runner, backend, machine, input ORDER BY runner, backend, machine, input`,
        )
        .all()
        .map((r) => ({ ...r }));
    },
  };
}
