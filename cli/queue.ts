// `nas queue status URL`: the jobs of a distributed search's queue by state and the workers alive, with when each
// was last heard from (search/engine/queue/status.ts).
import type { Argv, CommandModule } from 'yargs';
import { checkReachable, parseQueueUrl } from '../search/engine/queue/connection.js';
import { type QueueStatus, queueStatus } from '../search/engine/queue/status.js';
import { jsonOption } from './options.js';
import { emit, table } from './output.js';

interface StatusArgs {
  url: string;
  json: boolean;
}

function statusText(s: QueueStatus): string {
  const j = s.jobs;
  const now = Date.now();
  const ago = (iso: string): string => `${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))} s ago`;
  const rows = s.workers.map((w) => [w.id, w.engine, String(w.concurrency), String(w.jobsDone), String(w.jobsFailed), w.startedAt, ago(w.lastBeat)]);
  return [
    `queue ${s.queue}: ${j.waiting} waiting, ${j.active} active, ${j.delayed} delayed, ${j.completed} completed, ${j.failed} failed`,
    s.workers.length === 0 ? 'no worker alive (start one: nas worker --queue URL)' : `${s.workers.length} worker(s):`,
    ...(s.workers.length === 0 ? [] : [table(['worker', 'engine', 'jobs at once', 'done', 'failed', 'started', 'last heartbeat'], rows)]),
  ].join('\n');
}

const statusCommand: CommandModule<object, StatusArgs> = {
  command: 'status <url>',
  describe: 'Jobs waiting, active and finished, and the workers alive with their last heartbeat',
  builder: (y: Argv) =>
    y.positional('url', { type: 'string', demandOption: true, describe: 'the Redis URL, e.g. redis://HOST:6379/0' }).option('json', jsonOption) as never,
  handler: async (argv) => {
    const url = parseQueueUrl(argv.url);
    await checkReachable(url);
    emit(await queueStatus(url), argv.json, statusText);
  },
};

export const queueCommand: CommandModule = {
  command: 'queue <command>',
  describe: 'The queue of distributed searches (nas search --queue, nas worker)',
  builder: (y: Argv) => y.command(statusCommand).demandCommand(1, 'name a queue command: status'),
  handler: () => {},
};
