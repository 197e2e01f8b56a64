// Reading dataset files: locating a file that may be gzipped, gunzipping off the main thread, and a weak in-process
// cache so loading the same dataset twice (tests, search then training) reads and gunzips the files once.
import { existsSync, statSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { NasError } from '../common/errors.js';

const gunzipAsync = promisify(gunzip);

export function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** The first of `name`, `name.gz` that exists in dir, or null. */
export function findMaybeGz(dir: string, name: string): string | null {
  for (const candidate of [name, `${name}.gz`]) {
    const path = join(dir, candidate);
    if (existsSync(path)) return path;
  }
  return null;
}

const cache = new Map<string, WeakRef<Uint8Array>>();

/** The bytes of a file, gunzipped when it starts with the gzip magic. Errors are one-line E_IO NasErrors. */
export async function readMaybeGz(path: string, what: string, hint: string): Promise<Uint8Array> {
  let key: string;
  try {
    const st = statSync(path);
    key = `${path}:${st.size}:${st.mtimeMs}`;
  } catch {
    throw new NasError('E_IO', `${what}: cannot read ${path}; ${hint}`);
  }
  const hit = cache.get(key)?.deref();
  if (hit) return hit;
  const raw = await readFile(path);
  let bytes: Uint8Array = raw;
  if (raw.length >= 2 && raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      bytes = await gunzipAsync(raw);
    } catch (e) {
      throw new NasError('E_IO', `${what}: ${path} is a truncated or corrupt gzip file (${(e as Error).message}); ${hint}`);
    }
  }
  cache.set(key, new WeakRef(bytes));
  return bytes;
}
