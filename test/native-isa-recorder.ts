// Preloaded (NODE_OPTIONS=--import) by test/native-isa.test.ts into the test files it runs, when NAS_TEST_RECORD
// names a directory: records every float32 array read back from the wasm backend (dataSync) and the native
// functions called, and at exit writes them with the loaded addon's ISA to <dir>/<test file>.json and .bin.
// Inert otherwise, and in the test runner's own process (only the test files' processes have NODE_TEST_CONTEXT).
import { writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { nativeAddon, nativeStatus } from '../backend/native.js';

/** <file>.json; <file>.bin holds the arrays, float32, one after the other. */
export interface Recording {
  readonly isa: string | null;
  readonly called: readonly string[];
  readonly lengths: readonly number[];
}

const dir = process.env['NAS_TEST_RECORD'];
if (dir && process.env['NODE_TEST_CONTEXT']) record(dir);

function record(dir: string): void {
  const arrays: Float32Array[] = [];
  const called = new Set<string>();
  const dataSync = tf.Tensor.prototype.dataSync;
  tf.Tensor.prototype.dataSync = function (this: tf.Tensor) {
    const data = dataSync.call(this);
    if (tf.getBackend() === 'wasm' && data instanceof Float32Array) arrays.push(data.slice());
    return data;
  } as typeof dataSync;
  const addon = nativeAddon() as Record<string, unknown>;
  for (const [name, fn] of Object.entries(addon)) {
    if (typeof fn !== 'function') continue;
    addon[name] = (...args: unknown[]): unknown => {
      called.add(name);
      return (fn as (...a: unknown[]) => unknown)(...args);
    };
  }
  process.on('exit', () => {
    const file = join(dir, basename(process.argv[1] ?? 'unknown'));
    const status = nativeStatus();
    const isa = status.loaded ? status.isa : null;
    const out: Recording = { isa, called: [...called], lengths: arrays.map((a) => a.length) };
    writeFileSync(`${file}.json`, JSON.stringify(out));
    writeFileSync(`${file}.bin`, Buffer.concat(arrays.map((a) => Buffer.from(a.buffer, a.byteOffset, a.byteLength))));
  });
}
