// The full trainings of a fidelity study: each architecture trained by train/final.ts `trainFinal`, what `nas
// train-final` runs, in a worker thread of its own (trainThread.ts: a fresh wasm heap each time), with one recipe,
// into its own run directory under the study's --out, every epoch and the test result in the results store. A rerun
// reads a finished training from the store, continues an unfinished one from its last checkpoint, and starts again
// one that was killed before its first checkpoint.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { chosenBackend } from '../../backend/select.js';
import { evalKeyOf, isJsonObject } from '../../common/json.js';
import type { DatasetName } from '../../data/load.js';
import type { Store } from '../../results/store.js';
import type { ArchSpec } from '../../space/arch.js';
import { encodeArch } from '../../space/blockString.js';
import { applyOverrides, type TrainConfig } from '../../train/config.js';
import { isRunDir, readRunId } from '../../train/runDir.js';
import { makeTrainJob } from './trainJob.js';
import { trainInThread } from './trainThread.js';

export interface TrainingSetup {
  readonly store: Store;
  readonly recipe: TrainConfig;
  readonly epochs: number;
  /** Batch-norm moving-average decay; null: the architecture's (0.99 in the built-in spaces). */
  readonly bnDecay: number | null;
  readonly dataset: DatasetName;
  readonly dataDir: string | null;
  /** Seeded subsets (train: the training pool, validation included; test: the test split); null: all. */
  readonly trainImages: number | null;
  readonly testImages: number | null;
  readonly outDir: string;
  /** Train nothing, read what is stored (train() gives null for a training not finished). */
  readonly storedOnly: boolean;
  readonly onEpoch?: (line: string) => void;
}

export interface TrainingResult {
  readonly runId: string;
  readonly top1: number;
  /** Wall seconds of the training epochs (the store's per-epoch figures, summed). */
  readonly seconds: number;
  readonly stored: boolean;
  /** The run directory (checkpoints, model card). */
  readonly dir: string;
}

/**
 * The architecture as `nas train-final` loads any dataset's images: 3 channels at the space's input size; with a
 * batch-norm decay when one is given (a short training on a subset runs too few steps for 0.99 to forget the initial
 * moving statistics, and evaluation reads them: measured, 86 steps left the test top-1 at chance, 9-10%).
 */
function asTrainFinal(arch: ArchSpec, bnDecay: number | null): ArchSpec {
  return { ...arch, input: { ...arch.input, channels: 3 }, bn: { ...arch.bn, decay: bnDecay ?? arch.bn.decay } };
}

export class Trainer {
  constructor(private readonly setup: TrainingSetup) {}

  private storedResult(runId: string, dir: string): TrainingResult | null {
    const run = this.setup.store.getRun(runId);
    const result = run?.status === 'finished' ? (run.result ?? undefined) : undefined;
    const test = isJsonObject(result) ? result['test'] : undefined;
    const top1 = isJsonObject(test) ? test['top1'] : undefined;
    if (typeof top1 !== 'number') return null;
    return { runId, top1, seconds: this.epochSeconds(runId), stored: true, dir };
  }

  private epochSeconds(runId: string): number {
    return this.setup.store.listEpochs(runId).reduce((s, e) => s + (e.wallSeconds ?? 0), 0);
  }

  /** The architecture as it is trained (3 channels, the study's batch-norm decay). */
  archAsTrained(arch: ArchSpec): ArchSpec {
    return asTrainFinal(arch, this.setup.bnDecay);
  }

  /** Whether an earlier run in `dir` can be continued: it has a checkpoint; else its directory is cleared. */
  private async resumable(dir: string): Promise<boolean> {
    const runId = await readRunId(dir);
    if (runId !== null && this.setup.store.latestCheckpoint(runId) !== null) return true;
    if (runId !== null && this.setup.store.getRun(runId)?.status === 'running') this.setup.store.updateRunStatus(runId, 'killed');
    await rm(dir, { recursive: true, force: true });
    return false;
  }

  /**
   * Test top-1 of `arch` trained with `seed`, in `<out>/train/<name>-<key>`: the key hashes everything the result
   * depends on, so a rerun with other training settings trains again instead of reading another setting's result.
   */
  async train(name: string, spaceArch: ArchSpec, seed: number): Promise<TrainingResult | null> {
    const arch = this.archAsTrained(spaceArch);
    const config = applyOverrides(this.setup.recipe, [`epochs=${this.setup.epochs}`, `seed=${seed}`]);
    const { dataset, trainImages, testImages } = this.setup;
    const key = evalKeyOf({ arch: encodeArch(arch), config, dataset, trainImages, testImages }).slice(0, 8);
    const outDir = join(this.setup.outDir, 'train', `${name}-${key}`);
    const prior = isRunDir(outDir) ? await readRunId(outDir) : null;
    const done = prior === null ? null : this.storedResult(prior, outDir);
    if (done !== null) return done;
    if (this.setup.storedOnly) return null;
    const resume = isRunDir(outDir) && (await this.resumable(outDir));
    const { store, dataDir } = this.setup;
    const job = makeTrainJob({ ...chosenBackend(), db: store.path, arch, config, dataset, dataDir, trainImages, testImages, outDir, resume });
    const r = await trainInThread(job, this.setup.onEpoch);
    return { runId: r.runId, top1: r.top1, seconds: this.epochSeconds(r.runId), stored: false, dir: outDir };
  }
}
