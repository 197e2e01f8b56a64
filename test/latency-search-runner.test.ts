// `nas search --latency measure|paired:REF --runner R`: the runner, its backend and threads reach the worker threads
// that time candidates (each candidate's latencySource names them), the run stores them for --resume, and a runner
// with a source that does not measure is a one-line usage error.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isJsonObject } from '../common/json.js';
import { openStore } from '../results/store.js';
import { parseJobData } from '../search/engine/queue/jobs.js';
import { encodeArch } from '../space/blockString.js';
import { loadArch } from '../space/load.js';
import { runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-search-runner-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const TINY = ['search', '--evaluator', 'zero-cost:synflow', '--strategy', 'random', '--budget', '2', '--batch', '2', '--input', '16'];

/** The run's stored config (as JSON text) and each candidate's latencySource and latencyMs. */
function stored(db: string): { config: string; sources: unknown[]; ms: unknown[] } {
  const store = openStore(db, { readonly: true });
  try {
    const run = store.listRuns({ kind: 'search' })[0];
    assert.ok(run !== undefined);
    const metrics = store.listCandidates(run.id).map((c) => (isJsonObject(c.metrics) ? c.metrics : {}));
    return { config: JSON.stringify(run.config), sources: metrics.map((m) => m['latencySource']), ms: metrics.map((m) => m['latencyMs']) };
  } finally {
    store.close();
  }
}

test('nas search --latency measure --runner onnxruntime: worker threads time candidates on ONNX Runtime with the given level and threads', () => {
  const db = join(dir, 'measure.db');
  const runner = ['--runner', 'onnxruntime', '--runner-backend', 'cpu-basic', '--runner-threads', '2'];
  const r = runCli([...TINY, '--latency', 'measure', ...runner, '--target', 'latency=1ms', '--workers', '1', '--json', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  const s = stored(db);
  assert.deepEqual(s.sources, ['measure:onnxruntime/cpu-basic/2t', 'measure:onnxruntime/cpu-basic/2t']);
  for (const ms of s.ms) assert.ok(typeof ms === 'number' && ms > 0, String(ms));
  assert.match(s.config, /"latency":\{"kind":"measure","runner":\{"name":"onnxruntime","backend":"cpu-basic","threads":2\}\}/);
  const resume = runCli(['search', '--resume', 'sr-x', '--runner', 'node', '--db', db]);
  assert.equal(resume.status, 2);
  assert.match(resume.stderr, /drop --runner/);
});

test('nas search --latency paired:REF --runner onnxruntime: the reference and every judgement are timed on ONNX Runtime', () => {
  const db = join(dir, 'paired.db');
  const r = runCli([...TINY, '--latency', 'paired:mobilenetv3-small', '--runner', 'onnxruntime', '--target', 'latency=1x', '--workers', '0', '--json', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  const s = stored(db);
  assert.deepEqual(s.sources, ['paired:onnxruntime/cpu/1t', 'paired:onnxruntime/cpu/1t']);
  assert.match(s.config, /"kind":"paired","reference":"v1_in32x3_[^"]*","referenceMs":[0-9.]+,"runner":\{"name":"onnxruntime","backend":"cpu","threads":1\}/);
});

test('nas search: a runner with a source that times nothing, or a backend the runner lacks, is a one-line usage error', () => {
  const db = join(dir, 'bad.db');
  const cases: [string[], RegExp][] = [
    [['--latency', 'lut:table.json', '--runner', 'onnxruntime'], /--runner applies to --latency measure or paired:REF only: the table names the runner it was built on/],
    [['--latency', 'madds', '--runner-threads', '2'], /--runner-threads applies to --latency measure or paired:REF only/],
    [['--latency', 'measure', '--runner', 'onnxruntime', '--runner-backend', 'wasm'], /no backend 'wasm': use --runner-backend cpu, cpu-extended/],
    [['--latency', 'measure', '--runner', 'browser', '--runner-threads', '2'], /one thread: drop --runner-threads 2/],
    [['--latency', 'measure', '--runner', 'gpu'], /unknown runner 'gpu'/],
  ];
  for (const [args, message] of cases) {
    const r = runCli([...TINY, ...args, '--target', 'latency=1ms', '--db', db]);
    assert.equal(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, message);
    assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
});

test('a queued job keeps its latency source\'s runner, so a worker on another machine times on the same one', () => {
  const arch = loadArch(['mobilenetv3-small'], { input: 32 });
  const runner = { name: 'onnxruntime', backend: 'cpu-extended', threads: 2 };
  const job = (latency: unknown) => ({
    evaluator: 'synthetic', evaluatorHash: 'h', latency, evalKey: 'k', evalTimeoutSeconds: null,
    task: { arch, context: { seed: 1, arch: encodeArch(arch), config: {} } },
  });
  assert.deepEqual(parseJobData(job({ kind: 'measure', runner })).latency, { kind: 'measure', runner });
  assert.deepEqual(parseJobData(job({ kind: 'paired', reference: 'r', referenceMs: 1.5, runner })).latency, { kind: 'paired', reference: 'r', referenceMs: 1.5, runner });
  assert.deepEqual(parseJobData(job({ kind: 'measure' })).latency, { kind: 'measure' });
  assert.throws(() => parseJobData(job({ kind: 'measure', runner: { name: 'phone', backend: 'x', threads: 1 } })), /latency runner/);
});
