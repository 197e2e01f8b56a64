import assert from 'node:assert/strict';
import { test } from 'node:test';
import seedrandom from 'seedrandom';
import { ArchError, UsageError } from '../common/errors.js';
import { encodeArch } from '../space/blockString.js';
import { referenceArch } from '../space/reference.js';
import { resolve } from '../space/resolve.js';
import {
  applySample,
  decisions,
  encodeSample,
  findSample,
  type SearchSpace,
  sampleUniform,
  spaceSize,
  spaceSizeLog10,
  validateSpace,
} from '../space/searchSpace.js';
import { builtinSpace, spaceNames } from '../space/spaces.js';

// Once-for-All's MobileNetV3 space: per-layer kernel {3,5,7} and expansion {3,4,6}, depth {2,3,4} per stage,
// resolution {160, 164, ..., 224}.
const OFA: unknown = {
  version: 1,
  kind: 'space',
  name: 'ofa-mbv3',
  input: { size: { oneOf: Array.from({ length: 17 }, (_, i) => 160 + 4 * i) }, channels: 3 },
  classes: 1000,
  width: 1,
  padding: 'symmetric',
  bn: { decay: 0.9, eps: 1e-5 },
  dropout: 0.1,
  stem: { kernel: 3, stride: 2, out: 16, act: 'hswish' },
  stages: [
    [24, 2, 'relu', false],
    [40, 2, 'relu', true],
    [80, 2, 'hswish', false],
    [112, 1, 'hswish', true],
    [160, 2, 'hswish', true],
  ].map(([out, stride, act, se]) => ({
    layers: { oneOf: [2, 3, 4] },
    stride,
    out,
    decide: 'layer',
    block: {
      op: { type: 'ir', expand: { oneOf: [3, 4, 6] } },
      kernel: { oneOf: [3, 5, 7] },
      se: se ? { ratio: 0.25, of: 'expanded', gate: 'hsigmoid' } : null,
      act,
    },
  })),
  head: { conv: 960, hidden: 1280, act: 'hswish' },
};

test('mnasnet-a1 and mobilenetv2 are points of the mnasnet space', () => {
  const space = builtinSpace('mnasnet');
  for (const name of ['mnasnet-a1', 'mobilenetv2']) {
    // torchvision's MobileNetV2 keeps PyTorch's batch-norm settings, a training convention the space does not search.
    const ref = { ...referenceArch(name), bn: { decay: 0.99, eps: 1e-3 } };
    const sample = findSample(space, ref);
    assert.ok(sample, `${name} is not found in mnasnet`);
    assert.equal(encodeArch(applySample(space, sample)), encodeArch(ref));
    assert.equal(encodeSample(space, sample), encodeArch(ref));
  }
});

test('findSample returns null for an architecture outside the space', () => {
  const space = builtinSpace('mnasnet');
  assert.equal(findSample(space, referenceArch('mobilenetv3-large')), null);
  const a1 = referenceArch('mnasnet-a1');
  assert.equal(findSample(space, { ...a1, head: { ...a1.head, conv: 1024 } }), null);
});

test('findSample inverts applySample on random samples', () => {
  const rng = seedrandom('find');
  for (const name of spaceNames()) {
    const space = builtinSpace(name);
    for (let i = 0; i < 20; i++) {
      const s = sampleUniform(space, rng);
      const arch = applySample(space, s);
      const found = findSample(space, arch);
      assert.ok(found, `${name}: sample ${s.join('.')} not found back`);
      assert.equal(encodeSample(space, found), encodeArch(arch));
    }
  }
});

test('the Once-for-All MobileNetV3 space can be written in the format', () => {
  const space = validateSpace(OFA);
  const perLayer = 3n * 3n;
  const perStage = perLayer ** 2n + perLayer ** 3n + perLayer ** 4n;
  assert.equal(spaceSize(space), perStage ** 5n * 17n);
  assert.ok(Math.abs(spaceSizeLog10(space) - Math.log10(Number(perStage ** 5n * 17n))) < 1e-9);
  // 1 resolution + 5 stages x (layers + 4 layers x (expand, kernel)).
  assert.equal(decisions(space).length, 1 + 5 * (1 + 4 * 2));
  const rng = seedrandom('ofa');
  for (let i = 0; i < 50; i++) {
    const s = sampleUniform(space, rng);
    const arch = applySample(space, s);
    resolve(arch);
    for (const [k, stage] of arch.stages.entries()) assert.equal(stage.length, [2, 3, 4][s[1 + 9 * k] ?? -1]);
    const found = findSample(space, arch);
    assert.ok(found);
    assert.equal(encodeSample(space, found), encodeArch(arch));
  }
});

test('every sample of every built-in space validates and resolves', () => {
  for (const name of spaceNames()) {
    const space = builtinSpace(name);
    const rng = seedrandom(`all-${name}`);
    for (let i = 0; i < 200; i++) {
      const arch = applySample(space, sampleUniform(space, rng));
      const r = resolve(arch);
      assert.ok(r.blocks.length > 0);
    }
    assert.ok(spaceSize(space) > 1n);
  }
});

test('small-input spaces have a stride-1 stem and a 32 px input', () => {
  for (const name of ['mnasnet-small-input', 'mobilenetv3-small-input', 'mobilenetv3s-small-input']) {
    const space = builtinSpace(name);
    const arch = applySample(space, sampleUniform(space, seedrandom('small')));
    assert.equal(arch.stem.stride, 1);
    assert.equal(arch.input.size, 32);
  }
});

test('the walk order of mnasnet is stable', () => {
  const paths = decisions(builtinSpace('mnasnet')).map((d) => `${d.path}:${d.options}`);
  const stage = (i: number, layers: number, out: number): string[] =>
    [`layers:${layers}`, `out:${out}`, 'op:5', 'kernel:2', 'se:2', 'skip:2'].map((p) => `stages[${i}].${p}`);
  assert.deepEqual(paths, [
    'stem.act:2',
    ...stage(0, 2, 2),
    ...stage(1, 3, 2),
    ...stage(2, 3, 3),
    ...stage(3, 3, 3),
    ...stage(4, 3, 4),
    ...stage(5, 3, 3),
    ...stage(6, 2, 3),
  ]);
  assert.equal(decisions(builtinSpace('mnasnet'))[0]?.id, 'act');
});

test('the mobilenetv3 space has V3 stem and head and per-stage V3 choices', () => {
  const space = builtinSpace('mobilenetv3');
  const paths = decisions(space).map((d) => d.path);
  assert.deepEqual(paths.slice(0, 6), [
    'stages[0].layers',
    'stages[0].out',
    'stages[0].expand',
    'stages[0].kernel',
    'stages[0].se',
    'stages[0].act',
  ]);
  assert.equal(paths.length, 36);
  const arch = applySample(space, sampleUniform(space, seedrandom('v3')));
  assert.deepEqual(arch.stem, { kernel: 3, stride: 2, out: 16, act: 'hswish' });
  assert.deepEqual(arch.head, { conv: 960, hidden: 1280, act: 'hswish' });
});

test('per-stage decisions are shared by the stage layers; expansion ratios apply to each layer input', () => {
  const space = builtinSpace('mnasnet');
  const a1 = referenceArch('mnasnet-a1');
  const s = findSample(space, a1);
  assert.ok(s);
  const arch = applySample(space, s);
  const stage2 = arch.stages[2] ?? [];
  assert.deepEqual(
    stage2.map((b) => (b.type === 'ir' ? [b.kernel, b.exp, b.out, b.stride] : [])),
    [
      [5, 72, 40, 2],
      [5, 120, 40, 1],
      [5, 120, 40, 1],
    ],
  );
});

test('sampleUniform is deterministic for a seed', () => {
  const space = builtinSpace('mnasnet');
  const a = Array.from({ length: 5 }, ((rng) => () => sampleUniform(space, rng))(seedrandom('42')));
  const b = Array.from({ length: 5 }, ((rng) => () => sampleUniform(space, rng))(seedrandom('42')));
  assert.deepEqual(a, b);
  const c = sampleUniform(space, seedrandom('43'));
  assert.notDeepEqual(a[0], c);
});

test('applySample is pure and rejects bad samples with one-line errors', () => {
  const space = builtinSpace('mnasnet');
  const n = decisions(space).length;
  const zeros = Array.from({ length: n }, () => 0);
  assert.equal(encodeSample(space, zeros), encodeSample(space, zeros));
  assert.throws(() => applySample(space, zeros.slice(1)), (e: unknown) => {
    assert.ok(e instanceof UsageError);
    assert.match(e.message, new RegExp(`expected ${n} decisions, got ${n - 1}`));
    return true;
  });
  assert.throws(() => applySample(space, [...zeros.slice(0, 2), 7, ...zeros.slice(3)]), /decision 2 \(stages\[0\]\.out\) must be an integer in \[0, 1\], got 7/);
  assert.throws(() => applySample(space, [...zeros.slice(0, n - 1), -1]), UsageError);
  assert.throws(() => applySample(space, [...zeros.slice(0, n - 1), 0.5]), UsageError);
});

test('bad spaces are rejected with one-line errors naming the path', () => {
  const good = builtinSpace('mnasnet');
  const bad = (patch: (s: Record<string, unknown>) => void, re: RegExp): void => {
    const json = JSON.parse(JSON.stringify(good)) as Record<string, unknown>;
    patch(json);
    assert.throws(
      () => validateSpace(json),
      (e: unknown) => e instanceof ArchError && re.test(e.message) && !e.message.includes('\n'),
      re.source,
    );
  };
  const stage0 = (s: Record<string, unknown>): Record<string, unknown> =>
    (s['stages'] as Record<string, unknown>[])[0] as Record<string, unknown>;
  const block0 = (s: Record<string, unknown>): Record<string, unknown> => stage0(s)['block'] as Record<string, unknown>;
  bad((s) => (block0(s)['kernel'] = { oneOf: [3, 4] }), /stages\[0\]\.block\.kernel\.oneOf\[1\]: must be an odd integer/);
  bad((s) => (block0(s)['kernel'] = { oneOf: [] }), /stages\[0\]\.block\.kernel\.oneOf: must be a non-empty array/);
  bad((s) => (block0(s)['kernel'] = { oneOf: [3, 3] }), /kernel\.oneOf\[1\]: duplicate option/);
  bad((s) => (block0(s)['kernal'] = 3), /stages\[0\]\.block\.kernal: unknown key/);
  bad((s) => (block0(s)['op'] = { oneOf: [{ type: 'ir', expand: { oneOf: [3, 6] } }] }), /op\.oneOf\[0\]: an option cannot contain a choice node/);
  bad((s) => (block0(s)['op'] = { type: 'mb' }), /stages\[0\]\.block\.op\.type: must be one of 'conv', 'ds', 'ir'/);
  bad((s) => (block0(s)['act'] = { oneOf: ['relu', 'gelu'] }), /block\.act\.oneOf\[1\]: must be one of/);
  bad((s) => (stage0(s)['layers'] = { oneOf: [-1, 1] }), /stages\[0\]\.layers\.oneOf\[0\]: must be an integer >= 0/);
  bad((s) => delete stage0(s)['base'], /stages\[0\]\.base: missing/);
  bad((s) => (stage0(s)['decide'] = 'block'), /stages\[0\]\.decide: must be one of 'stage', 'layer'/);
  bad((s) => (s['kind'] = 'arch'), /kind: must be 'space'/);
  bad(
    (s) => ((s['head'] as Record<string, unknown>)['act'] = { oneOf: ['relu', 'hswish'], id: 'act' }),
    /head\.act: choice id 'act' has other options than at stem\.act/,
  );
});

test('a space with optional stages (layers 0) drops them and counts them once', () => {
  const json = JSON.parse(JSON.stringify(builtinSpace('mobilenetv3'))) as SearchSpace & { stages: { layers: unknown }[] };
  const last = json.stages[5];
  assert.ok(last);
  last.layers = { oneOf: [0, 1] };
  const space = validateSpace(json);
  const ds = decisions(space);
  const n5 = ds.findIndex((d) => d.path === 'stages[5].layers');
  const s = ds.map(() => 0);
  const arch = applySample(space, s);
  assert.equal(arch.stages.length, 5);
  assert.deepEqual(findSample(space, arch)?.[n5], 0);
  const without = validateSpace({ ...json, stages: json.stages.slice(0, 5) });
  const perStage5 = spaceSize(validateSpace({ ...json, stages: [...json.stages.slice(0, 5), { ...last, layers: 1 }] })) / spaceSize(without);
  assert.equal(spaceSize(space), spaceSize(without) * (1n + perStage5));
});
