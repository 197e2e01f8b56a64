// The work of `nas train-final` (cli/trainFinal.ts), loaded once the command line is checked: it loads tfjs.
import type { BackendChoice } from '../../backend/choices.js';
import { useBackend } from '../../backend/select.js';
import { type DatasetName, loadDataset } from '../../data/load.js';
import { loadArch } from '../../results/archRef.js';
import { openStore } from '../../results/store.js';
import type { TrainConfig } from '../../train/config.js';
import { type FinalTrainingOptions, type FinalTrainingResult, trainFinal } from '../../train/final.js';
import type { StepProgress } from '../../train/loop.js';
import { threadsFrom } from '../options.js';
import { emit } from '../output.js';
import { finite, makeProgress, type ProgressChoice, progressMode, Reporter } from '../progress.js';

export interface TrainFinalArgs {
  variant: 'large' | 'small';
  arch: string[] | undefined;
  width: number | undefined;
  data: string;
  'data-dir': string | undefined;
  input: number | undefined;
  'small-input': boolean;
  config: string | undefined;
  set: string[];
  epochs: number | undefined;
  batch: number | undefined;
  limit: number | undefined;
  out: string | undefined;
  resume: boolean;
  force: boolean;
  seed: number;
  backend: BackendChoice;
  threads: number | undefined;
  db: string;
  json: boolean;
  progress: ProgressChoice;
}

function toText(r: FinalTrainingResult): string {
  const pct = (v: number): string => `${(100 * v).toFixed(2)}%`;
  return [
    `run ${r.runId}: ${r.arch} on ${r.dataset}, ${r.epochs} epochs (${r.steps} steps)${r.resumedFrom ? `, resumed from ${r.resumedFrom}` : ''}`,
    `test top-1 ${pct(r.test.top1)}, top-5 ${pct(r.test.top5)}, loss ${r.test.loss.toFixed(4)} (${r.test.count} images)`,
    `training ${r.imagesPerSec.toFixed(0)} images/s; checkpoint ${r.checkpoint ?? 'none'}`,
  ].join('\n');
}

/** Training's hooks on a reporter: the step line (a terminal), the epoch lines, an `epoch` event per epoch (json). */
function trainProgress(r: Reporter): Pick<FinalTrainingOptions, 'onStep' | 'onEpoch' | 'onEpochRecord'> {
  const progress = makeProgress();
  return {
    ...(r.mode === 'tty'
      ? {
          onStep: (p: StepProgress) => {
            const text = progress(p);
            r.live(() => text);
          },
        }
      : {}),
    onEpoch: (line) => r.note(line),
    onEpochRecord: (e) => {
      const { runId, epoch, step, trainLoss, valLoss, valTop1, valTop5, lr, imagesPerSec, wallSeconds } = e;
      r.event({ type: 'epoch', runId, epoch, step, trainLoss, valLoss, valTop1, valTop5, lr, imagesPerSec: finite(imagesPerSec), wallSeconds });
    },
  };
}

/** What the command line gave, checked: the dataset, the recipe with its overrides, the input size, --out. */
export interface TrainInputs {
  readonly data: DatasetName;
  readonly config: TrainConfig;
  readonly input: number;
  readonly archRefs: readonly string[];
  readonly outDir: string;
}

/** Trains the architecture on the dataset into the run directory and prints the result. */
export async function runTrainFinal(args: TrainFinalArgs, { data, config, input, archRefs, outDir }: TrainInputs): Promise<void> {
  await useBackend(args.backend, { threads: threadsFrom(args.threads) });
  const dataset = await loadDataset(data, {
    input: { size: input, channels: 3 },
    dataDir: args['data-dir'],
    seed: config.seed,
    ...(args.limit !== undefined ? { limit: { train: args.limit, test: args.limit } } : {}),
  });
  const arch = loadArch(archRefs, {
    db: args.db,
    input,
    classes: dataset.classes,
    channels: 3,
    width: args.width,
    smallInput: args['small-input'],
  });
  const store = openStore(args.db);
  // With --json and no --progress, the epoch lines only, as before (no step line even on a terminal).
  const reporter = new Reporter(args.json && args.progress === 'auto' ? 'plain' : progressMode(args.progress));
  try {
    const result = await trainFinal({ arch, config, data: dataset, outDir, resume: args.resume, store, ...trainProgress(reporter) });
    reporter.event({ type: 'end', runId: result.runId, epochs: result.epochs, steps: result.steps, testTop1: result.test.top1, testTop5: result.test.top5 });
    reporter.end();
    emit(result, args.json, toText);
  } finally {
    reporter.end();
    store.close();
  }
}
