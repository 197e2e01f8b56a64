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
  /** The reference's latency as a multiple of the searched network's (the relative target). */
  readonly ratio: number;
  readonly message: string;
  /** Null when the searched network already meets the target (NetAdapt has nothing to do). */
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

function settingsOf(o: NetadaptStageOptions, ratio: number): NetadaptSettings {
  const seedCfg: TrainConfig = { ...o.recipe, seed: 0 };
  return {
    arch: o.searched,
    archRef: 'searched-1',
    checkpoint: o.checkpoint,
    data: { dataset: o.dataset, dataDir: o.dataDir, input: o.searched.input.size, channels: 3, fit: 'resize', trainImages: o.trainImages, valImages: null, dataSeed: 0 },
    target: `latency=${ratio.toFixed(4)}x`,
    latency: { kind: 'measure' },
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
    return { result: await resumeNetadapt(prior, o.store, hooks), ratio: parseTarget(settings.target).value };
  }
  const ratio = await referenceRatio(o);
  const settings = settingsOf(o, ratio);
  say(`[netadapt] to ${settings.target} of the searched network (the reference's latency, timed in alternation)`);
  return { result: await startNetadapt(settings, o.store, hooks), ratio };
}

export async function netadaptStage(o: NetadaptStageOptions, trainer: Trainer, say: Say): Promise<NetadaptStageResult> {
  const { result: r, ratio } = await startOrResume(o, say);
  if (r.status === 'nothing-to-do') return { runId: r.runId, ratio, message: r.message, network: null };
  const network = await trainNetwork(trainer, 'netadapt', r.finalSpec, o.seeds, say);
  return { runId: r.runId, ratio, message: r.message, network };
}
