// Latency lookup tables: the measured time of every distinct stem, block and head shape, so that the latency of a
// network that was never built is a sum of lookups (predict.ts). The JSON form is documented in docs/LATENCY_LUT.md.
import { readFileSync } from 'node:fs';
import seedrandom from 'seedrandom';
import { replaceFileSync } from '../common/atomicFs.js';
import { NasError, UsageError } from '../common/errors.js';
import type { LatencyApi, LatencyTableKey } from '../results/latency.js';
import type { ArchSpec, Padding } from '../space/arch.js';
import { ACT_CODE } from '../space/blockString.js';
import { applyOverrides } from '../space/load.js';
import { type ResolvedArch, type ResolvedBlock, resolve } from '../space/resolve.js';
import { applySample, type SearchSpace, sampleUniform } from '../space/searchSpace.js';
import type { EntryRef } from './entryModels.js';
import { fineRounds, type LatencyRunner } from './runner.js';

/**
 * Entries measured together (interleaved), and written together. Large, so that each entry's samples spread over a
 * few seconds of the machine's life rather than a fraction of one: measured here on 428 entries built twice, the
 * sums over 50 networks agreed with Kendall tau 0.858 at 8 per batch, 0.930 at 48 and 0.967 at 200. A kill loses at
 * most one batch.
 */
const BATCH = 128;

/**
 * A small batch (a single arch's entries, a few that NetAdapt's proposals need) is over in milliseconds, inside one
 * spell of the machine's load; its entries are timed for at least BATCH_SECONDS together per pass (at most
 * ENTRY_SECONDS each), so their samples spread over time like those of a large batch.
 */
const BATCH_SECONDS = 2;
const ENTRY_SECONDS = 0.25;


export const LUT_FORMAT = 'nas-latency-lut';
export const LUT_VERSION = 1;

export interface LutEntry {
  readonly medianMs: number;
  readonly iqrMs: number;
  readonly runs: number;
  /** 10th percentile of the samples; present in every entry of a `p10` table. */
  readonly p10Ms?: number;
  /** Passes over the table that measured this entry (absent: 1); the entry keeps the lowest p10 and median. */
  readonly sweeps?: number;
}

/**
 * Which figure of an entry (and of a whole network) a table's predictions use. `p10`, what nas builds: the 10th
 * percentile, which on a machine shared with other work repeats within a few percent where the median moves by
 * ten or more. `median`: tables without the field (and devices of one's own that time nothing else).
 */
export type LutStatistic = 'median' | 'p10';

/** The figure of `s` that a table of statistic `stat` uses. */
export function statOf(s: { readonly medianMs: number; readonly p10Ms?: number }, stat: LutStatistic): number {
  return stat === 'p10' ? (s.p10Ms ?? Number.NaN) : s.medianMs;
}

export interface Lut {
  readonly format: typeof LUT_FORMAT;
  readonly version: typeof LUT_VERSION;
  readonly runner: string;
  readonly backend: string;
  readonly threads: number | null;
  readonly machine: string;
  /**
   * The runner's engine (LatencyRunner.engine), where it has one. Absent in node tables from before nas timed
   * compiled inference: such a wasm table is refused (its times are tfjs's, layer by layer).
   */
  readonly engine?: string;
  /** Network input [height, width, channels]; batch 1. */
  readonly input: readonly [number, number, number];
  readonly entries: Readonly<Record<string, LutEntry>>;
  /** Absent in tables from before nas recorded it: 'median'. */
  readonly statistic?: LutStatistic;
  /** Whole-network time not in any entry (calibrated; may be negative: each entry carries its own call overhead). */
  readonly overheadMs: number;
  /**
   * Added per entry of a network (calibrated; usually negative: the call overhead an entry timed alone carries and
   * a layer inside a network does not). Absent: 0.
   */
  readonly perEntryMs?: number;
  /**
   * Multiplies the sum of the entries (calibrated from networks of one depth, where entry count cannot explain the
   * residual; usually above 1: weights that stay in cache while an entry is timed alone stream from memory inside a
   * network). Absent: 1.
   */
  readonly scale?: number;
}

/** One measurable piece of a network: its key and, as data, what to build to time it alone (entryModels.ts). */
export interface LutItem {
  readonly key: string;
  readonly kind: 'stem' | 'block' | 'head';
  readonly input: readonly [number, number, number];
  readonly ref: EntryRef;
}

const pad = (p: Padding): string => (p === 'same' ? '_same' : '');
const hw = (size: number, c: number): string => `${size}x${size}x${c}`;

function blockKey(b: ResolvedBlock, padding: Padding): string {
  const se = b.se === null ? 'nose' : `se${b.se.reduce}${b.se.gate === 'hsigmoid' ? 'hsig' : 'sig'}`;
  const exp = b.type === 'ir' ? `_e${b.exp}` : '';
  return `${b.type}_i${hw(b.inSize, b.inC)}_o${b.outC}${exp}_k${b.kernel}_s${b.stride}_${se}_${ACT_CODE[b.act]}_${b.residual ? 'res' : 'nores'}${pad(padding)}`;
}

function stemKey(a: ResolvedArch): string {
  const s = a.stem;
  return `stem_i${hw(s.inSize, s.inC)}_o${s.outC}_k${s.kernel}_s${s.stride}_${ACT_CODE[s.act]}${pad(a.padding)}`;
}

function headKey(a: ResolvedArch): string {
  const h = a.head;
  const hidden = h.hidden === null ? 'nohid' : `h${h.hidden}`;
  return `head_i${hw(h.inSize, h.inC)}_c${h.conv}_${hidden}_cls${a.classes}_${ACT_CODE[h.act]}`;
}

/** The stem, every block and the head of `a`, in network order (repeated shapes repeat). */
export function lutItems(a: ResolvedArch): LutItem[] {
  const s = a.stem;
  const h = a.head;
  return [
    { key: stemKey(a), kind: 'stem', input: [s.inSize, s.inSize, s.inC], ref: { arch: a.spec, piece: { kind: 'stem' } } },
    ...a.blocks.map(
      (b, index): LutItem => ({
        key: blockKey(b, a.padding),
        kind: 'block',
        input: [b.inSize, b.inSize, b.inC],
        ref: { arch: a.spec, piece: { kind: 'block', index } },
      }),
    ),
    { key: headKey(a), kind: 'head', input: [h.inSize, h.inSize, h.inC], ref: { arch: a.spec, piece: { kind: 'head' } } },
  ];
}

/** The LUT keys of a resolved network, in network order: stem, blocks, head. */
export function lutKeys(a: ResolvedArch): string[] {
  return lutItems(a).map((i) => i.key);
}

/** `samples` architectures of `space` drawn with `seed`, at input size `input` (the same seed gives the same archs). */
export function sampleArchs(space: SearchSpace, samples: number, input: number, seed: number): ArchSpec[] {
  const rng = seedrandom(String(seed));
  const out: ArchSpec[] = [];
  for (let i = 0; i < samples; i++) out.push(applyOverrides(applySample(space, sampleUniform(space, rng)), { input }));
  return out;
}

export interface BuildProgress {
  /** Entries measured so far in this build (skipped ones excluded). */
  readonly done: number;
  /** Entries to measure in this build. */
  readonly total: number;
  readonly key: string;
  /** The table so far, including this entry: write it to make the build resumable. */
  readonly lut: Lut;
}

export interface BuildLutOptions {
  readonly archs?: readonly ArchSpec[];
  readonly space?: SearchSpace;
  readonly samples?: number;
  /** Seed of the space samples (default 0). */
  readonly seed?: number;
  /** Square input size; every arch is set to it. */
  readonly input: number;
  /** Where the entries are measured; the LUT's runner, backend, threads and machine are its. */
  readonly runner: LatencyRunner;
  readonly warmup: number;
  /** Timed runs per entry, at least (rounded up to a multiple of `rounds`). */
  readonly runs: number;
  /** Interleaved passes over each batch of entries, each timing runs / rounds runs (default fineRounds(runs)). */
  readonly rounds?: number;
  /**
   * Passes over the whole table (default 2): each entry is measured once per pass, minutes apart, and keeps its
   * lowest figures, so a slow spell of the machine (other work, a noisy neighbour) inflates no entry for good.
   */
  readonly sweeps?: number;
  readonly onProgress?: (p: BuildProgress) => void;
  /** A previous (partial) table of the same setting: its entries are kept, not measured again. */
  readonly existing?: Lut;
  /** The results store: entries found there are reused, new ones are written there too. */
  readonly store?: Pick<LatencyApi, 'readLatencyTable' | 'upsertLatencyEntries'>;
}

/** The store's table key for a LUT. */
export function storeKey(lut: Pick<Lut, 'runner' | 'backend' | 'machine' | 'input' | 'threads' | 'engine'>): LatencyTableKey {
  return {
    runner: lut.runner,
    backend: lut.backend,
    machine: `${lut.machine}; threads ${lut.threads ?? 'auto'}${lut.engine === undefined ? '' : `; ${lut.engine}`}`,
    input: `1x${lut.input.join('x')}`,
  };
}

/** What a table's entries were measured on: the runner, its backend, threads, machine and engine, and the input. */
export type LutSetting = Omit<Lut, 'entries' | 'overheadMs' | 'format' | 'version'>;

/** The setting of a table measured on `runner` at `input` px with `channels` channels. */
export function lutSetting(runner: LatencyRunner, input: number, channels: number): LutSetting {
  return {
    runner: runner.name,
    backend: runner.backend,
    threads: runner.threads,
    machine: runner.machine,
    ...(runner.engine === undefined ? {} : { engine: runner.engine }),
    input: [input, input, channels] as const,
  };
}

/** How `existing`'s setting differs from `want` (`runner node vs onnxruntime`, ...): empty when it is the same. */
export function settingDiffs(existing: Lut, want: LutSetting): string[] {
  const diffs: string[] = [];
  if (existing.runner !== want.runner) diffs.push(`runner ${existing.runner} vs ${want.runner}`);
  if (existing.backend !== want.backend) diffs.push(`backend ${existing.backend} vs ${want.backend}`);
  if (existing.threads !== want.threads) diffs.push(`threads ${existing.threads} vs ${want.threads}`);
  if (existing.machine !== want.machine) diffs.push(`machine '${existing.machine}' vs '${want.machine}'`);
  if (existing.engine !== want.engine) diffs.push(`engine ${existing.engine ?? 'none'} vs ${want.engine ?? 'none'}`);
  if (existing.input.join('x') !== want.input.join('x')) diffs.push(`input ${existing.input.join('x')} vs ${want.input.join('x')}`);
  return diffs;
}

function checkSameSetting(existing: Lut, want: LutSetting): void {
  const diffs = settingDiffs(existing, want);
  if (diffs.length > 0) throw new UsageError(`existing LUT was built for another setting (${diffs.join(', ')}); use another --out`);
}

/** Samples without a new entry after which a space's entries count as covered. */
export const COVERAGE_PATIENCE = 3000;
/** Samples at most, whatever the patience (a space with very many rare entries: use --samples then). */
export const COVERAGE_MAX_SAMPLES = 400_000;

export interface Coverage {
  /** The archs that brought at least one new entry, in sampling order: their entries are every entry found. */
  readonly archs: ArchSpec[];
  readonly entries: number;
  readonly samples: number;
  /** False when COVERAGE_MAX_SAMPLES ran out before the patience did. */
  readonly complete: boolean;
}

/**
 * Every distinct entry a space can produce, found by sampling (uniform per decision, seeded) until
 * COVERAGE_PATIENCE samples in a row bring no new entry. A space's entries depend on few decisions each (a block's
 * own choices and its input width), so this saturates quickly: the built-in spaces at 224 have 1,324 (mobilenetv3)
 * and 3,392 (mnasnet) entries, all found within 5,000 samples.
 */
export function spaceCoverage(space: SearchSpace, input: number, seed: number): Coverage {
  const rng = seedrandom(`coverage:${seed}`);
  const seen = new Set<string>();
  const archs: ArchSpec[] = [];
  let samples = 0;
  let quiet = 0;
  while (quiet < COVERAGE_PATIENCE && samples < COVERAGE_MAX_SAMPLES) {
    const spec = applyOverrides(applySample(space, sampleUniform(space, rng)), { input });
    samples++;
    let fresh = false;
    for (const k of lutKeys(resolve(spec))) {
      if (!seen.has(k)) {
        seen.add(k);
        fresh = true;
      }
    }
    if (fresh) {
      archs.push(spec);
      quiet = 0;
    } else {
      quiet++;
    }
  }
  return { archs, entries: seen.size, samples, complete: quiet >= COVERAGE_PATIENCE };
}

/** The architectures a build covers: given archs, `samples` of a space, or (no samples) the space's coverage. */
export function buildArchs(opts: Pick<BuildLutOptions, 'archs' | 'space' | 'samples' | 'seed' | 'input'>): ArchSpec[] {
  const archs = (opts.archs ?? []).map((a) => applyOverrides(a, { input: opts.input }));
  if (opts.space !== undefined) {
    if (opts.samples === undefined) {
      archs.push(...spaceCoverage(opts.space, opts.input, opts.seed ?? 0).archs);
    } else {
      const n = opts.samples;
      if (!Number.isInteger(n) || n < 1) throw new UsageError(`--samples must be a positive integer, got ${n}`);
      archs.push(...sampleArchs(opts.space, n, opts.input, opts.seed ?? 0));
    }
  }
  if (archs.length === 0) throw new UsageError('nothing to measure: give --arch or --space');
  return archs;
}

/** Measure each distinct entry of the given archs (or space samples) once, skipping those already known. */
export async function buildLut(opts: BuildLutOptions): Promise<Lut> {
  const archs = buildArchs(opts);
  const { runner } = opts;
  const setting = lutSetting(runner, opts.input, archs[0]?.input.channels ?? 3);
  if (opts.existing !== undefined) checkSameSetting(opts.existing, setting);
  // A table nas builds predicts from p10: entries of an older table without it are measured again.
  const entries: Record<string, LutEntry> = Object.fromEntries(
    Object.entries(opts.existing?.entries ?? {}).filter(([, e]) => e.p10Ms !== undefined),
  );
  const sk = storeKey(setting);
  const sweeps = opts.sweeps ?? 2;
  if (!Number.isInteger(sweeps) || sweeps < 1) throw new UsageError(`--sweeps must be a positive integer, got ${sweeps}`);
  // The store keeps finished entries only (written after their last pass).
  if (opts.store !== undefined) {
    for (const [k, e] of opts.store.readLatencyTable(sk)) {
      if (e.p10Ms !== undefined) entries[k] ??= { medianMs: e.medianMs, iqrMs: e.spreadMs, runs: e.samples, p10Ms: e.p10Ms, sweeps };
    }
  }
  const items = new Map<string, LutItem>();
  for (const a of archs) for (const item of lutItems(resolve(a))) if (!items.has(item.key)) items.set(item.key, item);
  const passesOf = (k: string): number => {
    const e = entries[k];
    return e === undefined ? 0 : (e.sweeps ?? 1);
  };
  const snapshot = (): Lut => ({
    format: LUT_FORMAT,
    version: LUT_VERSION,
    ...setting,
    statistic: 'p10',
    entries: { ...entries },
    overheadMs: opts.existing?.overheadMs ?? 0,
    ...(opts.existing?.perEntryMs === undefined ? {} : { perEntryMs: opts.existing.perEntryMs }),
    ...(opts.existing?.scale === undefined ? {} : { scale: opts.existing.scale }),
  });
  let done = 0;
  const total = [...items.keys()].reduce((n, k) => n + Math.max(0, sweeps - passesOf(k)), 0);
  const rounds = Math.max(1, Math.min(opts.rounds ?? fineRounds(opts.runs), opts.runs));
  for (let pass = 1; pass <= sweeps; pass++) {
    const todo = [...items.values()].filter((item) => passesOf(item.key) < pass);
    for (let at = 0; at < todo.length; at += BATCH) {
      const batch = todo.slice(at, at + BATCH);
      // Interleaved rounds within the runner: a burst of load from other processes spreads over the whole batch.
      const stats = await runner.measureEntries(
        batch.map((item) => item.ref),
        { warmup: opts.warmup, runs: opts.runs, rounds, minSeconds: Math.min(ENTRY_SECONDS, BATCH_SECONDS / batch.length) },
      );
      batch.forEach((item, i) => {
        const m = stats[i];
        if (m === undefined) throw new Error(`runner ${runner.name} answered ${stats.length} of ${batch.length} entries`);
        const old = entries[item.key];
        const e: LutEntry =
          old === undefined
            ? { medianMs: m.medianMs, iqrMs: m.iqrMs, runs: m.runs, p10Ms: m.p10Ms, sweeps: 1 }
            : {
                medianMs: Math.min(old.medianMs, m.medianMs),
                iqrMs: m.iqrMs,
                runs: old.runs + m.runs,
                p10Ms: Math.min(old.p10Ms ?? m.p10Ms, m.p10Ms),
                sweeps: (old.sweeps ?? 1) + 1,
              };
        entries[item.key] = e;
        if ((e.sweeps ?? 1) >= sweeps) {
          opts.store?.upsertLatencyEntries(sk, [
            { entry: item.key, medianMs: e.medianMs, spreadMs: e.iqrMs, samples: e.runs, p10Ms: e.p10Ms ?? m.p10Ms },
          ]);
        }
        done++;
        opts.onProgress?.({ done, total, key: item.key, lut: snapshot() });
      });
    }
  }
  return snapshot();
}

/** Write atomically: a temp file in the same directory, then a rename. */
export function writeLut(path: string, lut: Lut): void {
  try {
    replaceFileSync(path, `${JSON.stringify(lut, null, 2)}\n`);
  } catch (e) {
    throw new NasError('E_IO', `cannot write LUT ${path}: ${(e as Error).message}`);
  }
}

/** Why a node wasm table without an engine cannot be used, and what to do. */
const LEGACY_NODE_TABLE =
  'timed by the node runner before it ran compiled inference (no engine field): its times are tfjs layer by layer, ' +
  'not what this nas measures; build the table again (nas latency lut build ... --out NEW.json)';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isNum = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/** Check parsed JSON against the LUT format; errors name `where` (a file) and the field. */
export function validateLut(json: unknown, where = 'LUT'): Lut {
  const bad = (why: string): never => {
    throw new UsageError(`${where}: ${why}`);
  };
  if (!isObj(json)) return bad('not a JSON object');
  if (json.format !== LUT_FORMAT) bad(`format must be '${LUT_FORMAT}', got ${JSON.stringify(json.format)}`);
  if (json.version !== LUT_VERSION) bad(`unsupported version ${JSON.stringify(json.version)} (this nas reads ${LUT_VERSION})`);
  for (const f of ['runner', 'backend', 'machine'] as const) {
    if (typeof json[f] !== 'string' || json[f] === '') bad(`${f} must be a non-empty string`);
  }
  if (json.engine !== undefined && (typeof json.engine !== 'string' || json.engine === '')) bad('engine must be a non-empty string');
  if (json.runner === 'node' && json.backend === 'wasm' && json.engine === undefined) bad(LEGACY_NODE_TABLE);
  const threads = json.threads;
  if (!(threads === null || (Number.isInteger(threads) && (threads as number) >= 1))) bad('threads must be a positive integer or null');
  const input = json.input;
  if (!(Array.isArray(input) && input.length === 3 && input.every((d) => Number.isInteger(d) && (d as number) >= 1))) {
    bad('input must be [height, width, channels], positive integers');
  }
  if (!isNum(json.overheadMs)) bad('overheadMs must be a finite number');
  if (!isObj(json.entries)) return bad('entries must be an object');
  const entries: Record<string, LutEntry> = {};
  const statistic = json.statistic ?? 'median';
  if (statistic !== 'median' && statistic !== 'p10') bad(`statistic must be 'p10' or 'median', got ${JSON.stringify(json.statistic)}`);
  if (json.perEntryMs !== undefined && !isNum(json.perEntryMs)) bad('perEntryMs must be a finite number');
  if (json.scale !== undefined && !(isNum(json.scale) && json.scale > 0)) bad('scale must be a finite number > 0');
  for (const [k, e] of Object.entries(json.entries)) {
    if (!isObj(e) || !isNum(e.medianMs) || e.medianMs < 0 || !isNum(e.iqrMs) || e.iqrMs < 0) {
      bad(`entry ${k}: medianMs and iqrMs must be finite numbers >= 0`);
    }
    const r = e as Record<string, unknown>;
    if (!(Number.isInteger(r.runs) && (r.runs as number) >= 1)) bad(`entry ${k}: runs must be a positive integer`);
    if (r.p10Ms !== undefined && !(isNum(r.p10Ms) && r.p10Ms >= 0)) bad(`entry ${k}: p10Ms must be a finite number >= 0`);
    if (statistic === 'p10' && r.p10Ms === undefined) bad(`entry ${k}: a p10 table needs p10Ms in every entry`);
    if (r.sweeps !== undefined && !(Number.isInteger(r.sweeps) && (r.sweeps as number) >= 1)) bad(`entry ${k}: sweeps must be a positive integer`);
    entries[k] = {
      medianMs: r.medianMs as number,
      iqrMs: r.iqrMs as number,
      runs: r.runs as number,
      ...(r.p10Ms === undefined ? {} : { p10Ms: r.p10Ms as number }),
      ...(r.sweeps === undefined ? {} : { sweeps: r.sweeps as number }),
    };
  }
  const [h, w, c] = input as number[];
  return {
    format: LUT_FORMAT,
    version: LUT_VERSION,
    runner: json.runner as string,
    backend: json.backend as string,
    threads: threads as number | null,
    machine: json.machine as string,
    ...(json.engine === undefined ? {} : { engine: json.engine as string }),
    input: [h ?? 0, w ?? 0, c ?? 0],
    statistic: statistic as LutStatistic,
    entries,
    overheadMs: json.overheadMs as number,
    ...(json.perEntryMs === undefined ? {} : { perEntryMs: json.perEntryMs as number }),
    ...(json.scale === undefined ? {} : { scale: json.scale as number }),
  };
}

/** Read and validate a LUT file. */
export function readLut(path: string): Lut {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new NasError('E_IO', `cannot read LUT ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new UsageError(`LUT ${path}: not valid JSON (${(e as Error).message})`);
  }
  return validateLut(json, `LUT ${path}`);
}
