// `--threads` through the real CLI: a seeded train-final gives the same per-epoch losses with 1 and 2 threads (within
// 1e-4) and resumes exactly; `nas backend --json` reports the thread count in use (every core by default);
// latency measurement stays on one thread unless asked; a search shares the cores among its workers by default and
// gives each worker --threads when asked; bad counts get a one-line error and exit code 2.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { isJsonObject, type JsonObject, type JsonValue } from '../common/json.js';
import { CLI, runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-threads-'));
const db = join(dir, 'nas.db');
// Two epochs of 500 16-px MNIST images at batch 25: its first convolutions and depthwise layers are above the kernels'
// work threshold, so 2 threads split them (and sum the filter gradients and batch-norm statistics in two parts).
const train = [
  'train-final', '--data', 'mnist', '--limit', '600', '--input', '16', '--epochs', '2', '--batch', '25',
  '--arch', 'ir_k3_s2_x32_c16_re', 'ir_k3_s1_x48_c16_se_hs', '--seed', '3', '--backend', 'wasm', '--db', db, '--json',
];

interface TrainResult {
  history: { epoch: number; trainLoss: number }[];
  test: { loss: number; top1: number };
  resumedFrom: string | null;
}

/** A command's --json output, checked to be an object. */
function jsonOf(stdout: string): JsonObject {
  const v: JsonValue = JSON.parse(stdout); // JSON.parse yields JSON; checked next
  assert.ok(isJsonObject(v), stdout);
  return v;
}

/** The `threads` field of a JSON object. */
function threadsIn(v: JsonValue | undefined): number {
  assert.ok(isJsonObject(v), JSON.stringify(v));
  const t = v['threads'];
  assert.equal(typeof t, 'number', JSON.stringify(v));
  return Number(t);
}

function historyOf(v: JsonValue | undefined): TrainResult['history'] {
  assert.ok(Array.isArray(v), JSON.stringify(v));
  return v.map((h) => {
    assert.ok(isJsonObject(h) && typeof h['epoch'] === 'number' && typeof h['trainLoss'] === 'number', JSON.stringify(h));
    return { epoch: Number(h['epoch']), trainLoss: Number(h['trainLoss']) };
  });
}

function trainAt(threads: number, out: string, extra: string[] = []): TrainResult {
  const r = runCli([...train, '--out', join(dir, out), '--threads', String(threads), ...extra]);
  assert.equal(r.status, 0, r.stderr);
  const o = jsonOf(r.stdout);
  const test = o['test'];
  assert.ok(isJsonObject(test) && typeof test['loss'] === 'number' && typeof test['top1'] === 'number', r.stdout);
  const resumedFrom = o['resumedFrom'] ?? null;
  assert.ok(resumedFrom === null || typeof resumedFrom === 'string', r.stdout);
  return { history: historyOf(o['history']), test: { loss: Number(test['loss']), top1: Number(test['top1']) }, resumedFrom };
}

function assertSameCurve(a: TrainResult, b: TrainResult, tol: number, what: string): void {
  assert.equal(a.history.length, b.history.length);
  for (const [i, h] of a.history.entries()) {
    const d = Math.abs(h.trainLoss - (b.history[i]?.trainLoss ?? Number.NaN));
    assert.ok(d <= tol, `${what}: epoch ${h.epoch} train loss ${h.trainLoss} vs ${b.history[i]?.trainLoss}`);
  }
  assert.ok(Math.abs(a.test.loss - b.test.loss) <= tol, `${what}: test loss ${a.test.loss} vs ${b.test.loss}`);
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('--threads', () => {
  it('train-final: the same loss curve with 1 and 2 threads, and an exact resume with 2', () => {
    const one = trainAt(1, 'one');
    const two = trainAt(2, 'two');
    assertSameCurve(one, two, 1e-4, '1 vs 2 threads');
    // A run stopped after its first checkpoint (the second one and `latest` gone, as if killed before they were
    // written) resumes with 2 threads to the uninterrupted 2-thread run, exactly.
    const stopped = trainAt(2, 'stopped');
    rmSync(join(dir, 'stopped', 'epoch-0002'), { recursive: true });
    rmSync(join(dir, 'stopped', 'latest'));
    const resumed = trainAt(2, 'stopped', ['--resume']);
    assert.ok(resumed.resumedFrom?.endsWith('epoch-0001'), `resumed from ${resumed.resumedFrom}`);
    assertSameCurve(resumed, two, 0, 'resumed vs straight');
    assertSameCurve(stopped, two, 0, 'a rerun');
  });

  it('nas backend --json reports every core by default and --threads when given', () => {
    const dflt = runCli(['backend', '--backend', 'wasm', '--json']);
    assert.equal(dflt.status, 0, dflt.stderr);
    assert.equal(threadsIn(jsonOf(dflt.stdout)), availableParallelism());
    const one = runCli(['backend', '--backend', 'wasm', '--threads', '1', '--json']);
    assert.equal(threadsIn(jsonOf(one.stdout)), 1);
  });

  it('latency measure computes on one thread by default, and on --threads when asked', () => {
    const measure = ['latency', 'measure', '--arch', 'mobilenetv3-small', '--input', '32', '--warmup', '1', '--runs', '2', '--json'];
    const threadsOf = (extra: string[]): number => {
      const r = runCli([...measure, ...extra]);
      assert.equal(r.status, 0, r.stderr);
      const results = jsonOf(r.stdout)['results'];
      assert.ok(Array.isArray(results) && results.length === 1, r.stdout);
      return threadsIn(results[0]);
    };
    assert.equal(threadsOf([]), 1);
    assert.equal(threadsOf(['--threads', '2']), 2);
  });

  const bad: [string, string[], RegExp][] = [
    ['0', ['backend', '--backend', 'wasm', '--threads', '0'], /--threads must be an integer >= 1/],
    ['-2', ['train-final', '--threads', '-2', '--out', join(dir, 'bad')], /--threads must be an integer >= 1/],
    ['1.5', ['eval', '--checkpoint', join(dir, 'two'), '--threads', '1.5'], /--threads must be an integer >= 1/],
    ['1000', ['backend', '--backend', 'wasm', '--threads', '1000'], /--threads must be at most 256/],
    ['with --gpus', ['search', '--gpus', '0', '--threads', '2'], /drop --threads/],
    ['0 (netadapt --train-threads)', ['netadapt', '--target', 'latency=0.8x', '--train-threads', '0', '--db', db], /--train-threads must be an integer >= 1/],
  ];
  for (const [what, args, pattern] of bad) {
    it(`rejects --threads ${what} with one line and exit code 2`, () => {
      const r = runCli(args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  it('search: the cores shared among the workers by default (said with the result), --threads per worker when given', () => {
    const cores = availableParallelism();
    const search = ['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--strategy', 'random', '--budget', '4', '--db', db];
    const split = (extra: string[]): string => {
      const r = runCli([...search, ...extra]);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout.trim().split('\n').at(-1) ?? '';
    };
    assert.equal(split(['--workers', '2']), `evaluations: 2 workers x ${Math.max(1, Math.floor(cores / 2))} thread${cores >= 4 ? 's' : ''} on ${cores} cores`);
    assert.equal(split(['--workers', '0']), `evaluations: in process, ${cores} thread${cores === 1 ? '' : 's'} on ${cores} cores`);
    assert.match(split(['--workers', '1', '--threads', String(cores + 1)]), /1 worker x \d+ threads on \d+ cores \(more threads than cores: they take turns\)$/);
  });

  it('search: each evaluation worker computes with the threads it was given', () => {
    const log = join(dir, 'threads.log');
    const evaluator = fileURLToPath(new URL('./fixtures/eval-threads.js', import.meta.url));
    const args = ['search', '--evaluator', evaluator, '--target', 'madds=60M', '--strategy', 'random', '--budget', '4', '--workers', '2', '--threads', '3', '--db', db, '--json'];
    const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NAS_FIXTURE_LOG: log } });
    assert.equal(r.status, 0, r.stderr);
    const threads = readFileSync(log, 'utf8').trim().split('\n').map((line) => line.split(' ')[1]);
    assert.deepEqual(threads, ['3', '3', '3', '3']);
  });

  it('warns on one line when the threads exceed the cores, and runs', () => {
    const n = availableParallelism() + 1;
    const r = runCli(['backend', '--backend', 'wasm', '--threads', String(n), '--json']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stderr, new RegExp(`warning: ${n} threads on ${n - 1} cores`));
    assert.equal(threadsIn(jsonOf(r.stdout)), n);
  });
});
