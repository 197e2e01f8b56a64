// One NetAdapt proposal, as an evaluator module of the search engine (search/worker.ts runs it in a Piscina thread):
// load the parent checkpoint, transfer its weights to the shrunk network (L2 norm), fine-tune T steps on the training
// split, write the result as a checkpoint (atomic, train/checkpoint.ts) and score top-1 on the held-out validation
// split. Everything comes from the task's JSON config and seed, so a proposal gives the same result in any worker,
// and after a resume.
import { rm } from 'node:fs/promises';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { type LoadedDataset, loadDataset } from '../data/load.js';
import type { JsonValue } from '../common/json.js';
import type { EvalContext, Metrics } from '../search/types.js';
import type { ArchSpec } from '../space/arch.js';
import { validateArchSpec } from '../space/validate.js';
import { loadCheckpointModel, resolveCheckpoint } from '../train/checkpoint.js';
import { parseTrainConfig, type TrainConfig } from '../train/config.js';
import { evaluateModel } from '../train/evaluate.js';
import { trainModel } from '../train/loop.js';
import { recalibrateBatchNorm } from './batchNorm.js';
import type { Shrink } from './proposals.js';
import { transferModel } from './transfer.js';

/** What fixes the splits: the same for every proposal and for the main process. */
export interface DataKey {
  readonly dataset: string;
  readonly dataDir: string | null;
  readonly input: number;
  readonly channels: number;
  readonly fit: 'resize' | 'pad';
  /** Training pool (train + val) cap; null: the whole training set. */
  readonly trainImages: number | null;
  /** Validation images held out of the training data; null: the dataset's default (as train-final holds out). */
  readonly valImages: number | null;
  readonly dataSeed: number;
}

export interface FineTuneConfig {
  readonly parent: string;
  /** The parent's network at width 1 (the checkpoint may record a width multiplier). */
  readonly parentSpec: ArchSpec;
  readonly shrink: Shrink;
  /** Run directory of the proposal's checkpoint (emptied first: a killed attempt may have left one). */
  readonly out: string;
  readonly steps: number;
  readonly train: TrainConfig;
  readonly data: DataKey;
  readonly backend: BackendChoice;
  /** Training images the batch-norm statistics are recalibrated on before scoring (0: none). */
  readonly bnImages: number;
}

const cache = new Map<string, Promise<LoadedDataset>>();

/** The dataset of a key, loaded once per worker (or process). */
export function netadaptData(k: DataKey): Promise<LoadedDataset> {
  const key = JSON.stringify(k);
  let p = cache.get(key);
  if (p === undefined) {
    p = loadDataset(k.dataset, {
      input: { size: k.input, channels: k.channels },
      dataDir: k.dataDir ?? undefined,
      valSize: k.valImages ?? undefined,
      seed: k.dataSeed,
      fit: k.fit,
      ...(k.trainImages === null ? {} : { limit: { train: k.trainImages } }),
    });
    cache.set(key, p);
    p.catch(() => cache.delete(key));
  }
  return p;
}

let backendChosen: BackendChoice | null = null;

export async function ensureBackend(choice: BackendChoice): Promise<void> {
  if (backendChosen === choice) return;
  await useBackend(choice);
  backendChosen = choice;
}

export function parseFineTuneConfig(c: Readonly<Record<string, JsonValue>>): FineTuneConfig {
  const j = c as unknown as FineTuneConfig;
  return { ...j, parentSpec: validateArchSpec(j.parentSpec), train: parseTrainConfig(j.train) };
}

/** Transfer, fine-tune, checkpoint and score one proposal. */
export async function fineTune(arch: ArchSpec, cfg: FineTuneConfig, seed: number): Promise<Metrics> {
  await ensureBackend(cfg.backend);
  const data = await netadaptData(cfg.data);
  const parent = await loadCheckpointModel(await resolveCheckpoint(cfg.parent));
  const t = transferModel(cfg.parentSpec, parent.model, cfg.shrink, seed);
  parent.model.dispose();
  try {
    const train: TrainConfig = { ...cfg.train, seed };
    await rm(cfg.out, { recursive: true, force: true });
    const t0 = performance.now();
    const result = await trainModel({ model: t.model, arch, config: train, train: data.train, evalSplit: null, runDir: cfg.out, maxSteps: cfg.steps });
    await recalibrateBatchNorm(t.model, data.train, { images: cfg.bnImages, batchSize: train.batchSize, seed });
    const val = await evaluateModel(t.model, data.val, { batchSize: train.evalBatchSize, seed });
    if (result.checkpoint === null) throw new Error('the fine-tune wrote no checkpoint');
    return {
      accuracy: Number.isFinite(val.top1) ? val.top1 : 0,
      valLoss: Number.isFinite(val.loss) ? val.loss : null,
      checkpoint: result.checkpoint,
      steps: result.steps,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    t.model.dispose();
  }
}

/** The engine's entry point (search/worker.ts loads this module by URL). */
export async function evaluate(arch: ArchSpec, context: EvalContext): Promise<Metrics> {
  return fineTune(arch, parseFineTuneConfig(context.config), context.seed);
}
