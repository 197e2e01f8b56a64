import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ArchSpec } from '../space/arch.js';
import { decodeBlock } from '../space/blockString.js';
import { referenceArch } from '../space/reference.js';
import { type ResolvedBlock, resolve } from '../space/resolve.js';

function at(blocks: readonly ResolvedBlock[], path: string): ResolvedBlock {
  const b = blocks.find((x) => x.path === path);
  assert.ok(b, `no block ${path}`);
  return b;
}

function deepFreeze<T>(o: T): T {
  if (o !== null && typeof o === 'object') {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

function withStages(stages: string[][], more: Partial<ArchSpec> = {}): ArchSpec {
  return { ...referenceArch('mobilenetv3-large'), ...more, stages: stages.map((s) => s.map(decodeBlock)) };
}

test('spatial sizes go 224 -> 112 at the stem and reach 7 at the head', () => {
  const r = resolve(referenceArch('mobilenetv3-large'));
  assert.equal(r.stem.inSize, 224);
  assert.equal(r.stem.outSize, 112);
  assert.deepEqual(
    r.blocks.filter((b) => b.stride === 2).map((b) => [b.inSize, b.outSize]),
    [
      [112, 56],
      [56, 28],
      [28, 14],
      [14, 7],
    ],
  );
  assert.equal(r.head.inSize, 7);
  assert.equal(r.head.inC, 160);
});

test('odd sizes round up with stride 2 (ceil(in / stride))', () => {
  const r = resolve({ ...referenceArch('mobilenetv3-small'), input: { size: 225, channels: 3 } });
  assert.equal(r.stem.outSize, 113);
  assert.deepEqual(
    r.blocks.map((b) => b.outSize),
    [57, 29, 29, 15, 15, 15, 15, 15, 8, 8, 8],
  );
});

test('paths are s{stage}.b{index}, both 0-based, and channels thread through', () => {
  const r = resolve(referenceArch('mobilenetv3-large'));
  assert.deepEqual(
    r.blocks.slice(0, 4).map((b) => b.path),
    ['s0.b0', 's1.b0', 's1.b1', 's2.b0'],
  );
  for (let i = 1; i < r.blocks.length; i++) assert.equal(r.blocks[i]?.inC, r.blocks[i - 1]?.outC);
  assert.equal(r.blocks[0]?.inC, r.stem.outC);
});

test('a residual needs skip, stride 1 and in == out', () => {
  const r = resolve(referenceArch('mobilenetv3-large'));
  assert.equal(at(r.blocks, 's0.b0').residual, true, '16 -> 16, stride 1');
  assert.equal(at(r.blocks, 's1.b0').residual, false, 'stride 2');
  assert.equal(at(r.blocks, 's1.b1').residual, true);
  assert.equal(at(r.blocks, 's4.b0').residual, false, '80 -> 112');
  const noskip = resolve(withStages([['ir_k3_s1_x16_c16_re_noskip'], ['conv_k3_s1_c16_re'], ['ds_k3_s1_c24_re']]));
  assert.deepEqual(
    noskip.blocks.map((b) => b.residual),
    [false, true, false],
  );
});

test('an ir block has an expand conv only when exp differs from its input width', () => {
  const r = resolve(referenceArch('mobilenetv3-large'));
  const first = at(r.blocks, 's0.b0');
  assert.equal(first.hasExpand, false);
  assert.equal(first.exp, 16);
  assert.equal(at(r.blocks, 's1.b0').hasExpand, true);
  const v2 = resolve(referenceArch('mobilenetv2'));
  assert.equal(at(v2.blocks, 's0.b0').hasExpand, false, 'MobileNetV2 t=1 block');
});

test('ds blocks run their depthwise at the input width and conv blocks report exp == out', () => {
  const r = resolve(withStages([['ds_k3_s1_c24_re'], ['conv_k3_s2_c32_re']]));
  assert.deepEqual(
    r.blocks.map((b) => [b.type, b.inC, b.exp, b.outC, b.hasExpand]),
    [
      ['ds', 16, 16, 24, false],
      ['conv', 24, 32, 32, false],
    ],
  );
});

test('MobileNetV3 SE reduces to makeDivisible(exp / 4, 8) with a hard-sigmoid gate', () => {
  const r = resolve(referenceArch('mobilenetv3-large'));
  assert.deepEqual(at(r.blocks, 's2.b0').se, { reduce: 24, gate: 'hsigmoid' }, 'exp 72 -> 18 -> 24');
  assert.equal(at(r.blocks, 's2.b1').se?.reduce, 32, 'exp 120');
  assert.equal(at(r.blocks, 's4.b0').se?.reduce, 120, 'exp 480');
  assert.equal(at(r.blocks, 's5.b1').se?.reduce, 240, 'exp 960');
  assert.equal(at(r.blocks, 's3.b0').se, null);
  const small = resolve(referenceArch('mobilenetv3-small'));
  assert.equal(at(small.blocks, 's0.b0').se?.reduce, 8, 'exp 16 -> 4 -> at least 8');
});

test('MnasNet SE reduces to max(1, floor(ratio * block input)) with a sigmoid gate', () => {
  const r = resolve(referenceArch('mnasnet-a1'));
  assert.deepEqual(at(r.blocks, 's2.b0').se, { reduce: 6, gate: 'sigmoid' }, 'input 24');
  assert.equal(at(r.blocks, 's2.b1').se?.reduce, 10, 'input 40');
  assert.equal(at(r.blocks, 's4.b0').se?.reduce, 20, 'input 80');
  assert.equal(at(r.blocks, 's5.b0').se?.reduce, 28, 'input 112');
  const tiny = resolve(withStages([['ir_k3_s1_x16_c8_sem0.01_re']]));
  assert.equal(tiny.blocks[0]?.se?.reduce, 1);
});

test('width 0.75 scales stem, outputs, expansions and head.conv but keeps the 1280 hidden layer', () => {
  const r = resolve(referenceArch('mobilenetv3-large-0.75'));
  assert.equal(r.stem.outC, 16, '12 -> 16');
  assert.deepEqual(
    r.blocks.map((b) => b.outC),
    [16, 24, 24, 32, 32, 32, 64, 64, 64, 64, 88, 88, 120, 120, 120],
  );
  // Expansion ratios are kept relative to the scaled input (TF-slim): 24 * 3 = 72, 32 * 6 = 192, 64 * 184/80 -> 144.
  assert.deepEqual(
    r.blocks.map((b) => b.exp),
    [16, 64, 72, 72, 96, 96, 192, 160, 144, 144, 384, 528, 528, 720, 720],
  );
  assert.equal(at(r.blocks, 's0.b0').hasExpand, false, 'exp == in stays without an expand conv');
  assert.equal(r.head.conv, 720);
  assert.equal(r.head.hidden, 1280);
});

test('width above 1 scales the hidden layer too', () => {
  const r = resolve({ ...referenceArch('mobilenetv3-large'), width: 1.25 });
  assert.equal(r.head.hidden, 1600);
  assert.equal(r.head.conv, 1200);
  assert.equal(r.stem.outC, 24);
});

test('width 1 keeps absolute widths as written, even off multiples of 8', () => {
  const r = resolve(withStages([['ir_k3_s1_x20_c12_re']]));
  assert.equal(r.blocks[0]?.exp, 20);
  assert.equal(r.blocks[0]?.outC, 12);
});

test('resolve is pure: it neither mutates nor needs a mutable spec, and repeats exactly', () => {
  const spec = deepFreeze(referenceArch('mnasnet-a1'));
  const a = resolve(spec);
  assert.deepEqual(resolve(spec), a);
  assert.equal(a.spec, spec);
  assert.equal(a.classes, 1000);
  assert.deepEqual(a.bn, { decay: 0.99, eps: 1e-3 });
});
