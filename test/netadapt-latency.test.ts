// NetAdapt's latency source: with a lookup table, the entries a proposal needs and the table lacks are measured on the
// node runner and written back to the file, instead of failing the run.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { buildLut, lutKeys, readLut, writeLut } from '../latency/lut.js';
import { openRunner } from '../latency/runner.js';
import { openNetadaptLatency } from '../netadapt/latency.js';
import { applyShrink } from '../netadapt/proposals.js';
import { resolve } from '../space/resolve.js';
import { tinyArch } from './netadapt-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-na-lut-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a LUT grows with the entries proposals need', async () => {
  const seed = tinyArch();
  const path = join(dir, 'lut.json');
  const runner = await openRunner('node', { backend: 'wasm', threads: 1 });
  writeLut(path, await buildLut({ archs: [seed], input: seed.input.size, runner, warmup: 1, runs: 2 }));
  await runner.close();
  const before = Object.keys(readLut(path).entries).length;

  const lat = await openNetadaptLatency({ kind: 'lut', path }, { seed, backend: 'wasm', warmup: 1, runs: 2 });
  try {
    const seedMs = await lat.latency(seed);
    assert.equal(lat.added(), 0, 'the seed is in the table');
    const shrunk = applyShrink(seed, { kind: 'expansion', block: 1, from: 72, to: 40 });
    const ms = await lat.latency(shrunk);
    assert.ok(ms > 0 && seedMs > 0);
    assert.equal(lat.added(), 1, 'one block changed shape: one new entry');
    const lut = readLut(path);
    assert.equal(Object.keys(lut.entries).length, before + 1);
    for (const k of lutKeys(resolve(shrunk))) assert.ok(lut.entries[k], `${k} is in the file`);
    // The new entry, alone in its batch, was timed for a quarter of a second per pass, not just the 2 runs asked for.
    const fresh = lutKeys(resolve(shrunk)).find((k) => !lutKeys(resolve(seed)).includes(k)) ?? '';
    assert.ok((lut.entries[fresh]?.runs ?? 0) > 20, `${fresh}: ${lut.entries[fresh]?.runs} runs`);
    // Asked again, it is a lookup.
    assert.equal(await lat.latency(shrunk), ms);
    assert.equal(lat.added(), 1);
  } finally {
    await lat.close();
  }
});
