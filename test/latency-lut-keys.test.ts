// Lookup tables already on disk stay readable: their keys (written by nas before the activation codes were shared
// with the block-string codec) are what `nas latency predict` looks up, letter for letter.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-lut-keys-'));
after(() => rmSync(dir, { recursive: true, force: true }));

// The keys of two reference networks at 224 px as a table built before the change holds them: relu (re), hswish
// (hs) and relu6 (r6) all appear.
const KEYS: Readonly<Record<string, readonly string[]>> = {
  'mobilenetv3-small': [
    'stem_i224x224x3_o16_k3_s2_hs',
    'ir_i112x112x16_o16_e16_k3_s2_se8hsig_re_nores',
    'ir_i56x56x16_o24_e72_k3_s2_nose_re_nores',
    'ir_i28x28x24_o24_e88_k3_s1_nose_re_res',
    'ir_i28x28x24_o40_e96_k5_s2_se24hsig_hs_nores',
    'ir_i14x14x40_o40_e240_k5_s1_se64hsig_hs_res',
    'ir_i14x14x40_o48_e120_k5_s1_se32hsig_hs_nores',
    'ir_i14x14x48_o48_e144_k5_s1_se40hsig_hs_res',
    'ir_i14x14x48_o96_e288_k5_s2_se72hsig_hs_nores',
    'ir_i7x7x96_o96_e576_k5_s1_se144hsig_hs_res',
    'head_i7x7x96_c576_h1024_cls1000_hs',
  ],
  mobilenetv2: [
    'stem_i224x224x3_o32_k3_s2_r6',
    'ir_i112x112x32_o16_e32_k3_s1_nose_r6_nores',
    'ir_i112x112x16_o24_e96_k3_s2_nose_r6_nores',
    'ir_i56x56x24_o24_e144_k3_s1_nose_r6_res',
    'ir_i56x56x24_o32_e144_k3_s2_nose_r6_nores',
    'ir_i28x28x32_o32_e192_k3_s1_nose_r6_res',
    'ir_i28x28x32_o64_e192_k3_s2_nose_r6_nores',
    'ir_i14x14x64_o64_e384_k3_s1_nose_r6_res',
    'ir_i14x14x64_o96_e384_k3_s1_nose_r6_nores',
    'ir_i14x14x96_o96_e576_k3_s1_nose_r6_res',
    'ir_i14x14x96_o160_e576_k3_s2_nose_r6_nores',
    'ir_i7x7x160_o160_e960_k3_s1_nose_r6_res',
    'ir_i7x7x160_o320_e960_k3_s1_nose_r6_nores',
    'head_i7x7x320_c1280_nohid_cls1000_r6',
  ],
};

test('nas latency predict finds every entry of a table keyed as before', () => {
  const entries = Object.fromEntries(Object.values(KEYS).flat().map((k) => [k, { medianMs: 1, iqrMs: 0, runs: 1 }]));
  const lut = { format: 'nas-latency-lut', version: 1, runner: 'node', backend: 'wasm', threads: 1, machine: 'test', engine: 'nas-plan-1', input: [224, 224, 3], entries, overheadMs: 0.5 };
  const path = join(dir, 'old.json');
  writeFileSync(path, JSON.stringify(lut));
  const r = runCli(['latency', 'predict', '--lut', path, '--arch', 'mobilenetv3-small', '--arch', 'mobilenetv2', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const rows = (JSON.parse(r.stdout) as { results: { entries: number; predictedMs: number }[] }).results;
  // One millisecond an entry (repeated shapes count each time) plus the overhead: 13 and 19 entries.
  assert.deepEqual(rows.map((x) => [x.entries, x.predictedMs]), [[13, 13.5], [19, 19.5]]);
});
