// `nas predict --checkpoint DIR <image files...>`: class probabilities of image files, preprocessed exactly as the
// model card says the model was evaluated (data/transform.ts), with the card's class names.
import { access } from 'node:fs/promises';
import type { Argv, CommandModule } from 'yargs';
import { NasError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { allowFallbackOption } from './checkpointOptions.js';
import { backendOption, jsonOption, threadsOption } from './options.js';
import type { PredictArgs } from './run/predict.js';

export const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict <images..>',
  describe: 'Class probabilities of image files from a checkpoint (top k per image)',
  builder: (y: Argv) =>
    y
      .positional('images', { type: 'string', array: true, demandOption: true, describe: 'image files (JPEG, PNG, WebP, ...)' })
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'a checkpoint or run directory' })
      .option('top', { type: 'number', default: 5, describe: 'classes to show per image' })
      .option('weights', { choices: ['ema', 'raw'] as const, default: 'ema' as const, describe: 'EMA weights (when saved) or the raw ones' })
      .option('allow-fallback', allowFallbackOption)
      .option('backend', backendOption)
      .option('threads', threadsOption)
      .option('json', jsonOption) as never,
  handler: async (args) => {
    checkInteger('--top', args.top);
    for (const image of args.images) {
      try {
        await access(image);
      } catch {
        throw new NasError('E_IO', `cannot read image ${image}: no such file`);
      }
    }
    const { runPredict } = await import('./run/predict.js');
    await runPredict(args);
  },
};
