// `nas bench pipeline`: the end-to-end experiment as one resumable command. From a clean database: (a) a latency LUT
// of this machine's node runner, (b) MobileNetV3-Small (small input) trained as the reference, (c) a search with the
// reference's predicted latency as its target, (d) its best candidates trained, (e) optionally NetAdapt on the best
// of them to the same target, (f) the reference width-scaled to the best searched network's measured latency; all
// trained with one recipe and epoch count under the same seeds, then timed together (bench/pipeline/*).
// Each stage's result is a JSON file under --out and each training a checkpointed run directory: a rerun does only
// what is missing.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { useBackend } from '../backend/select.js';
import { replaceFile } from '../common/atomicFs.js';
import { NasError, UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import type { JsonObject, JsonValue } from '../common/json.js';
import type { DatasetName } from '../data/load.js';
import { readRecipe } from '../proxy-train/config.js';
import type { Store } from '../results/store.js';
import type { EngineOptions } from '../search/loop.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeArch, encodeArch } from '../space/blockString.js';
import { loadArch } from '../space/load.js';
import { applyOverrides } from '../train/config.js';
import { Trainer } from './fidelity/training.js';
import { buildPipelineLut, type LutStageResult, type LutTiming, parseLutStage } from './pipeline/lutStage.js';
import { type Measured, measureStage, parseMeasured } from './pipeline/measureStage.js';
import { type NetadaptStageResult, netadaptStage, parseNetadaptStage } from './pipeline/netadaptStage.js';
import { type Network, parseNetwork, parseNetworks, trainNetwork } from './pipeline/networks.js';
import { type OnChange, type Parse, type Say, stage } from './pipeline/record.js';
import { type PipelineRow, rowOf } from './pipeline/report.js';
import { parseSearchStage, roundTarget, searchStage, type SearchStageResult } from './pipeline/searchStage.js';
import { parseWidthStage, type WidthStageResult, widthStage } from './pipeline/widthStage.js';

export interface PipelineOptions {
  readonly store: Store;
  readonly outDir: string;
  readonly space: string;
  readonly dataset: DatasetName;
  readonly dataDir: string | null;
  /** Distinct candidates the search evaluates. */
  readonly budget: number;
  readonly epochs: number;
  /** Training seeds 0..seeds-1 for every network. */
  readonly seeds: number;
  /** Searched candidates trained fully, best reward first. */
  readonly top: number;
  readonly netadapt: boolean;
  /** Training recipe: a configs/ name or a file. */
  readonly recipe: string;
  /** The search's seed. */
  readonly seed: number;
  readonly lut: LutTiming;
  /** Proxy evaluator overrides (the dataset is added; its defaults fill the rest). */
  readonly proxy: JsonObject;
  /** Batch-norm decay of the full trainings; null: the architecture's. */
  readonly bnDecay: number | null;
  readonly trainImages: number | null;
  readonly testImages: number | null;
  /** A/B rounds of each latency judgement (width bisection, NetAdapt). */
  readonly rounds: number;
  /** NetAdapt's step settings (fine-tune steps per proposal, the cut per step, batch-norm recalibration images). */
  readonly netadaptSteps: { readonly shortSteps: number; readonly delta: number; readonly bnImages: number; readonly byLut: boolean };
  /** Runs per network in the final joint measurement. */
  readonly measureRuns: number;
  readonly engine: EngineOptions;
  readonly onProgress?: Say;
}

export interface PipelineResult {
  readonly space: string;
  readonly dataset: DatasetName;
  readonly recipe: string;
  readonly epochs: number;
  readonly seeds: number;
  readonly budget: number;
  /** The reference's latency as the LUT predicts it, and the search's target: the reference timed alone (paired runs judge every candidate against it). */
  readonly referencePredictedMs: number;
  readonly targetMs: number;
  readonly searchRunId: string;
  /** The NetAdapt run (its target: the reference / searched ratio), or null without --netadapt. */
  readonly netadapt: { readonly runId: string; readonly ratio: number; readonly message: string } | null;
  readonly widthMultiplier: number;
  /** Wall seconds of each stage (of the run that produced it, when a rerun reused it). */
  readonly stageSeconds: Readonly<Record<string, number>>;
  readonly reusedStages: readonly string[];
  readonly rows: readonly PipelineRow[];
}

/** Marks a pipeline's --out directory (and records what it was started with): a rerun may write into it. */
export const PIPELINE_FILE = 'pipeline.json';

export function isPipelineDir(dir: string): boolean {
  return existsSync(join(dir, PIPELINE_FILE));
}

/** The search spaces at the reference's input size (32 px, stride-1 stem); the first is built around the reference. */
const SPACES: readonly string[] = ['mobilenetv3s-small-input', 'mnasnet-small-input', 'mobilenetv3-small-input'];

function checkOptions(o: PipelineOptions): void {
  checkInteger('--budget', o.budget, 1);
  checkInteger('--seeds', o.seeds, 1);
  checkInteger('--top', o.top, 1);
  checkInteger('--seed', o.seed, 0);
  checkInteger('--train-images', o.trainImages ?? undefined, 2);
  checkInteger('--test-images', o.testImages ?? undefined, 2);
  if (!(o.epochs > 0)) throw new UsageError(`--epochs must be > 0, got ${o.epochs}`);
  if (o.top > o.budget) throw new UsageError(`--top ${o.top} is more than the --budget ${o.budget} candidates the search evaluates; lower --top or raise --budget`);
  if (o.dataset === 'folder') throw new UsageError('--data folder: the pipeline runs on 10-class 28-32 px data; use fashion-mnist, mnist or cifar10');
  if (!SPACES.includes(o.space)) throw new UsageError(`--space ${o.space}: the pipeline searches a 32 px space; use ${SPACES.join(', ')}`);
}

/** The input size of the small-input spaces, the LUT and every network. */
export const INPUT = 32;

/** MobileNetV3-Small with the stride-1 stem for small images (train-final's --small-input), 3 channels, 10 classes. */
export function referenceArch(): ArchSpec {
  return loadArch(['mobilenetv3-small'], { input: INPUT, channels: 3, classes: 10, smallInput: true });
}

async function markDir(o: PipelineOptions): Promise<void> {
  await mkdir(o.outDir, { recursive: true });
  const { store: _store, onProgress: _say, engine: _engine, ...options } = o;
  await replaceFile(join(o.outDir, PIPELINE_FILE), `${JSON.stringify({ options }, null, 2)}\n`);
}

interface Ctx {
  readonly o: PipelineOptions;
  readonly say: Say;
  readonly trainer: Trainer;
  /** What every training depends on besides the arch and seed: part of each training stage's settings. */
  readonly training: JsonObject;
  readonly seconds: Record<string, number>;
  readonly reused: string[];
}

/** Runs (or reads back) one stage and books its time. */
async function booked<T extends JsonValue>(c: Ctx, name: string, settings: JsonValue, parse: Parse<T>, run: () => Promise<T>, onChange?: OnChange): Promise<T> {
  c.say(`== ${name}`);
  const r = await stage(c.o.outDir, name, settings, parse, run, onChange);
  c.seconds[name] = r.seconds;
  if (r.reused) {
    c.reused.push(name);
    c.say(`== ${name}: reused from ${join(c.o.outDir, `${name}.json`)}`);
  }
  return r.result;
}

function contextOf(o: PipelineOptions): Ctx {
  const say: Say = o.onProgress ?? (() => undefined);
  const { recipe, epochs, seeds, dataset, dataDir, trainImages, testImages, bnDecay } = o;
  const trainer = new Trainer({ ...o, recipe: readRecipe(recipe), storedOnly: false, onEpoch: (line) => say(`  ${line}`) });
  return { o, say, trainer, training: { recipe, epochs, seeds, dataset, dataDir, trainImages, testImages, bnDecay }, seconds: {}, reused: [] };
}

async function searched(c: Ctx, reference: ArchSpec): Promise<SearchStageResult> {
  const { o } = c;
  const evaluatorConfig = { ...o.proxy, dataset: o.dataset, ...(o.dataDir === null ? {} : { dataDir: o.dataDir }) };
  const settings = { space: o.space, latency: 'paired', reference: encodeArch(reference), budget: o.budget, seed: o.seed, evaluatorConfig };
  return booked(c, 'search', settings, parseSearchStage, () =>
    searchStage({ ...settings, reference, store: o.store, outDir: o.outDir, engine: o.engine, top: o.top }, c.say),
  );
}

async function trainCandidates(c: Ctx, s: SearchStageResult): Promise<Network[]> {
  const archs = s.best.map((b) => b.arch);
  return booked(c, 'candidates', { archs, training: c.training }, parseNetworks, async () => {
    const out: Network[] = [];
    for (const [i, a] of archs.entries()) out.push(await trainNetwork(c.trainer, `searched-${i + 1}`, decodeArch(a), c.o.seeds, c.say));
    return out;
  });
}

async function widthBaseline(c: Ctx, ref: ArchSpec, best: ArchSpec): Promise<WidthStageResult> {
  const { o, trainer } = c;
  const settings = { reference: encodeArch(ref), searched: encodeArch(best), rounds: o.rounds, training: c.training };
  return booked(c, 'width', settings, parseWidthStage, () =>
    widthStage({ reference: trainer.archAsTrained(ref), searched: trainer.archAsTrained(best), rounds: o.rounds, seeds: o.seeds }, trainer, c.say),
  );
}

async function netadapted(c: Ctx, ref: ArchSpec, best: Network, lutPath: string, targetMs: number): Promise<NetadaptStageResult | null> {
  const { o } = c;
  const checkpoint = best.trainings[0]?.dir;
  if (!o.netadapt || checkpoint === undefined) return null;
  const settings = { reference: encodeArch(ref), searched: best.arch, checkpoint, steps: { ...o.netadaptSteps }, rounds: o.rounds, training: c.training };
  return booked(c, 'netadapt', settings, parseNetadaptStage, () =>
    netadaptStage(
      {
        ...o,
        ...o.netadaptSteps,
        reference: c.trainer.archAsTrained(ref),
        searched: decodeArch(best.arch, best.name),
        checkpoint,
        recipe: applyOverrides(readRecipe(o.recipe), [`epochs=${o.epochs}`]),
        workers: o.engine.workers,
        lut: o.netadaptSteps.byLut ? { path: lutPath, targetMs } : null,
      },
      c.trainer,
      c.say,
    ),
  );
}

async function measured(c: Ctx, networks: readonly Network[]): Promise<Measured> {
  const runs = c.o.measureRuns;
  const settings = { archs: networks.map((n) => [n.name, n.arch]), runs, pairedWith: networks[0]?.name ?? null };
  return booked(c, 'measure', settings, parseMeasured, () => measureStage(networks, runs, c.say), 'redo');
}

async function referenceAndLut(c: Ctx, ref: ArchSpec): Promise<{ lut: LutStageResult; reference: Network }> {
  const { o } = c;
  const lut = await booked(c, 'lut', { space: o.space, reference: encodeArch(ref), timing: { ...o.lut } }, parseLutStage, () =>
    buildPipelineLut(o.outDir, o.space, ref, o.lut, c.say),
  );
  const reference = await booked(c, 'reference', { arch: encodeArch(ref), training: c.training }, parseNetwork, () =>
    trainNetwork(c.trainer, 'reference', ref, o.seeds, c.say),
  );
  return { lut, reference };
}

export async function runPipeline(o: PipelineOptions): Promise<PipelineResult> {
  checkOptions(o);
  const c = contextOf(o);
  await markDir(o);
  await useBackend('wasm');
  const ref = referenceArch();
  const { lut, reference } = await referenceAndLut(c, ref);
  const search = await searched(c, ref);
  const candidates = await trainCandidates(c, search);
  const [best] = candidates;
  if (best === undefined) throw new NasError('E_FAILED', `search ${search.runId} found no candidate with a result; see \`nas results ${search.runId}\``, 1);
  const adapted = await netadapted(c, ref, best, lut.path, roundTarget(lut.referenceMs));
  const width = await widthBaseline(c, ref, decodeArch(best.arch, best.name));
  const networks = [reference, ...candidates, ...(adapted?.network ? [adapted.network] : []), width.network];
  const times = await measured(c, networks);
  return {
    ...{ space: o.space, dataset: o.dataset, recipe: o.recipe, epochs: o.epochs, seeds: o.seeds, budget: o.budget },
    referencePredictedMs: lut.referenceMs,
    targetMs: search.targetMs,
    searchRunId: search.runId,
    netadapt: adapted === null ? null : { runId: adapted.runId, ratio: adapted.ratio, message: adapted.message },
    widthMultiplier: width.width,
    stageSeconds: c.seconds,
    reusedStages: c.reused,
    rows: networks.map((n) => rowOf(n, times)),
  };
}
