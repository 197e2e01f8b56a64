// `nas bench proxy-fidelity`: how well do the search's cheap estimates rank architectures by what full training
// gives? N architectures spread over a space's cost range (fidelity/sample.ts) are scored by the proxy evaluator at
// several settings, by the zero-cost scores and by params and MAdds (fidelity/settings.ts, fidelity/scores.ts), and
// trained with train-final's code and recipe (fidelity/training.ts), a subset with a second seed; the table is
// Kendall's tau-b and Spearman's rho of each score against the test accuracy, with its cost (fidelity/report.ts).
// Everything is kept in the results store and the --out directory: a rerun does only what is missing.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../backend/select.js';
import { replaceFile } from '../common/atomicFs.js';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import type { JsonValue } from '../common/json.js';
import type { DatasetName } from '../data/load.js';
import { readRecipe } from '../proxy-train/config.js';
import type { Store } from '../results/store.js';
import { builtinSpace } from '../space/spaces.js';
import { type FidelityRow, meanOf, type SeedNoise, seedNoise, type SettingSummary, summarizeSetting, type TrainedAccuracy } from './fidelity/report.js';
import { sampleAcrossCost, type StudyArch } from './fidelity/sample.js';
import { ScoreBook, type ScoreResult } from './fidelity/scores.js';
import { FINAL_EPOCH, finalEpochProxy } from '../proxy-train/presets.js';
import { proxySettings, type ScoreSetting, zeroCostSettings } from './fidelity/settings.js';
import { Trainer } from './fidelity/training.js';

export interface ProxyFidelityOptions {
  readonly store: Store;
  readonly outDir: string;
  readonly space: string;
  readonly dataset: DatasetName;
  readonly dataDir: string | null;
  readonly archs: number;
  /** Uniform samples drawn to pick the archs from. */
  readonly pool: number;
  /** Only samples with at most this many MAdds; null: the whole space. */
  readonly maxMadds: number | null;
  /** Seeds the sample and each candidate's evaluation seed (as a search's run seed does). */
  readonly seed: number;
  /** Proxy settings: preset names or LABEL:key=value,... (fidelity/settings.ts). */
  readonly settings: readonly string[];
  /** Proxy config keys every setting starts from (the dataset is added). */
  readonly proxyBase: Readonly<Record<string, JsonValue>>;
  /** Zero-cost config (the dataset is added); null: no zero-cost scores. */
  readonly zeroCost: Readonly<Record<string, JsonValue>> | null;
  /** Training recipe: a configs/ name or a file. */
  readonly recipe: string;
  readonly epochs: number;
  /** Batch-norm decay of the full trainings; null: the architecture's. */
  readonly bnDecay: number | null;
  /** Training seeds 0..seeds-1: seed 0 for every arch, the others for `noiseArchs` of them. */
  readonly seeds: number;
  readonly noiseArchs: number;
  readonly trainImages: number | null;
  readonly testImages: number | null;
  /** Evaluate and train nothing: the table of what the store and --out hold (a study still running, or stopped). */
  readonly storedOnly: boolean;
  readonly onProgress?: (line: string) => void;
}

export interface ProxyFidelityResult {
  readonly space: string;
  readonly dataset: DatasetName;
  readonly input: number;
  readonly seed: number;
  readonly pool: number;
  readonly maxMadds: number | null;
  readonly recipe: string;
  readonly epochs: number;
  readonly bnDecay: number | null;
  readonly trainImages: number | null;
  readonly testImages: number | null;
  readonly seeds: readonly number[];
  readonly noiseArchs: readonly number[];
  readonly settings: readonly SettingSummary[];
  readonly noise: SeedNoise;
  /** Mean seconds of one full training (seed 0). */
  readonly trainSecondsPerArch: number | null;
  readonly rows: readonly FidelityRow[];
}

/** Marks a study's --out directory (and records what it was started with): a rerun may write into it. */
export const STUDY_FILE = 'proxy-fidelity.json';

export function isStudyDir(dir: string): boolean {
  return existsSync(join(dir, STUDY_FILE));
}

async function markStudyDir(o: ProxyFidelityOptions, settings: readonly ScoreSetting[]): Promise<void> {
  await mkdir(o.outDir, { recursive: true });
  const { store: _store, onProgress: _say, ...options } = o;
  await replaceFile(join(o.outDir, STUDY_FILE), `${JSON.stringify({ options, settings }, null, 2)}\n`);
}

const BASELINES = [
  { label: 'params', evaluator: 'baseline', config: null },
  { label: 'madds', evaluator: 'baseline', config: null },
] as const;

/** Which archs get the extra seeds: `m` of `n`, evenly spread over the cost order. */
export function noiseSubset(n: number, m: number): number[] {
  const k = Math.min(n, m);
  if (k <= 0) return [];
  if (k === 1) return [0];
  return Array.from({ length: k }, (_, i) => Math.round((i * (n - 1)) / (k - 1)));
}

function checkOptions(o: ProxyFidelityOptions): void {
  checkInteger('--archs', o.archs, 3, 'a rank correlation needs a few');
  checkInteger('--pool', o.pool, o.archs, 'at least --archs');
  checkInteger('--seed', o.seed, 0);
  checkInteger('--seeds', o.seeds, 1);
  checkInteger('--noise-archs', o.noiseArchs, 0);
  checkInteger('--train-images', o.trainImages ?? undefined, 2);
  checkInteger('--test-images', o.testImages ?? undefined, 2);
  if (o.maxMadds !== null && !(o.maxMadds > 0)) throw new UsageError(`--max-madds must be > 0, got ${o.maxMadds}`);
  if (o.bnDecay !== null && !(o.bnDecay > 0 && o.bnDecay < 1)) throw new UsageError(`--bn-decay must be in (0, 1), got ${o.bnDecay}`);
  if (!(o.epochs > 0)) throw new UsageError(`--epochs must be > 0, got ${o.epochs}`);
}

function scoreSettings(o: ProxyFidelityOptions): ScoreSetting[] {
  const data = { dataset: o.dataset, ...(o.dataDir === null ? {} : { dataDir: o.dataDir }) };
  const zero = o.zeroCost === null ? [] : zeroCostSettings({ ...data, ...o.zeroCost });
  const finalEpoch = o.settings.includes(FINAL_EPOCH) ? finalEpochProxy(o.dataset, o.recipe) : {};
  return [...zero, ...proxySettings(o.settings, { ...data, ...o.proxyBase }, finalEpoch)];
}

type Say = (line: string) => void;

function scoreLine(s: ScoreSetting, a: StudyArch, i: number, n: number, r: ScoreResult): string {
  const head = `[${s.label} ${i + 1}/${n}] #${a.index}`;
  if (r.failure !== null) return `${head} failed: ${r.failure}`;
  const value = r.value === null ? 'undefined' : r.value.toFixed(4);
  return `${head} ${value}${r.stored ? ' (stored)' : ` (${(r.seconds ?? 0).toFixed(1)} s)`}`;
}

async function scoreAll(book: ScoreBook, settings: readonly ScoreSetting[], archs: readonly StudyArch[], say: Say): Promise<Map<string, ScoreResult[]>> {
  const out = new Map<string, ScoreResult[]>();
  for (const s of settings) {
    const results: ScoreResult[] = [];
    for (const [i, a] of archs.entries()) {
      const r = await book.score(s, a);
      results.push(r);
      say(scoreLine(s, a, i, archs.length, r));
    }
    out.set(s.label, results);
  }
  book.finish();
  return out;
}

interface Trained {
  readonly accuracies: TrainedAccuracy[][];
  /** Why each arch's failed trainings failed (e.g. out of memory), by arch index. */
  readonly failures: string[][];
}

async function trainOne(trainer: Trainer, a: StudyArch, seed: number, out: Trained, say: Say, head: string): Promise<void> {
  say(`${head} ${a.canonical}`);
  try {
    const r = await trainer.train(`a${a.index}-s${seed}`, a.arch, seed);
    if (r === null) return say(`${head} not trained yet`);
    out.accuracies[a.index]?.push({ seed, top1: r.top1, seconds: r.seconds, runId: r.runId });
    say(`${head} test top-1 ${(100 * r.top1).toFixed(2)}%${r.stored ? ' (stored)' : ''}, ${r.seconds.toFixed(0)} s (run ${r.runId})`);
  } catch (e) {
    // One network that cannot be trained (too large for the heap, diverged) leaves the others' results standing.
    const why = `seed ${seed}: ${e instanceof Error ? e.message : String(e)}`;
    out.failures[a.index]?.push(why);
    say(`${head} failed: ${why}`);
  }
}

/**
 * Cheapest arch first, each with seed 0 and, in the noise subset, the other seeds: the largest networks (the ones
 * that may not fit the training kernels' heap, docs/SEARCH.md) come last, and a partial study has its noise pairs.
 */
async function trainAll(trainer: Trainer, archs: readonly StudyArch[], seeds: number, subset: readonly number[], say: Say): Promise<Trained> {
  const out: Trained = { accuracies: archs.map(() => []), failures: archs.map(() => []) };
  const jobs = archs.flatMap((a) => Array.from({ length: subset.includes(a.index) ? seeds : 1 }, (_, seed) => ({ a, seed })));
  for (const [i, { a, seed }] of jobs.entries()) {
    await trainOne(trainer, a, seed, out, say, `[train ${i + 1}/${jobs.length} seed ${seed}] #${a.index}`);
  }
  return out;
}

function rowsOf(archs: readonly StudyArch[], scores: Map<string, ScoreResult[]>, trained: Trained): FidelityRow[] {
  return archs.map((a, i) => {
    const t = trained.accuracies[i] ?? [];
    const pick = (f: (r: ScoreResult) => number | null): Record<string, number | null> =>
      Object.fromEntries([...scores].map(([label, rs]) => [label, rs[i] === undefined ? null : f(rs[i])]));
    return {
      index: a.index,
      arch: a.canonical,
      quantile: a.quantile,
      params: a.params,
      madds: a.madds,
      scores: { params: a.params, madds: a.madds, ...pick((r) => r.value) },
      scoreSeconds: { params: 0, madds: 0, ...pick((r) => r.seconds) },
      trained: t,
      trainFailures: trained.failures[i] ?? [],
      accuracy: meanOf(t.map((x) => x.top1)),
    };
  });
}

export async function proxyFidelity(o: ProxyFidelityOptions): Promise<ProxyFidelityResult> {
  checkOptions(o);
  const settings = scoreSettings(o);
  const recipe = readRecipe(o.recipe);
  const archs = sampleAcrossCost(builtinSpace(o.space), o.archs, o.pool, o.seed, o.maxMadds);
  const say: Say = o.onProgress ?? (() => undefined);
  say(`${archs.length} architectures of ${o.space}, ${archs[0]?.madds ?? 0} to ${archs.at(-1)?.madds ?? 0} MAdds`);
  if (!o.storedOnly) {
    await markStudyDir(o, settings);
    await useBackend('wasm');
  }
  const scores = await scoreAll(new ScoreBook(o.store, o.seed, o.storedOnly), settings, archs, say);
  const subset = o.seeds > 1 ? noiseSubset(archs.length, o.noiseArchs) : [];
  const trainer = new Trainer({ ...o, recipe, onEpoch: (line) => say(`  ${line}`) });
  const trained = await trainAll(trainer, archs, o.seeds, subset, say);
  const rows = rowsOf(archs, scores, trained);
  const seeds = Array.from({ length: o.seeds }, (_, s) => s);
  return {
    space: o.space,
    dataset: o.dataset,
    input: archs[0]?.arch.input.size ?? 0,
    seed: o.seed,
    pool: o.pool,
    maxMadds: o.maxMadds,
    recipe: o.recipe,
    epochs: o.epochs,
    bnDecay: o.bnDecay,
    trainImages: o.trainImages,
    testImages: o.testImages,
    seeds,
    noiseArchs: subset,
    settings: [...BASELINES, ...settings].map((s) => summarizeSetting(rows, s)),
    noise: seedNoise(rows, seeds),
    trainSecondsPerArch: meanOf(trained.accuracies.flatMap((t) => t.filter((x) => x.seed === 0).map((x) => x.seconds))),
    rows,
  };
}
