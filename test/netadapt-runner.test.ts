// `nas netadapt --latency measure --runner R`: the run times on R (the step table, the judgements and the measurement
// at the end), stores it for --resume and names it in its report and JSON; a kept step table of another runner is
// built again; the runner options are checked as `nas search` checks them, in the same one-line errors.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildLut, readLut, writeLut } from '../latency/lut.js';
import { openRunner } from '../latency/runner.js';
import { openNetadaptLatency } from '../netadapt/latency.js';
import { readSettings } from '../netadapt/stored.js';
import type { NetadaptResult, NetadaptSettings } from '../netadapt/types.js';
import { openStore } from '../results/store.js';
import { type CliRun, runCli, userError } from './cli-helpers.js';
import { tinyArch, trainTinySeed } from './netadapt-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-na-runner-'));
const db = join(dir, 'nas.db');
const seedDir = join(dir, 'seed');

before(() => trainTinySeed(dir, db, seedDir));

after(() => rmSync(dir, { recursive: true, force: true }));

const netadapt = (name: string, ...args: string[]): CliRun =>
  runCli([
    'netadapt', '--checkpoint', seedDir, '--data', 'mnist', '--train-images', '300', '--val-images', '100', '--bn-images', '0',
    '--target', 'latency=0.9x', '--delta', '0.1', '--short-steps', '1', '--workers', '0', '--no-measure-each', '--measure-runs', '4',
    '--backend', 'wasm', '--db', db, '--out', join(dir, name), '--seed', '3', ...args,
  ]);

/** The stored config of run `runId`: its JSON text, and the settings `--resume` reads back from it. */
function storedConfig(runId: string): { text: string; settings: NetadaptSettings } {
  const store = openStore(db, { readonly: true });
  try {
    const run = store.listRuns({ kind: 'netadapt' }).find((r) => r.id === runId);
    assert.ok(run !== undefined, runId);
    return { text: JSON.stringify(run.config), settings: readSettings(runId, run.config) };
  } finally {
    store.close();
  }
}

const ORT = { name: 'onnxruntime', backend: 'cpu', threads: 1 } as const;

/** Opens and closes `measure` on ONNX Runtime with its step table kept at `lutPath` (fast settings). */
async function openOrtMeasure(lutPath: string): Promise<void> {
  const lat = await openNetadaptLatency({ kind: 'measure', runner: ORT }, { seed: tinyArch(), backend: 'wasm', warmup: 1, runs: 2, rounds: 2, lutPath });
  await lat.close();
}

describe('nas netadapt --runner', () => {
  it('--latency measure --runner onnxruntime: the step table, the stored settings, the JSON and the report name ONNX Runtime', () => {
    const r = netadapt('ort', '--latency', 'measure', '--runner', 'onnxruntime', '--json');
    assert.equal(r.status, 0, r.stderr);
    const res = JSON.parse(r.stdout) as NetadaptResult;
    assert.deepEqual(res.runner, ORT);
    assert.ok(res.measured !== null && res.measured.seedMs > 0 && res.measured.finalMs > 0, JSON.stringify(res.measured));
    assert.match(r.stderr, /measured together \(onnxruntime, cpu, 1 thread, p10\)/);
    // The step table was measured on the run's runner, and is kept for a resumed run.
    const lut = JSON.parse(readFileSync(join(dir, 'ort', `latency-lut.${res.runId}.json`), 'utf8')) as { runner: string; backend: string; threads: number };
    assert.deepEqual([lut.runner, lut.backend, lut.threads], ['onnxruntime', 'cpu', 1]);
    const stored = storedConfig(res.runId);
    assert.match(stored.text, /"latency":\{"kind":"measure","runner":\{"name":"onnxruntime","backend":"cpu","threads":1\}\}/);
    assert.deepEqual(stored.settings.latency, { kind: 'measure', runner: ORT }, 'a resumed run times on the stored runner');
    // The finished run read back from the store: its report names the runner.
    const again = runCli(['netadapt', '--resume', res.runId, '--db', db]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /^measured together \(onnxruntime, cpu, 1 thread, p10\): seed [\d.]+ ms/m);
    userError(runCli(['netadapt', '--resume', res.runId, '--runner', 'node', '--db', db]), 'on the runner it was started with', 'drop --runner');
  });

  it('a runner with a source that times nothing is one line, exit 2, as nas search says it', () => {
    userError(netadapt('madds', '--latency', 'madds', '--runner', 'onnxruntime'), '--runner applies to --latency measure or paired:REF only: --latency madds times nothing; drop --runner');
    userError(netadapt('lut', '--latency', 'lut:table.json', '--runner-threads', '2'), '--runner-threads applies to --latency measure or paired:REF only: the table names the runner');
  });

  it('a bad --runner or --runner-backend is the same one-line error nas search gives', () => {
    const search = ['search', '--evaluator', 'zero-cost:synflow', '--strategy', 'random', '--budget', '1', '--input', '16', '--target', 'latency=1ms', '--latency', 'measure', '--db', db];
    for (const bad of [['--runner', 'gpu'], ['--runner', 'onnxruntime', '--runner-backend', 'wasm']]) {
      const mine = netadapt('bad', '--latency', 'measure', ...bad);
      userError(mine, bad[1] === 'gpu' ? "unknown runner 'gpu'" : "no backend 'wasm': use --runner-backend cpu");
      const theirs = runCli([...search, ...bad]);
      assert.equal(mine.stderr, theirs.stderr);
    }
  });

  it('a kept step table of another runner is built again on the run\'s runner; one of the same runner is read back', async () => {
    const seed = tinyArch();
    const lutPath = join(dir, 'step-lut.json');
    const node = await openRunner('node', { backend: 'wasm', threads: 1 });
    writeLut(lutPath, await buildLut({ archs: [seed], input: seed.input.size, runner: node, warmup: 1, runs: 2 }));
    await node.close();
    await openOrtMeasure(lutPath);
    const rebuilt = readFileSync(lutPath, 'utf8');
    const lut = readLut(lutPath);
    assert.deepEqual([lut.runner, lut.backend, lut.threads], ['onnxruntime', 'cpu', 1]);
    await openOrtMeasure(lutPath);
    assert.equal(readFileSync(lutPath, 'utf8'), rebuilt, 'the same runner reads its table back');
  });
});
