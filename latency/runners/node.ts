// The `node` runner: the local tfjs backend, in this process. On wasm with our kernels it times the folded model
// compiled to native calls (model/inferencePlan.ts: the same outputs, without tfjs's per-layer overhead).
import type * as tf from '@tensorflow/tfjs';
import { type BackendChoice, useBackend } from '../../backend/select.js';
import { checkInteger } from '../../common/intOption.js';
import { compileInference, inferenceEngine } from '../../model/inferencePlan.js';
import type { ArchSpec } from '../../space/arch.js';
import { resolve } from '../../space/resolve.js';
import { entryInput, entryModel, wholeModel } from '../entryModels.js';
import { type ArchLatency, checkMeasureCounts, type MeasureArchOptions, measureArchOn, type MeasureOptions } from '../measure.js';
import { type LatencyStats, statsOf, summarize } from '../stats.js';
import { prepareBuilt, type TimedModel, timeBuilt, timeForward } from '../timing.js';
import { type LatencyRunner, machineName } from './interface.js';

/** `t` with its model compiled to native calls where it compiles (wasm with our kernels, folded layers only). */
function compiled(t: TimedModel): TimedModel {
  const plan = compileInference(t.model, [1, ...t.input]);
  return plan === null ? t : { ...t, compiled: plan };
}

export async function openNodeRunner(backend: BackendChoice, threads: number): Promise<LatencyRunner> {
  const info = await useBackend(backend, { threads });
  return {
    name: 'node',
    backend: info.name,
    threads: info.threads,
    machine: machineName(),
    engine: inferenceEngine(),
    measureEntries: async (entries, opts) =>
      statsOf(
        timeBuilt(
          entries,
          (e) => {
            const a = resolve(e.arch);
            return compiled({ model: entryModel(a, e.piece), input: entryInput(a, e.piece), readBack: 'one' });
          },
          opts,
        ),
      ),
    measureArchs: async (archs, opts) => statsOf(timeBuilt(archs, (spec) => compiled(wholeModel(spec, opts.seed)), opts)),
    prepareArchs: async (archs, opts) => prepareBuilt(archs, (spec) => compiled(wholeModel(spec, opts?.seed))),
    close: async () => undefined,
  };
}

/** Time `model`'s forward pass on the current backend. */
export function measureLatency(model: tf.LayersModel, opts: MeasureOptions): LatencyStats {
  checkMeasureCounts(opts);
  for (const d of opts.input) checkInteger('--input', d, 1);
  const samplesMs = timeForward(model, opts);
  return { ...summarize(samplesMs), runs: samplesMs.length, samplesMs };
}

/** Select the local backend (the node runner), build `spec`, time it, dispose it. */
export async function measureArch(spec: ArchSpec, opts: MeasureArchOptions): Promise<ArchLatency> {
  checkMeasureCounts(opts);
  if (opts.threads !== undefined) checkInteger('--threads', opts.threads, 1);
  const runner = await openNodeRunner(opts.backend ?? 'wasm', opts.threads ?? 1);
  return measureArchOn(runner, spec, opts);
}
