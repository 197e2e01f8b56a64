// `nas train-final` end to end through the real CLI: a run killed with SIGKILL mid-epoch and resumed ends with the
// same metrics as an uninterrupted one; bad input gets a one-line error and exit code 2.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CLI, runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-tf-'));
const db = join(dir, 'nas.db');
// A small net on 16 px MNIST: two epochs of 500 images at batch 25 (20 steps each).
const common = [
  'train-final', '--data', 'mnist', '--limit', '600', '--input', '16', '--epochs', '2', '--batch', '25',
  '--arch', 'ir_k3_s2_x32_c16_re', 'ir_k3_s1_x48_c16_se_hs', '--seed', '3', '--backend', 'wasm', '--db', db, '--json',
];

interface Result {
  test: { top1: number; top5: number; loss: number };
  history: { epoch: number; trainLoss: number; valTop1: number | null }[];
  resumedFrom: string | null;
}

after(() => rmSync(dir, { recursive: true, force: true }));

describe('nas train-final', () => {
  it('resumes after SIGKILL mid-epoch to the same final metrics as an uninterrupted run', async () => {
    const straight = runCli([...common, '--out', join(dir, 'straight')]);
    assert.equal(straight.status, 0, straight.stderr);
    const ref = JSON.parse(straight.stdout) as Result;

    const out = join(dir, 'killed');
    const child: ChildProcess = spawn(process.execPath, [CLI, ...common, '--out', out], { stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.once('exit', () => res()));
    // Wait for the first epoch's checkpoint, then kill at once: the second epoch takes well under a second on an idle
    // machine (a fixed 300 ms wait let it finish in CI), and any point of it is a kill inside the second epoch.
    for (let i = 0; i < 3000 && !existsSync(join(out, 'epoch-0001')); i++) await sleep(20);
    assert.ok(existsSync(join(out, 'epoch-0001')), 'the first checkpoint never appeared');
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(join(out, 'epoch-0002')), 'the run finished before it was killed; the test needs a longer epoch');
    // Only complete checkpoints are visible: every checkpoint directory has its manifest and passes its checks.
    for (const name of readdirSync(out).filter((n) => n.startsWith('epoch-'))) {
      assert.ok(existsSync(join(out, name, 'manifest.json')), `${name} has no manifest`);
      const check = runCli(['eval', '--checkpoint', join(out, name), '--limit', '50', '--json']);
      assert.equal(check.status, 0, check.stderr);
    }

    const resumed = runCli([...common, '--out', out, '--resume']);
    assert.equal(resumed.status, 0, resumed.stderr);
    const got = JSON.parse(resumed.stdout) as Result;
    assert.ok(got.resumedFrom, 'the run did not say it resumed');
    assert.ok(Math.abs(got.test.loss - ref.test.loss) <= 1e-4, `test loss ${got.test.loss} vs ${ref.test.loss}`);
    assert.ok(Math.abs(got.test.top1 - ref.test.top1) <= 1e-4, `test top-1 ${got.test.top1} vs ${ref.test.top1}`);
    const last = (r: Result): number => r.history[r.history.length - 1]?.trainLoss ?? Number.NaN;
    assert.ok(Math.abs(last(got) - last(ref)) <= 1e-4, `last train loss ${last(got)} vs ${last(ref)}`);
  });

  const bad: [string, string[], RegExp][] = [
    ['--epochs 0', [...common, '--out', join(dir, 'bad1'), '--epochs', '0'], /epochs/],
    ['an unknown recipe key', [...common, '--out', join(dir, 'bad2'), '--set', 'optimiser.lr=1'], /optimiser/],
    ['--resume with nothing to resume', [...common, '--out', join(dir, 'bad3'), '--resume'], /nothing to resume/],
    ['an unknown dataset', [...common, '--out', join(dir, 'bad4'), '--data', 'nosuch'], /unknown dataset/],
    ['a missing recipe file', [...common, '--out', join(dir, 'bad5'), '--config', join(dir, 'none.json')], /--config/],
  ];
  for (const [what, args, pattern] of bad) {
    it(`rejects ${what} with one line and exit code 2`, () => {
      const r = runCli(args);
      assert.equal(r.status, 2, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  }

  it('refuses to start over an existing run and to resume it with another architecture', () => {
    const out = join(dir, 'straight');
    const again = runCli([...common, '--out', out]);
    assert.equal(again.status, 2);
    assert.match(again.stderr, /already holds run/);
    const other = runCli([...common.map((a) => (a === 'ir_k3_s1_x48_c16_se_hs' ? 'ir_k3_s1_x64_c16_se_hs' : a)), '--out', out, '--resume']);
    assert.equal(other.status, 2, other.stderr);
    assert.equal(other.stderr.trim().split('\n').length, 1, other.stderr);
  });
});
