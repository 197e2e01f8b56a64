// Durable and atomic file writing, shared by checkpoints, exports, model cards and run files: a file written and
// fsynced, a directory fsynced (so that renames in it survive a crash), and a file replaced through a temporary
// sibling and a rename, so that readers see the old contents or the new, never a part.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants } from 'node:fs';
import { open, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** Writes `data` to `path` (created or truncated) and fsyncs it; returns the number of bytes written. */
export async function writeDurable(path: string, data: Uint8Array | string): Promise<number> {
  const fh = await open(path, 'w');
  try {
    await fh.writeFile(data);
    await fh.sync();
  } finally {
    await fh.close();
  }
  return typeof data === 'string' ? Buffer.byteLength(data) : data.byteLength;
}

/** fsync a directory, so that the renames in it are durable (a no-op where directories cannot be opened, e.g. Windows). */
export async function syncDir(path: string): Promise<void> {
  let fh;
  try {
    fh = await open(path, fsConstants.O_RDONLY);
  } catch (e) {
    if (['EISDIR', 'EPERM', 'EACCES'].includes((e as NodeJS.ErrnoException).code ?? '')) return;
    throw e;
  }
  try {
    await fh.sync();
  } catch (e) {
    if (!['EINVAL', 'EPERM', 'EBADF'].includes((e as NodeJS.ErrnoException).code ?? '')) throw e;
  } finally {
    await fh.close();
  }
}

export interface ReplaceFileOptions {
  /** fsync the new file before the rename and its directory after it (default false). */
  readonly durable?: boolean;
}

/**
 * Replaces `path` with `data` atomically: written into a temporary sibling (`<path>.tmp-<random>`), then renamed
 * over it. A writer killed midway leaves only the temporary file behind.
 */
export async function replaceFile(path: string, data: Uint8Array | string, opts: ReplaceFileOptions = {}): Promise<void> {
  const tmp = `${path}.tmp-${randomBytes(4).toString('hex')}`;
  if (opts.durable === true) {
    await writeDurable(tmp, data);
  } else {
    await writeFile(tmp, data);
  }
  await rename(tmp, path);
  if (opts.durable === true) await syncDir(dirname(path));
}
