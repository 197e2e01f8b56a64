// A full wasm heap (4 GiB, tfjs-backend-wasm's maximum) during training is reported as such: one line naming the
// cause, the network and batch and the way out, also stored as the run's failure. Before, the CLI printed
// "internal error: memory access out of bounds" (a trap inside tfjs) and the module's state was broken.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';
import { isWasmHeapFull, WASM_HEAP_MAX, WasmHeapFullError } from '../backend/heapGuard.js';
import { useBackend } from '../backend/select.js';
import { openStore } from '../results/store.js';
import { CLI, runCli } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-heap-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const BALLAST = fileURLToPath(new URL('./fixtures/wasm-ballast.js', import.meta.url));
const FULL = /^nas: the wasm backend's 4 GiB heap is full \(4\.\d\d GB in use\) with custom at 32 px, batch 128: use a smaller --batch, a smaller --input, or --backend tensorflow\n$/;

describe('a full wasm heap', () => {
  it('fails an allocation that does not fit with WasmHeapFullError, not a tensor at offset 0', async () => {
    await useBackend('wasm');
    // More than the heap can ever grow to: emscripten's malloc returns 0, which tfjs would take for an offset.
    const e = (() => {
      try {
        tf.zeros([Math.floor(WASM_HEAP_MAX / 4)]).dispose();
        return null;
      } catch (err) {
        return err;
      }
    })();
    assert.ok(e instanceof WasmHeapFullError, `got ${String(e)}`);
    assert.ok(isWasmHeapFull(e));
    assert.equal(isWasmHeapFull(new RangeError('array outside the wasm heap (bad offset or shape)')), false, 'a small heap is not full');
    assert.equal(tf.sum(tf.ones([1000])).dataSync()[0], 1000, 'the backend still computes');
  });

  it('gives train-final one line naming the cause, network, batch and fix, and stores it as the run failure', () => {
    const db = join(dir, 'nas.db');
    const args = [
      'train-final', '--data', 'mnist', '--limit', '300', '--input', '32', '--epochs', '1', '--batch', '128',
      '--arch', 'ir_k3_s1_x32_c16_re', 'ir_k3_s1_x48_c16_se_hs', '--backend', 'wasm', '--db', db, '--out', join(dir, 'run'),
    ];
    const r = runCli(args, { entry: ['--import', BALLAST, CLI] });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, FULL);
    const store = openStore(db);
    try {
      const runs = store.listRuns({ kind: 'train' });
      assert.equal(runs.length, 1);
      assert.equal(runs[0]?.status, 'failed');
      assert.equal(`nas: ${runs[0]?.error}\n`, r.stderr);
    } finally {
      store.close();
    }
  });
});
