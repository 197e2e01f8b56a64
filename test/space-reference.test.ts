import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArchError } from '../common/errors.js';
import type { Block } from '../space/arch.js';
import { isReferenceName, referenceArch, referenceDescription, referenceNames } from '../space/reference.js';

const NAMES = [
  'mobilenetv3-large',
  'mobilenetv3-small',
  'mobilenetv3-large-0.75',
  'mobilenetv3-small-0.75',
  'mobilenetv3-large-minimal',
  'mobilenetv3-small-minimal',
  'mnasnet-a1',
  'mnasnet-b1',
  'mobilenetv2',
];

/** A block as a row of the paper's tables: kernel, exp, out, SE, activation, stride. */
function row(b: Block): string {
  const exp = b.type === 'ir' ? b.exp : '-';
  const se = b.type !== 'conv' && b.se ? 'SE' : '-';
  const act = { relu: 'RE', relu6: 'R6', hswish: 'HS' }[b.act];
  return `${b.kernel} ${exp} ${b.out} ${se} ${act} ${b.stride}`;
}

test('the reference names are listed in a fixed order, each with a one-line description', () => {
  assert.deepEqual(referenceNames(), NAMES);
  for (const n of NAMES) {
    assert.ok(isReferenceName(n));
    const d = referenceDescription(n);
    assert.ok(d.length > 0 && !d.includes('\n'), n);
  }
  assert.equal(isReferenceName('nosuch'), false);
});

test('mobilenetv3-large mirrors Table 1 row by row', () => {
  const spec = referenceArch('mobilenetv3-large');
  assert.deepEqual(spec.stages.flat().map(row), [
    '3 16 16 - RE 1', '3 64 24 - RE 2', '3 72 24 - RE 1', '5 72 40 SE RE 2', '5 120 40 SE RE 1', '5 120 40 SE RE 1',
    '3 240 80 - HS 2', '3 200 80 - HS 1', '3 184 80 - HS 1', '3 184 80 - HS 1', '3 480 112 SE HS 1', '3 672 112 SE HS 1',
    '5 672 160 SE HS 2', '5 960 160 SE HS 1', '5 960 160 SE HS 1',
  ]);
  assert.deepEqual(spec.stem, { kernel: 3, stride: 2, out: 16, act: 'hswish' });
  assert.deepEqual(spec.head, { conv: 960, hidden: 1280, act: 'hswish' });
  assert.deepEqual(spec.bn, { decay: 0.99, eps: 1e-3 });
  assert.equal(spec.padding, 'symmetric');
  assert.equal(spec.dropout, 0.2);
  assert.deepEqual(spec.input, { size: 224, channels: 3 });
  assert.equal(spec.classes, 1000);
  assert.deepEqual(spec.stages[2]?.[0]?.type === 'ir' && spec.stages[2][0].se, { ratio: 0.25, of: 'expanded', gate: 'hsigmoid' });
});

test('mobilenetv3-small mirrors Table 2 row by row, without SE on the last 1x1', () => {
  const spec = referenceArch('mobilenetv3-small');
  assert.deepEqual(spec.stages.flat().map(row), [
    '3 16 16 SE RE 2', '3 72 24 - RE 2', '3 88 24 - RE 1', '5 96 40 SE HS 2', '5 240 40 SE HS 1', '5 240 40 SE HS 1',
    '5 120 48 SE HS 1', '5 144 48 SE HS 1', '5 288 96 SE HS 2', '5 576 96 SE HS 1', '5 576 96 SE HS 1',
  ]);
  assert.deepEqual(spec.head, { conv: 576, hidden: 1024, act: 'hswish' });
});

test('the 0.75 variants differ from 1.0 only in width and name', () => {
  for (const base of ['mobilenetv3-large', 'mobilenetv3-small']) {
    const full = referenceArch(base);
    const narrow = referenceArch(`${base}-0.75`);
    assert.equal(narrow.width, 0.75);
    assert.deepEqual({ ...narrow, name: full.name, width: 1 }, full);
  }
});

test('minimalistic variants: same widths, no SE, ReLU everywhere (stem and head too), all kernels 3', () => {
  for (const base of ['mobilenetv3-large', 'mobilenetv3-small']) {
    const full = referenceArch(base);
    const min = referenceArch(`${base}-minimal`);
    const blocks = min.stages.flat();
    assert.ok(blocks.every((b) => b.kernel === 3 && b.act === 'relu' && (b.type === 'conv' || b.se === null)));
    assert.deepEqual(
      blocks.map((b) => [b.type === 'ir' ? b.exp : 0, b.out, b.stride]),
      full.stages.flat().map((b) => [b.type === 'ir' ? b.exp : 0, b.out, b.stride]),
    );
    assert.equal(min.stem.act, 'relu');
    assert.equal(min.head.act, 'relu');
    assert.equal(min.head.hidden, full.head.hidden);
  }
});

test('mnasnet-a1: sepconv first, MnasNet-style SE on the 40, 112 and 160 stages, relu, 1280 head', () => {
  const spec = referenceArch('mnasnet-a1');
  assert.deepEqual(spec.stem, { kernel: 3, stride: 2, out: 32, act: 'relu' });
  assert.equal(spec.stages[0]?.[0]?.type, 'ds');
  assert.deepEqual(
    spec.stages.map((s) => [s.length, s[0]?.out, s[0]?.kernel, s[0]?.stride, s[0]?.type !== 'conv' && s[0]?.se !== null]),
    [
      [1, 16, 3, 1, false],
      [2, 24, 3, 2, false],
      [3, 40, 5, 2, true],
      [4, 80, 3, 2, false],
      [2, 112, 3, 1, true],
      [3, 160, 5, 2, true],
      [1, 320, 3, 1, false],
    ],
  );
  const se = spec.stages[2]?.[0];
  assert.ok(se?.type === 'ir');
  assert.deepEqual(se.se, { ratio: 0.25, of: 'input', gate: 'sigmoid' });
  assert.deepEqual(spec.head, { conv: 1280, hidden: null, act: 'relu' });
  assert.deepEqual(spec.bn, { decay: 0.99, eps: 1e-3 });
});

test('mnasnet-b1 and mobilenetv2 follow torchvision: no SE, their BN settings and activations', () => {
  const b1 = referenceArch('mnasnet-b1');
  assert.ok(b1.stages.flat().every((b) => b.type === 'conv' || b.se === null));
  assert.deepEqual(b1.bn, { decay: 0.9997, eps: 1e-5 });
  const v2 = referenceArch('mobilenetv2');
  assert.ok(v2.stages.flat().every((b) => b.act === 'relu6'));
  assert.equal(v2.stem.act, 'relu6');
  assert.deepEqual(v2.head, { conv: 1280, hidden: null, act: 'relu6' });
  assert.equal(v2.bn.eps, 1e-5);
  assert.deepEqual(
    v2.stages.map((s) => s.length),
    [1, 2, 3, 4, 3, 3, 1],
  );
});

test('each stage is a run of blocks with one output width', () => {
  for (const n of NAMES) {
    const outs = referenceArch(n).stages.map((s) => {
      const set = new Set(s.map((b) => b.out));
      assert.equal(set.size, 1, `${n}: a stage has one output width`);
      return s[0]?.out;
    });
    for (let i = 1; i < outs.length; i++) assert.notEqual(outs[i], outs[i - 1], `${n}: stages ${i - 1} and ${i}`);
  }
});

test('referenceArch returns a fresh copy each time', () => {
  const a = referenceArch('mobilenetv3-large');
  const b = referenceArch('mobilenetv3-large');
  assert.deepEqual(a, b);
  assert.notEqual(a.stages, b.stages);
});

test('an unknown reference name is an ArchError listing the known names', () => {
  assert.throws(
    () => referenceArch('mobilenetv4'),
    (e: unknown) => e instanceof ArchError && e.message.includes("'mobilenetv4'") && NAMES.every((n) => e.message.includes(n)),
  );
});
