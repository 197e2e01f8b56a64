// Fixtures of the NetAdapt tests.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ArchSpec } from '../space/arch.js';
import { decodeBlock } from '../space/blockString.js';
import { archFromBlocks } from '../space/load.js';
import { runCli } from './cli-helpers.js';

/** Residual groups with SE of both styles, a tied block and a consumer without an expand conv. */
export function tinyArch(): ArchSpec {
  const blocks = [
    'ir_k3_s2_x48_c24_se_re', // produces group A
    'ir_k5_s1_x72_c24_se_hs', // tied to A, expand + V3 SE
    'ir_k3_s1_x24_c24_se_re', // tied to A, no expand conv
    'ir_k3_s2_x24_c32_sem0.25_re', // reads A with no expand conv, MnasNet SE (of the input)
    'ir_k3_s1_x96_c32_se_hs', // tied to the last group
  ].map(decodeBlock);
  const base = archFromBlocks(blocks, 'tiny');
  return {
    ...base,
    input: { size: 16, channels: 3 },
    classes: 5,
    stem: { ...base.stem, stride: 1 },
    head: { conv: 64, hidden: 32, act: 'hswish' },
  };
}

/** The tiny network (10 classes) trained for one epoch on 300 MNIST images at 16 px into `seedDir`: a seed in seconds. */
export function trainTinySeed(dir: string, db: string, seedDir: string): void {
  const spec = join(dir, 'tiny.json');
  writeFileSync(spec, JSON.stringify({ ...tinyArch(), classes: 10 }));
  const r = runCli([
    'train-final', '--data', 'mnist', '--limit', '300', '--input', '16', '--epochs', '1', '--batch', '25', '--arch', spec,
    '--seed', '1', '--backend', 'wasm', '--db', db, '--out', seedDir, '--json',
  ]);
  assert.equal(r.status, 0, r.stderr);
}
