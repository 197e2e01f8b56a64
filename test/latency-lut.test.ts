import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { NasError } from '../common/errors.js';
import { buildLut, LUT_FORMAT, type Lut, lutKeys, readLut, sampleArchs, validateLut, writeLut } from '../latency/lut.js';
import { calibrate, predictLatency } from '../latency/predict.js';
import { type LatencyRunner, openRunner } from '../latency/runner.js';
import { checkLutRunner, repeatability, summarizeValidation, validatePredictions } from '../latency/validate.js';
import { PLAN_ENGINE } from '../model/inferencePlan.js';
import type { LatencyEntry, LatencyEntryInput, LatencyTableKey } from '../results/latency.js';
import type { ArchSpec } from '../space/arch.js';
import { loadArch } from '../space/load.js';
import { resolve } from '../space/resolve.js';
import { builtinSpace } from '../space/spaces.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-lut-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const arch = (blocks: string[], input = 32): ArchSpec => loadArch(blocks, { input, classes: 10 });
const A = arch(['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_re', 'ir_k3_s1_x48_c16_re']);
const B = arch(['ir_k3_s2_x16_c16_re', 'ir_k5_s2_x64_c24_se_hs']);
const C = arch(['ds_k3_s1_c16_re', 'ir_k3_s2_x96_c32_hs']);
let fast: { input: number; runner: LatencyRunner; warmup: number; runs: number };
before(async () => {
  fast = { input: 32, runner: await openRunner('node', { backend: 'wasm', threads: 1 }), warmup: 1, runs: 3 };
});

const distinct = (specs: ArchSpec[]): Set<string> => new Set(specs.flatMap((s) => lutKeys(resolve(s))));

function fakeLut(keys: Iterable<string>, ms = 1, overheadMs = 0): Lut {
  const entries: Record<string, { medianMs: number; iqrMs: number; runs: number }> = {};
  for (const k of keys) entries[k] = { medianMs: ms, iqrMs: 0, runs: 1 };
  return {
    format: LUT_FORMAT, version: 1, runner: 'node', backend: 'wasm', threads: 1, machine: 'm', engine: PLAN_ENGINE, input: [32, 32, 3],
    statistic: 'median', entries, overheadMs,
  };
}

test('keys: stem, one per block, head; identical blocks coincide, different shapes differ', () => {
  const ka = lutKeys(resolve(A));
  assert.equal(ka.length, 5);
  assert.match(ka[0] ?? '', /^stem_i32x32x3_/);
  assert.match(ka[4] ?? '', /^head_/);
  assert.equal(ka[2], ka[3]); // the two identical residual blocks
  assert.notEqual(ka[1], ka[2]);
  const kb = lutKeys(resolve(B));
  assert.equal(kb[0], ka[0]);
  assert.equal(kb[1], ka[1]);
  assert.match(kb[2] ?? '', /_k5_s2_se\d+hsig_hs_nores/);
  // the same blocks at another input size are other entries
  const big = lutKeys(resolve(arch(['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_re', 'ir_k3_s1_x48_c16_re'], 64)));
  assert.ok(big.every((k, i) => k !== ka[i]));
  // kernel, stride, expansion, SE, activation, skip each change the key
  const variants = ['ir_k5_s1_x48_c16_re', 'ir_k3_s2_x48_c16_re', 'ir_k3_s1_x64_c16_re', 'ir_k3_s1_x48_c16_se_re',
    'ir_k3_s1_x48_c16_hs', 'ir_k3_s1_x48_c16_re_noskip', 'ir_k3_s1_x48_c24_re'];
  const keys = variants.map((v) => lutKeys(resolve(arch(['ir_k3_s2_x16_c16_re', v])))[2]);
  assert.equal(new Set([...keys, ka[2]]).size, variants.length + 1);
});

test('build measures each distinct key once; resume skips what exists (file or store)', async () => {
  const seen: string[] = [];
  const lut = await buildLut({ ...fast, archs: [A, B], onProgress: (p) => seen.push(p.key) });
  const want = distinct([A, B]);
  assert.equal(seen.length, 2 * want.size, 'two sweeps: each entry measured twice');
  assert.deepEqual(new Set(seen), want);
  assert.deepEqual(new Set(Object.keys(lut.entries)), want);
  for (const e of Object.values(lut.entries)) {
    assert.ok(e.medianMs > 0 && e.iqrMs >= 0 && e.runs >= 6, `runs ${e.runs}`); // a small batch is timed for longer (buildLut)
    assert.ok(e.p10Ms !== undefined && e.p10Ms > 0 && e.p10Ms <= e.medianMs);
    assert.equal(e.sweeps, 2);
  }
  assert.equal(lut.statistic, 'p10');
  assert.equal(lut.runner, 'node');
  assert.equal(lut.backend, 'wasm');
  assert.equal(lut.engine, PLAN_ENGINE, 'timed by compiled inference, and the table says so');
  assert.deepEqual(lut.input, [32, 32, 3]);

  const again: string[] = [];
  const more = await buildLut({ ...fast, archs: [A, B, C], existing: lut, sweeps: 1, onProgress: (p) => again.push(p.key) });
  assert.deepEqual(new Set(again), new Set([...distinct([C])].filter((k) => !want.has(k))));
  assert.equal(more.entries[seen[0] ?? '']?.medianMs, lut.entries[seen[0] ?? '']?.medianMs);

  // a store that already holds A's entries: only B's others are measured, and they are written back
  const table = new Map<string, LatencyEntry>();
  for (const [k, e] of Object.entries(lut.entries)) {
    if (distinct([A]).has(k)) {
      table.set(k, { entry: k, medianMs: e.medianMs, spreadMs: e.iqrMs, samples: e.runs, p10Ms: e.p10Ms ?? 0, measuredAt: 'x' });
    }
  }
  const upserts: LatencyEntryInput[] = [];
  const store = {
    readLatencyTable: (_k: LatencyTableKey) => table,
    upsertLatencyEntries: (_k: LatencyTableKey, es: readonly LatencyEntryInput[]) => (upserts.push(...es), es.length),
  };
  const fromStore: string[] = [];
  await buildLut({ ...fast, archs: [A, B], store, sweeps: 1, onProgress: (p) => fromStore.push(p.key) });
  const onlyB = [...distinct([B])].filter((k) => !distinct([A]).has(k));
  assert.deepEqual(new Set(fromStore), new Set(onlyB));
  assert.deepEqual(new Set(upserts.map((u) => u.entry)), new Set(onlyB));

  await assert.rejects(buildLut({ ...fast, input: 64, archs: [A], existing: lut }), /another setting.*input 32x32x3 vs 64x64x3/);
  await assert.rejects(buildLut({ ...fast, archs: [A], existing: { ...lut, engine: 'tfjs' } }), /another setting.*engine tfjs vs nas-plan-2/);
});

test('a table is validated only by a runner of its engine', () => {
  const lut = { ...fakeLut([]), machine: fast.runner.machine };
  checkLutRunner(lut, fast.runner);
  assert.throws(() => checkLutRunner({ ...lut, engine: 'tfjs' }, fast.runner), /timed by engine tfjs, this nas times with nas-plan-2: build the table again/);
});

test('space samples are seeded', () => {
  const space = builtinSpace('mobilenetv3-small-input');
  const a = sampleArchs(space, 3, 32, 7).map((s) => lutKeys(resolve(s)).join());
  const b = sampleArchs(space, 3, 32, 7).map((s) => lutKeys(resolve(s)).join());
  assert.deepEqual(a, b);
});

test('write/read round trip, atomic, and validation errors', () => {
  const lut = fakeLut(lutKeys(resolve(A)), 1.5, 0.25);
  const p = join(dir, 'lut.json');
  writeLut(p, lut);
  assert.deepEqual(readLut(p), lut);
  assert.deepEqual(readdirSync(dir), ['lut.json']); // no temp file left behind
  const bad = (mutate: (j: Record<string, unknown>) => void, msg: RegExp): void => {
    const j = JSON.parse(JSON.stringify(lut)) as Record<string, unknown>;
    mutate(j);
    assert.throws(() => validateLut(j), msg);
  };
  bad((j) => (j.format = 'other'), /format must be 'nas-latency-lut'/);
  bad((j) => (j.version = 2), /unsupported version 2/);
  bad((j) => (j.input = [32, 32]), /input must be/);
  bad((j) => (j.overheadMs = 'x'), /overheadMs/);
  bad((j) => ((j.entries as Record<string, unknown>).k = { medianMs: -1, iqrMs: 0, runs: 1 }), /entry k/);
  bad((j) => ((j.entries as Record<string, unknown>).k = { medianMs: 1, iqrMs: 0, runs: 0 }), /entry k: runs/);
  bad((j) => (j.statistic = 'mean'), /statistic must be/);
  bad((j) => (j.statistic = 'p10'), /p10 table needs p10Ms/);
  bad((j) => (j.perEntryMs = 'x'), /perEntryMs/);
  bad((j) => (j.engine = ''), /engine must be a non-empty string/);
  // A node wasm table from before compiled inference: refused, with what to do.
  bad((j) => delete j.engine, /before it ran compiled inference.*build the table again \(nas latency lut build/);
  const other = { ...lut, runner: 'phone', engine: undefined };
  assert.equal(validateLut(JSON.parse(JSON.stringify(other))).engine, undefined, 'other runners need no engine');
  writeFileSync(join(dir, 'broken.json'), '{');
  assert.throws(() => readLut(join(dir, 'broken.json')), /not valid JSON/);
  assert.throws(() => readLut(join(dir, 'none.json')), (e: unknown) => e instanceof NasError && e.code === 'E_IO');
  rmSync(join(dir, 'broken.json'));
});

test('predict = sum of entries + overhead; missing keys listed once', () => {
  const keys = lutKeys(resolve(A));
  const lut = fakeLut(keys, 2, 0.5);
  assert.deepEqual(predictLatency(lut, A), { predictedMs: keys.length * 2 + 0.5, entries: keys.length, missing: [] });
  assert.equal(predictLatency({ ...lut, perEntryMs: -0.25 }, A).predictedMs, keys.length * (2 - 0.25) + 0.5);
  const p = predictLatency(lut, B);
  assert.deepEqual(new Set(p.missing), new Set(lutKeys(resolve(B)).filter((k) => !keys.includes(k))));
  assert.throws(() => predictLatency(lut, arch(['ir_k3_s2_x16_c16_re'], 64)), /LUT is for input 32x32x3/);
});

test('calibrate fits overhead + per-entry cost robustly (Theil-Sen), or the median offset alone', () => {
  const nets = [1, 2, 3, 4, 5].map((n) => arch(Array.from({ length: n }, () => 'ir_k3_s1_x32_c16_re')));
  const lut = fakeLut(distinct(nets), 1, 0);
  const n = (s: ArchSpec): number => lutKeys(resolve(s)).length;
  // measured = sum + 10 - 0.5 per entry, one network far off: the fit ignores it
  const cal = calibrate(lut, nets.map((spec, i) => ({ spec, ms: n(spec) + 10 - 0.5 * n(spec) + (i === 2 ? 30 : 0) })));
  assert.ok(Math.abs((cal.perEntryMs ?? 0) + 0.5) < 1e-9, `perEntryMs ${cal.perEntryMs}`);
  assert.ok(Math.abs(cal.overheadMs - 10) < 1e-9, `overheadMs ${cal.overheadMs}`);
  assert.ok(Math.abs(predictLatency(cal, nets[0]!).predictedMs - (n(nets[0]!) * 0.5 + 10)) < 1e-9);
  // fewer than 3 networks: the median offset, no slope
  const two = calibrate(lut, [{ spec: nets[0]!, ms: n(nets[0]!) + 3 }, { spec: nets[1]!, ms: n(nets[1]!) + 5 }]);
  assert.equal(two.perEntryMs, 0);
  assert.equal(two.overheadMs, 4);
  assert.throws(() => calibrate(fakeLut([]), [{ spec: A, ms: 1 }]), /missing/);
});

test('calibrate fits a scale on the entry sums for networks of one depth (a network and its narrower variants)', () => {
  const nets = [16, 24, 32, 48, 64].map((x) => arch([`ir_k3_s1_x${x}_c16_re`, 'ir_k3_s1_x32_c16_re']));
  const keys = distinct(nets);
  const lut = fakeLut(keys);
  // entry times that grow with the width
  const entries = Object.fromEntries([...keys].map((k, i) => [k, { medianMs: 0.1 * (i + 1), iqrMs: 0, runs: 1 }]));
  const withTimes: Lut = { ...lut, entries };
  const sum = (s: ArchSpec): number => lutKeys(resolve(s)).reduce((t, k) => t + (entries[k]?.medianMs ?? 0), 0);
  // measured = 2.5 x sum + 0.3, one network far off: the fit ignores it
  const cal = calibrate({ ...withTimes, perEntryMs: -1 }, nets.map((spec, i) => ({ spec, ms: 2.5 * sum(spec) + 0.3 + (i === 1 ? 9 : 0) })));
  assert.ok(Math.abs((cal.scale ?? 1) - 2.5) < 1e-9, `scale ${cal.scale}`);
  assert.ok(Math.abs(cal.overheadMs - 0.3) < 1e-9, `overheadMs ${cal.overheadMs}`);
  assert.equal(cal.perEntryMs, undefined, 'a stale per-entry term is dropped');
  assert.ok(Math.abs(predictLatency(cal, nets[4]!).predictedMs - (2.5 * sum(nets[4]!) + 0.3)) < 1e-9);
  // networks of different depths fit per-entry costs, not a scale
  assert.equal(calibrate({ ...withTimes, scale: 2 }, nets.slice(0, 1).map((spec) => ({ spec, ms: 1 }))).scale, undefined);
});

test('validation figures', async () => {
  const r = summarizeValidation([
    { arch: 'a', predictedMs: 10, measuredMs: 10, error: 0 },
    { arch: 'b', predictedMs: 21, measuredMs: 20, error: 0.05 },
    { arch: 'c', predictedMs: 24, measuredMs: 30, error: -0.2 },
  ]);
  assert.equal(r.within10, 2 / 3);
  assert.equal(r.within5, 2 / 3);
  assert.ok(Math.abs(r.mape - 25 / 3) < 1e-9);
  assert.equal(r.tau, 1);
  assert.equal(r.repeatability, null, 'one sweep says nothing of repeatability');

  // Two sweeps that swap one pair of three archs: tau (2 - 1) / 3; differences 0, 10/10, 0 over 3 archs.
  const rep = repeatability([
    [10, 20, 30],
    [10, 40, 30],
  ]);
  assert.ok(rep !== null);
  assert.equal(rep.sweeps, 2);
  assert.ok(Math.abs(rep.tau - 1 / 3) < 1e-9);
  assert.ok(Math.abs(rep.meanDiffPct - 100 / 3) < 1e-9);
  // Three identical sweeps agree perfectly.
  assert.deepEqual(repeatability([[1, 2], [1, 2], [1, 2]]), { sweeps: 3, tau: 1, meanDiffPct: 0 });
  assert.throws(() => repeatability([[1, 2], [1]]), /sweeps of 2 and 1 archs/);

  const archs = [A, B, C];
  const lut = await buildLut({ ...fast, archs });
  const v = await validatePredictions(lut, archs, { warmup: 1, runs: 3 });
  assert.equal(v.n, 3);
  assert.equal(v.repeatability?.sweeps, 2, 'the default two sweeps are compared');
  assert.ok(v.repeatability.meanDiffPct >= 0 && (Number.isNaN(v.repeatability.tau) || Math.abs(v.repeatability.tau) <= 1));
  for (const x of [v.within10, v.within5, v.mape]) assert.ok(Number.isFinite(x));
  assert.ok(v.within10 >= 0 && v.within10 <= 1 && v.within5 <= v.within10);
  assert.ok(Number.isNaN(v.tau) || (v.tau >= -1 && v.tau <= 1));
  for (const row of v.rows) assert.ok(row.measuredMs > 0 && Number.isFinite(row.predictedMs));
});
