import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import seedrandom from 'seedrandom';
import type { JsonValue } from '../common/json.js';
import { createInProcessEngine } from '../search/engine/inProcess.js';
import { createPoolEngine } from '../search/engine/pool.js';
import { createProcessesEngine } from '../search/engine/processes.js';
import type { Engine, EvalOutcome, EvalTask, WorkerSetup } from '../search/engine/types.js';
import { candidateSeed } from '../search/seed.js';
import { encodeArch } from '../space/blockString.js';
import { costOf } from '../space/cost.js';
import { resolve } from '../space/resolve.js';
import { applySample, sampleUniform } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-search-engine-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const space = builtinSpace('mnasnet-small-input');
const fixture = (name: string): string => new URL(`./fixtures/${name}.js`, import.meta.url).href;
const setupFor = (name: string, latency: WorkerSetup['latency'] = null): WorkerSetup => ({ evaluatorUrl: fixture(name), latency });

/** n distinct sampled candidates as engine tasks; config per task index. */
function tasks(n: number, config: (i: number) => Record<string, JsonValue> = () => ({})): EvalTask[] {
  const rng = seedrandom('engine-tasks');
  const out: EvalTask[] = [];
  const seen = new Set<string>();
  while (out.length < n) {
    const decisions = sampleUniform(space, rng);
    const arch = applySample(space, decisions);
    const canonical = encodeArch(arch);
    if (seen.has(canonical)) continue;
    seen.add(canonical);
    const i = out.length;
    out.push({ arch, context: { seed: candidateSeed(0, canonical), arch: canonical, decisions, config: config(i) } });
  }
  return out;
}

async function withEngine<T>(engine: Engine, fn: (e: Engine) => Promise<T>): Promise<T> {
  try {
    return await fn(engine);
  } finally {
    await engine.close();
  }
}

const okMetrics = (o: EvalOutcome): Record<string, JsonValue> => {
  assert.ok(o.ok, `expected success, got ${o.ok ? '' : o.reason}`);
  return o.metrics as Record<string, JsonValue>;
};

test('a pool of 2 runs two evaluations at the same time, each in its own thread', async () => {
  const barrierDir = mkdtempSync(join(dir, 'barrier-'));
  const ts = tasks(2, () => ({ barrierDir, barrier: 2 }));
  const outcomes = await withEngine(createPoolEngine(setupFor('eval-env'), { workers: 2 }), (e) => {
    assert.equal(e.concurrency, 2);
    return Promise.all(ts.map((t) => e.run(t)));
  });
  const metrics = outcomes.map(okMetrics);
  assert.equal(new Set(metrics.map((m) => m['threadId'])).size, 2);
  assert.ok(metrics.every((m) => m['pid'] === process.pid && m['threadId'] !== 0));
});

for (const [name, expected] of [
  ['eval-throws', /failed on purpose/],
  ['eval-exits', /worker crashed: .*exited with code: 3/],
  ['eval-nan', /accuracy NaN/],
] as const) {
  test(`${name}: only the failing task fails and the pool keeps working`, async () => {
    const ts = tasks(7, (i) => ({ fail: i === 1 || i === 4 }));
    await withEngine(createPoolEngine(setupFor(name), { workers: 2 }), async (e) => {
      const first = await Promise.all(ts.slice(0, 5).map((t) => e.run(t)));
      first.forEach((o, i) => {
        if (i === 1 || i === 4) {
          assert.equal(o.ok, false, `task ${i} should fail`);
          if (!o.ok) assert.match(o.reason, expected);
        } else {
          okMetrics(o);
        }
      });
      // After the failures, the pool still evaluates (a crashed thread was replaced).
      const later = await Promise.all(ts.slice(5).map((t) => e.run(t)));
      later.forEach(okMetrics);
    });
  });
}

test('the worker fills in latency and cost from the resource model when the evaluator gives only accuracy', async () => {
  const [t] = tasks(1);
  assert.ok(t);
  const o = await withEngine(createPoolEngine(setupFor('eval-nan', { kind: 'madds' }), { workers: 1 }), (e) => e.run(t));
  const m = okMetrics(o);
  const cost = costOf(resolve(t.arch));
  assert.equal(m['madds'], cost.madds);
  assert.equal(m['params'], cost.params);
  assert.equal(m['latencyMs'], cost.madds / 1e6);
});

test('the in-process engine runs tasks one at a time and turns an exception into a failure', async () => {
  const ts = tasks(3, (i) => ({ fail: i === 0 }));
  const outcomes = await withEngine(createInProcessEngine(setupFor('eval-throws')), (e) => {
    assert.equal(e.concurrency, 1);
    return Promise.all(ts.map((t) => e.run(t)));
  });
  assert.equal(outcomes[0]?.ok, false);
  outcomes.slice(1).forEach(okMetrics);
});

test('the GPU engine runs one process per GPU, each with its own CUDA_VISIBLE_DEVICES and the tensorflow backend', async () => {
  const barrierDir = mkdtempSync(join(dir, 'barrier-'));
  const ts = tasks(4, (i) => (i < 2 ? { barrierDir, barrier: 2, backend: 'wasm' } : { backend: 'wasm' }));
  const metrics = await withEngine(createProcessesEngine(setupFor('eval-env'), { gpus: ['0', '1'] }), async (e) => {
    assert.equal(e.concurrency, 2);
    return (await Promise.all(ts.map((t) => e.run(t)))).map(okMetrics);
  });
  // Two processes, neither of them this one, each always with the same GPU.
  const gpuOfPid = new Map<JsonValue | undefined, JsonValue | undefined>();
  for (const m of metrics) {
    assert.notEqual(m['pid'], process.pid);
    assert.equal(m['nasBackend'], 'tensorflow');
    assert.equal(m['configBackend'], 'tensorflow');
    const seen = gpuOfPid.get(m['pid']);
    if (seen !== undefined) assert.equal(seen, m['cuda']);
    gpuOfPid.set(m['pid'], m['cuda']);
  }
  assert.equal(gpuOfPid.size, 2);
  assert.deepEqual([...gpuOfPid.values()].sort(), ['0', '1']);
});

test('a GPU process that exits fails its task only; the next task gets a fresh process', async () => {
  const ts = tasks(4, (i) => ({ fail: i === 0 }));
  const outcomes = await withEngine(createProcessesEngine(setupFor('eval-exits'), { gpus: ['7'] }), async (e) => {
    const out: EvalOutcome[] = [];
    for (const t of ts) out.push(await e.run(t));
    return out;
  });
  assert.equal(outcomes[0]?.ok, false);
  if (outcomes[0]?.ok === false) assert.match(outcomes[0].reason, /GPU 7 exited \(code 3\)/);
  outcomes.slice(1).forEach(okMetrics);
});

test('a worker thread that runs out of memory fails its task as out of memory; the pool carries on', async () => {
  const ts = tasks(3, (i) => ({ fail: i === 0 }));
  const outcomes = await withEngine(createPoolEngine(setupFor('eval-oom'), { workers: 1, maxOldGenerationSizeMb: 64 }), async (e) => {
    const out: EvalOutcome[] = [];
    for (const t of ts) out.push(await e.run(t));
    return out;
  });
  assert.equal(outcomes[0]?.ok, false);
  if (outcomes[0]?.ok === false) assert.match(outcomes[0].reason, /^worker crashed: out of memory/);
  outcomes.slice(1).forEach(okMetrics);
});

test('a pool worker whose wasm heap is full fails that candidate as such and is replaced: the next gets a fresh heap', async () => {
  const ts = tasks(3, (i) => ({ fill: i === 0 }));
  const outcomes = await withEngine(createPoolEngine(setupFor('eval-wasm-heap'), { workers: 1 }), async (e) => {
    const out: EvalOutcome[] = [];
    for (const t of ts) out.push(await e.run(t));
    return out;
  });
  assert.equal(outcomes[0]?.ok, false);
  if (outcomes[0]?.ok === false) assert.match(outcomes[0].reason, /^WasmHeapFullError: the wasm heap is full: 67108864 bytes requested/);
  outcomes.slice(1).forEach(okMetrics);
});
