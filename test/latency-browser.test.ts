// The browser runner through the CLI: a LUT built in headless Chromium (tfjs wasm in a page), resumed after entries
// are deleted (only those are measured again), predicted from and validated on the same runner; whole-network
// measure on wasm and webgl; and the one-line errors for a runner or backend that does not exist here.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { type Lut, lutKeys, sampleArchs } from '../latency/lut.js';
import { measureArchOn } from '../latency/measure.js';
import { checkRunner, type LatencyRunner, openRunner } from '../latency/runner.js';
import { checkLutRunner, validatePredictions } from '../latency/validate.js';
import { loadArch } from '../space/load.js';
import { encodeArch } from '../space/blockString.js';
import { resolve } from '../space/resolve.js';
import { builtinSpace } from '../space/spaces.js';
import { commandHarness, runCli, userError } from './cli-helpers.js';

const CHROMIUM = process.env['NAS_CHROMIUM'] || '/usr/bin/chromium';
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (apt-get install chromium)`;

const entry = commandHarness('../cli/latency.js', 'latencyCommand');
const run = (args: readonly string[]) => runCli(['latency', ...args], { entry });
const dir = mkdtempSync(join(tmpdir(), 'nas-lut-browser-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const SPACE = 'mobilenetv3-small-input';
const fast = ['--input', '32', '--warmup', '1', '--runs', '2'];
const TINY = ['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_hs'];

interface BuildJson {
  entries: number;
  measured: number;
  reused: number;
  runner: string;
  backend: string;
  threads: number | null;
  machine: string;
  calibratedOn: number;
}

interface MeasureJson {
  results: { runner: string; backend: string; threads: number | null; input: number[]; medianMs: number; runs: number; samplesMs: number[] }[];
}

const readJson = (p: string): Lut => JSON.parse(readFileSync(p, 'utf8')) as Lut;

describe('the browser runner', { skip }, () => {
  const out = join(dir, 'lut.json');
  const archs = sampleArchs(builtinSpace(SPACE), 2, 32, 0);
  const distinct = new Set(archs.flatMap((a) => lutKeys(resolve(a))));

  test('lut build --runner browser measures every distinct entry in Chromium and calibrates there', () => {
    const r = run(['lut', 'build', '--runner', 'browser', '--space', SPACE, '--samples', '2', ...fast, '--calibrate', '1', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as BuildJson;
    assert.equal(j.runner, 'browser');
    assert.equal(j.backend, 'wasm');
    assert.equal(j.threads, 1);
    assert.match(j.machine, /; Chromium \d+\./);
    assert.equal(j.entries, distinct.size);
    assert.equal(j.measured, distinct.size);
    assert.equal(j.calibratedOn, 1);
    const lut = readJson(out);
    assert.equal(lut.runner, 'browser');
    assert.deepEqual(new Set(Object.keys(lut.entries)), distinct);
    for (const e of Object.values(lut.entries)) assert.ok(e.medianMs > 0 && e.iqrMs >= 0 && e.runs >= 6 && e.sweeps === 3);
    assert.ok(Number.isFinite(lut.overheadMs));
  });

  test('a resumed build measures only the entries deleted from the file', () => {
    const before = readJson(out);
    const keys = Object.keys(before.entries);
    const dropped = [keys[0] ?? '', keys[keys.length - 1] ?? ''];
    const entries = { ...before.entries };
    for (const k of dropped) delete entries[k];
    writeFileSync(out, JSON.stringify({ ...before, entries }));
    const r = run(['lut', 'build', '--runner', 'browser', '--space', SPACE, '--samples', '2', ...fast, '--calibrate', '0', '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as BuildJson;
    assert.equal(j.measured, 2);
    assert.equal(j.reused, keys.length - 2);
    const after = readJson(out);
    assert.deepEqual(new Set(Object.keys(after.entries)), distinct);
    for (const k of keys.filter((k) => !dropped.includes(k))) assert.deepEqual(after.entries[k], before.entries[k], k);
    assert.equal(after.overheadMs, before.overheadMs);
  });

  test('predict and validate follow the LUT: validate measures whole networks in Chromium', () => {
    const p = run(['predict', '--lut', out, '--arch', encodeArch(archs[0]!), '--json']);
    assert.equal(p.status, 0, p.stderr);
    const pj = JSON.parse(p.stdout) as { runner: string; results: { predictedMs: number; entries: number }[] };
    assert.equal(pj.runner, 'browser');
    assert.equal(pj.results[0]?.entries, lutKeys(resolve(archs[0]!)).length);
    assert.ok((pj.results[0]?.predictedMs ?? 0) > 0);

    const v = run(['validate', '--lut', out, '--space', SPACE, '--samples', '2', '--warmup', '1', '--runs', '3', '--json']);
    assert.equal(v.status, 0, v.stderr);
    const vj = JSON.parse(v.stdout) as { n: number; within10: number; within5: number; mape: number; rows: { arch: string; measuredMs: number }[] };
    assert.equal(vj.n, 2);
    assert.deepEqual(vj.rows.map((r) => r.arch), archs.map((a) => encodeArch(a)));
    for (const row of vj.rows) assert.ok(row.measuredMs > 0);
    assert.ok(Number.isFinite(vj.mape) && vj.within5 <= vj.within10);

  });

  test('validate refuses a LUT of a runner nas lacks, or of another setting', async () => {
    const lut = readJson(out);
    await assert.rejects(validatePredictions({ ...lut, runner: 'phone' }, archs, { warmup: 0, runs: 1 }), /runner 'phone': nas measures only on node, browser or onnxruntime$/);
    // The setting check is pure: a record with this LUT's setting but another machine stands for a runner there.
    const unused = (): never => {
      throw new Error('not measured');
    };
    const here: LatencyRunner = { name: 'browser', backend: lut.backend, threads: lut.threads, machine: lut.machine,
      measureEntries: unused, measureArchs: unused, close: async () => undefined };
    checkLutRunner(lut, here);
    assert.throws(() => checkLutRunner(lut, { ...here, machine: 'a phone' }), /machine '.*' vs 'a phone'.*where it was built/);
    assert.throws(() => checkLutRunner(lut, { ...here, backend: 'webgl' }), /backend wasm vs webgl/);
  });

  test('measure --runner browser --json', () => {
    const r = run(['measure', '--runner', 'browser', '--arch', ...TINY, '--classes', '10', ...fast, '--json']);
    assert.equal(r.status, 0, r.stderr);
    const [m] = (JSON.parse(r.stdout) as MeasureJson).results;
    assert.ok(m);
    assert.equal(m.runner, 'browser');
    assert.equal(m.backend, 'wasm');
    assert.equal(m.threads, 1);
    assert.deepEqual(m.input, [32, 32, 3]);
    assert.equal(m.runs, 2);
    for (const v of [m.medianMs, ...m.samplesMs]) assert.ok(Number.isFinite(v) && v > 0, String(v));
  });

  test('the webgl backend (SwiftShader in this headless Chromium) measures too', async () => {
    const runner = await openRunner('browser', { backend: 'webgl' });
    try {
      assert.equal(runner.backend, 'webgl');
      assert.equal(runner.threads, null);
      assert.match(runner.machine, /; WebGL /);
      const m = await measureArchOn(runner, loadArch(TINY, { input: 32, classes: 10 }), { warmup: 1, runs: 2 });
      assert.equal(m.runs, 2);
      for (const v of m.samplesMs) assert.ok(Number.isFinite(v) && v > 0, String(v));
    } finally {
      await runner.close();
    }
  });
});

test('an unknown runner or a backend the runner lacks is a usage error, before anything is launched', async () => {
  assert.throws(() => checkRunner('phone', 'wasm'), /^UsageError: unknown runner 'phone': use --runner node, browser or onnxruntime$/);
  assert.throws(() => checkRunner('browser', 'cpu'), /browser runner has no backend 'cpu': use --backend wasm, webgl$/);
  assert.throws(() => checkRunner('node', 'webgl'), /node runner has no backend 'webgl': use --backend auto, tensorflow, wasm, cpu$/);
  assert.throws(() => checkRunner('browser', 'wasm', 2), /one thread: drop --threads 2/);
  assert.throws(() => checkRunner('node', 'wasm', 0), /--threads must be a positive integer/);
  await assert.rejects(openRunner('browser', { backend: 'tensorflow' }), /no backend 'tensorflow'/);
});

test('through the CLI: one line, exit 2, and no file written', () => {
  userError(run(['lut', 'build', '--runner', 'phone', '--arch', ...TINY, ...fast, '--out', join(dir, 'x.json')]), "unknown runner 'phone'");
  assert.equal(existsSync(join(dir, 'x.json')), false);
  const measure = ['measure', '--arch', ...TINY, ...fast];
  const saved = process.env['NAS_CHROMIUM'];
  process.env['NAS_CHROMIUM'] = join(dir, 'no-chromium');
  try {
    userError(run([...measure, '--runner', 'browser']), 'Chromium not found', 'apt-get install chromium', 'NAS_CHROMIUM');
  } finally {
    if (saved === undefined) delete process.env['NAS_CHROMIUM'];
    else process.env['NAS_CHROMIUM'] = saved;
  }
});
