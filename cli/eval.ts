// `nas eval --checkpoint DIR`: top-1, top-5 and loss of a checkpoint on a dataset split (MindCV's validate.py).
// The dataset, input size and preprocessing default to the ones the model was trained with (its model card), and
// the validation split is the same hold-out (the checkpoint's seed).
import type { CommandModule } from 'yargs';
import { checkInteger } from '../common/intOption.js';
import { allowFallbackOption } from './checkpointOptions.js';
import { backendOption, jsonOption, threadsOption } from './options.js';
import type { EvalArgs } from './run/eval.js';

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a checkpoint: top-1, top-5 and loss on a dataset split',
  builder: (y) =>
    y
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint or run directory (its newest checkpoint)' })
      .option('data', { type: 'string', describe: 'dataset (default: the one it was trained on)' })
      .option('data-dir', { type: 'string' })
      .option('split', { choices: ['test', 'val'] as const, default: 'test' as const })
      .option('limit', { type: 'number', describe: 'a seeded subset of this many images' })
      .option('weights', { choices: ['ema', 'raw'] as const, default: 'ema' as const, describe: 'EMA weights when the checkpoint has them' })
      .option('batch', { type: 'number', default: 256 })
      .option('allow-fallback', allowFallbackOption)
      .option('backend', backendOption)
      .option('threads', threadsOption)
      .option('json', jsonOption) as never,
  handler: async (args) => {
    checkInteger('--batch', args.batch);
    if (args.limit !== undefined) checkInteger('--limit', args.limit, 1, 'the number of images to evaluate');
    const { runEval } = await import('./run/eval.js');
    await runEval(args);
  },
};
