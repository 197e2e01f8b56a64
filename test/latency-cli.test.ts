import assert from 'node:assert/strict';
import { test } from 'node:test';
import { groupArchRefs } from '../cli/latency.js';
import { commandHarness, runCli, userError } from './cli-helpers.js';

const entry = commandHarness('../cli/latency.js', 'latencyCommand');
const run = (args: readonly string[]) => runCli(['latency', ...args], { entry });

interface MeasureJson {
  results: { ref: string; arch: string; backend: string; threads: number; input: number[]; medianMs: number; runs: number }[];
}

test('block strings form one network; other words one arch each', () => {
  assert.deepEqual(groupArchRefs(['ir_k3_s1_x16_c16_re', 'ir_k3_s2_x64_c24_re']), [['ir_k3_s1_x16_c16_re', 'ir_k3_s2_x64_c24_re']]);
  assert.deepEqual(groupArchRefs(['mobilenetv3-small', 'mnasnet-a1']), [['mobilenetv3-small'], ['mnasnet-a1']]);
});

test('latency measure --json on a tiny arch exits 0 with the figures', () => {
  const r = run(['measure', '--arch', 'ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_hs', '--input', '32', '--classes', '10',
    '--warmup', '1', '--runs', '3', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as MeasureJson;
  const [m] = j.results;
  assert.equal(j.results.length, 1);
  assert.ok(m);
  assert.equal(m.backend, 'wasm');
  assert.equal(m.threads, 1);
  assert.deepEqual(m.input, [32, 32, 3]);
  assert.equal(m.runs, 3);
  assert.ok(m.medianMs > 0 && Number.isFinite(m.medianMs));
  assert.match(m.arch, /^v1_in32x3_cls10_/);
});

test('latency measure prints a table', () => {
  const r = run(['measure', '--arch', 'ir_k3_s2_x16_c16_re', '--input', '32', '--classes', '10', '--warmup', '0', '--runs', '2']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^arch\s+median ms\s+IQR ms/m);
  assert.match(r.stdout, /^ir_k3_s2_x16_c16_re\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+[\d.]+\s+2$/m);
});

test('bad input: one line, exit 2', () => {
  userError(run(['measure', '--arch', 'mobilenetv3-small', '--runs', '0']), '--runs');
  userError(run(['measure', '--arch', 'no-such-net']), "unknown architecture 'no-such-net'");
  userError(run(['measure', '--arch', 'mobilenetv3-small', '--threads', '0']), '--threads');
  userError(run(['measure', '--arch', 'mobilenetv3-small', '--backend', 'gpu']), 'backend');
  userError(run(['measure']), 'arch');
  userError(run([]), 'measure');
});
