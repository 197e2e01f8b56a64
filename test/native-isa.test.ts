// The portable build of the native kernels: the kernels' reference checks (the cheapest test files that together
// call every native function) run in child processes, once with NAS_NATIVE_ISA=baseline and once with the best ISA
// this CPU runs. Both runs must pass (each checks against its references), the children must report the ISA they
// were given, and every float32 array the checks read back from the wasm backend must agree within 1e-5.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { test } from 'node:test';
import { chooseNativeIsa, nativeAddon, nativeStatus } from '../backend/native.js';
import type { Recording } from './native-isa-recorder.js';

const TOL = 1e-5;

// sgemm (raw, against float64); conv and depthwise kernels and their gradients; batchMatMul; activations; batch
// norm and its moving-statistics update; pooling and channel scale; the inference kernels; the optimizer updates,
// global norm and EMA.
const checks = [
  'kernels-conv-gemm', 'kernels-conv', 'kernels-matmul-identity', 'ops-activation', 'ops-batchnorm',
  'ops-squeeze-excite', 'model-fold', 'train-optimizers',
].map((name) => fileURLToPath(new URL(`${name}.test.js`, import.meta.url)));

const recorder = pathToFileURL(fileURLToPath(new URL('native-isa-recorder.js', import.meta.url))).href;

interface Run {
  readonly isa: Set<string | null>;
  readonly called: Set<string>;
  /** Every recorded array, by test file, in the order read. */
  readonly arrays: Map<string, Float32Array[]>;
}

function readRecording(dir: string, file: string): { rec: Recording; arrays: Float32Array[] } {
  const base = join(dir, basename(file));
  const rec = JSON.parse(readFileSync(`${base}.json`, 'utf8')) as Recording;
  const bin = readFileSync(`${base}.bin`);
  const all = new Float32Array(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.byteLength));
  let at = 0;
  const arrays = rec.lengths.map((n) => all.subarray(at, (at += n)));
  return { rec, arrays };
}

/** max |a - b| / max |b|, with NaN equal to NaN (outputs of the NaN checks); Infinity when the lengths differ. */
function difference(a: Float32Array, b: Float32Array): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < b.length; i++) {
    const x = a[i] ?? 0;
    const y = b[i] ?? 0;
    if (Number.isNaN(x) && Number.isNaN(y)) continue;
    const d = Math.abs(x - y);
    diff = Number.isNaN(d) ? Infinity : Math.max(diff, d);
    scale = Math.max(scale, Math.abs(y));
  }
  return scale > 0 ? diff / scale : diff;
}

/** Runs a child to its end; its exit code and its output. */
function runChild(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ status: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { env });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-6000)));
    child.stderr.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-6000)));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, out }));
  });
}

/** Runs the checks in a child with NAS_NATIVE_ISA = isa (unset: the best); asserts they pass. */
async function runChecks(isa: string | undefined): Promise<Run> {
  const dir = mkdtempSync(join(tmpdir(), 'nas-isa-'));
  const NODE_OPTIONS = `${process.env['NODE_OPTIONS'] ?? ''} --import=${recorder}`;
  const env: NodeJS.ProcessEnv = { ...process.env, NAS_TEST_RECORD: dir, NODE_OPTIONS };
  delete env['NODE_TEST_CONTEXT']; // a test runner of its own, not a child of ours
  delete env['NAS_NATIVE_ISA'];
  if (isa) env['NAS_NATIVE_ISA'] = isa;
  try {
    const r = await runChild(['--test', '--test-concurrency=1', ...checks], env);
    assert.equal(r.status, 0, `checks failed with NAS_NATIVE_ISA=${isa ?? ''}:\n${r.out}`);
    const run: Run = { isa: new Set(), called: new Set(), arrays: new Map() };
    for (const file of checks) {
      const { rec, arrays } = readRecording(dir, file);
      run.isa.add(rec.isa);
      rec.called.forEach((name) => run.called.add(name));
      run.arrays.set(file, arrays);
    }
    return run;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('the baseline build passes the kernel checks and matches the best ISA within 1e-5', async (t) => {
  const status = nativeStatus();
  assert.ok(status.loaded, 'native kernels not loaded');
  // The two children are independent and single-threaded: side by side they take half the suite's time.
  const [best, baseline] = await Promise.all([runChecks(undefined), runChecks('baseline')]);
  assert.deepEqual([...best.isa], [status.cpuIsa]);
  assert.deepEqual([...baseline.isa], ['baseline']);

  // forks: the pool's count of split calls (test/native-threads), not a kernel.
  const kernels = Object.keys(nativeAddon()).filter((k) => !['version', 'isa', 'cpuIsa', 'forks'].includes(k));
  const missed = kernels.filter((k) => !best.called.has(k) || !baseline.called.has(k));
  assert.deepEqual(missed, [], 'native functions that no check calls');

  let compared = 0;
  let worst = 0;
  for (const [file, want] of best.arrays) {
    const got = baseline.arrays.get(file) ?? [];
    assert.equal(got.length, want.length, `${file}: arrays read back`);
    want.forEach((w, i) => {
      const err = difference(got[i] ?? new Float32Array(0), w);
      assert.ok(err <= TOL, `${file}, array ${i}: relative difference ${err.toExponential(2)} > ${TOL}`);
      worst = Math.max(worst, err);
      compared++;
    });
  }
  assert.ok(compared > 100, `only ${compared} arrays compared`);
  t.diagnostic(`${status.cpuIsa} vs baseline: ${compared} arrays, worst relative difference ${worst.toExponential(1)}`);
});

test('NAS_NATIVE_ISA lowers the level, never raises it past the CPU, and must name a level', () => {
  assert.equal(chooseNativeIsa('avx2', undefined), 'avx2');
  assert.equal(chooseNativeIsa('avx2', ''), 'avx2');
  assert.equal(chooseNativeIsa('avx2', 'baseline'), 'baseline');
  assert.equal(chooseNativeIsa('baseline', 'avx2'), 'baseline');
  assert.equal(chooseNativeIsa('avx2', 'avx512'), 'avx2');
  assert.equal(chooseNativeIsa('avx512', undefined), 'avx512');
  assert.equal(chooseNativeIsa('avx512', 'avx2'), 'avx2');
  assert.equal(chooseNativeIsa('an unknown CPU', undefined), 'baseline');
  assert.throws(() => chooseNativeIsa('avx2', 'sse9'), { code: 'E_USAGE', message: /baseline, avx2, avx512.*'sse9'/ });
});
