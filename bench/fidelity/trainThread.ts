// The parent's side of bench/fidelity/trainWorker.ts: one training in a new worker thread, its epoch lines passed on,
// its result or its error (a NasError keeps its code and exit code) returned as if trained here. The thread is
// terminated before the next training starts, so its wasm heap is gone with it.
import { Worker } from 'node:worker_threads';
import { isErrorCode, NasError } from '../../common/errors.js';
import { readTrainReply, type TrainJob } from './trainJob.js';

const WORKER_URL = new URL('./trainWorker.js', import.meta.url);

export interface ThreadResult {
  readonly runId: string;
  readonly top1: number;
}

function replyError(message: string, code: string | null, exitCode: number): Error {
  return isErrorCode(code) ? new NasError(code, message, exitCode) : new Error(message);
}

/** Runs `job` in a fresh worker thread. */
export function trainInThread(job: TrainJob, onEpoch?: (line: string) => void): Promise<ThreadResult> {
  const worker = new Worker(WORKER_URL, { workerData: job });
  const settled = new Promise<ThreadResult>((resolve, reject) => {
    worker.on('message', (m: unknown) => {
      const r = readTrainReply(m);
      if (r === null) reject(new Error('the training worker sent a malformed message'));
      else if (r.kind === 'epoch') onEpoch?.(r.line);
      else if (r.kind === 'done') resolve({ runId: r.runId, top1: r.top1 });
      else reject(replyError(r.message, r.code, r.exitCode));
    });
    // An uncaught error or a crash (a wasm abort, out of memory) in the thread.
    worker.on('error', reject);
    worker.on('exit', (code) => reject(new Error(`the training worker exited (code ${code}) before it reported a result`)));
  });
  return settled.finally(() => worker.terminate());
}
