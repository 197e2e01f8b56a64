import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { referenceArch, referenceNames } from '../space/reference.js';
import { runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-cli-arch-'));
after(() => rmSync(dir, { recursive: true, force: true }));

interface ShowJson {
  name: string;
  canonical: string;
  params: number;
  paramsWithBnStats: number;
  madds: number;
  layers: { path: string; op: string; params: number; madds: number }[];
}

test('arch show mobilenetv3-large --json prints the exact counts, the canonical string and the layers', () => {
  const r = runCli(['arch', 'show', 'mobilenetv3-large', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as ShowJson;
  assert.equal(j.name, 'mobilenetv3-large');
  assert.equal(j.params, 5_483_032);
  assert.equal(j.paramsWithBnStats, 5_507_432);
  assert.ok(Math.abs(j.madds - 216.6e6) <= 0.005 * 216.6e6);
  assert.match(j.canonical, /^v1_in224x3_cls1000_w1_padsym_/);
  assert.equal(j.layers[0]?.path, 'stem');
  assert.equal(j.layers.at(-1)?.path, 'head.classifier');
});

test('arch show prints a layer table with totals and the canonical string', () => {
  const r = runCli(['arch', 'show', 'mobilenetv3-small']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^s2\.b0\.se\.reduce\s+se-reduce\s/m);
  assert.match(r.stdout, /trainable params\s+2,542,856/);
  assert.match(r.stdout, /with BN stats\s+2,554,968/);
  assert.match(r.stdout, /MAdds\s+56\.51M/);
  assert.match(r.stdout, /canonical\s+v1_in224x3_cls1000_w1_/);
});

test('arch show applies --input, --classes and --width', () => {
  const r = runCli(['arch', 'show', 'mobilenetv3-large', '--width', '0.75', '--input', '32', '--classes', '10', '--json']);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as ShowJson;
  assert.match(j.canonical, /^v1_in32x3_cls10_w0\.75_/);
  assert.equal(j.layers.find((l) => l.path === 'head.classifier')?.params, 1280 * 10 + 10);
});

test('arch show accepts block strings and a spec file', () => {
  const blocks = runCli(['arch', 'show', 'ir_k3_s1_x16_c16_re', 'ir_k5_s2_x72_c40_se_re', '--json']);
  assert.equal(blocks.status, 0, blocks.stderr);
  assert.match((JSON.parse(blocks.stdout) as ShowJson).canonical, /:ir_k3_s1_x16_c16_re:ir_k5_s2_x72_c40_se_re:head_/);
  const path = join(dir, 'a1.json');
  writeFileSync(path, JSON.stringify(referenceArch('mnasnet-a1')));
  const file = runCli(['arch', 'show', path, '--json']);
  assert.equal(file.status, 0, file.stderr);
  assert.equal((JSON.parse(file.stdout) as ShowJson).name, 'mnasnet-a1');
});

test('arch show nosuch exits 2 with one stderr line listing the known names', () => {
  userError(runCli(['arch', 'show', 'nosuch']), "'nosuch'", 'mobilenetv3-large', 'mnasnet-b1');
});

test('a malformed block string exits 2 naming the token', () => {
  userError(runCli(['arch', 'show', 'ir_k4_s1_x16_c16_re']), "token 'k4'", 'grammar');
});

test('a spec JSON with an unknown key exits 2 naming the key path', () => {
  const spec = JSON.parse(JSON.stringify(referenceArch('mobilenetv3-large'))) as { stages: Record<string, unknown>[][] };
  const b = spec.stages[2]?.[0];
  assert.ok(b);
  b['kernal'] = 5;
  const path = join(dir, 'bad.json');
  writeFileSync(path, JSON.stringify(spec));
  userError(runCli(['arch', 'show', path]), 'stages[2][0].kernal: unknown key');
});

test('--width 0 exits 2 saying the width must be positive', () => {
  userError(runCli(['arch', 'show', 'mobilenetv3-large', '--width', '0']), '--width must be > 0, got 0');
});

test('arch list lists every reference name, and --json gives them with counts', () => {
  const r = runCli(['arch', 'list']);
  assert.equal(r.status, 0, r.stderr);
  for (const n of referenceNames()) assert.match(r.stdout, new RegExp(`^${n.replace('.', '\\.')}\\s`, 'm'));
  const j = runCli(['arch', 'list', '--json']);
  assert.equal(j.status, 0, j.stderr);
  const parsed = JSON.parse(j.stdout) as { archs: { name: string; params: number }[] };
  assert.deepEqual(
    parsed.archs.map((a) => a.name),
    [...referenceNames()],
  );
  assert.equal(parsed.archs.find((a) => a.name === 'mobilenetv2')?.params, 3_504_872);
});
