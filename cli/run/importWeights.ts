// The work of `nas import-weights` (cli/importWeights.ts), loaded once the command line is checked: it loads tfjs.
import { randomBytes } from 'node:crypto';
import { mkdir, rename, rm } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import { useBackend } from '../../backend/select.js';
import { NasError, UsageError } from '../../common/errors.js';
import { preprocessingFor } from '../../data/load.js';
import { makeModelCard, writeModelCard } from '../../model/card.js';
import { importWeights } from '../../model/importWeights.js';
import type { WeightSource } from '../../model/weightSources.js';
import type { ArchSpec } from '../../space/arch.js';
import { encodeArch } from '../../space/blockString.js';
import { dropoutStates, epochCheckpointName, writeCheckpoint } from '../../train/checkpoint.js';
import { defaultTrainConfig } from '../../train/config.js';
import { emit } from '../output.js';

export interface ImportArgs {
  readonly from: WeightSource;
  readonly arch: string;
  readonly weights: string;
  readonly out: string;
  readonly input: number;
  readonly 'class-names': string | undefined;
  readonly json: boolean;
}

export interface ImportResult {
  readonly out: string;
  readonly checkpoint: string;
  readonly from: WeightSource;
  readonly weights: string;
  readonly arch: string;
  readonly canonical: string;
  readonly input: number;
  readonly classes: number;
  /** Trainable parameters (without BN moving statistics). */
  readonly params: number;
}

function toText(r: ImportResult): string {
  return (
    `imported ${r.from} weights ${r.weights} as ${r.arch} (${r.classes} classes, ${r.params.toLocaleString('en-US')} ` +
    `params, input ${r.input}) into ${r.out}`
  );
}

/** What the command line gave, checked: --out (absolute, absent or empty), the architecture, the class names. */
export interface ImportInputs {
  readonly out: string;
  readonly arch: ArchSpec;
  readonly names: string[] | null;
}

/** Imports the weights into a new run directory and prints what was written. */
export async function runImport(args: ImportArgs, { out, arch, names }: ImportInputs): Promise<void> {
  await useBackend('cpu');
  const { model, spec } = importWeights(args.from, arch, args.weights);
  try {
    const classNames = names ?? Array.from({ length: spec.classes }, (_, i) => `class ${i}`);
    if (classNames.length !== spec.classes) {
      throw new UsageError(`--class-names lists ${classNames.length} names; the weights have ${spec.classes} classes`);
    }
    // ImageNet's evaluation preprocessing, under the dataset name of ImageNet-style folders (what `nas eval` loads).
    const preprocessing = preprocessingFor('folder', { input: spec.input, smallImages: false });
    const card = makeModelCard(preprocessing.dataset, classNames, preprocessing);

    // Everything goes into a temporary sibling that is renamed into place, so --out is either absent or complete.
    await mkdir(dirname(out), { recursive: true });
    const tmp = join(dirname(out), `.${basename(out)}.tmp-${randomBytes(4).toString('hex')}`);
    let checkpoint: string;
    try {
      const written = await writeCheckpoint(tmp, epochCheckpointName(0), model, {
        arch: spec,
        config: defaultTrainConfig,
        loop: {
          epoch: 0,
          stepInEpoch: 0,
          step: 0,
          epochLossSum: 0,
          epochLossCount: 0,
          dropout: dropoutStates(model),
          history: [],
          seed: defaultTrainConfig.seed,
        },
        optimizer: null,
        ema: null,
      });
      await writeModelCard(tmp, card);
      await rename(tmp, out);
      checkpoint = join(out, basename(written));
    } catch (e) {
      await rm(tmp, { recursive: true, force: true });
      if (e instanceof NasError) throw e;
      throw new NasError('E_IO', `cannot write ${out}: ${(e as Error).message}`);
    }
    const result: ImportResult = {
      out,
      checkpoint,
      from: args.from,
      weights: resolvePath(args.weights),
      arch: spec.name,
      canonical: encodeArch(spec),
      input: spec.input.size,
      classes: spec.classes,
      params: model.trainableWeights.reduce((n, w) => n + w.read().size, 0),
    };
    emit(result, args.json, toText);
  } finally {
    model.dispose();
  }
}
