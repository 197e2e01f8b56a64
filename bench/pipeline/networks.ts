// The networks a pipeline compares, each trained with the one recipe and epoch count under seeds 0..N-1 by the
// fidelity study's Trainer (train-final's code, a checkpointed run directory per training, results in the store: a
// rerun skips finished trainings and continues an unfinished one).
import { isJsonObject, type JsonValue } from '../../common/json.js';
import type { ArchSpec } from '../../space/arch.js';
import { encodeArch } from '../../space/blockString.js';
import type { Trainer } from '../fidelity/training.js';
import { listAt, numberAt, type Say, stringAt } from './record.js';

export type Training = {
  readonly seed: number;
  readonly top1: number;
  readonly runId: string;
  /** The run directory (its checkpoints seed NetAdapt). */
  readonly dir: string;
  readonly seconds: number;
};

export type Network = {
  /** Row label: reference, searched-1, ..., netadapt, width-x0.62. */
  readonly name: string;
  /** The canonical arch string as trained (3 channels, the space's input size). */
  readonly arch: string;
  readonly trainings: readonly Training[];
};

function parseTraining(v: JsonValue): Training | null {
  if (!isJsonObject(v)) return null;
  const [seed, top1, seconds] = [numberAt(v, 'seed'), numberAt(v, 'top1'), numberAt(v, 'seconds')];
  const [runId, dir] = [stringAt(v, 'runId'), stringAt(v, 'dir')];
  if (seed === null || top1 === null || seconds === null || runId === null || dir === null) return null;
  return { seed, top1, runId, dir, seconds };
}

export function parseNetwork(v: JsonValue): Network | null {
  if (!isJsonObject(v)) return null;
  const [name, arch] = [stringAt(v, 'name'), stringAt(v, 'arch')];
  const trainings = listAt(v['trainings'], parseTraining);
  return name === null || arch === null || trainings === null ? null : { name, arch, trainings };
}

export const parseNetworks = (v: JsonValue): Network[] | null => listAt(v, parseNetwork);

/** `arch` trained under each seed (finished trainings read back from the store). */
export async function trainNetwork(trainer: Trainer, name: string, arch: ArchSpec, seeds: number, say: Say): Promise<Network> {
  const trainings: Training[] = [];
  for (let seed = 0; seed < seeds; seed++) {
    say(`[train ${name} seed ${seed}] ${encodeArch(arch)}`);
    const r = await trainer.train(name, arch, seed);
    if (r === null) throw new Error(`training ${name} seed ${seed} did not run`); // only a stored-only Trainer gives null
    say(`[train ${name} seed ${seed}] test top-1 ${(100 * r.top1).toFixed(2)}%${r.stored ? ' (stored)' : ''}, ${r.seconds.toFixed(0)} s`);
    trainings.push({ seed, top1: r.top1, runId: r.runId, dir: r.dir, seconds: r.seconds });
  }
  return { name, arch: encodeArch(trainer.archAsTrained(arch)), trainings };
}
