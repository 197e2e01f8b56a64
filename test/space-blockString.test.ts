import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArchError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { BLOCK_GRAMMAR, decodeArch, decodeBlock, encodeArch, encodeBlock } from '../space/blockString.js';
import { referenceArch, referenceNames } from '../space/reference.js';

function rejects(f: () => unknown, ...parts: string[]): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof ArchError, `expected ArchError, got ${String(e)}`);
    assert.ok(!e.message.includes('\n'), 'one line');
    for (const p of parts) assert.ok(e.message.includes(p), `'${e.message}' should mention '${p}'`);
    return true;
  });
}

test('decodeBlock reads the MobileNetV3 example block', () => {
  assert.deepEqual(decodeBlock('ir_k5_s2_x72_c40_se_re'), {
    type: 'ir',
    kernel: 5,
    stride: 2,
    exp: 72,
    out: 40,
    se: { ratio: 0.25, of: 'expanded', gate: 'hsigmoid' },
    act: 'relu',
    skip: true,
  });
});

test('decodeBlock reads ds, conv, MnasNet SE, other ratios, relu6 and noskip', () => {
  assert.deepEqual(decodeBlock('ds_k3_s1_c16_sem0.25_r6_noskip'), {
    type: 'ds',
    kernel: 3,
    stride: 1,
    out: 16,
    se: { ratio: 0.25, of: 'input', gate: 'sigmoid' },
    act: 'relu6',
    skip: false,
  });
  assert.deepEqual(decodeBlock('conv_k1_s1_c960_hs'), { type: 'conv', kernel: 1, stride: 1, out: 960, act: 'hswish', skip: true });
  assert.deepEqual(decodeBlock('ir_k3_s1_x96_c24_se0.5_hs'), {
    type: 'ir',
    kernel: 3,
    stride: 1,
    exp: 96,
    out: 24,
    se: { ratio: 0.5, of: 'expanded', gate: 'hsigmoid' },
    act: 'hswish',
    skip: true,
  });
});

test('every block of every reference arch round-trips through its block string', () => {
  for (const name of referenceNames()) {
    for (const stage of referenceArch(name).stages) {
      for (const b of stage) {
        const s = encodeBlock(b);
        assert.deepEqual(decodeBlock(s), b, s);
        assert.equal(encodeBlock(decodeBlock(s)), s, 'the encoding is canonical');
      }
    }
  }
});

test('the encoding is canonical: se0.25 is written se, numbers in shortest form', () => {
  assert.equal(encodeBlock(decodeBlock('ir_k5_s2_x72_c40_se0.25_re')), 'ir_k5_s2_x72_c40_se_re');
  assert.equal(encodeBlock(decodeBlock('ir_k5_s2_x72_c40_se0.50_re')), 'ir_k5_s2_x72_c40_se0.5_re');
  assert.equal(encodeBlock(decodeBlock('ds_k3_s1_c16_sem.25_re')), 'ds_k3_s1_c16_sem0.25_re');
});

test('malformed block strings name the wrong token and give the grammar in one line', () => {
  rejects(() => decodeBlock('ir_k4_s1_x16_c16_re'), "token 'k4'", 'odd integer', BLOCK_GRAMMAR);
  rejects(() => decodeBlock('ir_k3_s3_x16_c16_re'), "token 's3'", 'must be 1 or 2');
  rejects(() => decodeBlock('ir_k3_s1_c16_re'), "token 'c16'", 'x{EXP} is required');
  rejects(() => decodeBlock('ds_k3_s1_x16_c16_re'), "token 'x16'", 'ir blocks only');
  rejects(() => decodeBlock('conv_k3_s1_c16_se_re'), "token 'se'", 'conv blocks take no SE');
  rejects(() => decodeBlock('ir_k3_s1_x16_c16_relu'), "token 'relu'", 're, r6 or hs');
  rejects(() => decodeBlock('ir_k3_s1_x16_c16_re_skip'), "unexpected token 'skip'");
  rejects(() => decodeBlock('mb_k3_s1_c16_re'), "token 'mb'", 'conv, ds or ir');
  rejects(() => decodeBlock('ir_k3_s1_x16_c16'), 'missing the activation');
  rejects(() => decodeBlock('ir_k3_s1_x16_c16_sem_re'), "token 'sem'", 'needs a ratio');
  rejects(() => decodeBlock('ir_k3_s1_x16_c16_se2_re'), "token 'se2'", 'must be in (0, 1]');
  rejects(() => decodeBlock('ir_k3_s1_x16_c0_re'), "token 'c0'", 'positive integer');
  rejects(() => decodeBlock(''), "token ''", 'block type');
});

const withoutName = ({ name: _name, ...rest }: ArchSpec): Omit<ArchSpec, 'name'> => rest;

test('decodeArch(encodeArch(spec)) equals spec except its name, for every reference arch', () => {
  for (const name of referenceNames()) {
    const spec = referenceArch(name);
    const s = encodeArch(spec);
    assert.doesNotMatch(s, /\s/, 'one word, one line');
    const back = decodeArch(s);
    assert.equal(back.name, 'custom');
    assert.deepEqual(withoutName(back), withoutName(spec), name);
    assert.equal(decodeArch(s, name).name, name);
    assert.equal(encodeArch(back), s);
  }
});

test('the canonical arch string is stable (pinned for mobilenetv3-small)', () => {
  assert.equal(
    encodeArch(referenceArch('mobilenetv3-small')),
    'v1_in224x3_cls1000_w1_padsym_bn0.99_eps0.001_drop0.2:stem_k3_s2_c16_hs:ir_k3_s2_x16_c16_se_re:' +
      'ir_k3_s2_x72_c24_re,ir_k3_s1_x88_c24_re:' +
      'ir_k5_s2_x96_c40_se_hs,ir_k5_s1_x240_c40_se_hs,ir_k5_s1_x240_c40_se_hs:' +
      'ir_k5_s1_x120_c48_se_hs,ir_k5_s1_x144_c48_se_hs:' +
      'ir_k5_s2_x288_c96_se_hs,ir_k5_s1_x576_c96_se_hs,ir_k5_s1_x576_c96_se_hs:head_c576_h1024_hs',
  );
});

test('the canonical string distinguishes every reference arch and ignores the name', () => {
  const strings = referenceNames().map((n) => encodeArch(referenceArch(n)));
  assert.equal(new Set(strings).size, strings.length);
  const spec = referenceArch('mobilenetv3-large');
  assert.equal(encodeArch({ ...spec, name: 'other' }), encodeArch(spec));
  assert.equal(encodeArch(JSON.parse(JSON.stringify(spec)) as ArchSpec), encodeArch(spec), 'equal specs, equal strings');
});

test('the canonical string changes with every field it covers', () => {
  const spec = referenceArch('mobilenetv3-large');
  const base = encodeArch(spec);
  const variants: ArchSpec[] = [
    { ...spec, input: { size: 192, channels: 3 } },
    { ...spec, input: { size: 224, channels: 1 } },
    { ...spec, classes: 10 },
    { ...spec, width: 0.75 },
    { ...spec, padding: 'same' },
    { ...spec, bn: { decay: 0.9, eps: 1e-3 } },
    { ...spec, bn: { decay: 0.99, eps: 1e-5 } },
    { ...spec, dropout: 0 },
    { ...spec, stem: { ...spec.stem, out: 24 } },
    { ...spec, head: { ...spec.head, hidden: null } },
    { ...spec, head: { ...spec.head, conv: 1280 } },
  ];
  for (const v of variants) {
    const s = encodeArch(v);
    assert.notEqual(s, base);
    assert.deepEqual(withoutName(decodeArch(s)), withoutName(v));
  }
});

test('stage boundaries survive the canonical string', () => {
  const spec = referenceArch('mobilenetv3-large');
  const flat = spec.stages.flat();
  const regrouped: ArchSpec = { ...spec, stages: [flat.slice(0, 3), flat.slice(3)] };
  const s = encodeArch(regrouped);
  assert.notEqual(s, encodeArch(spec));
  assert.deepEqual(
    decodeArch(s).stages.map((st) => st.length),
    [3, flat.length - 3],
  );
});

test('malformed arch strings are one-line ArchErrors naming the section', () => {
  const good = encodeArch(referenceArch('mnasnet-a1'));
  rejects(() => decodeArch('v1_in224x3'), 'bad arch string', 'at least header:stem:head');
  rejects(() => decodeArch(good.replace('v1_', 'v2_')), 'should start with v1');
  rejects(() => decodeArch(good.replace('padsym', 'padvalid')), "'padvalid'", 'padsym or padsame');
  rejects(() => decodeArch(good.replace('stem_k3', 'stem_k2')), 'stem', "token 'k2'");
  rejects(() => decodeArch(good.replace('head_c1280_re', 'head_c1280_gelu')), 'head', "token 'gelu'");
  rejects(() => decodeArch(good.replace('drop0.2', 'drop1')), 'dropout: must be in [0, 1), got 1');
  rejects(() => decodeArch(good.replace(':ds_k3_s1_c16_re_noskip:', '::')), 'stage 0 is empty');
  rejects(() => decodeArch(good.replace('ds_k3', 'ds_k4')), "token 'k4'");
});
