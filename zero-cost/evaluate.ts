// The zero-cost evaluators of `nas search` (`--evaluator zero-cost:naswot | zero-cost:synflow`): score a candidate at
// initialisation (weights from its seed, NASWOT's minibatch from the seeded training split) instead of training it.
// The metrics are what the proxy evaluator returns where they mean the same (params, MAdds from the cost model; the
// loop's latency source adds latency), with the score mapped to the reward's accuracy (accuracy.ts).
import * as tf from '@tensorflow/tfjs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import type { EvalContext, EvaluateFn, Metrics } from '../search/types.js';
import type { ArchSpec } from '../space/arch.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { mappedValue, scoreAccuracy } from './accuracy.js';
import { parseZeroCostConfig, type ZeroCostConfig, type ZeroCostScore } from './config.js';
import { minibatch, type Minibatch } from './minibatch.js';
import { zeroCostScore } from './score.js';

let backendChosen: BackendChoice | null = null;

async function selectBackend(choice: BackendChoice): Promise<void> {
  if (backendChosen !== choice) await useBackend(choice);
  backendChosen = choice;
}

/** NASWOT's minibatch for the network as scored (synflow reads no data); checks the dataset's classes. */
async function batchFor(name: ZeroCostScore, cfg: ZeroCostConfig, spec: ArchSpec): Promise<Minibatch | null> {
  if (name !== 'naswot') return null;
  const mb = await minibatch({ ...cfg, input: spec.input });
  if (mb.classes !== spec.classes) {
    throw new UsageError(
      `the architecture has ${spec.classes} classes but ${cfg.dataset} has ${mb.classes}: use a space or arch with ${mb.classes} classes`,
    );
  }
  return mb;
}

/** The evaluate function of one score. */
export function zeroCostEvaluator(name: ZeroCostScore): EvaluateFn {
  return async (arch: ArchSpec, context: EvalContext): Promise<Metrics> => {
    const cfg = parseZeroCostConfig(context.config);
    const cost = costOf(resolve(arch));
    // Scored at the configured input size; the candidate's identity, params and MAdds stay those of `arch`.
    const spec: ArchSpec = cfg.input === null ? arch : { ...arch, input: { ...arch.input, size: cfg.input } };
    await selectBackend(cfg.backend);
    const t0 = performance.now();
    const mb = await batchFor(name, cfg, spec);
    const loadSeconds = (performance.now() - t0) / 1000;
    const r = zeroCostScore(name, spec, mb?.batch ?? null, context.seed);
    const value = mappedValue(name, r.score, mb?.batch.count ?? 1);
    return {
      accuracy: scoreAccuracy(name, value, cfg),
      zeroCost: name,
      // JSON has no -Infinity: a singular NASWOT kernel is stored as null (and accuracy 0).
      score: Number.isFinite(r.score) ? r.score : null,
      ...r.detail,
      params: cost.params,
      madds: cost.madds,
      input: spec.input.size,
      scoreSeconds: r.seconds,
      loadSeconds,
      backend: tf.getBackend(),
    };
  };
}
