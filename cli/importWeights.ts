// `nas import-weights --from torchvision|timm --arch A --weights F.safetensors --out DIR`: PyTorch MobileNetV3
// weights as a run directory of ours (one checkpoint plus the model card), which predict, eval, export and
// fine-tuning read like any training run.
import { readdir, readFile, stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { NasError, UsageError } from '../common/errors.js';
import { weightSources } from '../model/weightSources.js';
import { loadArch } from '../results/archRef.js';
import { jsonOption } from './options.js';
import type { ImportArgs } from './run/importWeights.js';

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
    const { runImport } = await import('./run/importWeights.js');
    await runImport(args, { out, arch, names });
  },
};
