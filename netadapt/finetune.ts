// One NetAdapt proposal, as an evaluator module of the search engine (search/worker.ts runs it in a Piscina thread):
// load the parent checkpoint, transfer its weights to the shrunk network (L2 norm), fine-tune T steps on the training
// split, write the result as a checkpoint (atomic, train/checkpoint.ts) and score top-1 on the held-out validation
// split. Everything comes from the task's JSON config and seed, so a proposal gives the same result in any worker,
// and after a resume.
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { NasError } from '../common/errors.js';
import { type LoadedDataset, loadDataset } from '../data/load.js';
import type { JsonValue } from '../common/json.js';
import { decodeJson, encodeJson } from '../results/json.js';
import type { EvalContext, Metrics } from '../search/types.js';
import type { ArchSpec } from '../space/arch.js';
import { loadCheckpointModel, resolveCheckpoint } from '../train/checkpoint.js';
import type { TrainConfig } from '../train/config.js';
import { type EvalMetrics, evaluateModel } from '../train/evaluate.js';
import { trainModel } from '../train/loop.js';
import { recalibrateBatchNorm } from './batchNorm.js';
import { readFineTuneConfig } from './stored.js';
import { transferModel } from './transfer.js';
import type { DataKey, FineTuneConfig } from './types.js';

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

/** The config of a proposal's engine task: plain JSON data (checked as such), read back by readFineTuneConfig. */
export function fineTuneTaskConfig(cfg: FineTuneConfig): Readonly<Record<string, JsonValue>> {
  const json = decodeJson(encodeJson(cfg, 'netadapt fine-tune task'));
  if (!isJsonObject(json)) throw new TypeError('a fine-tune config is a JSON object');
  return json;
}

function isJsonObject(v: JsonValue): v is { readonly [key: string]: JsonValue } {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * A fine-tune whose network no longer computes (a NaN or infinite validation loss: weights blown up by the last
 * steps, whose own losses were finite) is a failed proposal, as the proxy evaluator's is a failed candidate, never
 * a poor but valid one.
 */
function checkConverged(val: EvalMetrics, steps: number): void {
  if (!Number.isFinite(val.loss) || !Number.isFinite(val.top1)) {
    throw new NasError('E_DIVERGED', `the fine-tune diverged: validation loss ${val.loss}, accuracy ${val.top1} after ${steps} steps`, 1);
  }
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
    checkConverged(val, result.steps);
    if (result.checkpoint === null) throw new Error('the fine-tune wrote no checkpoint');
    return {
      accuracy: val.top1,
      valLoss: val.loss,
      checkpoint: result.checkpoint,
      steps: result.steps,
      seconds: (performance.now() - t0) / 1000,
    };
  } finally {
    t.model.dispose();
  }
}

/**
 * A `nas worker`'s check before it takes a fine-tune from the queue (search/engine/queue/accept.ts): the parent
 * checkpoint and the run's directory are named by the coordinator's paths, and must be here at those paths; else the
 * worker refuses the job with this reason, which the proposal keeps.
 */
export function checkConfig(config: Readonly<Record<string, JsonValue>>): void {
  const cfg = readFineTuneConfig(config);
  // out is <--out>/it-NNN/p-NN.
  const where: [string, string][] = [['parent checkpoint', cfg.parent], ['run directory', dirname(dirname(cfg.out))]];
  for (const [what, path] of where) {
    if (!existsSync(path)) {
      throw new NasError('E_USAGE', `the ${what} ${path} is not on this machine: with --queue, NetAdapt's --out and seed checkpoint must be on a directory every worker mounts at the same path`);
    }
  }
}

/** The engine's entry point (search/worker.ts loads this module by URL). */
export async function evaluate(arch: ArchSpec, context: EvalContext): Promise<Metrics> {
  return fineTune(arch, readFineTuneConfig(context.config), context.seed);
}
