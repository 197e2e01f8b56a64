// Full training of one architecture on a dataset (`nas train-final`): data, model, recipe, the training loop with
// checkpoints in a run directory, every epoch recorded in the results store, and a final test evaluation.
import { mkdir } from 'node:fs/promises';
import { NasError } from '../common/errors.js';
import type { LoadedDataset } from '../data/load.js';
import { makeModelCard, writeModelCard } from '../model/card.js';
import { buildModel } from '../model/build.js';
import type { EpochRecord } from '../results/epochs.js';
import type { Store } from '../results/store.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { resolve } from '../space/resolve.js';
import { loadCheckpointModel } from './checkpoint.js';
import type { TrainConfig } from './config.js';
import { type EvalMetrics, evaluateModel } from './evaluate.js';
import { explainHeapFull } from './heapFull.js';
import { type StepProgress, type TrainHooks, type TrainResult, trainModel } from './loop.js';
import { RUN_FILE, readRunId, writeRunId } from './runDir.js';
import { writeSummaryCsv } from './summaryCsv.js';

export interface FinalTrainingOptions {
  readonly arch: ArchSpec;
  readonly config: TrainConfig;
  readonly data: LoadedDataset;
  readonly outDir: string;
  readonly resume: boolean;
  readonly store: Store;
  readonly onStep?: (p: StepProgress) => void;
  readonly onEpoch?: (line: string) => void;
  /** Each epoch as it was recorded in the store (progress events). */
  readonly onEpochRecord?: (e: EpochRecord) => void;
}

export interface FinalTrainingResult {
  readonly runId: string;
  readonly outDir: string;
  readonly arch: string;
  readonly canonical: string;
  readonly dataset: string;
  readonly epochs: number;
  readonly steps: number;
  readonly history: readonly {
    readonly epoch: number;
    readonly trainLoss: number;
    readonly valTop1: number | null;
    readonly valTop5: number | null;
    readonly imagesPerSec: number;
  }[];
  readonly imagesPerSec: number;
  readonly checkpoint: string | null;
  readonly resumedFrom: string | null;
  readonly test: EvalMetrics;
}

async function makeRunDir(outDir: string): Promise<void> {
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    // EEXIST: a file is in the way (the CLI checks first; this is for other callers).
    throw new NasError('E_IO', `cannot make the run directory ${outDir}: ${(e as Error).message}`);
  }
}

/** Trains an architecture to the end (what `nas train-final` runs): a run in the store, checkpoints in outDir, test metrics. */
/** The run of `outDir`: its id, taken over to resume, or a new run with its directory, id file and model card. */
async function openRun(opts: FinalTrainingOptions, canonical: string): Promise<string> {
  const { config, data, outDir, store } = opts;
  const runId = await readRunId(outDir);
  if (opts.resume) {
    if (!runId) throw new NasError('E_USAGE', `nothing to resume in ${outDir}: no ${RUN_FILE} (start without --resume)`);
    const run = store.acquireRun(runId);
    if (run.arch !== null && run.arch !== canonical) {
      throw new NasError('E_USAGE', `${outDir} holds run ${runId} of another architecture; use another --out`);
    }
    store.updateRunStatus(runId, 'running');
    return runId;
  }
  if (runId) throw new NasError('E_USAGE', `${outDir} already holds run ${runId}: add --resume to continue it, or use another --out`);
  await makeRunDir(outDir);
  const id = store.createRun({ kind: 'train', config: { train: config, dataset: data.name, out: outDir }, seed: config.seed, arch: canonical }).id;
  await writeRunId(outDir, id);
  await writeModelCard(outDir, makeModelCard(data.name, data.classNames, data.preprocessing));
  return id;
}

/** The training loop's hooks: each epoch and checkpoint recorded in the store (and summary.csv), and reported. */
function recordingHooks(opts: FinalTrainingOptions, id: string): TrainHooks {
  const { store, outDir } = opts;
  return {
    ...(opts.onStep ? { onStep: opts.onStep } : {}),
    onEpochEnd: (m) => {
      const record = store.recordEpoch({
        runId: id, epoch: Math.ceil(m.epoch), step: m.step, trainLoss: m.trainLoss, lr: m.lr, imagesPerSec: m.imagesPerSec, wallSeconds: m.seconds,
        ...(m.eval ? { valLoss: m.eval.loss, valTop1: m.eval.top1, valTop5: m.eval.top5 } : {}),
      });
      writeSummaryCsv(store, id, outDir);
      opts.onEpochRecord?.(record);
      opts.onEpoch?.(
        `epoch ${m.epoch}: train loss ${m.trainLoss.toFixed(4)}` +
          (m.eval ? `, val top-1 ${(100 * m.eval.top1).toFixed(2)}% top-5 ${(100 * m.eval.top5).toFixed(2)}%` : '') +
          `, ${m.imagesPerSec.toFixed(0)} images/s`,
      );
    },
    onCheckpoint: (path, info) => {
      store.recordCheckpoint({ runId: id, epoch: info.epoch, step: info.step, path });
    },
  };
}

/** The finished run's result; the mean throughput is over whole epochs. */
function resultOf(opts: FinalTrainingOptions, id: string, canonical: string, result: TrainResult, test: EvalMetrics): FinalTrainingResult {
  const trainedEpochs = result.history.filter((h) => Number.isInteger(h.epoch));
  return {
    runId: id,
    outDir: opts.outDir,
    arch: opts.arch.name,
    canonical,
    dataset: opts.data.name,
    epochs: result.epochs,
    steps: result.steps,
    history: result.history.map((h) => ({ epoch: h.epoch, trainLoss: h.trainLoss, valTop1: h.eval?.top1 ?? null, valTop5: h.eval?.top5 ?? null, imagesPerSec: h.imagesPerSec })),
    imagesPerSec: trainedEpochs.length > 0 ? trainedEpochs.reduce((a, h) => a + h.imagesPerSec, 0) / trainedEpochs.length : 0,
    checkpoint: result.checkpoint,
    resumedFrom: result.resumedFrom,
    test,
  };
}

export async function trainFinal(opts: FinalTrainingOptions): Promise<FinalTrainingResult> {
  const { arch, config, data, outDir, store } = opts;
  const canonical = encodeArch(arch);
  const id = await openRun(opts, canonical);
  const model = buildModel(resolve(arch), { seed: config.seed });
  try {
    const result = await trainModel({
      model, arch, config, train: data.train, evalSplit: data.val, runDir: outDir, resumeFrom: opts.resume ? outDir : null,
      hooks: recordingHooks(opts, id),
    });
    // The test split is evaluated once, at the end, with the weights training evaluated: the averaged ones from the
    // last checkpoint when EMA is on, else the model in memory (equal to that checkpoint's).
    const final = config.ema && result.checkpoint ? await loadCheckpointModel(result.checkpoint) : null;
    const test = await evaluateModel(final?.model ?? model, data.test, { batchSize: config.evalBatchSize });
    final?.model.dispose();
    const out = resultOf(opts, id, canonical, result, test);
    store.finishRun(id, { test, epochs: out.epochs, steps: out.steps, checkpoint: out.checkpoint, imagesPerSec: out.imagesPerSec });
    return out;
  } catch (e) {
    // Also the test evaluation's: the loop explains a full heap during training itself.
    const err = explainHeapFull(e, { arch, batchSize: config.batchSize });
    store.updateRunStatus(id, 'failed', err instanceof Error ? err.message : String(err));
    throw err;
  } finally {
    model.dispose();
  }
}
