// `nas eval --checkpoint DIR`: top-1, top-5 and loss of a checkpoint on a dataset split (MindCV's validate.py).
// The dataset, input size and preprocessing default to the ones the model was trained with (its model card), and
// the validation split is the same hold-out (the checkpoint's seed).
import type { CommandModule } from 'yargs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import { loadDataset } from '../data/load.js';
import { readModelCard } from '../model/card.js';
import { loadCheckpointModel, resolveCheckpoint } from '../train/checkpoint.js';
import { type EvalMetrics, evaluateModel } from '../train/evaluate.js';
import { backendOption, jsonOption } from './options.js';
import { emit } from './output.js';

interface EvalArgs {
  checkpoint: string;
  data: string | undefined;
  'data-dir': string | undefined;
  split: 'test' | 'val';
  limit: number | undefined;
  weights: 'ema' | 'raw';
  batch: number;
  backend: BackendChoice;
  json: boolean;
}

interface EvalResult extends EvalMetrics {
  readonly checkpoint: string;
  readonly dataset: string;
  readonly split: 'test' | 'val';
  readonly weights: 'ema' | 'raw';
}

export const evalCommand: CommandModule<object, EvalArgs> = {
  command: 'eval',
  describe: 'Evaluate a checkpoint: top-1, top-5 and loss on a dataset split',
  builder: (y) =>
    y
      .option('checkpoint', { type: 'string', demandOption: true, describe: 'checkpoint or run directory' })
      .option('data', { type: 'string', describe: 'dataset (default: the one it was trained on)' })
      .option('data-dir', { type: 'string' })
      .option('split', { choices: ['test', 'val'] as const, default: 'test' as const })
      .option('limit', { type: 'number', describe: 'a seeded subset of this many images' })
      .option('weights', { choices: ['ema', 'raw'] as const, default: 'ema' as const, describe: 'EMA weights when the checkpoint has them' })
      .option('batch', { type: 'number', default: 256 })
      .option('backend', backendOption)
      .option('json', jsonOption) as never,
  handler: async (args) => {
    if (!Number.isInteger(args.batch) || args.batch < 1) throw new UsageError(`--batch must be a positive integer, got ${args.batch}`);
    const path = await resolveCheckpoint(args.checkpoint);
    const card = await readModelCard(path);
    await useBackend(args.backend);
    const { model, checkpoint, weights } = await loadCheckpointModel(path, { weights: args.weights });
    try {
      const pre = card.preprocessing;
      const limit = args.limit;
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
      const metrics = await evaluateModel(model, args.split === 'test' ? data.test : data.val, { batchSize: args.batch });
      const result: EvalResult = { ...metrics, checkpoint: path, dataset: data.name, split: args.split, weights };
      emit(result, args.json, (r) =>
        `${r.dataset} ${r.split} (${r.count} images, ${r.weights} weights): top-1 ${(100 * r.top1).toFixed(2)}%, ` +
        `top-5 ${(100 * r.top5).toFixed(2)}%, loss ${r.loss.toFixed(4)}`,
      );
    } finally {
      model.dispose();
    }
  },
};
