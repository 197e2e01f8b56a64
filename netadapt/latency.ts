// NetAdapt's latency source. `measure` (the default) judges each network whole against the seed, timed in
// alternation with it (latency/paired.ts): a ratio to the seed times the seed's figure, so the machine's drift between
// the seed's measurement and a proposal's is not read as pruning. With `--latency lut:FILE`, entries a proposal needs
// and the table lacks are measured on the node runner and written back to the file (a table grows with the search
// instead of failing on its first new width). `madds` stands in MAdds (1 ms per 1M), `module:FILE` is a user's
// function.
import type { BackendChoice } from '../backend/select.js';
import type { LatencyRunner } from '../latency/runner.js';
import { buildLut, type Lut, readLut, writeLut } from '../latency/lut.js';
import { openPairedLatency, type WithRunner } from '../latency/paired.js';
import { predictLatency } from '../latency/predict.js';
import { createResourceModel, type LatencySourceSpec } from '../latency/resources.js';
import type { ArchSpec } from '../space/arch.js';
import { nodeRunnerFor } from './measure.js';

export interface NetadaptLatency {
  readonly source: LatencySourceSpec;
  /** Predicted latency in ms (deterministic for a LUT once its entries exist, and for madds). */
  latency(spec: ArchSpec): Promise<number>;
  /**
   * The latency a decision rests on, judged again, with the upper end of its 95% interval (`measure`: afresh and
   * CONFIRM_BLOCKS x as long, which also undoes the luck of a proposal chosen partly for a low first reading); the
   * deterministic sources give `latency`'s figure for both.
   */
  confirm(spec: ArchSpec): Promise<{ ms: number; upperMs: number }>;
  /**
   * `b`'s latency as a multiple of `a`'s (`measure`: the two timed in alternation, as long as a confirmation; the
   * others: the quotient of their latencies).
   */
  compare(a: ArchSpec, b: ArchSpec): Promise<number>;
  /** Entries measured and added to the LUT file so far. */
  readonly added: () => number;
  close(): Promise<void>;
}

export interface LatencyOptions {
  /** The seed: what `measure` judges every network against. */
  readonly seed: ArchSpec;
  /** The training backend, selected again after each measurement. */
  readonly backend: BackendChoice;
  readonly warmup?: number;
  /** Timed runs per new LUT entry. */
  readonly runs?: number;
  /** `measure`: A/B rounds per judgement (default 30). */
  readonly rounds?: number;
  /** Where `measure` times (default: the node runner, wasm, one thread); tests lend a simulated machine. */
  readonly withRunner?: WithRunner;
  /** Told about each batch of entries measured into the LUT. */
  readonly onMeasured?: (count: number, path: string) => void;
}

/** A confirmation is this many judgements long, in as many stretches (their spread gives its interval). */
const CONFIRM_BLOCKS = 6;

/** `measure`: each network judged against the seed in A/B rounds (the seed's reference is timed on opening). */
async function openMeasured(opts: LatencyOptions): Promise<NetadaptLatency> {
  const rounds = opts.rounds ?? 30;
  const paired = await openPairedLatency(opts.seed, opts.withRunner ?? nodeRunnerFor(opts.backend), { rounds, warmup: opts.warmup ?? 5 });
  return {
    source: { kind: 'measure' },
    latency: (s) => paired.latency(s),
    confirm: (s) => paired.remeasure(s, CONFIRM_BLOCKS),
    compare: async (a, b) => (await paired.ratio(a, b, CONFIRM_BLOCKS)).ratio,
    added: () => 0,
    close: async () => {},
  };
}

const exact = (ms: number): { ms: number; upperMs: number } => ({ ms, upperMs: ms });
const quotient = (latency: (s: ArchSpec) => Promise<number>) => async (a: ArchSpec, b: ArchSpec) => (await latency(b)) / (await latency(a));

export async function openNetadaptLatency(source: LatencySourceSpec, opts: LatencyOptions): Promise<NetadaptLatency> {
  if (source.kind === 'measure') return openMeasured(opts);
  if (source.kind !== 'lut') {
    const model = await createResourceModel(source);
    const latency = (s: ArchSpec): Promise<number> => model.latency(s);
    return { source, latency, confirm: async (s) => exact(await latency(s)), compare: quotient(latency), added: () => 0, close: async () => {} };
  }
  let lut: Lut = readLut(source.path);
  let runner: LatencyRunner | null = null;
  let added = 0;
  const latency = async (spec: ArchSpec): Promise<number> => {
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
  };
  return {
    source,
    added: () => added,
    latency,
    confirm: async (s) => exact(await latency(s)),
    compare: quotient(latency),
    async close() {
      await runner?.close();
    },
  };
}
