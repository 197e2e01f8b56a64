// `nas worker --queue URL`: takes evaluation jobs from the queue (BullMQ Worker) and runs each on this machine's
// engine (in process, a Piscina pool, one process per GPU), returning its outcome as the job's result. An evaluator's
// failure is a result (the candidate failed); a job this worker cannot run as asked is refused (UnrecoverableError:
// failed at once with the reason, not retried); a worker killed mid-job loses its lock, and BullMQ's stalled-job check
// in the other workers puts the job back for one of them.
import { hostname } from 'node:os';
import type { Job, Worker } from 'bullmq';
import { createEngine, type EngineOptions } from '../factory.js';
import { canonicalJson } from '../../../common/json.js';
import type { Engine, EvalOutcome, EvalTimeout, WorkerSetup } from '../types.js';
import { acceptJob, RefusedJob } from './accept.js';
import { connect, QUEUE_NAME, QUEUE_PREFIX } from './connection.js';
import { type Heartbeat, startHeartbeat } from './heartbeat.js';
import { type JobData, JobDataError, parseJobData } from './jobs.js';
import { bullmq } from './packages.js';

export interface QueueWorkerOptions {
  readonly url: string;
  /** This machine's engine: --workers N (0: in process) or --gpus. */
  readonly engine: EngineOptions;
  /** Jobs taken at once (default: the engine's concurrency). */
  readonly concurrency?: number;
  /** Seconds without a lock renewal before a job counts as stalled and goes back to the queue (BullMQ's 30 s). */
  readonly stallSeconds: number;
  readonly onJob?: (e: JobEvent) => void;
}

export interface JobEvent {
  readonly jobId: string;
  readonly arch: string;
  readonly outcome: EvalOutcome | null;
  /** Set when the job failed in the queue (refused, malformed, or an error that BullMQ retries). */
  readonly failure: string | null;
}

export interface QueueWorker {
  readonly id: string;
  readonly concurrency: number;
  /** Stops taking jobs, lets the running ones finish, and stops the engines. */
  close(): Promise<void>;
}

/** The engine of an evaluator, latency source and time limit, started on first use and kept for later jobs. */
function enginePool(opts: EngineOptions): { get(setup: WorkerSetup, timeout: EvalTimeout): Engine; close(): Promise<void> } {
  const engines = new Map<string, Engine>();
  return {
    get(setup, timeout) {
      const key = canonicalJson({ setup, timeout });
      let e = engines.get(key);
      if (e === undefined) engines.set(key, (e = createEngine(setup, opts, timeout)));
      return e;
    },
    async close() {
      await Promise.all([...engines.values()].map((e) => e.close()));
    },
  };
}

/** How many evaluations this machine's engine runs at once. */
export function engineConcurrency(opts: EngineOptions): number {
  return opts.gpus !== undefined && opts.gpus.length > 0 ? opts.gpus.length : Math.max(1, opts.workers);
}

/** Runs one job: checked, accepted, evaluated; a malformed or refused job throws UnrecoverableError. */
async function runJob(job: Job, who: string, engines: ReturnType<typeof enginePool>): Promise<EvalOutcome> {
  let data: JobData;
  let evaluatorUrl: string;
  try {
    data = parseJobData(job.data);
    evaluatorUrl = await acceptJob(data, who);
  } catch (e) {
    if (e instanceof JobDataError || e instanceof RefusedJob) throw new (bullmq().UnrecoverableError)(e.message);
    throw e;
  }
  return engines.get({ evaluatorUrl, latency: data.latency }, data.evalTimeoutSeconds).run(data.task);
}

export async function startQueueWorker(opts: QueueWorkerOptions): Promise<QueueWorker> {
  const id = `${hostname()}-${process.pid}`;
  const concurrency = opts.concurrency ?? engineConcurrency(opts.engine);
  const engines = enginePool(opts.engine);
  const connections = [connect(opts.url), connect(opts.url)] as const;
  const counts = { done: 0, failed: 0 };
  const worker: Worker = new (bullmq().Worker)(QUEUE_NAME, (job) => runJob(job, id, engines), {
    connection: connections[0],
    prefix: QUEUE_PREFIX,
    concurrency,
    // Stored on each job it takes (job.processedBy): `nas results show --queue` names the worker of a job in flight.
    name: id,
    lockDuration: opts.stallSeconds * 1000,
    stalledInterval: opts.stallSeconds * 1000,
  });
  let heartbeat: Heartbeat | null = null;
  reportJobs(worker, counts, () => heartbeat?.beat(), opts.onJob);
  // Connection errors are retried by the worker; other errors are reported per job above.
  worker.on('error', () => {});
  await worker.waitUntilReady();
  const startedAt = new Date().toISOString();
  const engine = opts.engine.gpus !== undefined ? 'processes' : opts.engine.workers === 0 ? 'in-process' : 'pool';
  const hb = startHeartbeat(connections[1], () => ({
    id, host: hostname(), pid: process.pid, engine, concurrency, startedAt, jobsDone: counts.done, jobsFailed: counts.failed,
  }));
  heartbeat = hb;
  return {
    id,
    concurrency,
    async close() {
      await worker.close();
      await hb.stop();
      await engines.close();
      for (const c of connections) c.disconnect();
    },
  };
}

/** Counts each job as it ends, beats, and tells onJob. */
function reportJobs(worker: Worker, counts: { done: number; failed: number }, beat: () => void, onJob: QueueWorkerOptions['onJob']): void {
  worker.on('completed', (job, result: EvalOutcome) => {
    counts.done++;
    beat();
    onJob?.({ jobId: job.id ?? '', arch: archOf(job), outcome: result, failure: null });
  });
  worker.on('failed', (job, err) => {
    counts.failed++;
    beat();
    onJob?.({ jobId: job?.id ?? '', arch: job === undefined ? '' : archOf(job), outcome: null, failure: err.message });
  });
}

/** The canonical arch a job names, for progress lines (empty when its data is not what we send). */
function archOf(job: Job): string {
  try {
    return parseJobData(job.data).task.context.arch;
  } catch {
    return '';
  }
}
