// `nas data download cifar10`: fetch the official archive, check its MD5, unpack the binary batches with our tar
// reader, and move them into place in one rename, so an interrupted or corrupt download leaves nothing behind.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, open, rename, rm, rmdir, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { createGunzip } from 'node:zlib';
import { NasError } from '../common/errors.js';
import { CIFAR_RECORD_BYTES, CIFAR_TEST_FILE, CIFAR_TRAIN_FILES, defaultCifar10Dir } from './cifar10.js';
import { isDirectory } from './io.js';
import { readTar } from './tar.js';

export const CIFAR10_URL = 'https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz';
export const CIFAR10_MD5 = 'c32a1d4ab5d03f1284b67883e8d87530';

const WANTED: readonly string[] = [...CIFAR_TRAIN_FILES, CIFAR_TEST_FILE];
const KEPT: readonly string[] = [...WANTED, 'batches.meta.txt'];

export interface DownloadOptions {
  /** Destination directory (default $NAS_DATA_DIR/cifar10, i.e. where loadDataset looks). */
  readonly out?: string | undefined;
  readonly url?: string | undefined;
  /** Expected MD5 of the archive (for a mirror or a test archive). */
  readonly md5?: string | undefined;
  readonly onProgress?: ((received: number, total: number | null) => void) | undefined;
}

export interface DownloadResult {
  readonly dataset: 'cifar10';
  readonly out: string;
  readonly url: string;
  /** Archive bytes downloaded (0 when the data was already there). */
  readonly bytes: number;
  readonly md5: string;
  readonly files: readonly string[];
  readonly alreadyPresent: boolean;
}

function ioError(message: string): NasError {
  return new NasError('E_IO', message);
}

async function fetchTo(url: string, path: string, onProgress: DownloadOptions['onProgress']): Promise<{ bytes: number; md5: string }> {
  let res: Response;
  try {
    res = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: { message?: string } }).cause?.message ?? (e as Error).message;
    throw ioError(`cannot download ${url}: ${cause}; check the network, or pass --url with a mirror`);
  }
  if (!res.ok || !res.body) throw ioError(`cannot download ${url}: HTTP ${res.status} ${res.statusText}; pass --url with a mirror`);
  const lengthHeader = Number(res.headers.get('content-length'));
  const total = lengthHeader > 0 ? lengthHeader : null;
  const hash = createHash('md5');
  const file = await open(path, 'w');
  const reader = res.body.getReader();
  let bytes = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      hash.update(value);
      await file.write(value);
      bytes += value.length;
      onProgress?.(bytes, total);
    }
  } catch (e) {
    if (e instanceof NasError) throw e;
    throw ioError(`download of ${url} failed after ${bytes} bytes: ${(e as Error).message}`);
  } finally {
    await file.close();
  }
  if (total !== null && bytes !== total) throw ioError(`download of ${url} stopped at ${bytes} of ${total} bytes; try again`);
  return { bytes, md5: hash.digest('hex') };
}

async function extract(archive: string, dir: string, url: string): Promise<string[]> {
  const written: string[] = [];
  const what = `the archive from ${url}`;
  const gunzip = createReadStream(archive).pipe(createGunzip());
  try {
    await readTar(
      gunzip,
      async (entry, data) => {
        const name = basename(entry.name);
        if (entry.type !== 'file' || !KEPT.includes(name)) return;
        const out = await open(join(dir, name), 'w');
        try {
          for await (const piece of data) await out.write(piece);
        } finally {
          await out.close();
        }
        written.push(name);
      },
      what,
    );
  } catch (e) {
    if (e instanceof NasError) throw e;
    throw ioError(`${what} is not a valid .tar.gz: ${(e as Error).message}`);
  }
  const missing = WANTED.filter((n) => !written.includes(n));
  if (missing.length > 0) throw ioError(`${what} lacks ${missing.join(', ')}; it is not the CIFAR-10 binary archive`);
  for (const n of WANTED) {
    const { size } = await stat(join(dir, n));
    if (size === 0 || size % CIFAR_RECORD_BYTES !== 0) throw ioError(`${n} in ${what} is ${size} bytes, not whole ${CIFAR_RECORD_BYTES}-byte records`);
  }
  return written.sort();
}

/** Downloads, verifies and unpacks CIFAR-10 (binary version) into `out`. */
export async function downloadCifar10(opts: DownloadOptions = {}): Promise<DownloadResult> {
  const out = resolve(opts.out ?? defaultCifar10Dir());
  const url = opts.url ?? CIFAR10_URL;
  const expected = (opts.md5 ?? CIFAR10_MD5).toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(expected)) throw new NasError('E_USAGE', `--md5 must be 32 hex digits, got '${opts.md5}'`);
  if (existsSync(out)) {
    if (!isDirectory(out)) throw new NasError('E_USAGE', `${out} exists and is not a directory; pass another --out`);
    const present = readdirSync(out);
    if (WANTED.every((n) => present.includes(n))) {
      return { dataset: 'cifar10', out, url, bytes: 0, md5: expected, files: present.filter((n) => KEPT.includes(n)).sort(), alreadyPresent: true };
    }
    if (present.length > 0) throw new NasError('E_USAGE', `${out} exists and is not empty; remove it or pass another --out`);
  }
  const parent = dirname(out);
  await mkdir(parent, { recursive: true });
  const tmp = await mkdtemp(join(parent, `.${basename(out)}.download-`));
  try {
    const archive = join(tmp, 'archive.tar.gz');
    const { bytes, md5 } = await fetchTo(url, archive, opts.onProgress);
    if (md5 !== expected) {
      throw ioError(`checksum mismatch for ${url}: MD5 ${md5}, expected ${expected}; the download is corrupt or not the official archive`);
    }
    const files = await extract(archive, tmp, url);
    await unlink(archive);
    if (existsSync(out)) await rmdir(out); // an empty directory: rename cannot replace it portably
    await rename(tmp, out);
    return { dataset: 'cifar10', out, url, bytes, md5, files, alreadyPresent: false };
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
}
