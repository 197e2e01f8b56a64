// `nas worker --queue URL`: evaluates the jobs of distributed searches and NetAdapt runs (search/engine/queue/worker.ts) on this
// machine until stopped (SIGINT or SIGTERM: the jobs running finish first). One line per job on stderr; with --json,
// one JSON object per line on stdout (started, job, stopped).
import { availableParallelism } from 'node:os';
import type { CommandModule } from 'yargs';
import { checkInteger } from '../common/intOption.js';
import { engineOptionsFrom } from '../search/engine/factory.js';
import { checkReachable, parseQueueUrl, redactedUrl } from '../search/engine/queue/connection.js';
import { type JobEvent, startQueueWorker } from '../search/engine/queue/worker.js';
import { parseDuration } from '../search/settings.js';
import { jsonOption } from './options.js';

interface WorkerArgs {
  queue: string;
  workers: number | undefined;
  threads: number | undefined;
  gpus: string | undefined;
  concurrency: number | undefined;
  'stall-timeout': string;
  json: boolean;
}

function jobLine(e: JobEvent): string {
  const o = e.outcome;
  const what = o === null ? `FAILED in the queue: ${e.failure ?? ''}` : o.ok ? `acc ${o.metrics.accuracy.toFixed(4)}` : `evaluation failed: ${o.reason}`;
  const secs = o === null ? '' : ` (${o.seconds.toFixed(1)} s)`;
  // The job id is the run's and the architecture's hash; canonical archs share a long prefix, so it names the job.
  return `job ${e.jobId}: ${what}${secs}\n`;
}

/** Resolves on the first SIGINT or SIGTERM. */
function stopSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (sig: string): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

export const workerCommand: CommandModule<object, WorkerArgs> = {
  command: 'worker',
  describe: 'Evaluate the candidates of distributed searches and NetAdapt fine-tunes (nas search|netadapt --queue URL) on this machine',
  builder: (y) =>
    y
      .option('queue', { type: 'string', demandOption: true, describe: 'the Redis URL the coordinator was given, e.g. redis://HOST:6379/0' })
      .option('workers', { type: 'number', describe: 'evaluation threads; 0 = in this process (default one per core)' })
      .option('gpus', { type: 'string', describe: 'GPU ids, e.g. 0,1: one evaluation process per GPU' })
      .option('threads', { type: 'number', describe: 'native kernel threads per evaluation worker (default: the cores shared among --workers)' })
      .option('concurrency', { type: 'number', describe: 'jobs taken at once (default: the threads or GPUs)' })
      .option('stall-timeout', { type: 'string', default: '30s', describe: 'a job whose worker is silent this long goes back to the queue (BullMQ lock)' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    const url = parseQueueUrl(args.queue);
    checkInteger('--concurrency', args.concurrency, 1);
    const stallSeconds = parseDuration(args['stall-timeout'], '--stall-timeout');
    const engine = engineOptionsFrom({ workers: args.workers, gpus: args.gpus, threads: args.threads }, availableParallelism());
    const out = (o: object): void => void process.stdout.write(`${JSON.stringify(o)}\n`);
    const onJob = args.json ? (e: JobEvent) => out({ event: 'job', ...e }) : (e: JobEvent) => process.stderr.write(jobLine(e));
    await checkReachable(url);
    const stopped = stopSignal();
    const w = await startQueueWorker({ url, engine, stallSeconds, onJob, ...(args.concurrency === undefined ? {} : { concurrency: args.concurrency }) });
    const where = redactedUrl(url);
    if (args.json) out({ event: 'started', id: w.id, queue: where, concurrency: w.concurrency });
    else process.stderr.write(`worker ${w.id}: taking jobs from ${where}, ${w.concurrency} at a time (stop with Ctrl-C)\n`);
    const signal = await stopped;
    await w.close();
    if (args.json) out({ event: 'stopped', id: w.id, signal });
    else process.stderr.write(`worker ${w.id}: stopped (${signal})\n`);
  },
};
