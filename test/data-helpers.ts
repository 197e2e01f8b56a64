// Shared by the dataset tests (test/data-*.test.ts): temp dirs, error assertions, batch collection, and writers for
// small IDX, CIFAR and tar.gz fixtures built at test time.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { NasError } from '../common/errors.js';
import type { Batch, BatchOptions, Split } from '../data/types.js';

export function tempDir(prefix: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `nas-${prefix}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Asserts that f rejects with a one-line NasError of the code, mentioning every part. */
export async function rejectsWith(f: () => Promise<unknown>, code: NasError['code'], ...parts: string[]): Promise<NasError> {
  let caught: unknown;
  try {
    await f();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof NasError, `expected a NasError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.equal(caught.exitCode, 2);
  assert.ok(!caught.message.includes('\n'), `one line: ${caught.message}`);
  for (const p of parts) assert.ok(caught.message.includes(p), `'${caught.message}' should mention '${p}'`);
  return caught;
}

export async function collect(split: Split, opts: BatchOptions): Promise<Batch[]> {
  const out: Batch[] = [];
  for await (const b of split.batches(opts)) out.push(b);
  return out;
}

export function concatLabels(batches: readonly Batch[]): number[] {
  return batches.flatMap((b) => Array.from(b.labels));
}

/** An IDX file of unsigned bytes. */
export function idxBytes(dims: readonly number[], data: Uint8Array): Uint8Array {
  const header = Buffer.alloc(4 + 4 * dims.length);
  header[2] = 0x08;
  header[3] = dims.length;
  dims.forEach((d, i) => header.writeUInt32BE(d, 4 + 4 * i));
  return Buffer.concat([header, data]);
}

/** CIFAR records (label + CHW planes) from HWC images. */
export function cifarBytes(labels: readonly number[], hwc: (i: number) => Uint8Array): Uint8Array {
  const out = Buffer.alloc(labels.length * 3073);
  labels.forEach((l, i) => {
    const img = hwc(i);
    const base = i * 3073;
    out[base] = l;
    for (let p = 0; p < 1024; p++) for (let c = 0; c < 3; c++) out[base + 1 + c * 1024 + p] = img[p * 3 + c]!;
  });
  return out;
}

/** A ustar archive of regular files (and the two zero blocks that end it). */
export function tarBytes(files: readonly { name: string; data: Uint8Array }[]): Uint8Array {
  const parts: Uint8Array[] = [];
  for (const f of files) {
    const h = Buffer.alloc(512);
    h.write(f.name, 0, 100, 'utf8');
    h.write('0000644\0', 100);
    h.write('0000000\0', 108);
    h.write('0000000\0', 116);
    h.write(`${f.data.length.toString(8).padStart(11, '0')}\0`, 124);
    h.write('00000000000\0', 136);
    h.write('        ', 148);
    h[156] = '0'.charCodeAt(0);
    h.write('ustar\0', 257);
    h.write('00', 263);
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
    parts.push(h, f.data, Buffer.alloc((512 - (f.data.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

export const gzip = (b: Uint8Array): Uint8Array => gzipSync(b);
