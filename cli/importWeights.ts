// `nas import-weights --from torchvision|timm --arch A --weights F.safetensors --out DIR`: PyTorch MobileNetV3
// weights as a run directory of ours (one checkpoint plus the model card), which predict, eval, export and
// fine-tuning read like any training run.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join, resolve as resolvePath } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { useBackend } from '../backend/select.js';
import { NasError, UsageError } from '../common/errors.js';
import { preprocessingFor } from '../data/load.js';
import { makeModelCard, writeModelCard } from '../model/card.js';
import { importWeights, type WeightSource, weightSources } from '../model/importWeights.js';
import { encodeArch } from '../space/blockString.js';
import { loadArch } from '../results/archRef.js';
import { dropoutStates, epochCheckpointName, writeCheckpoint } from '../train/checkpoint.js';
import { defaultTrainConfig } from '../train/config.js';
import { jsonOption } from './options.js';
import { emit } from './output.js';

interface ImportArgs {
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

/** Class names from a file, one a line (blank lines at the end ignored). */
async function readClassNames(path: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new NasError('E_IO', `cannot read class names ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const lines = text.split(/\r?\n/).map((l) => l.trim());
  while (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  const blank = lines.indexOf('');
  if (blank >= 0) throw new UsageError(`class names ${path}: line ${blank + 1} is empty`);
  return lines;
}

/** Refuses an --out that exists and is not an empty directory, before any work. */
async function checkOut(out: string): Promise<void> {
  let isDir: boolean;
  try {
    isDir = (await stat(out)).isDirectory();
  } catch {
    return;
  }
  if (!isDir || (await readdir(out)).length > 0) {
    throw new UsageError(`--out ${out} already exists${isDir ? ' and is not empty' : ''}; nothing was written`);
  }
}

function toText(r: ImportResult): string {
  return (
    `imported ${r.from} weights ${r.weights} as ${r.arch} (${r.classes} classes, ${r.params.toLocaleString('en-US')} ` +
    `params, input ${r.input}) into ${r.out}`
  );
}

export const importWeightsCommand: CommandModule<object, ImportArgs> = {
  command: 'import-weights',
  describe: 'Import PyTorch MobileNetV3 weights (torchvision or timm, safetensors) as a checkpoint',
  builder: (y: Argv) =>
    y
      .option('from', { choices: weightSources, demandOption: true, describe: 'whose state_dict names the weights follow' })
      .option('arch', { type: 'string', demandOption: true, describe: 'architecture of the weights, e.g. mobilenetv3-large' })
      .option('weights', { type: 'string', demandOption: true, describe: 'the state_dict as a .safetensors file' })
      .option('out', { type: 'string', demandOption: true, describe: 'run directory to create (must not exist, or be empty)' })
      .option('input', { type: 'number', default: 224, describe: 'input size the model is built and preprocessed for' })
      .option('class-names', { type: 'string', describe: 'file with one class name a line (default: "class 0", "class 1", ...)' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    const out = resolvePath(args.out);
    await checkOut(out);
    const arch = loadArch([args.arch], { input: args.input });
    const names = args['class-names'] === undefined ? null : await readClassNames(args['class-names']);
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
  },
};
