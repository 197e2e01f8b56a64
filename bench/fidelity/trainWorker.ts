// The worker thread that runs one training of a Trainer (bench/fidelity/training.ts): a fresh thread has a fresh
// wasm heap, so a series of trainings of different networks never fills one heap with the fragments of the ones
// before (the fidelity study lost its 11th and 12th networks that way, in one process). It opens the results
// database itself, loads the dataset's seeded subset, runs train-final's code and posts each epoch's line back.
import { parentPort, workerData } from 'node:worker_threads';
import { useBackend } from '../../backend/select.js';
import { NasError } from '../../common/errors.js';
import { loadDataset } from '../../data/load.js';
import { openStore } from '../../results/store.js';
import { trainFinal } from '../../train/final.js';
import { readTrainJob, type TrainReply } from './trainJob.js';

async function train(post: (r: TrainReply) => void): Promise<TrainReply> {
  const job = readTrainJob(workerData);
  await useBackend(job.backend, job.threads === null ? {} : { threads: job.threads });
  const data = await loadDataset(job.dataset, {
    input: { size: job.spec.input.size, channels: job.spec.input.channels },
    dataDir: job.dataDir ?? undefined,
    seed: job.recipe.seed,
    limit: { train: job.trainImages ?? undefined, test: job.testImages ?? undefined },
  });
  const store = openStore(job.db);
  try {
    const onEpoch = (line: string): void => post({ kind: 'epoch', line });
    const r = await trainFinal({ arch: job.spec, config: job.recipe, data, outDir: job.outDir, resume: job.resume, store, onEpoch });
    return { kind: 'done', runId: r.runId, top1: r.test.top1 };
  } finally {
    store.close();
  }
}

function failure(e: unknown): TrainReply {
  const message = e instanceof Error ? e.message : String(e);
  return e instanceof NasError ? { kind: 'failed', message, code: e.code, exitCode: e.exitCode } : { kind: 'failed', message, code: null, exitCode: 1 };
}

if (parentPort !== null) {
  const port = parentPort;
  const post = (r: TrainReply): void => port.postMessage(r);
  post(await train(post).catch(failure));
}
