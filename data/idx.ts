// The IDX format of MNIST and Fashion-MNIST: magic 0x0000 0x08 (unsigned byte) <ndims>, ndims big-endian uint32
// dimensions, then the data. The file size is checked against the header.
import { NasError } from '../common/errors.js';

export interface IdxArray {
  readonly dims: readonly number[];
  /** The data after the header (a view, not a copy). */
  readonly data: Uint8Array;
}

export function parseIdx(bytes: Uint8Array, path: string, hint: string): IdxArray {
  const corrupt = (why: string): NasError => new NasError('E_IO', `${path} is truncated or corrupt: ${why}; ${hint}`);
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw corrupt('not an IDX file (bad magic number)');
  if (bytes[2] !== 0x08) throw corrupt(`IDX element type 0x${(bytes[2] ?? 0).toString(16)} is not unsigned byte`);
  const ndims = bytes[3]!;
  const headerBytes = 4 + 4 * ndims;
  if (ndims < 1 || bytes.length < headerBytes) throw corrupt(`the header is cut short (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < ndims; i++) dims.push(view.getUint32(4 + 4 * i, false));
  const expected = headerBytes + dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== expected) {
    throw corrupt(`the header says ${dims.join('x')} (${expected} bytes) but the file has ${bytes.length} bytes`);
  }
  return { dims, data: bytes.subarray(headerBytes) };
}
