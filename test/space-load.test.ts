import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ArchError, NasError, UsageError } from '../common/errors.js';
import { encodeArch } from '../space/blockString.js';
import { archFromBlocks, loadArch } from '../space/load.js';
import { referenceArch, referenceNames } from '../space/reference.js';
import { failsWith } from './error-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-load-'));
after(() => rmSync(dir, { recursive: true, force: true }));


test('a reference name loads that reference', () => {
  assert.deepEqual(loadArch(['mnasnet-a1'], {}), referenceArch('mnasnet-a1'));
});

test('an unknown name is an ArchError listing the known names on one line', () => {
  failsWith(() => loadArch(['nosuch'], {}), ArchError, "'nosuch'", ...referenceNames());
});

test('a spec .json file is read and validated', () => {
  const path = join(dir, 'small.json');
  writeFileSync(path, JSON.stringify({ ...referenceArch('mobilenetv3-small'), name: 'mine' }));
  const spec = loadArch([path], {});
  assert.equal(spec.name, 'mine');
  assert.equal(encodeArch(spec), encodeArch(referenceArch('mobilenetv3-small')));
});

test("a checkpoint's arch.json (the spec with its canonical string) is read as its spec", () => {
  const spec = { ...referenceArch('mobilenetv3-small'), name: 'trained' };
  const path = join(dir, 'arch.json');
  writeFileSync(path, JSON.stringify({ canonical: encodeArch(spec), spec }));
  assert.deepEqual(loadArch([path], {}), spec);
  // a checkpoint directory, and a training run directory whose `latest` names its checkpoint
  const run = join(dir, 'run');
  mkdirSync(join(run, 'epoch-0002'), { recursive: true });
  writeFileSync(join(run, 'epoch-0002', 'arch.json'), JSON.stringify({ canonical: encodeArch(spec), spec }));
  writeFileSync(join(run, 'latest'), 'epoch-0002\n');
  assert.deepEqual(loadArch([join(run, 'epoch-0002')], {}), spec);
  assert.deepEqual(loadArch([run], {}), spec);
  mkdirSync(join(dir, 'empty'));
  failsWith(() => loadArch([join(dir, 'empty')], {}), ArchError, 'checkpoint or training run directory');
});

test('a spec file with an unknown key is an ArchError naming the file and the key path', () => {
  const spec = JSON.parse(JSON.stringify(referenceArch('mobilenetv3-small'))) as { stages: Record<string, unknown>[][] };
  const b = spec.stages[1]?.[0];
  assert.ok(b);
  b['kernal'] = 3;
  const path = join(dir, 'bad.json');
  writeFileSync(path, JSON.stringify(spec));
  failsWith(() => loadArch([path], {}), ArchError, path, 'stages[1][0].kernal: unknown key');
});

test('a missing file and invalid JSON say so', () => {
  failsWith(() => loadArch([join(dir, 'none.json')], {}), NasError, 'none.json', 'no such file');
  const path = join(dir, 'broken.json');
  writeFileSync(path, '{"version": 1,');
  failsWith(() => loadArch([path], {}), ArchError, path, 'invalid JSON');
});

test('a whole-arch string loads the arch it encodes', () => {
  const spec = referenceArch('mobilenetv2');
  assert.deepEqual(loadArch([encodeArch(spec)], {}), { ...spec, name: 'custom' });
});

test('block strings get mobilenetv3-large defaults and equal out widths form a stage', () => {
  const spec = loadArch(['ir_k3_s1_x16_c16_re', 'ir_k3_s2_x64_c24_re', 'ir_k3_s1_x72_c24_re', 'ir_k5_s2_x72_c40_se_re'], {});
  const large = referenceArch('mobilenetv3-large');
  assert.deepEqual(
    spec.stages.map((s) => s.length),
    [1, 2, 1],
  );
  assert.deepEqual(spec.stem, large.stem);
  assert.deepEqual(spec.head, large.head);
  assert.deepEqual(spec.bn, large.bn);
  assert.equal(spec.name, 'custom');
  assert.deepEqual(loadArch(['ir_k3_s1_x16_c16_re ir_k3_s2_x64_c24_re,ir_k3_s1_x72_c24_re'], {}).stages.length, 2);
  assert.deepEqual(archFromBlocks(large.stages.flat()).stages, large.stages);
});

test('a malformed block string is the codec error', () => {
  failsWith(() => loadArch(['ir_k4_s1_x16_c16_re'], {}), ArchError, "token 'k4'", 'grammar');
  failsWith(() => loadArch(['ir_k3_s1_x16_c16_re', 'mobilenetv3-large'], {}), ArchError, "'mobilenetv3-large' is not a block string");
});

test('only block strings can be listed', () => {
  failsWith(() => loadArch(['mobilenetv3-large', 'mobilenetv3-small'], {}), UsageError, 'give one architecture');
  failsWith(() => loadArch([], {}), UsageError, 'name an architecture');
});

test('overrides replace input, channels, classes and width', () => {
  const spec = loadArch(['mobilenetv3-large-0.75'], { input: 32, channels: 1, classes: 10, width: 1 });
  assert.deepEqual(spec.input, { size: 32, channels: 1 });
  assert.equal(spec.classes, 10);
  assert.equal(spec.width, 1, 'replaces 0.75, does not multiply it');
  assert.equal(loadArch(['mobilenetv3-large'], { width: undefined }).width, 1);
});

test('bad overrides are usage errors naming the option', () => {
  failsWith(() => loadArch(['mobilenetv3-large'], { width: 0 }), UsageError, '--width must be > 0, got 0');
  failsWith(() => loadArch(['mobilenetv3-large'], { width: Number.NaN }), UsageError, '--width must be > 0, got NaN');
  failsWith(() => loadArch(['mobilenetv3-large'], { input: 0 }), UsageError, '--input must be a positive integer, got 0');
  failsWith(() => loadArch(['mobilenetv3-large'], { classes: 1.5 }), UsageError, '--classes must be a positive integer, got 1.5');
  failsWith(() => loadArch(['mobilenetv3-large'], { channels: -3 }), UsageError, '--channels must be a positive integer, got -3');
});
