// `nas eval --checkpoint DIR`: top-1, top-5 and loss of a checkpoint on a dataset split (MindCV's validate.py).
// The dataset, input size and preprocessing default to the ones the model was trained with (its model card), and
// the validation split is the same hold-out (the checkpoint's seed).
import type { CommandModule } from 'yargs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { loadDataset } from '../data/load.js';
import { readModelCard } from '../model/card.js';
import { type CheckpointChoice, chooseCheckpoint, describeFallback, loadCheckpointModel } from '../train/checkpoint.js';
import { type EvalMetrics, evaluateModel } from '../train/evaluate.js';
import { allowFallbackOption } from './checkpointOptions.js';
import { backendOption, jsonOption, threadsFrom, threadsOption } from './options.js';
import { emit } from './output.js';

interface EvalArgs {
  checkpoint: string;
  data: string | undefined;
  'data-dir': string | undefined;
  split: 'test' | 'val';
  limit: number | undefined;
  weights: 'ema' | 'raw';
  batch: number;
  'allow-fallback': boolean;
  backend: BackendChoice;
  threads: number | undefined;
  json: boolean;
}

interface EvalResult extends EvalMetrics {
  readonly checkpoint: string;
  /** Set when the run directory's newest checkpoint was corrupt and an older one was evaluated (--allow-fallback). */
  readonly fallback: CheckpointChoice['fallback'];
  readonly dataset: string;
  readonly split: 'test' | 'val';
  readonly weights: 'ema' | 'raw';
}

function toText(r: EvalResult): string {
  const note = describeFallback(r.checkpoint, r.fallback);
  const line =
    `${r.dataset} ${r.split} (${r.count} images, ${r.weights} weights): top-1 ${(100 * r.top1).toFixed(2)}%, ` +
    `top-5 ${(100 * r.top5).toFixed(2)}%, loss ${r.loss.toFixed(4)}`;
  return note === null ? line : `${note}\n${line}`;
}

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
    const limit = args.limit;
    if (limit !== undefined) checkInteger('--limit', limit, 1, 'the number of images to evaluate');
    const choice = await chooseCheckpoint(args.checkpoint, { allowFallback: args['allow-fallback'] });
    const card = await readModelCard(choice.path);
    await useBackend(args.backend, { threads: threadsFrom(args.threads) });
    const { model, checkpoint, weights } = await loadCheckpointModel(choice.path, { weights: args.weights });
    try {
      const pre = card.preprocessing;
      const data = await loadDataset(args.data ?? card.dataset, {
        input: pre.input,
        dataDir: args['data-dir'],
        seed: checkpoint.config.seed,
        smallImages: pre.transform.kind === 'small',
        ...(pre.transform.kind === 'small' ? { fit: pre.transform.fit } : {}),
        ...(limit !== undefined ? { limit: { train: Math.max(limit, 2), test: limit } } : {}),
      });
      if (data.classes !== checkpoint.arch.classes) {
        throw new UsageError(`${data.name} has ${data.classes} classes, the checkpoint's model ${checkpoint.arch.classes}`);
      }
      const split = args.split === 'test' ? data.test : data.val;
      if (split.size === 0) {
        throw new UsageError(`the ${args.split} split of ${data.name} has no images${limit === undefined ? '' : ` with --limit ${limit}: use a larger --limit`}`);
      }
      const metrics = await evaluateModel(model, split, { batchSize: args.batch });
      const result: EvalResult = { ...metrics, checkpoint: choice.path, fallback: choice.fallback, dataset: data.name, split: args.split, weights };
      emit(result, args.json, toText);
    } finally {
      model.dispose();
    }
  },
};
