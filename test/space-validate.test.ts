import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ArchError } from '../common/errors.js';
import { referenceArch, referenceNames } from '../space/reference.js';
import { validateArchSpec } from '../space/validate.js';

type Json = Record<string, unknown>;

/** A mutable JSON copy of a reference spec. */
function json(name = 'mobilenetv3-large'): Json {
  return JSON.parse(JSON.stringify(referenceArch(name))) as Json;
}

function block(spec: Json, stage: number, index: number): Json {
  const stages = spec['stages'] as Json[][];
  const b = stages[stage]?.[index];
  assert.ok(b);
  return b;
}

/** Asserts that validation fails with exactly `message` (an ArchError on one line). */
function rejects(spec: unknown, message: string | RegExp): void {
  assert.throws(
    () => validateArchSpec(spec),
    (e: unknown) => {
      assert.ok(e instanceof ArchError, `expected ArchError, got ${String(e)}`);
      assert.ok(!e.message.includes('\n'), 'one line');
      if (typeof message === 'string') assert.equal(e.message, message);
      else assert.match(e.message, message);
      return true;
    },
  );
}

test('every reference spec survives JSON and validates to an equal spec', () => {
  for (const name of referenceNames()) {
    assert.deepEqual(validateArchSpec(json(name)), referenceArch(name), name);
  }
});

test('an unknown key inside a block is named by its full path', () => {
  const spec = json();
  block(spec, 2, 0)['kernal'] = 5;
  rejects(spec, 'stages[2][0].kernal: unknown key');
});

test('unknown keys at the top level and in nested objects are rejected', () => {
  rejects({ ...json(), extra: 1 }, 'extra: unknown key');
  const spec = json();
  (spec['bn'] as Json)['momentum'] = 0.1;
  rejects(spec, 'bn.momentum: unknown key');
  const se = json();
  (block(se, 2, 0)['se'] as Json)['reduce'] = 8;
  rejects(se, 'stages[2][0].se.reduce: unknown key');
});

test('an even kernel is rejected with the rule and the value', () => {
  const spec = json();
  block(spec, 1, 1)['kernel'] = 4;
  rejects(spec, 'stages[1][1].kernel: must be an odd integer >= 1, got 4');
});

test('version must be 1', () => {
  rejects({ ...json(), version: 2 }, 'version: must be 1, got 2');
  const { version: _omitted, ...noVersion } = json();
  rejects(noVersion, 'version: missing');
});

test('wrong types and ranges are reported one line each', () => {
  const cases: [(s: Json) => void, string][] = [
    [(s) => (block(s, 0, 0)['stride'] = 3), 'stages[0][0].stride: must be 1 or 2, got 3'],
    [(s) => (block(s, 0, 0)['out'] = '16'), 'stages[0][0].out: must be a number, got "16"'],
    [(s) => (block(s, 0, 0)['exp'] = 0), 'stages[0][0].exp: must be a positive integer, got 0'],
    [(s) => (block(s, 0, 0)['act'] = 'gelu'), "stages[0][0].act: must be one of 'relu', 'relu6', 'hswish', got \"gelu\""],
    [(s) => (block(s, 0, 0)['type'] = 'mb'), "stages[0][0].type: must be one of 'conv', 'ds', 'ir', got \"mb\""],
    [(s) => (s['width'] = 0), 'width: must be > 0, got 0'],
    [(s) => (s['dropout'] = 1), 'dropout: must be in [0, 1), got 1'],
    [(s) => (s['classes'] = 2.5), 'classes: must be a positive integer, got 2.5'],
    [(s) => (s['padding'] = 'valid'), "padding: must be one of 'symmetric', 'same', got \"valid\""],
    [(s) => ((s['input'] as Json)['size'] = -1), 'input.size: must be a positive integer, got -1'],
    [(s) => ((s['head'] as Json)['hidden'] = 0), 'head.hidden: must be a positive integer, got 0'],
    [(s) => (s['stages'] = [[]]), 'stages[0]: a stage needs at least one block'],
    [(s) => (s['name'] = ''), 'name: must be a non-empty string, got ""'],
    [(s) => delete (s['stem'] as Json)['act'], 'stem.act: missing'],
  ];
  for (const [mutate, message] of cases) {
    const spec = json();
    mutate(spec);
    rejects(spec, message);
  }
  rejects([], 'arch spec: must be an object, got an array');
});

test('a conv block takes no SE and no exp', () => {
  const spec = json();
  (spec['stages'] as Json[][]).push([{ type: 'conv', kernel: 1, stride: 1, out: 960, act: 'hswish', skip: true, se: null }]);
  rejects(spec, 'stages[6][0].se: unknown key');
});

test('only the MobileNetV3 and MnasNet SE styles are accepted', () => {
  const spec = json();
  block(spec, 2, 0)['se'] = { ratio: 0.25, of: 'expanded', gate: 'sigmoid' };
  rejects(spec, /^stages\[2\]\[0\]\.se: of 'expanded' with gate 'sigmoid' is neither MobileNetV3 style/);
});

test('se and skip may be left out of a block and default to none and true', () => {
  const spec = json();
  const b = block(spec, 3, 0);
  delete b['se'];
  delete b['skip'];
  const v = validateArchSpec(spec);
  assert.deepEqual(v.stages[3]?.[0], { type: 'ir', kernel: 3, stride: 2, exp: 240, out: 80, se: null, act: 'hswish', skip: true });
});
