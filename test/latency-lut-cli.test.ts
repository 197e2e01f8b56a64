import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { commandHarness, runCli, userError } from './cli-helpers.js';

const entry = commandHarness('../cli/latency.js', 'latencyCommand');
const run = (args: readonly string[]) => runCli(['latency', ...args], { entry });
const dir = mkdtempSync(join(tmpdir(), 'nas-lut-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ARCH = ['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_hs'];
const fast = ['--input', '32', '--warmup', '1', '--runs', '2'];

interface BuildJson {
  entries: number;
  measured: number;
  reused: number;
  overheadMs: number;
  calibratedOn: number;
}

test('lut build, resume, predict', () => {
  const out = join(dir, 'lut.json');
  const r = run(['lut', 'build', '--arch', ...ARCH, ...fast, '--calibrate', '1', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as BuildJson;
  assert.equal(j.entries, 4); // stem, 2 blocks, head
  assert.equal(j.measured, 4);
  assert.equal(j.calibratedOn, 1);
  assert.ok(Number.isFinite(j.overheadMs));
  assert.match(r.stderr, /12\/12/); // three sweeps (the default) over 4 entries

  const again = run(['lut', 'build', '--arch', ...ARCH, ...fast, '--calibrate', '0', '--out', out, '--json']);
  assert.equal(again.status, 0, again.stderr);
  const j2 = JSON.parse(again.stdout) as BuildJson;
  assert.equal(j2.measured, 0);
  assert.equal(j2.reused, 4);
  assert.equal(j2.overheadMs, j.overheadMs);

  const p = run(['predict', '--lut', out, '--arch', ...ARCH, '--json']);
  assert.equal(p.status, 0, p.stderr);
  const pj = JSON.parse(p.stdout) as { results: { predictedMs: number; entries: number }[] };
  assert.equal(pj.results[0]?.entries, 4);
  assert.ok(Number.isFinite(pj.results[0]?.predictedMs));
  const text = run(['predict', '--lut', out, '--arch', ...ARCH]);
  assert.match(text.stdout, /^arch\s+predicted ms\s+MAdds\s+params\s+entries/m);

  // budgets: latency from the LUT, MAdds and parameters from the cost model
  const t = run(['predict', '--lut', out, '--arch', ...ARCH, '--target', 'latency=1000ms', '--target', 'params=1K', '--json']);
  assert.equal(t.status, 0, t.stderr);
  const tj = JSON.parse(t.stdout) as { results: { params: number; targets: { target: string; meets: boolean; value: number }[] }[] };
  const checks = tj.results[0]?.targets ?? [];
  assert.deepEqual(checks.map((c) => [c.target, c.meets]), [['latency=1000ms', true], ['params=1K', false]]);
  assert.equal(checks[1]?.value, tj.results[0]?.params);
  userError(run(['predict', '--lut', out, '--arch', ...ARCH, '--target', 'latency=abc']), "--target latency=abc: value 'abc'");
  userError(run(['predict', '--lut', out, '--arch', ...ARCH, '--target', 'latency=0.8x']), 'relative target');
  userError(run(['predict', '--lut', out, '--arch', ...ARCH, '--target', 'speed=3']), "unknown resource 'speed'");

  userError(run(['predict', '--lut', out, '--arch', 'ir_k5_s2_x16_c16_re']), '1 LUT entry is missing', `nas latency lut build --arch ir_k5_s2_x16_c16_re --input 32 --out ${out}`);
  userError(run(['validate', '--lut', out, '--space', 'mobilenetv3-small-input', '--samples', '2', '--runs', '1']), 'missing');
});

test('validate reports its figures and the measurement\'s own repeatability', () => {
  const out = join(dir, 'sampled.json');
  const space = ['--space', 'mobilenetv3-small-input', '--samples', '3'];
  const b = run(['lut', 'build', ...space, ...fast, '--sweeps', '1', '--calibrate', '0', '--out', out, '--json']);
  assert.equal(b.status, 0, b.stderr);
  const v = run(['validate', '--lut', out, ...space, '--warmup', '1', '--runs', '2', '--sweeps', '2']);
  assert.equal(v.status, 0, v.stderr);
  assert.match(v.stdout, /^3 archs: [\d.]+% within \+-10%, [\d.]+% within \+-5%, MAPE [\d.]+%, Kendall tau -?[\d.]+$/m);
  assert.match(v.stdout, /^the measurement itself: its 2 sweeps agree with Kendall tau -?[\d.]+ and differ by [\d.]+% on average/m);
  const j = run(['validate', '--lut', out, ...space, '--warmup', '1', '--runs', '2', '--sweeps', '1', '--json']);
  assert.equal(j.status, 0, j.stderr);
  assert.equal((JSON.parse(j.stdout) as { repeatability: unknown }).repeatability, null, 'one sweep: nothing to compare');
});

test('lut build --widths adds narrower variants and calibrates a scale on them', () => {
  const out = join(dir, 'widths.json');
  const r = run(['lut', 'build', '--arch', 'mobilenetv3-small', '--widths', '0.75', '0.5', '0.35', ...fast, '--sweeps', '1', '--out', out, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as BuildJson & { scale: number | null };
  assert.equal(j.calibratedOn, 4, 'the arch and its 3 variants');
  assert.ok(j.scale !== null && j.scale > 0, `scale ${j.scale}`);
  // the arch alone has at most 13 distinct entries (stem, 11 blocks, head)
  assert.ok(j.entries > 13, `${j.entries} entries: the variants' blocks are in the table`);
});

test('bad input: one line, exit 2', () => {
  const wrong = join(dir, 'wrong.json');
  writeFileSync(wrong, JSON.stringify({ format: 'nas-latency-lut', version: 9 }));
  userError(run(['predict', '--lut', wrong, '--arch', 'mobilenetv3-small']), 'unsupported version 9');
  userError(run(['predict', '--lut', join(dir, 'none.json'), '--arch', 'mobilenetv3-small']), 'cannot read LUT');
  const legacy = join(dir, 'legacy.json');
  writeFileSync(legacy, JSON.stringify({ format: 'nas-latency-lut', version: 1, runner: 'node', backend: 'wasm', threads: 1, machine: 'm', input: [32, 32, 3], entries: {}, overheadMs: 0 }));
  userError(run(['predict', '--lut', legacy, '--arch', 'mobilenetv3-small']), 'before it ran compiled inference', 'lut build');
  userError(run(['lut', 'build', '--input', '32', '--out', join(dir, 'x.json')]), '--space', '--arch');
  userError(run(['lut', 'build', '--space', 'mobilenetv3', '--arch', 'mobilenetv3-small', '--input', '32', '--out', join(dir, 'x.json')]), '--space');
  userError(run(['lut', 'build', '--space', 'nope', '--samples', '2', '--input', '32', '--out', join(dir, 'x.json')]), 'nope');
  userError(run(['lut', 'build', '--arch', ...ARCH, '--input', '0', '--out', join(dir, 'x.json')]), '--input');
  userError(run(['validate', '--lut', wrong, '--space', 'mobilenetv3', '--samples', '1']), '--samples');
  userError(run(['lut', 'build', '--space', 'mobilenetv3', '--widths', '0.5', '--input', '32', '--out', join(dir, 'x.json')]), '--widths', '--arch');
  userError(run(['lut', 'build', '--arch', ...ARCH, '--widths', '0', '--input', '32', '--out', join(dir, 'x.json')]), '--widths', '(0, 4]');
  userError(run(['lut']), 'build');
});
