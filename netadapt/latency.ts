// NetAdapt's latency source. Proposals ask for the latency of many widths, so a lookup table is the natural source;
// with `--latency lut:FILE`, entries a proposal needs and the table lacks are measured on the node runner and written
// back to the file (a table grows with the search instead of failing on its first new width). `measure` times whole
// networks, `madds` stands in MAdds (1 ms per 1M), `module:FILE` is a user's function.
import type { LatencyRunner } from '../latency/runner.js';
import { buildLut, type Lut, readLut, writeLut } from '../latency/lut.js';
import { predictLatency } from '../latency/predict.js';
import { createResourceModel, type LatencySourceSpec } from '../latency/resources.js';
import type { ArchSpec } from '../space/arch.js';

export interface NetadaptLatency {
  readonly source: LatencySourceSpec;
  /** Predicted latency in ms (deterministic for a LUT once its entries exist, and for madds). */
  latency(spec: ArchSpec): Promise<number>;
  /** Entries measured and added to the LUT file so far. */
  readonly added: () => number;
  close(): Promise<void>;
}

export interface LatencyOptions {
  readonly warmup?: number;
  readonly runs?: number;
  /** Told about each batch of entries measured into the LUT. */
  readonly onMeasured?: (count: number, path: string) => void;
}

export async function openNetadaptLatency(source: LatencySourceSpec, opts: LatencyOptions = {}): Promise<NetadaptLatency> {
  if (source.kind !== 'lut') {
    const model = await createResourceModel(source, { warmup: opts.warmup ?? 3, runs: opts.runs ?? 10 });
    return { source, latency: (s) => model.latency(s), added: () => 0, close: async () => {} };
  }
  let lut: Lut = readLut(source.path);
  let runner: LatencyRunner | null = null;
  let added = 0;
  return {
    source,
    added: () => added,
    async latency(spec) {
      let p = predictLatency(lut, spec);
      if (p.missing.length > 0) {
        if (runner === null) {
          const { openRunner } = await import('../latency/runner.js');
          runner = await openRunner('node', { backend: lut.backend, ...(lut.threads === null ? {} : { threads: lut.threads }) });
        }
        const before = Object.keys(lut.entries).length;
        lut = await buildLut({ archs: [spec], input: lut.input[0], runner, warmup: opts.warmup ?? 3, runs: opts.runs ?? 20, existing: lut });
        writeLut(source.path, lut);
        const n = Object.keys(lut.entries).length - before;
        added += n;
        opts.onMeasured?.(n, source.path);
        p = predictLatency(lut, spec);
      }
      return p.predictedMs;
    },
    async close() {
      await runner?.close();
    },
  };
}
