// This package's own package.json, read at run time (so `nas --version` and `nas doctor` report what is installed,
// not a number copied into the code): the first package.json above this module, in the source tree and in dist/.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NasError } from './errors.js';

export interface PackageInfo {
  readonly name: string;
  readonly version: string;
  /** The Node versions it supports (package.json engines.node), or null. */
  readonly node: string | null;
  readonly file: string;
}

function parse(file: string): PackageInfo {
  const json: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const field = (obj: unknown, key: string): unknown => (typeof obj === 'object' && obj !== null ? Reflect.get(obj, key) : undefined);
  const name = field(json, 'name');
  const version = field(json, 'version');
  const node = field(field(json, 'engines'), 'node');
  if (typeof name !== 'string' || typeof version !== 'string') throw new NasError('E_IO', `${file} has no name or version`, 1);
  return { name, version, node: typeof node === 'string' ? node : null, file };
}

let cached: PackageInfo | null = null;

export function packageInfo(): PackageInfo {
  if (cached) return cached;
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const file = join(dir, 'package.json');
    if (existsSync(file)) return (cached = parse(file));
    if (dirname(dir) === dir) throw new NasError('E_IO', `no package.json above ${fileURLToPath(import.meta.url)}`, 1);
  }
}
