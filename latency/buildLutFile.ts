// `nas latency lut build` as a library call: a LUT file built (or resumed) on a runner, entry by entry, written after
// each so a killed build resumes, optionally cached in a results database, then calibrated on whole networks.
import { existsSync } from 'node:fs';
import { openStore } from '../results/store.js';
import type { ArchSpec } from '../space/arch.js';
import type { SearchSpace } from '../space/searchSpace.js';
import { buildArchs, buildLut, type Lut, readLut, sampleArchs, writeLut } from './lut.js';
import { calibrate } from './predict.js';
import { openRunner } from './runner.js';
import type { LatencyRunner } from './runners/interface.js';
import { measureArchsInterleaved } from './validate.js';

/** Progress of one stage: 'lut' (entries measured; detail is the entry key) or 'calibrate' (whole archs; detail ms). */
export type LutBuildProgress = (stage: 'lut' | 'calibrate', done: number, total: number, detail: string) => void;

export interface LutBuildOptions {
  /** The architectures to cover (given, or `space` samples); exactly one of archs and space. */
  readonly archs?: readonly ArchSpec[] | undefined;
  /** With archs: each arch also at these width multipliers (the variants NetAdapt visits). */
  readonly widths?: readonly number[] | undefined;
  readonly space?: SearchSpace | undefined;
  /** With space: how many archs to sample (default: every entry of the space). */
  readonly samples?: number | undefined;
  readonly seed: number;
  readonly input: number;
  readonly runner: string;
  readonly backend: string;
  readonly threads: number;
  readonly warmup: number;
  readonly runs: number;
  readonly sweeps: number;
  /** The LUT file: an existing one is resumed. */
  readonly out: string;
  /** Whole archs measured to calibrate the overheads (0: keep the table's). */
  readonly calibrate: number;
  /** Also cache entries in this results database. */
  readonly db?: string | undefined;
  readonly onProgress?: LutBuildProgress;
}

export interface LutBuildResult {
  readonly out: string;
  readonly entries: number;
  readonly measured: number;
  readonly reused: number;
  readonly overheadMs: number;
  /** Calibrated on networks of one depth (a network and its narrower variants); null otherwise. */
  readonly scale: number | null;
  readonly perEntryMs: number | null;
  readonly calibratedOn: number;
  readonly runner: string;
  readonly backend: string;
  readonly threads: number | null;
  readonly machine: string;
  readonly input: readonly number[];
}

/** Each arch, then its variants: the width multiplies the channels the arch already has. */
export function widthVariants(archs: readonly ArchSpec[], widths: readonly number[]): ArchSpec[] {
  return archs.flatMap((a) => [a, ...widths.map((w) => ({ ...a, name: `${a.name}-x${w}`, width: a.width * w }))]);
}

type Coverage = Pick<Parameters<typeof buildArchs>[0], 'archs' | 'space' | 'samples' | 'seed' | 'input'>;

function coverageOf(opts: LutBuildOptions): Coverage {
  const archs = opts.archs === undefined ? undefined : widthVariants(opts.archs, opts.widths ?? []);
  return {
    ...(archs === undefined ? {} : { archs }),
    ...(opts.space === undefined ? {} : { space: opts.space }),
    ...(opts.samples === undefined ? {} : { samples: opts.samples }),
    seed: opts.seed,
    input: opts.input,
  };
}

/** Measures the missing entries (resuming `existing`), writing the file after each; returns the table and the count. */
async function measureEntries(
  opts: LutBuildOptions,
  coverage: Coverage,
  runner: LatencyRunner,
  existing: Lut | undefined,
): Promise<{ lut: Lut; measured: number }> {
  const measuredKeys = new Set<string>();
  const store = opts.db === undefined ? undefined : openStore(opts.db);
  try {
    const lut = await buildLut({
      ...coverage,
      runner,
      warmup: opts.warmup,
      runs: opts.runs,
      sweeps: opts.sweeps,
      ...(existing === undefined ? {} : { existing }),
      ...(store === undefined ? {} : { store }),
      onProgress: (p) => {
        measuredKeys.add(p.key);
        writeLut(opts.out, p.lut);
        opts.onProgress?.('lut', p.done, p.total, p.key);
      },
    });
    return { lut, measured: measuredKeys.size };
  } finally {
    store?.close();
  }
}

/**
 * Calibration wants typical networks: with a whole space covered, fresh samples of it (the coverage list is biased
 * to rare entries); else the archs the table was built for.
 */
async function calibrateOn(lut: Lut, specs: readonly ArchSpec[], runner: LatencyRunner, opts: LutBuildOptions): Promise<Lut> {
  const times = await measureArchsInterleaved(runner, specs, {
    statistic: lut.statistic ?? 'median',
    warmup: opts.warmup,
    runs: 60,
    onProgress: (done, total, t) => opts.onProgress?.('calibrate', done, total, `${t.toFixed(2)} ms`),
  });
  return calibrate(lut, specs.map((spec, i) => ({ spec, ms: times[i] ?? Number.NaN })));
}

function resultOf(opts: LutBuildOptions, lut: Lut, measured: number, calibratedOn: number): LutBuildResult {
  const entries = Object.keys(lut.entries).length;
  return {
    out: opts.out,
    entries,
    measured,
    reused: entries - measured,
    overheadMs: lut.overheadMs,
    scale: lut.scale ?? null,
    perEntryMs: lut.perEntryMs ?? null,
    calibratedOn,
    runner: lut.runner,
    backend: lut.backend,
    threads: lut.threads,
    machine: lut.machine,
    input: lut.input,
  };
}

/** Builds (or resumes) the LUT file `opts.out` and calibrates it; the options are assumed checked by the caller. */
export async function buildLutFile(opts: LutBuildOptions): Promise<LutBuildResult> {
  const coverage = coverageOf(opts);
  const all = buildArchs(coverage); // bad --samples fails before anything is measured
  const existing = existsSync(opts.out) ? readLut(opts.out) : undefined;
  const runner = await openRunner(opts.runner, { backend: opts.backend, threads: opts.threads });
  const wholeSpace = opts.space !== undefined && opts.samples === undefined;
  const k = wholeSpace ? opts.calibrate : Math.min(opts.calibrate, all.length);
  let built: { lut: Lut; measured: number };
  try {
    built = await measureEntries(opts, coverage, runner, existing);
    if (k > 0) {
      const specs = opts.space !== undefined && wholeSpace ? sampleArchs(opts.space, k, opts.input, opts.seed + 1) : all.slice(0, k);
      built = { ...built, lut: await calibrateOn(built.lut, specs, runner, opts) };
    }
  } finally {
    await runner.close();
  }
  writeLut(opts.out, built.lut);
  return resultOf(opts, built.lut, built.measured, k);
}
