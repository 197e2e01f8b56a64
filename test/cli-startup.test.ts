// The command line starts without TensorFlow.js: help, usage errors and the checks a command makes of its options
// load every command's definition but no command's work (cli/run/ and the library modules the handlers import once
// the command line is checked), so that they answer at once. Node's module debug log names every package a process
// looks up; a command that computes is the control that the log does show tfjs.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CLI } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-startup-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const db = join(dir, 'nas.db');

interface TracedRun {
  readonly status: number | null;
  /** The @tensorflow packages the process looked up, sorted. */
  readonly tensorflow: readonly string[];
}

function traced(args: readonly string[]): TracedRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, NODE_DEBUG: 'module' } });
  const found = new Set(r.stderr.match(/@tensorflow\/[\w-]+/g) ?? []);
  return { status: r.status, tensorflow: [...found].sort() };
}

test('a command that computes shows tfjs in the module log (the check below can see it)', () => {
  const r = traced(['backend', '--backend', 'cpu', '--json']);
  assert.equal(r.status, 0);
  assert.ok(r.tensorflow.includes('@tensorflow/tfjs-core'), `looked up: ${r.tensorflow.join(', ')}`);
});

test('help, usage errors and option checks load no @tensorflow package', () => {
  const cases: [string[], number][] = [
    [['--help'], 0],
    [['search', '--help'], 0],
    [['eval', '--checkpoint', join(dir, 'none'), '--bogus'], 2],
    [['latency', 'measure', '--arch', 'mobilenetv3-small', '--runner', 'node', '--backend', 'nope'], 2],
    [['latency', 'measure', '--arch', 'mobilenetv3-small', '--runs', '0'], 2],
    [['eval', '--checkpoint', join(dir, 'none'), '--batch', '0'], 2],
    [['predict', 'image.png', '--checkpoint', join(dir, 'none'), '--top', '0'], 2],
    [['train-final', '--data', 'nope'], 2],
    [['bench', 'train', '--steps', '0'], 2],
    [['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--budget', '0', '--db', db], 2],
    [['netadapt', '--target', 'latency=0.7x', '--short-steps', '0', '--db', db], 2],
  ];
  for (const [args, status] of cases) {
    const r = traced(args);
    assert.equal(r.status, status, `nas ${args.join(' ')}: exit code`);
    assert.deepEqual(r.tensorflow, [], `nas ${args.join(' ')} looked up tfjs`);
  }
});
