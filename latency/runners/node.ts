// The `node` runner: the local tfjs backend, in this process.
import { type BackendChoice, useBackend } from '../../backend/select.js';
import { buildModel } from '../../model/build.js';
import { resolve } from '../../space/resolve.js';
import { entryInput, entryModel } from '../entryModels.js';
import { type LatencyRunner, machineName } from './interface.js';
import { statsOf } from '../stats.js';
import { timeBuilt } from '../timing.js';

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
            return { model: entryModel(a, e.piece), input: entryInput(a, e.piece), readBack: 'one' };
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
            return { model: buildModel(a, { seed: opts.seed ?? 0, folded: true }), input: [a.inputSize, a.inputSize, a.inputChannels] };
          },
          opts,
        ),
      ),
    close: async () => undefined,
  };
}
