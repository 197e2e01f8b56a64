// Per-candidate overhead of a distributed search (issue 16): the random strategy with a large batch and the
// synthetic evaluator (which returns at once), run once in process and once through the queue (its own redis-server
// on a loopback port, `nas worker` processes on this machine), in the same run, on fresh temporary databases. Both
// runs must give the same candidates and rewards; the target is >= 200 candidates/s through the queue with 4
// workers.
// Run: node dist/bench/queue-throughput.js [--budget 2000] [--batch 500] [--workers 4] [--concurrency 16] [--json]
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkInteger } from '../common/intOption.js';
import { openStore } from '../results/store.js';
import { type EngineOptions, runSearch, type SearchResult, type SearchSettings } from '../search/loop.js';
import { startRedisServer } from './redisServer.js';

const CLI = fileURLToPath(new URL('../cli/main.js', import.meta.url));

function intArg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  checkInteger(`--${name}`, v, 1);
  return v;
}

const budget = intArg('budget', 2000);
const batch = intArg('batch', 500);
const workers = intArg('workers', 4);
const concurrency = intArg('concurrency', 16);
const json = process.argv.includes('--json');

const settings: SearchSettings = {
  space: { name: 'mnasnet-small-input' },
  strategy: 'random',
  targets: ['madds=60M'],
  reward: { mode: 'soft' },
  evaluator: 'synthetic',
  evaluatorConfig: { space: 'mnasnet-small-input' },
  latency: { kind: 'madds' },
  batch,
  budget,
  timeSeconds: null,
  maxFailures: null,
};

async function search(dir: string, name: string, engine: EngineOptions): Promise<SearchResult> {
  const store = openStore(join(dir, `${name}.db`));
  try {
    return await runSearch(store, settings, { seed: 0, engine });
  } finally {
    store.close();
  }
}

/** `nas worker` processes; resolves once each is taking jobs. */
async function startWorkers(url: string): Promise<ChildProcess[]> {
  const args = [CLI, 'worker', '--queue', url, '--workers', '0', '--concurrency', String(concurrency), '--json'];
  const children = Array.from({ length: workers }, () => spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] }));
  await Promise.all(
    children.map(
      (c) =>
        new Promise<void>((resolve, reject) => {
          let out = '';
          c.stdout?.on('data', (d: Buffer) => {
            out += d.toString();
            if (out.includes('"event":"started"')) resolve();
          });
          c.once('exit', (code) => reject(new Error(`nas worker exited (${code}) before it started`)));
        }),
    ),
  );
  return children;
}

const same = (a: SearchResult, b: SearchResult): boolean =>
  JSON.stringify(a.best.map((c) => [c.seq, c.arch, c.reward])) === JSON.stringify(b.best.map((c) => [c.seq, c.arch, c.reward])) &&
  a.counts.done === b.counts.done;

const dir = mkdtempSync(join(tmpdir(), 'nas-queue-throughput-'));
const redis = await startRedisServer(false);
let children: ChildProcess[] = [];
try {
  const local = await search(dir, 'local', { workers: 0 });
  children = await startWorkers(redis.url);
  const queued = await search(dir, 'queue', { workers: 0, queue: redis.url });
  const out = {
    budget, batch, workers, concurrency,
    inProcess: { seconds: local.session.seconds, candidatesPerSec: local.session.samplesPerSec },
    queue: { seconds: queued.session.seconds, candidatesPerSec: queued.session.samplesPerSec },
    ratio: queued.session.samplesPerSec / local.session.samplesPerSec,
    sameResults: same(local, queued),
    target: 200,
  };
  if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else {
    const line = (what: string, r: { seconds: number; candidatesPerSec: number }): string =>
      `${what.padEnd(34)} ${r.seconds.toFixed(2).padStart(7)} s  ${r.candidatesPerSec.toFixed(0).padStart(6)} candidates/s\n`;
    process.stdout.write(`random strategy, synthetic evaluator, ${budget} candidates in batches of ${batch}\n`);
    process.stdout.write(line('in process (--workers 0)', out.inProcess));
    process.stdout.write(line(`queue, ${workers} workers x ${concurrency} jobs`, out.queue));
    process.stdout.write(`queue / in process: ${out.ratio.toFixed(2)}x; same candidates and rewards: ${out.sameResults ? 'yes' : 'NO'}; target >= ${out.target}/s: ${out.queue.candidatesPerSec >= out.target ? 'met' : 'NOT met'}\n`);
  }
} finally {
  for (const c of children) c.kill('SIGTERM');
  await Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.once('exit', r)))));
  await redis.dispose();
  rmSync(dir, { recursive: true, force: true });
}
