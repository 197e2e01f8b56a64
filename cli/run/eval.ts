// The work of `nas eval` (cli/eval.ts), loaded once the command line is checked: it loads tfjs.
import type { BackendChoice } from '../../backend/choices.js';
import { useBackend } from '../../backend/select.js';
import { UsageError } from '../../common/errors.js';
import { loadDataset } from '../../data/load.js';
import { readModelCard } from '../../model/card.js';
import { type CheckpointChoice, chooseCheckpoint, describeFallback, loadCheckpointModel } from '../../train/checkpoint.js';
import { type EvalMetrics, evaluateModel } from '../../train/evaluate.js';
import { threadsFrom } from '../options.js';
import { emit } from '../output.js';

export interface EvalArgs {
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

/** Evaluates the checkpoint and prints the result (--batch and --limit already checked). */
export async function runEval(args: EvalArgs): Promise<void> {
  const limit = args.limit;
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
}
