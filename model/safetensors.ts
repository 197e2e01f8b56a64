// The safetensors format (8-byte little-endian header length, a JSON header of name -> dtype, shape and byte
// range, then raw little-endian data): how PyTorch weights reach us without pickle.
import { readFileSync } from 'node:fs';
import { NasError } from '../common/errors.js';

export interface NamedArray {
  readonly shape: readonly number[];
  readonly data: Float32Array;
}

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads every float tensor of a safetensors file as float32 (F32 as is; F16/BF16/F64 converted). */
export function readSafetensors(path: string): Map<string, NamedArray> {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (e) {
    throw new NasError('E_IO', `cannot read ${path}: ${(e as Error).message}`);
  }
  const bad = (why: string): NasError => new NasError('E_IO', `${path} is not a safetensors file: ${why}`);
  if (buf.length < 8) throw bad('too short');
  const headerLen = Number(buf.readBigUInt64LE(0));
  if (headerLen > buf.length - 8) throw bad('header length past the end');
  let header: Record<string, HeaderEntry | Record<string, string>>;
  try {
    header = JSON.parse(buf.subarray(8, 8 + headerLen).toString('utf8')) as typeof header;
  } catch {
    throw bad('header is not JSON');
  }
  const base = 8 + headerLen;
  const out = new Map<string, NamedArray>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: [begin, end] } = entry as HeaderEntry;
    const count = shape.reduce((a, b) => a * b, 1);
    const bytes = buf.subarray(base + begin, base + end);
    if (base + end > buf.length) throw bad(`${name} runs past the end`);
    out.set(name, { shape, data: toFloat32(dtype, bytes, count, name, path) });
  }
  return out;
}

function toFloat32(dtype: string, bytes: Buffer, count: number, name: string, path: string): Float32Array {
  const data = new Float32Array(count);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const width = { F32: 4, F64: 8, F16: 2, BF16: 2 }[dtype];
  if (width === undefined) throw new NasError('E_IO', `${path}: ${name} has dtype ${dtype}; expected a float type`);
  if (bytes.byteLength !== count * width) throw new NasError('E_IO', `${path}: ${name} has the wrong byte length`);
  for (let i = 0; i < count; i++) {
    if (dtype === 'F32') data[i] = view.getFloat32(i * 4, true);
    else if (dtype === 'F64') data[i] = view.getFloat64(i * 8, true);
    else if (dtype === 'BF16') data[i] = new Float32Array(new Uint32Array([view.getUint16(i * 2, true) << 16]).buffer)[0] ?? 0;
    else data[i] = halfToFloat(view.getUint16(i * 2, true));
  }
  return data;
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * 2 ** -14 * (f / 1024);
  if (e === 31) return f ? Number.NaN : s * Number.POSITIVE_INFINITY;
  return s * 2 ** (e - 15) * (1 + f / 1024);
}
