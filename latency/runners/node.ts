// The `node` runner: the local tfjs backend, in this process. On wasm with our kernels it times the folded model
// compiled to native calls (model/inferencePlan.ts: the same outputs, without tfjs's per-layer overhead).
import { type BackendChoice, useBackend } from '../../backend/select.js';
import { buildModel } from '../../model/build.js';
import { compileInference } from '../../model/inferencePlan.js';
import { resolve } from '../../space/resolve.js';
import { entryInput, entryModel } from '../entryModels.js';
import { type LatencyRunner, machineName } from './interface.js';
import { statsOf } from '../stats.js';
import { type TimedModel, timeBuilt } from '../timing.js';

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
    measureArchs: async (archs, opts) =>
      statsOf(
        timeBuilt(
          archs,
          (spec) => {
            const a = resolve(spec);
            return compiled({ model: buildModel(a, { seed: opts.seed ?? 0, folded: true }), input: [a.inputSize, a.inputSize, a.inputChannels] });
          },
          opts,
        ),
      ),
    close: async () => undefined,
  };
}
