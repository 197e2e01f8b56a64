// NetAdapt's latency source. `measure` (the default) sizes the steps by a LUT of the seed's entries built on the way
// and judges whether the target is met by timing each network whole against the seed, in alternation with it
// (latency/paired.ts), both on the source's runner (`--runner`; node, wasm, one thread by default): a ratio to the seed times the seed's figure, so the machine's drift between the seed's
// measurement and a network's is not read as pruning. With `--latency lut:FILE`, entries a proposal needs
// and the table lacks are measured on the table's runner and written back to the file (a table grows with the search
// instead of failing on its first new width). `madds` stands in MAdds (1 ms per 1M), `module:FILE` is a user's
// function.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BackendChoice } from '../backend/choices.js';
import type { LatencyRunner } from '../latency/runner.js';
import { measureArchsInterleaved } from '../latency/validate.js';
import { widthVariants } from '../latency/buildLutFile.js';
import { buildLut, type Lut, type LutItem, lutItems, lutSetting, readLut, settingDiffs, writeLut } from '../latency/lut.js';
import { openPairedLatency, type WithRunner } from '../latency/paired.js';
import { calibrate, predictLatency } from '../latency/predict.js';
import { createResourceModel, type LatencySourceSpec } from '../latency/resources.js';
import type { ArchSpec } from '../space/arch.js';
import { resolve } from '../space/resolve.js';
import { runnerFor } from './measure.js';

export interface NetadaptLatency {
  readonly source: LatencySourceSpec;
  /** The latency steps are sized by, in ms (deterministic once a LUT's entries exist: measure, lut, madds). */
  latency(spec: ArchSpec): Promise<number>;
  /**
   * Whether a network meets the target, judged: ms and the upper end of its 95% interval (`measure`: against the seed
   * in A/B rounds, CONFIRM_BLOCKS x as long as one judgement); the other sources give `latency`'s figure for both.
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
  /** Where `measure` times (default: the source's runner, opened for each measurement); tests lend a simulated machine. */
  readonly withRunner?: WithRunner;
  /** `measure`: where the step LUT is kept (default: in memory only). */
  readonly lutPath?: string;
  /** Told about each batch of entries measured into the LUT. */
  readonly onMeasured?: (count: number, path: string) => void;
}

/** A confirmation is this many judgements long, in as many stretches (their spread gives its interval). */
const CONFIRM_BLOCKS = 6;

/**
 * Widths of the seed the step table is calibrated on (docs/LATENCY_LUT.md, *Calibration*: without narrower variants
 * a small-input network's savings from narrowing are underestimated).
 */
const CALIBRATION_WIDTHS = [0.75, 0.5, 0.35];

/**
 * A LUT of the seed and its narrower variants, calibrated on them whole, kept at `path` (a resumed run reads it back,
 * so its steps are sized as before the kill; a kept table of another runner, backend, threads, machine or engine is
 * built again on this one).
 */
async function seedLut(seed: ArchSpec, runner: LatencyRunner, opts: LatencyOptions, path: string | undefined): Promise<Lut> {
  const kept = path !== undefined && existsSync(path) ? readLut(path) : null;
  if (kept !== null && settingDiffs(kept, lutSetting(runner, seed.input.size, seed.input.channels)).length === 0) return kept;
  const archs = widthVariants([seed], CALIBRATION_WIDTHS);
  const warmup = opts.warmup ?? 5;
  const lut = await buildLut({ archs, input: seed.input.size, runner, warmup, runs: opts.runs ?? 20 });
  const times = await measureArchsInterleaved(runner, archs, { statistic: lut.statistic ?? 'median', warmup, runs: 60 });
  const calibrated = calibrate(lut, archs.map((spec, i) => ({ spec, ms: times[i] ?? Number.NaN })));
  if (path !== undefined) {
    await mkdir(dirname(path), { recursive: true });
    writeLut(path, calibrated);
  }
  return calibrated;
}

/**
 * Predictions of a LUT whose missing entries are measured on the runners `measure` lends, added to the table and
 * (with `path`) written back to the file.
 */
function growingLut(
  lut: Lut,
  measure: (table: Lut, spec: ArchSpec) => Promise<Lut>,
  opts: LatencyOptions,
  path: string | undefined,
): { latency: (s: ArchSpec) => Promise<number>; added: () => number } {
  let added = 0;
  const latency = async (spec: ArchSpec): Promise<number> => {
    let p = predictLatency(lut, spec);
    if (p.missing.length === 0) return p.predictedMs;
    const before = Object.keys(lut.entries).length;
    lut = await measure(lut, spec);
    if (path !== undefined) writeLut(path, lut);
    const n = Object.keys(lut.entries).length - before;
    added += n;
    if (path !== undefined) opts.onMeasured?.(n, path);
    p = predictLatency(lut, spec);
    return p.predictedMs;
  };
  return { latency, added: () => added };
}

/** Seconds each entry of an anchored measurement is timed for (a LUT build's 0.25 s, about). */
const ANCHORED_SECONDS = 0.2;

/**
 * `spec`'s missing entries measured in alternation with the seed's entries at the same places (anchors), each scaled
 * by the anchors' stored figures over their fresh ones: an entry measured minutes after the table, at another load,
 * joins it in the table's terms (the paired judgement's reasoning, applied to entries).
 */
function anchoredMeasure(seed: ArchSpec, withRunner: WithRunner, opts: LatencyOptions): (table: Lut, spec: ArchSpec) => Promise<Lut> {
  const seedItems = lutItems(resolve(seed));
  return async (table, spec) => {
    const items = lutItems(resolve(spec));
    const missing = items.filter((it, i, all) => table.entries[it.key] === undefined && all.findIndex((o) => o.key === it.key) === i);
    const sameShape = items.length === seedItems.length;
    const anchors = sameShape ? missing.map((it) => seedItems[items.indexOf(it)] as LutItem) : seedItems;
    const runs = opts.runs ?? 20;
    const refs = [...missing, ...anchors].map((it) => it.ref);
    const stats = await withRunner((r) => r.measureEntries(refs, { warmup: opts.warmup ?? 3, runs, rounds: Math.min(10, runs), minSeconds: ANCHORED_SECONDS }));
    const fresh = anchors.reduce((t, _a, i) => t + (stats[missing.length + i]?.p10Ms ?? Number.NaN), 0);
    const stored = anchors.reduce((t, a) => t + (table.entries[a.key]?.p10Ms ?? Number.NaN), 0);
    const f = Number.isFinite(stored / fresh) && fresh > 0 ? stored / fresh : 1;
    const entries = { ...table.entries };
    missing.forEach((it, i) => {
      const m = stats[i];
      if (m === undefined) throw new Error(`the runner answered ${stats.length} of ${refs.length} entries`);
      entries[it.key] = { medianMs: f * m.medianMs, iqrMs: f * m.iqrMs, runs: m.runs, p10Ms: f * m.p10Ms, sweeps: 1 };
    });
    return { ...table, entries };
  };
}

/** Missing entries measured as `lut build` measures them, on a runner of the table's setting. */
function plainMeasure(withRunner: WithRunner, opts: LatencyOptions): (table: Lut, spec: ArchSpec) => Promise<Lut> {
  return (table, spec) =>
    withRunner((runner) => buildLut({ archs: [spec], input: table.input[0], runner, warmup: opts.warmup ?? 3, runs: opts.runs ?? 20, existing: table }));
}

/**
 * `measure`: steps are sized by a LUT of the seed's own entries (deterministic: a single paired reading of a
 * proposal varies by 4-5%, as much as a step, so proposals sized by it saved far less than delta; docs/NETADAPT.md),
 * in the seed's measured terms: the seed's paired reference x LUT(network) / LUT(seed). Whether the target is met
 * is judged by measurement: each network against the seed in A/B rounds, with a 95% interval.
 */
async function openMeasured(source: LatencySourceSpec & { kind: 'measure' }, opts: LatencyOptions): Promise<NetadaptLatency> {
  const rounds = opts.rounds ?? 30;
  const withRunner = opts.withRunner ?? runnerFor(opts.backend, source.runner);
  const paired = await openPairedLatency(opts.seed, withRunner, { rounds, warmup: opts.warmup ?? 5 });
  const lut = await withRunner((runner) => seedLut(opts.seed, runner, opts, opts.lutPath));
  const table = growingLut(lut, anchoredMeasure(opts.seed, withRunner, opts), opts, opts.lutPath);
  const seedLutMs = await table.latency(opts.seed);
  return {
    source,
    latency: async (s) => (paired.referenceMs * (await table.latency(s))) / seedLutMs,
    confirm: (s) => paired.remeasure(s, CONFIRM_BLOCKS),
    compare: async (a, b) => (await paired.ratio(a, b, CONFIRM_BLOCKS)).ratio,
    added: table.added,
    close: async () => {},
  };
}

/** A runner opened on first use for the LUT's setting and kept until `close`. */
function lazyRunner(lut: Lut): { withRunner: WithRunner; close: () => Promise<void> } {
  let runner: LatencyRunner | null = null;
  return {
    withRunner: async (fn) => {
      if (runner === null) {
        const { openRunner } = await import('../latency/runner.js');
        runner = await openRunner(lut.runner, { backend: lut.backend, ...(lut.threads === null ? {} : { threads: lut.threads }) });
      }
      return fn(runner);
    },
    close: async () => {
      await runner?.close();
    },
  };
}

const exact = (ms: number): { ms: number; upperMs: number } => ({ ms, upperMs: ms });
const quotient = (latency: (s: ArchSpec) => Promise<number>) => async (a: ArchSpec, b: ArchSpec) => (await latency(b)) / (await latency(a));

export async function openNetadaptLatency(source: LatencySourceSpec, opts: LatencyOptions): Promise<NetadaptLatency> {
  if (source.kind === 'measure') return openMeasured(source, opts);
  if (source.kind !== 'lut') {
    const model = await createResourceModel(source);
    const latency = (s: ArchSpec): Promise<number> => model.latency(s);
    return { source, latency, confirm: async (s) => exact(await latency(s)), compare: quotient(latency), added: () => 0, close: async () => {} };
  }
  const lut = readLut(source.path);
  const runner = lazyRunner(lut);
  const table = growingLut(lut, plainMeasure(runner.withRunner, opts), opts, source.path);
  return {
    source,
    added: table.added,
    latency: table.latency,
    confirm: async (s) => exact(await table.latency(s)),
    compare: quotient(table.latency),
    close: runner.close,
  };
}
