// The onnxruntime runner: ONNX Runtime (CPU) timing the exported ONNX form of whole networks and of LUT entries.
// Measure through the CLI, a LUT built on it that says so and that validate reopens, the optimisation level kept
// in the backend, NetAdapt growing such a LUT on its own runner, and the one-line errors for settings it lacks.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildLut, type Lut, lutKeys, readLut, sampleArchs, writeLut } from '../latency/lut.js';
import { createResourceModel } from '../latency/resources.js';
import { openRunner } from '../latency/runner.js';
import { openNetadaptLatency } from '../netadapt/latency.js';
import { applyShrink } from '../netadapt/proposals.js';
import { loadArch } from '../space/load.js';
import { resolve } from '../space/resolve.js';
import { builtinSpace } from '../space/spaces.js';
import { commandHarness, runCli, userError } from './cli-helpers.js';
import { tinyArch } from './netadapt-helpers.js';

const entry = commandHarness('../cli/latency.js', 'latencyCommand');
const run = (args: readonly string[]) => runCli(['latency', ...args], { entry });
const dir = mkdtempSync(join(tmpdir(), 'nas-lut-ort-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SPACE = 'mobilenetv3-small-input';
const fast = ['--input', '32', '--warmup', '1', '--runs', '4'];
const ORT_MACHINE = /; ONNX Runtime \d+\.\d+\.\d+$/;

interface MeasureJson {
  results: { runner: string; backend: string; threads: number | null; input: number[]; medianMs: number; minMs: number; runs: number; samplesMs: number[] }[];
}

test('measure --runner onnxruntime times the ONNX form: positive samples, the setting reported', () => {
  const r = run(['measure', '--runner', 'onnxruntime', '--arch', 'mobilenetv3-small', '--classes', '10', ...fast, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const [m] = (JSON.parse(r.stdout) as MeasureJson).results;
  assert.ok(m);
  assert.equal(m.runner, 'onnxruntime');
  assert.equal(m.backend, 'cpu');
  assert.equal(m.threads, 1);
  assert.deepEqual(m.input, [32, 32, 3]);
  assert.equal(m.runs, 4);
  for (const v of [m.medianMs, m.minMs, ...m.samplesMs]) assert.ok(Number.isFinite(v) && v > 0 && v < 10_000, String(v));
  assert.ok(m.minMs <= m.medianMs);
});

test('the graph optimisation level is the backend, and threads are intra-op threads', async () => {
  const runner = await openRunner('onnxruntime', { backend: 'cpu-disabled', threads: 2 });
  try {
    assert.equal(runner.backend, 'cpu-disabled');
    assert.equal(runner.threads, 2);
    assert.match(runner.machine, ORT_MACHINE);
    const [s] = await runner.measureArchs([loadArch(['mobilenetv3-small'], { input: 32, classes: 10 })], { warmup: 1, runs: 2, rounds: 1 });
    assert.equal(s?.runs, 2);
  } finally {
    await runner.close();
  }
});

test('a network a sixth as wide (about 1/25 of the MAdds) is faster on ONNX Runtime', async () => {
  const wide = loadArch(['mobilenetv3-small'], { input: 64, classes: 10, width: 1.5 });
  const narrow = loadArch(['mobilenetv3-small'], { input: 64, classes: 10, width: 0.25 });
  const runner = await openRunner('onnxruntime');
  try {
    // Timed together in interleaved rounds, so a spell of load falls on both; the fastest runs are compared.
    const [w, n] = await runner.measureArchs([wide, narrow], { warmup: 2, runs: 20, rounds: 10 });
    assert.ok(w !== undefined && n !== undefined);
    assert.ok(n.p10Ms < w.p10Ms, `narrow ${n.p10Ms} ms, wide ${w.p10Ms} ms`);
  } finally {
    await runner.close();
  }
});

test('lut build --runner onnxruntime writes a table of that runner, which predict reads and validate reopens', () => {
  const out = join(dir, 'lut.json');
  const archs = sampleArchs(builtinSpace(SPACE), 2, 32, 0);
  const distinct = new Set(archs.flatMap((a) => lutKeys(resolve(a))));
  const b = run(['lut', 'build', '--runner', 'onnxruntime', '--space', SPACE, '--samples', '2', ...fast, '--sweeps', '1', '--calibrate', '2', '--out', out, '--json']);
  assert.equal(b.status, 0, b.stderr);
  const lut = JSON.parse(readFileSync(out, 'utf8')) as Lut;
  assert.equal(lut.runner, 'onnxruntime');
  assert.equal(lut.backend, 'cpu');
  assert.equal(lut.threads, 1);
  assert.match(lut.machine, ORT_MACHINE);
  assert.deepEqual(new Set(Object.keys(lut.entries)), distinct);
  for (const e of Object.values(lut.entries)) assert.ok(e.medianMs > 0 && e.runs >= 4, JSON.stringify(e));

  const v = run(['validate', '--lut', out, '--space', SPACE, '--samples', '2', '--warmup', '1', '--runs', '4', '--sweeps', '1', '--json']);
  assert.equal(v.status, 0, v.stderr);
  const vj = JSON.parse(v.stdout) as { n: number; mape: number; rows: { measuredMs: number; predictedMs: number }[] };
  assert.equal(vj.n, 2);
  for (const row of vj.rows) assert.ok(row.measuredMs > 0 && row.predictedMs > 0, JSON.stringify(row));
  assert.ok(Number.isFinite(vj.mape));
});

test('a search reads an onnxruntime LUT as any other (--latency lut:FILE predicts, measures nothing)', async () => {
  const out = join(dir, 'lut.json');
  const model = await createResourceModel({ kind: 'lut', path: out });
  const [a] = sampleArchs(builtinSpace(SPACE), 1, 32, 0);
  assert.ok(a);
  const r = await model.resources(a);
  assert.ok(r.latency > 0 && r.madds > 0, JSON.stringify(r));
});

test('settings the onnxruntime runner lacks: one line, exit 2, nothing written', () => {
  const measure = ['measure', '--runner', 'onnxruntime', '--arch', 'mobilenetv3-small', ...fast];
  userError(run([...measure, '--backend', 'wasm']), "onnxruntime runner has no backend 'wasm'", 'cpu, cpu-extended, cpu-basic, cpu-disabled');
  userError(run([...measure, '--threads', '0']), '--threads must be a positive integer');
  const out = join(dir, 'bad.json');
  userError(run(['lut', 'build', '--runner', 'onnxruntime', '--backend', 'cpu-fast', '--space', SPACE, '--samples', '1', ...fast, '--out', out]), "no backend 'cpu-fast'");
  assert.equal(existsSync(out), false);
});

test('NetAdapt with an onnxruntime LUT measures the entries it lacks on ONNX Runtime, not on the node runner', async () => {
  const seed = tinyArch();
  const path = join(dir, 'na-lut.json');
  const runner = await openRunner('onnxruntime');
  writeLut(path, await buildLut({ archs: [seed], input: seed.input.size, runner, warmup: 1, runs: 2 }));
  await runner.close();
  const lat = await openNetadaptLatency({ kind: 'lut', path }, { seed, backend: 'wasm', warmup: 1, runs: 2 });
  try {
    const shrunk = applyShrink(seed, { kind: 'expansion', block: 1, from: 72, to: 40 });
    assert.ok((await lat.latency(shrunk)) > 0);
    assert.equal(lat.added(), 1);
    const lut = readLut(path);
    assert.equal(lut.runner, 'onnxruntime');
    for (const k of lutKeys(resolve(shrunk))) assert.ok(lut.entries[k], `${k} is in the file`);
  } finally {
    await lat.close();
  }
});
