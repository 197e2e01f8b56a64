// Per-candidate overhead of `nas search`: the whole loop (strategy sampling and updates, store writes, engine) with
// the synthetic evaluator, which returns at once, in process, on a fresh temporary database. Issue 5 asks for >= 50
// samples/s with rl over 2,000 samples.
// Run: node dist/bench/search-overhead.js [--samples 2000] [--strategy rl] [--batch 16] [--workers 0]
//      [--strategy-backend cpu|wasm] [--json]
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../results/store.js';
import { DEFAULT_BATCH } from '../search/defaults.js';
import { type SearchSettings, runSearch } from '../search/loop.js';
import type { StrategyName } from '../search/types.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? (process.argv[i + 1] ?? fallback) : fallback;
}

const samples = Number(arg('samples', '2000'));
const strategy = arg('strategy', 'rl') as StrategyName;
const batch = Number(arg('batch', String(DEFAULT_BATCH)));
const workers = Number(arg('workers', '0'));
const strategyBackend = arg('strategy-backend', 'wasm') as 'cpu' | 'wasm';
const json = process.argv.includes('--json');

const dir = mkdtempSync(join(tmpdir(), 'nas-search-overhead-'));
const store = openStore(join(dir, 'bench.db'));
try {
  const settings: SearchSettings = {
    space: { name: 'mnasnet-small-input' },
    strategy,
    targets: ['latency=20ms'],
    reward: { mode: 'soft' },
    evaluator: 'synthetic',
    evaluatorConfig: { space: 'mnasnet-small-input' },
    latency: { kind: 'madds' },
    batch,
    budget: samples,
    timeSeconds: null,
    maxFailures: null,
  };
  const r = await runSearch(store, settings, { seed: 0, engine: { workers }, strategyBackend, snapshotEverySeconds: 10 });
  const out = {
    strategy,
    strategyBackend,
    batch,
    workers,
    samples: r.session.samples,
    distinct: r.counts.total,
    seconds: r.session.seconds,
    samplesPerSec: r.session.samplesPerSec,
    bestReward: r.best[0]?.reward ?? null,
  };
  if (json) process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  else {
    process.stdout.write(
      `${strategy}${strategy === 'rl' ? ` (controller on ${strategyBackend})` : ''}, batch ${batch}, workers ${workers}: ${out.samples} samples ` +
        `(${out.distinct} distinct) in ${out.seconds.toFixed(1)} s = ${out.samplesPerSec.toFixed(1)} samples/s\n`,
    );
  }
} finally {
  store.close();
  rmSync(dir, { recursive: true, force: true });
}
