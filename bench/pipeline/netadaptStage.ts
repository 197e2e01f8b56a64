// Stage (e), with --netadapt: NetAdapt (netadapt/loop.ts, its default `measure` latency source) on the best searched
// network, from its seed-0 checkpoint, to the reference's latency: the target is the reference / searched ratio,
// timed in alternation, as a relative target of the seed (a drift of the machine cancels in both). Its result is then
// trained from scratch under every seed like the other networks (NetAdapt's own final training is off: the retrain
// MobileNetV3 did, with the pipeline's one recipe). A killed run is found in the store by its directory and resumed.
import { join } from 'node:path';
import { isJsonObject, type JsonValue } from '../../common/json.js';
import { openNetadaptLatency } from '../../netadapt/latency.js';
import { resumeNetadapt, startNetadapt } from '../../netadapt/loop.js';
import { parseTarget } from '../../latency/targets.js';
import { fineTuneRecipe } from '../../netadapt/recipes.js';
import { readSettings } from '../../netadapt/stored.js';
import type { NetadaptResult, NetadaptSettings } from '../../netadapt/types.js';
import type { Store } from '../../results/store.js';
import type { ArchSpec } from '../../space/arch.js';
import type { TrainConfig } from '../../train/config.js';
import type { Trainer } from '../fidelity/training.js';
import { type Network, parseNetwork, trainNetwork } from './networks.js';
import { numberAt, type Say, stringAt } from './record.js';

export type NetadaptStageResult = {
  readonly runId: string;
  /** The target as a multiple of the searched network's latency (the reference's over the searched one's). */
  readonly ratio: number;
  readonly message: string;
  /** Null when NetAdapt took no step (the searched network meets the target, or no layer can be cut by delta). */
  readonly network: Network | null;
};

export function parseNetadaptStage(v: JsonValue): NetadaptStageResult | null {
  if (!isJsonObject(v)) return null;
  const [runId, ratio, message] = [stringAt(v, 'runId'), numberAt(v, 'ratio'), stringAt(v, 'message')];
  const network = v['network'] === null ? null : v['network'] === undefined ? undefined : parseNetwork(v['network']);
  return runId === null || ratio === null || message === null || network === undefined ? null : { runId, ratio, message, network };
}

export interface NetadaptStageOptions {
  readonly store: Store;
  readonly outDir: string;
  readonly reference: ArchSpec;
  /** The best searched network as trained, and its seed-0 training's run directory. */
  readonly searched: ArchSpec;
  readonly checkpoint: string;
  readonly recipe: TrainConfig;
  readonly dataset: string;
  readonly dataDir: string | null;
  readonly trainImages: number | null;
  readonly shortSteps: number;
  readonly delta: number;
  readonly bnImages: number;
  readonly rounds: number;
  readonly workers: number;
  readonly seeds: number;
  /**
   * Judge by this LUT (NetAdapt's `lut:FILE` source) to the search's absolute target instead of timing in
   * alternation; null: `measure`, the default. For --smoke: at its 4 A/B rounds the paired judgements were too noisy
   * to converge (measured: 7 iterations moved a 2.64 ms network to 2.52 ms in 12 minutes).
   */
  readonly lut: { readonly path: string; readonly targetMs: number } | null;
}

/** The reference's latency over the searched network's, the two timed in alternation. */
async function referenceRatio(o: NetadaptStageOptions): Promise<number> {
  const latency = await openNetadaptLatency({ kind: 'measure' }, { seed: o.searched, backend: 'wasm', rounds: o.rounds });
  try {
    return await latency.compare(o.searched, o.reference);
  } finally {
    await latency.close();
  }
}

function settingsOf(o: NetadaptStageOptions, target: string): NetadaptSettings {
  const seedCfg: TrainConfig = { ...o.recipe, seed: 0 };
  return {
    arch: o.searched,
    archRef: 'searched-1',
    checkpoint: o.checkpoint,
    data: { dataset: o.dataset, dataDir: o.dataDir, input: o.searched.input.size, channels: 3, fit: 'resize', trainImages: o.trainImages, valImages: null, dataSeed: 0 },
    target,
    latency: o.lut === null ? { kind: 'measure' } : { kind: 'lut', path: o.lut.path },
    delta: o.delta,
    shortSteps: o.shortSteps,
    workers: o.workers,
    finetune: fineTuneRecipe(seedCfg),
    finalTrain: seedCfg,
    final: 'none',
    baseline: null,
    seed: 0,
    out: join(o.outDir, 'netadapt'),
    backend: 'wasm',
    measureEach: false,
    measureRuns: o.rounds,
    bnImages: o.bnImages,
  };
}

/** An unfinished NetAdapt run of this pipeline (the one writing into its netadapt directory), if any. */
function unfinishedRun(store: Store, out: string): string | null {
  for (const r of store.listRuns({ kind: 'netadapt' })) {
    if (r.status !== 'finished' && readSettings(r.id, r.config).out === out) return r.id;
  }
  return null;
}

/** A new run to the reference's latency, or the unfinished one resumed; with the target ratio. */
async function startOrResume(o: NetadaptStageOptions, say: Say): Promise<{ result: NetadaptResult; ratio: number }> {
  const hooks = { log: (line: string) => say(`[netadapt] ${line}`) };
  const prior = unfinishedRun(o.store, join(o.outDir, 'netadapt'));
  if (prior !== null) {
    const settings = readSettings(prior, o.store.requireRun(prior).config);
    say(`[netadapt] resuming run ${prior}`);
    const result = await resumeNetadapt(prior, o.store, hooks);
    const t = parseTarget(settings.target);
    return { result, ratio: t.relative ? t.value : result.targetMs / result.seed.latencyMs };
  }
  const ratio = o.lut === null ? await referenceRatio(o) : null;
  const settings = settingsOf(o, ratio === null ? `latency=${o.lut?.targetMs ?? 0}ms` : `latency=${ratio.toFixed(4)}x`);
  say(`[netadapt] to ${settings.target}, the reference's latency (${ratio === null ? 'by the LUT' : 'timed in alternation with it'})`);
  const result = await startNetadapt(settings, o.store, hooks);
  return { result, ratio: ratio ?? result.targetMs / result.seed.latencyMs };
}

export async function netadaptStage(o: NetadaptStageOptions, trainer: Trainer, say: Say): Promise<NetadaptStageResult> {
  const { result: r, ratio } = await startOrResume(o, say);
  // No step taken (the seed meets the target, or no layer can be cut by delta): the result is the searched network.
  if (r.iterations.length === 0) return { runId: r.runId, ratio, message: r.message, network: null };
  const network = await trainNetwork(trainer, 'netadapt', r.finalSpec, o.seeds, say);
  return { runId: r.runId, ratio, message: r.message, network };
}
