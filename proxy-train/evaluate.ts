// The built-in evaluator of `nas search` (MnasNet's proxy task): build the candidate, train it briefly on a seeded
// subset of the training split, and score top-1 on validation images held out of the training data. The test split
// is never used. Runs in Piscina worker threads and GPU child processes alike: everything it needs comes from the
// arch, the JSON config and the seed, and the dataset is loaded once per worker (data.ts).
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { NasError, UsageError } from '../common/errors.js';
import { buildModel } from '../model/build.js';
import type { EvalContext, EvaluateFn, Metrics } from '../search/types.js';
import type { ArchSpec } from '../space/arch.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { evaluateModel } from '../train/evaluate.js';
import { stepsPerEpoch, trainModel } from '../train/loop.js';
import { type ProxyConfig, parseProxyConfig, proxyTrainConfig } from './config.js';
import { proxyData } from './data.js';

let backendChosen: BackendChoice | null = null;

/** Select the backend once per worker (and again only if a later config asks for another). */
async function ensureBackend(choice: BackendChoice): Promise<void> {
  if (backendChosen === choice) return;
  await useBackend(choice);
  backendChosen = choice;
}

/**
 * The network proxy training builds: the candidate at the proxy input size, with the proxy's batch-norm decay.
 * Neither changes a weight's shape; the candidate's identity, params and MAdds stay those of `arch`.
 */
export function proxyArch(arch: ArchSpec, cfg: Pick<ProxyConfig, 'input' | 'bnDecay'>): ArchSpec {
  return {
    ...arch,
    input: { ...arch.input, size: cfg.input ?? arch.input.size },
    bn: { ...arch.bn, decay: cfg.bnDecay ?? arch.bn.decay },
  };
}

/** Images seen by `steps` steps of an epoch of `size` images in batches of `batch`. */
function imagesSeen(steps: number, size: number, batch: number, dropLast: boolean): number {
  const spe = stepsPerEpoch(size, batch, dropLast);
  const perEpoch = dropLast ? spe * batch : size;
  return Math.floor(steps / spe) * perEpoch + (steps % spe) * batch;
}

/** Proxy-train one candidate and score it on the held-out validation split. */
export const evaluate: EvaluateFn = async (arch: ArchSpec, context: EvalContext): Promise<Metrics> => {
  const cfg = parseProxyConfig(context.config);
  const cost = costOf(resolve(arch));
  const spec = proxyArch(arch, cfg);
  const resolved = resolve(spec);
  await ensureBackend(cfg.backend);

  const input = { size: spec.input.size, channels: spec.input.channels };
  const { dataset, loadSeconds } = await proxyData({ ...cfg, input });
  if (dataset.classes !== arch.classes) {
    throw new UsageError(
      `the architecture has ${arch.classes} classes but ${dataset.name} has ${dataset.classes}: use a space or arch with ${dataset.classes} classes`,
    );
  }
  const train = proxyTrainConfig(cfg, context.seed);
  const spe = stepsPerEpoch(dataset.train.size, train.batchSize, train.dropLast);
  const steps = Math.max(1, Math.round(cfg.proxyEpochs * spe));

  const model = buildModel(resolved, { seed: train.seed });
  try {
    const t0 = performance.now();
    const progress = context.progress;
    const result = await trainModel({
      model,
      arch: spec,
      config: train,
      train: dataset.train,
      evalSplit: null,
      runDir: null,
      maxSteps: steps,
      // Training is nearly all of an evaluation's time; the last 5% is the validation pass.
      ...(progress ? { hooks: { onStep: (p) => progress((0.95 * p.step) / p.totalSteps) } } : {}),
    });
    const t1 = performance.now();
    const val = await evaluateModel(model, dataset.val, { batchSize: train.evalBatchSize, seed: train.seed });
    const t2 = performance.now();
    if (!Number.isFinite(val.loss)) {
      throw new NasError('E_DIVERGED', `proxy training ended with a validation loss of ${val.loss} after ${result.steps} steps`, 1);
    }
    progress?.(1);
    const last = result.history[result.history.length - 1];
    return {
      accuracy: val.top1,
      top5: val.top5,
      valLoss: val.loss,
      valImages: val.count,
      params: cost.params,
      madds: cost.madds,
      input: spec.input.size,
      epochs: result.epochs,
      steps: result.steps,
      images: imagesSeen(result.steps, dataset.train.size, train.batchSize, train.dropLast),
      batchSize: train.batchSize,
      finalLoss: last?.trainLoss ?? null,
      trainSeconds: (t1 - t0) / 1000,
      evalSeconds: (t2 - t1) / 1000,
      loadSeconds,
      backend: tf.getBackend(),
    };
  } finally {
    model.dispose();
  }
};
