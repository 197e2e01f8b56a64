// `nas netadapt` end to end through the real CLI on a tiny network at 16 px MNIST (MAdds stand in for latency, so
// runs are deterministic and fast): every step cuts at least delta, a run killed with SIGKILL inside an iteration
// and resumed ends with the architecture of an uninterrupted run, and bad input is said clearly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { NetadaptResult } from '../netadapt/types.js';
import Database from 'better-sqlite3';
import { openStore } from '../results/store.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { CLI, runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-na-'));
const db = join(dir, 'nas.db');
const seedDir = join(dir, 'seed');
const specPath = join(dir, 'tiny.json');

const tiny: ArchSpec = {
  version: 1,
  name: 'tiny',
  input: { size: 16, channels: 3 },
  classes: 10,
  width: 1,
  padding: 'symmetric',
  bn: { decay: 0.9, eps: 0.001 },
  dropout: 0,
  stem: { kernel: 3, stride: 1, out: 16, act: 'hswish' },
  stages: [
    [
      { type: 'ir', kernel: 3, stride: 2, exp: 48, out: 24, se: { ratio: 0.25, of: 'expanded', gate: 'hsigmoid' }, act: 'relu', skip: true },
      { type: 'ir', kernel: 3, stride: 1, exp: 72, out: 24, se: null, act: 'hswish', skip: true },
    ],
    [{ type: 'ir', kernel: 3, stride: 2, exp: 96, out: 32, se: { ratio: 0.25, of: 'expanded', gate: 'hsigmoid' }, act: 'hswish', skip: true }],
  ],
  head: { conv: 64, hidden: null, act: 'hswish' },
};

const common = (out: string, engine: readonly string[] = ['--workers', '0'], steps = '3'): string[] => [
  'netadapt', '--checkpoint', seedDir, '--data', 'mnist', '--train-images', '600', '--val-images', '100',
  '--latency', 'madds', '--short-steps', steps, ...engine, '--no-measure-each', '--backend', 'wasm',
  '--db', db, '--out', out, '--seed', '5', '--json',
];

before(() => {
  writeFileSync(specPath, JSON.stringify(tiny));
  const r = runCli([
    'train-final', '--data', 'mnist', '--limit', '600', '--input', '16', '--epochs', '1', '--batch', '25', '--arch', specPath,
    '--seed', '1', '--backend', 'wasm', '--db', db, '--out', seedDir, '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
});

after(() => rmSync(dir, { recursive: true, force: true }));

function parse(stdout: string): NetadaptResult {
  return JSON.parse(stdout) as NetadaptResult;
}

describe('nas netadapt', () => {
  it('cuts at least delta per step until the target, and resumes after SIGKILL to the same architecture', async () => {
    const args = ['--target', 'latency=0.6x', '--delta', '0.04'];
    const straight = runCli([...common(join(dir, 'straight')), ...args]);
    assert.equal(straight.status, 0, straight.stderr);
    const ref = parse(straight.stdout);
    assert.equal(ref.status, 'met');
    assert.ok(ref.iterations.length >= 4, `${ref.iterations.length} iterations`);
    let prev = ref.seed.latencyMs;
    for (const it of ref.iterations) {
      assert.ok(prev - it.latencyPredictedMs >= ref.deltaMs - 1e-9, `iteration ${it.iteration} cut ${prev - it.latencyPredictedMs} < ${ref.deltaMs}`);
      prev = it.latencyPredictedMs;
    }
    assert.ok(prev <= ref.targetMs);
    // The spec file is the final network, usable by other commands.
    const spec = JSON.parse(readFileSync(ref.specFile, 'utf8')) as ArchSpec;
    assert.equal(encodeArch(spec), encodeArch(ref.finalSpec));
    const show = runCli(['arch', 'show', ref.specFile, '--json']);
    assert.equal(show.status, 0, show.stderr);

    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [CLI, ...common(out), ...args], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    // Kill inside the third iteration, once its first proposal has a checkpoint.
    for (let i = 0; i < 1200 && !existsSync(join(out, 'it-003', 'p-00')); i++) await sleep(25);
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(join(out, 'final.arch.json')), 'the run finished before it was killed');
    const runId = /run (na-[0-9a-f-]+)/.exec(stderr)?.[1];
    assert.ok(runId, `no run id in: ${stderr}`);
    const store = openStore(db);
    const stored = store.listNetadaptIterations(runId);
    store.close();
    assert.ok(stored.filter((r) => r.chosen !== null).length >= 2, 'the iterations before the kill are in the store');

    const resumed = runCli(['netadapt', '--resume', runId, '--db', db, '--json']);
    assert.equal(resumed.status, 0, resumed.stderr);
    assert.match(resumed.stderr, /resuming after iteration [2-9]/);
    const got = parse(resumed.stdout);
    assert.equal(encodeArch(got.finalSpec), encodeArch(ref.finalSpec));
    assert.deepEqual(got.iterations.map((i) => i.what), ref.iterations.map((i) => i.what));
  });

  it('retrains the result and a width-multiplier baseline of at most its latency, and tests both', () => {
    const r = runCli([...common(join(dir, 'baseline')), '--target', 'latency=0.8x', '--delta', '0.05', '--final-epochs', '1', '--retrain', '--baseline', 'width']);
    assert.equal(r.status, 0, r.stderr);
    const res = parse(r.stdout);
    assert.equal(res.status, 'met');
    assert.ok(res.final !== null && res.baseline !== null);
    const b = res.baseline;
    assert.ok(b.width > 0.1 && b.width < 1, `width ${b.width}`);
    // madds source: the baseline's latency is its MAdds, at most the result's
    assert.ok(b.latencyPredictedMs <= (res.final?.latencyPredictedMs ?? 0) + 1e-9, `${b.latencyPredictedMs} > ${res.final?.latencyPredictedMs}`);
    for (const t of [res.final, b]) assert.ok((t?.test?.top1 ?? -1) >= 0 && (t?.test?.top1 ?? 2) <= 1);
    // The seed, the result and the baseline timed together; a relative target applied to the seed's measured time.
    const m = res.measured;
    assert.ok(m !== null && m.seedMs > 0 && m.finalMs > 0 && (m.baselineMs ?? 0) > 0, JSON.stringify(m));
    assert.ok(Math.abs(m.targetMs - 0.8 * m.seedMs) < 1e-9);
    assert.equal(res.final?.latencyMeasuredMs, m.finalMs);
    assert.equal(b.latencyMeasuredMs, m.baselineMs);
    assert.match(r.stderr, /measured together \(node, wasm, 1 thread, p10\): seed [\d.]+ ms, netadapt [\d.]+ ms, width baseline [\d.]+ ms/);
    assert.match(r.stderr, /(target met|TARGET MISSED) as measured at the end, timed together with the seed: result [\d.]+x of the seed, target 0\.80x/);
    assert.equal(m.targetMet, m.finalMs <= m.targetMs);
  });

  it('leaves the seed unchanged when it already meets the target, and says so', () => {
    const r = runCli([...common(join(dir, 'above')), '--target', 'latency=1.5x']);
    assert.equal(r.status, 0, r.stderr);
    const res = parse(r.stdout);
    assert.equal(res.status, 'nothing-to-do');
    assert.match(res.message, /nothing to do/);
    assert.equal(res.iterations.length, 0);
    assert.equal(encodeArch(res.finalSpec), encodeArch(tiny));
  });

  it('stops at the smallest reachable network when the target cannot be met, and says so', () => {
    const r = runCli([...common(join(dir, 'unreachable')), '--target', 'latency=0.05x', '--delta', '0.15']);
    assert.equal(r.status, 0, r.stderr);
    const res = parse(r.stdout);
    assert.equal(res.status, 'unreachable');
    assert.match(res.message, /cannot be met/);
    assert.ok(res.iterations.length > 0);
    assert.ok((res.iterations[res.iterations.length - 1]?.latencyPredictedMs ?? 0) > res.targetMs);
  });

  it('halves the step, down to delta / 8, when no single layer can save a whole delta', () => {
    // No layer of the tiny network saves 60% of its MAdds alone; 0.075 (delta / 8) is within reach.
    const r = runCli([...common(join(dir, 'halving')), '--target', 'latency=0.85x', '--delta', '0.6']);
    assert.equal(r.status, 0, r.stderr);
    const res = parse(r.stdout);
    assert.match(r.stderr, /no layer can be shrunk by [\d.]+ ms; trying [\d.]+ ms/);
    assert.equal(res.status, 'met', res.message);
    assert.ok(res.iterations.length > 0);
  });

  it('refuses a checkpoint of another architecture', () => {
    userError(runCli([...common(join(dir, 'other')), '--arch', 'mobilenetv3-small', '--target', 'latency=0.8x']), 'another architecture');
  });

  it('refuses an unknown run', () => {
    userError(runCli(['netadapt', '--resume', 'na-20000101-000000', '--db', db]), 'na-20000101-000000');
  });

  it('refuses a target that is not a latency', () => {
    userError(runCli([...common(join(dir, 'madds')), '--target', 'madds=1M']), 'latency target');
  });
});

/** The run id a netadapt command printed on stderr. */
function runIdOf(stderr: string): string {
  const id = /run (na-[0-9a-f-]+)/.exec(stderr)?.[1];
  assert.ok(id, `no run id in: ${stderr}`);
  return id;
}

/** A run's stored proposals of iteration 1, and the run's status. */
function storedRun(runId: string): { status: string; proposals: { accuracy: unknown; error: unknown }[] } {
  const store = openStore(db, { readonly: true });
  try {
    const first = store.listNetadaptIterations(runId)[0];
    const proposals = Array.isArray(first?.proposals) ? (first.proposals as { accuracy: unknown; error: unknown }[]) : [];
    return { status: store.requireRun(runId).status, proposals };
  } finally {
    store.close();
  }
}

/** Exit code 1 (the run failed, as a failed search) and one `nas:` line last on stderr, no internal error. */
function runFailed(r: { status: number | null; stderr: string }, ...parts: RegExp[]): void {
  assert.equal(r.status, 1, r.stderr);
  const last = r.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(last, /^nas: /);
  assert.doesNotMatch(r.stderr, /internal error|\n\s+at /);
  for (const p of parts) assert.match(last, p);
}

describe('nas netadapt: engines and failures', () => {
  it('--gpus runs the fine-tunes in one process per GPU with the tensorflow backend, as nas search does', () => {
    // Without @tensorflow/tfjs-node-gpu here every proposal fails in its GPU process with the backend's reason:
    // the run fails as a search whose every candidate failed does (E_FAILED, exit 1), saying why.
    const r = runCli([...common(join(dir, 'gpus'), ['--gpus', '0']), '--target', 'latency=0.9x', '--delta', '0.04']);
    runFailed(r, /every proposal failed/, /tensorflow is not available/);
    const run = storedRun(runIdOf(r.stderr));
    assert.equal(run.status, 'failed');
    assert.ok(run.proposals.length > 0);
    for (const p of run.proposals) {
      assert.equal(p.accuracy, null);
      assert.match(String(p.error), /tensorflow is not available/);
    }
  });

  it('checks --gpus as nas search does', () => {
    userError(runCli([...common(join(dir, 'gpus-bad'), ['--gpus', '0,x']), '--target', 'latency=0.9x']), '--gpus 0,x');
    userError(runCli([...common(join(dir, 'gpus-both'), ['--gpus', '0', '--workers', '1']), '--target', 'latency=0.9x']), '--workers', '--gpus');
  });

  it('fails a fine-tune that diverged (a NaN validation loss) instead of scoring it, and the step when all did', () => {
    // One step at an absurd learning rate: the loss of that step is finite, the weights it leaves are not usable.
    const r = runCli([...common(join(dir, 'diverged'), ['--workers', '0'], '1'), '--finetune-lr', '1e30', '--target', 'latency=0.9x', '--delta', '0.04']);
    runFailed(r, /every proposal failed/, /diverged/);
    const run = storedRun(runIdOf(r.stderr));
    assert.equal(run.status, 'failed');
    assert.ok(run.proposals.length > 0);
    for (const p of run.proposals) {
      assert.equal(p.accuracy, null);
      assert.match(String(p.error), /E_DIVERGED|diverged/);
    }
  });

  describe('a damaged row of the store is one clear line naming the run and the field', () => {
    let runId = '';
    before(() => {
      const r = runCli([...common(join(dir, 'damaged')), '--target', 'latency=0.9x', '--delta', '0.04']);
      assert.equal(r.status, 0, r.stderr);
      runId = parse(r.stdout).runId;
    });

    /** Applies `sql` (with the run id as ?) to a copy of the database, and resumes the run on the copy. */
    function resumeDamaged(name: string, ...sql: string[]): ReturnType<typeof runCli> {
      const copy = join(dir, `${name}.db`);
      const d = new Database(db);
      d.exec(`VACUUM INTO '${copy}'`);
      d.close();
      const c = new Database(copy);
      for (const q of sql) c.prepare(q).run(runId);
      c.close();
      return runCli(['netadapt', '--resume', runId, '--db', copy]);
    }

    const reopen = "UPDATE runs SET status = 'failed', result = NULL WHERE id = ?";

    it('the result of a finished run', () => {
      const r = resumeDamaged('result', "UPDATE runs SET result = json_set(result, '$.iterations[0].accuracy', 'high') WHERE id = ?");
      userError(r, runId, 'iterations[0].accuracy');
    });

    it('the settings of a run', () => {
      const r = resumeDamaged('config', reopen, "UPDATE runs SET config = json_set(config, '$.delta', 'big') WHERE id = ?");
      userError(r, runId, 'delta');
    });

    it('the step kept', () => {
      const r = resumeDamaged('chosen', reopen, "UPDATE netadapt_iterations SET chosen = json_set(chosen, '$.latencyMs', 'fast') WHERE run_id = ?");
      userError(r, runId, 'iteration 1', 'latencyMs');
    });

    it("a step's proposals", () => {
      const r = resumeDamaged(
        'proposals',
        reopen,
        "UPDATE netadapt_iterations SET chosen = NULL, proposals = json_set(proposals, '$[0].checkpoint', 7) WHERE run_id = ?",
      );
      userError(r, runId, 'iteration 1', 'proposals[0].checkpoint');
    });
  });
});
