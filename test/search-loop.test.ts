import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { JsonValue } from '../common/json.js';
import { openStore, type Store } from '../results/store.js';
import { type CandidateEvent, resumeSearch, runSearch, type SearchSettings } from '../search/loop.js';
import { candidateSeed } from '../search/seed.js';
import { validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-search-loop-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `t${n++}`);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

function settings(over: Partial<SearchSettings> = {}): SearchSettings {
  return {
    space: { name: 'mnasnet-small-input' },
    strategy: 'random',
    targets: ['latency=20ms'],
    reward: { mode: 'soft' },
    evaluator: 'synthetic',
    evaluatorConfig: { space: 'mnasnet-small-input' },
    latency: { kind: 'madds' },
    batch: 4,
    budget: 12,
    timeSeconds: null,
    maxFailures: null,
    ...over,
  };
}

/** A slow-fixture search whose evaluations are logged to `log` (one line per evaluation begun). */
function logged(log: string, over: Partial<SearchSettings> = {}): SearchSettings {
  return settings({ evaluator: fixture('eval-slow'), evaluatorConfig: { log }, ...over });
}

const logLines = (log: string): string[] => (existsSync(log) ? readFileSync(log, 'utf8').split('\n').filter((l) => l !== '') : []);

async function withStore<T>(fn: (s: Store) => Promise<T>): Promise<T> {
  const store = openStore(`${fresh()}.db`);
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

const archs = (store: Store, runId: string): string[] => store.listCandidates(runId).map((c) => c.arch);

test('a search ends with exactly the budget of distinct candidates, each stored with metrics and reward', async () => {
  await withStore(async (store) => {
    const r = await runSearch(store, settings({ budget: 13, batch: 4 }), { seed: 3, engine: { workers: 0 } });
    assert.equal(r.status, 'finished');
    assert.equal(r.stopReason, 'budget');
    assert.deepEqual(r.counts, { done: 13, failed: 0, total: 13 });
    const cands = store.listCandidates(r.runId);
    assert.deepEqual(cands.map((c) => c.seq), [...Array(13).keys()]);
    assert.equal(new Set(cands.map((c) => c.arch)).size, 13);
    for (const c of cands) {
      const m = c.metrics as Record<string, JsonValue>;
      assert.equal(c.status, 'done');
      assert.ok(typeof m['accuracy'] === 'number' && typeof m['latencyMs'] === 'number' && typeof c.reward === 'number');
    }
    const run = store.requireRun(r.runId);
    assert.equal(run.status, 'finished');
    assert.equal(run.seed, 3);
    assert.notEqual(store.latestStrategyStep(r.runId), null);
    // best is sorted by reward; the front goes up in latency and in accuracy.
    const rewards = r.best.map((b) => b.reward ?? -1);
    assert.deepEqual(rewards, [...rewards].sort((a, b) => b - a));
    for (let i = 1; i < r.pareto.length; i++) {
      assert.ok((r.pareto[i]?.latencyMs ?? 0) >= (r.pareto[i - 1]?.latencyMs ?? 0));
      assert.ok((r.pareto[i]?.accuracy ?? 0) > (r.pareto[i - 1]?.accuracy ?? 0));
    }
  });
});

test('the same seed gives the same candidates with --workers 0 and --workers 2 (rl); another seed does not', async () => {
  await withStore(async (store) => {
    const s = settings({ strategy: 'rl', budget: 16, batch: 8 });
    const a = await runSearch(store, s, { seed: 5, engine: { workers: 0 } });
    // A different evaluator config keeps the second run from copying the first one's results.
    const b = await runSearch(store, { ...s, evaluatorConfig: { space: 'mnasnet-small-input', tag: 'b' } }, {
      seed: 5,
      engine: { workers: 2 },
    });
    assert.equal(b.session.cached, 0);
    assert.equal(b.session.evaluated, 16);
    assert.deepEqual(archs(store, b.runId), archs(store, a.runId));
    assert.deepEqual(
      store.listCandidates(b.runId).map((c) => c.reward),
      store.listCandidates(a.runId).map((c) => c.reward),
    );
    const c = await runSearch(store, s, { seed: 6, engine: { workers: 0 } });
    assert.notDeepEqual(archs(store, c.runId), archs(store, a.runId));
  });
});

test('a search stopped mid-batch resumes to the same samples, evaluating each candidate once', async () => {
  await withStore(async (store) => {
    const whole = fresh();
    const u = await runSearch(store, logged(whole, { strategy: 'rl', budget: 24, batch: 8 }), { seed: 1, engine: { workers: 0 } });
    const log = fresh();
    const s = logged(log, { strategy: 'rl', budget: 24, batch: 8 });
    let seen = 0;
    let runId = '';
    const stopAt13 = {
      onStart: (i: { readonly runId: string }) => {
        runId = i.runId;
      },
      onCandidate: (e: CandidateEvent) => {
        if (e.source === 'evaluated' && ++seen === 13) throw new Error('simulated kill');
      },
    };
    // Snapshots only at the start: the resume replays the finished first batch from the store.
    await assert.rejects(
      runSearch(store, s, { seed: 1, engine: { workers: 0 }, hooks: stopAt13, snapshotEverySeconds: 1e9 }),
      /simulated kill/,
    );
    assert.equal(store.requireRun(runId).status, 'running');
    assert.equal(store.countCandidates(runId).done, 13);
    const r = await resumeSearch(store, runId, {}, { engine: { workers: 0 }, snapshotEverySeconds: 1e9 });
    assert.equal(r.resumed, true);
    assert.ok(r.session.replayedBatches >= 1);
    assert.equal(r.session.evaluated, 11);
    assert.deepEqual(r.counts, { done: 24, failed: 0, total: 24 });
    assert.deepEqual(archs(store, runId), archs(store, u.runId));
    assert.deepEqual(logLines(log).sort(), archs(store, runId).sort());
  });
});

test('a finished run resumes to a larger budget, evaluating only the new candidates', async () => {
  await withStore(async (store) => {
    const log = fresh();
    const a = await runSearch(store, logged(log, { budget: 8 }), { seed: 2, engine: { workers: 0 } });
    assert.equal(store.requireRun(a.runId).status, 'finished');
    const r = await resumeSearch(store, a.runId, { budget: 12 }, { engine: { workers: 0 } });
    assert.equal(r.session.evaluated, 4);
    assert.equal(r.counts.total, 12);
    assert.equal(logLines(log).length, 12);
    const whole = await runSearch(store, logged(fresh(), { budget: 12 }), { seed: 2, engine: { workers: 0 } });
    assert.deepEqual(archs(store, a.runId), archs(store, whole.runId));
  });
});

test('a second run with the same evaluation settings copies results instead of evaluating', async () => {
  await withStore(async (store) => {
    const log = fresh();
    const a = await runSearch(store, logged(log, { budget: 8 }), { seed: 4, engine: { workers: 0 } });
    const b = await runSearch(store, logged(log, { budget: 8 }), { seed: 4, engine: { workers: 0 } });
    assert.equal(b.session.cached, 8);
    assert.equal(b.session.evaluated, 0);
    assert.equal(logLines(log).length, 8);
    assert.deepEqual(archs(store, b.runId), archs(store, a.runId));
  });
});

test('failing candidates are recorded with their reason; the search still ends with the budget', async () => {
  await withStore(async (store) => {
    const s = settings({ evaluator: fixture('eval-throws'), evaluatorConfig: { fail: 3 }, budget: 16, maxFailures: 16 });
    const r = await runSearch(store, s, { seed: 0, engine: { workers: 2 } });
    assert.equal(r.status, 'finished');
    assert.equal(r.counts.total, 16);
    const failed = store.listCandidates(r.runId, { status: 'failed' });
    assert.ok(failed.length > 0 && failed.length < 16, `some failed: ${failed.length}`);
    for (const c of failed) assert.match(c.failure ?? '', /failed on purpose/);
  });
});

test('more failures than --max-failures stop the run as failed, saying why', async () => {
  await withStore(async (store) => {
    const s = settings({ evaluator: fixture('eval-nan'), evaluatorConfig: { fail: true }, budget: 20, maxFailures: 2 });
    const r = await runSearch(store, s, { seed: 0, engine: { workers: 0 } });
    assert.equal(r.status, 'failed');
    assert.equal(r.stopReason, 'failures');
    assert.equal(r.counts.failed, 4);
    assert.match(r.message, /more than --max-failures 2 .*accuracy NaN/);
    const run = store.requireRun(r.runId);
    assert.equal(run.status, 'failed');
    assert.match(run.error ?? '', /max-failures/);
  });
});

/** The small-input MnasNet space with every decision fixed but the first, which keeps two options. */
function tinySpace(): JsonValue {
  let kept = false;
  const collapse = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(collapse);
    if (v === null || typeof v !== 'object') return v;
    const o = v as Record<string, unknown>;
    if ('oneOf' in o && Array.isArray(o['oneOf'])) {
      if (!kept) {
        kept = true;
        return { oneOf: (o['oneOf'] as unknown[]).slice(0, 2).map(collapse) };
      }
      return collapse(o['oneOf'][0]);
    }
    return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, collapse(x)]));
  };
  return validateSpace(collapse(builtinSpace('mnasnet-small-input'))) as unknown as JsonValue;
}

test('a strategy that proposes only known archs stops the search with a clear reason', async () => {
  await withStore(async (store) => {
    const s = settings({ space: { file: 'tiny.json', json: tinySpace() }, evaluator: fixture('eval-slow'), evaluatorConfig: {}, budget: 10 });
    const r = await runSearch(store, s, { seed: 0, engine: { workers: 0 } });
    assert.equal(r.stopReason, 'exhausted');
    assert.equal(r.counts.total, 2);
    assert.match(r.message, /already evaluated/);
  });
});

test('per-candidate seeds depend on the run seed and the arch only', () => {
  assert.equal(candidateSeed(0, 'a'), candidateSeed(0, 'a'));
  assert.notEqual(candidateSeed(0, 'a'), candidateSeed(1, 'a'));
  assert.notEqual(candidateSeed(0, 'a'), candidateSeed(0, 'b'));
  assert.ok(Number.isInteger(candidateSeed(7, 'x')) && candidateSeed(7, 'x') >= 0);
});

test('--time stops after the batch in progress; the run is finished and resumes to its budget', async () => {
  await withStore(async (store) => {
    const r = await runSearch(store, settings({ budget: 12, batch: 4, timeSeconds: 1e-6 }), { seed: 0, engine: { workers: 0 } });
    assert.equal(r.stopReason, 'time');
    assert.equal(r.counts.total, 4);
    assert.equal(store.requireRun(r.runId).status, 'finished');
    const more = await resumeSearch(store, r.runId, { timeSeconds: null }, { engine: { workers: 0 } });
    assert.equal(more.stopReason, 'budget');
    assert.equal(more.counts.total, 12);
  });
});

test('--patience stops a run whose best reward has not improved for that many distinct candidates; without it the run spends its budget', async () => {
  await withStore(async (store) => {
    const r = await runSearch(store, settings({ budget: 200, batch: 4, patience: 6 }), { seed: 1, engine: { workers: 0 } });
    assert.equal(r.stopReason, 'converged');
    assert.match(r.message, /^converged: no better reward in the last 6 distinct candidates \(--patience\), after \d+ of 200 distinct candidates$/);
    const rewards = store.listCandidates(r.runId, { orderBy: 'seq' }).map((c) => c.reward as number);
    const bestAt = rewards.indexOf(Math.max(...rewards));
    assert.ok(rewards.length - 1 - bestAt >= 6, `best at ${bestAt} of ${rewards.length}`);
    assert.ok(r.counts.total < 200);
  });
  await withStore(async (store) => {
    const r = await runSearch(store, settings({ budget: 40, batch: 8, strategy: 'rl' }), { seed: 1, engine: { workers: 0 } });
    assert.equal(r.stopReason, 'budget');
    assert.equal(r.message, 'reached the budget of 40 distinct candidates');
  });
  await withStore(async (store) => {
    await assert.rejects(runSearch(store, settings({ patience: 0 }), { seed: 1, engine: { workers: 0 } }), /--patience must be an integer >= 1/);
  });
});

test('a run reaches its budget in a space barely larger than it: every batch brings new architectures', async () => {
  await withStore(async (store) => {
    // Two options for each of mnasnet-small-input's first five choices, the rest fixed: 32 architectures.
    let kept = 0;
    const shrink = (v: unknown): unknown => {
      if (Array.isArray(v)) return v.map(shrink);
      if (v === null || typeof v !== 'object') return v;
      const o = v as Record<string, unknown>;
      if ('oneOf' in o && Array.isArray(o['oneOf'])) {
        const opts = o['oneOf'] as unknown[];
        const k = kept++;
        return k < 5 ? { oneOf: opts.slice(0, 2).map(shrink) } : shrink(opts[0]);
      }
      return Object.fromEntries(Object.entries(o).map(([key, x]) => [key, shrink(x)]));
    };
    const space = validateSpace(shrink(builtinSpace('mnasnet-small-input'))) as unknown as JsonValue;
    for (const strategy of ['rl', 'evolution', 'random'] as const) {
      const r = await runSearch(store, settings({ space: { file: 'small.json', json: space }, evaluatorConfig: { space }, strategy, budget: 30, batch: 8 }), { seed: 2, engine: { workers: 0 } });
      assert.equal(r.stopReason, 'budget', `${strategy}: ${r.message}`);
      assert.equal(r.counts.total, 30);
      assert.equal(r.session.samples, 30, `${strategy}: no batch proposed a known architecture`);
    }
  });
});
