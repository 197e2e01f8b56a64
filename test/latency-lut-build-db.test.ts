// `nas latency lut build --db`: the entries measured for one table file are cached in the results store, so a build
// of a new file on the same runner and machine reuses them instead of measuring again (latency/buildLutFile.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-lut-db-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const ARCH = ['ir_k3_s2_x16_c16_re', 'ir_k3_s1_x48_c16_hs'];
const fast = ['--input', '32', '--warmup', '1', '--runs', '2', '--sweeps', '1', '--calibrate', '0'];

interface BuildJson {
  entries: number;
  measured: number;
  reused: number;
}

test('lut build --db caches entries; a new table file on the same runner reuses them', () => {
  const db = join(dir, 'nas.db');
  const build = (out: string): BuildJson => {
    const r = runCli(['latency', 'lut', 'build', '--arch', ...ARCH, ...fast, '--db', db, '--out', out, '--json']);
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as BuildJson;
  };
  const first = build(join(dir, 'a.json'));
  assert.deepEqual([first.entries, first.measured, first.reused], [4, 4, 0]);
  const second = build(join(dir, 'b.json'));
  assert.deepEqual([second.entries, second.measured, second.reused], [4, 0, 4]);
  const entries = (f: string): unknown => (JSON.parse(readFileSync(join(dir, f), 'utf8')) as { entries: unknown }).entries;
  assert.deepEqual(entries('b.json'), entries('a.json'));
});
