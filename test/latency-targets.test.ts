// Resource targets as users type them, and the resource model's latency sources.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createResourceModel, parseLatencySource } from '../latency/resources.js';
import { formatTarget, parseTarget, parseTargets } from '../latency/targets.js';
import { costOf } from '../space/cost.js';
import { loadArch } from '../space/load.js';
import { resolve } from '../space/resolve.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-targets-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('targets: units, relative factors, exponents', () => {
  assert.deepEqual(parseTarget('latency=15ms'), { resource: 'latency', value: 15, relative: false, text: 'latency=15ms' });
  assert.equal(parseTarget('latency=0.02s').value, 20);
  assert.equal(parseTarget('latency=500us').value, 0.5);
  assert.equal(parseTarget('latency=12').value, 12);
  assert.equal(parseTarget('madds=60M').value, 60e6);
  assert.equal(parseTarget('params=2.5M').value, 2.5e6);
  assert.equal(parseTarget('params=300K').value, 300e3);
  const rel = parseTarget('latency=0.7x');
  assert.equal(rel.relative, true);
  assert.equal(rel.value, 0.7);
  const w = parseTarget('latency=75ms,w=-0.15');
  assert.equal(w.alpha, -0.15);
  assert.equal(w.beta, -0.15);
  const hard = parseTarget('latency=75ms,alpha=0,beta=-1');
  assert.deepEqual([hard.alpha, hard.beta], [0, -1]);
  assert.equal(formatTarget(parseTarget('madds=60M')), 'madds 60M');
  assert.equal(formatTarget(rel), 'latency 0.7x');
});

test('targets: bad input names what is wrong', () => {
  const bad = (text: string, msg: RegExp): void => assert.throws(() => parseTarget(text), msg);
  bad('latency=abc', /--target latency=abc: value 'abc' is not a number/);
  bad('latency=fast', /is not a number/);
  bad('speed=3', /unknown resource 'speed'/);
  bad('latency', /expected resource=value/);
  bad('latency=15kg', /unknown latency unit 'kg'/);
  bad('madds=60ms', /unknown madds unit 'ms'/);
  bad('latency=0ms', /greater than 0/);
  bad('latency=15ms,w=x', /w must be a number/);
  bad('latency=15ms,gamma=1', /unknown option 'gamma'/);
  assert.throws(() => parseTargets(['latency=15ms', 'latency=20ms']), /latency is given twice/);
});

test('latency sources: madds, a user module, bad specs', async () => {
  const spec = loadArch(['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_hs'], { input: 32, classes: 10 });
  const cost = costOf(resolve(spec));
  const madds = await createResourceModel(parseLatencySource('madds'));
  assert.equal(await madds.latency(spec), cost.madds / 1e6);
  assert.deepEqual(await madds.resources(spec), { latency: cost.madds / 1e6, madds: cost.madds, params: cost.params });

  const mod = join(dir, 'lat.mjs');
  writeFileSync(mod, 'export function latency(arch) { return arch.stages.length * 2; }\n');
  const user = await createResourceModel(parseLatencySource(`module:${mod}`));
  assert.equal(await user.latency(spec), spec.stages.length * 2);
  const none = join(dir, 'none.mjs');
  writeFileSync(none, 'export const x = 1;\n');
  await assert.rejects(createResourceModel(parseLatencySource(`module:${none}`)), /must export a function latency/);
  const neg = join(dir, 'neg.mjs');
  writeFileSync(neg, 'export const latency = () => -1;\n');
  await assert.rejects((await createResourceModel(parseLatencySource(`module:${neg}`))).latency(spec), /returned latency -1/);
  assert.throws(() => parseLatencySource('fast'), /expected lut:FILE, measure, madds, paired:REF or module:FILE/);
  await assert.rejects(createResourceModel(parseLatencySource(`lut:${join(dir, 'missing.json')}`)), /cannot read LUT/);
});
