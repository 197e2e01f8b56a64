// Durable and atomic file writing, shared by checkpoints, exports, model cards and run files: a file written and
// fsynced, a directory fsynced (so that renames in it survive a crash), and a file replaced through a temporary
// sibling and a rename, so that readers see the old contents or the new, never a part. A failed write removes its
// temporary file; a killed one's temporary directory is removed by the next writer of the same path.
import { randomBytes } from 'node:crypto';
import { constants as fsConstants, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdtemp, open, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

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

/** The temporary sibling a replacement of `path` is written into. */
const tempFileFor = (path: string): string => `${path}.tmp-${randomBytes(4).toString('hex')}`;

/**
 * Replaces `path` with `data` atomically: written into a temporary sibling (`<path>.tmp-<random>`), then renamed
 * over it. A writer killed midway leaves only the temporary file behind.
 */
export async function replaceFile(path: string, data: Uint8Array | string, opts: ReplaceFileOptions = {}): Promise<void> {
  const tmp = tempFileFor(path);
  try {
    if (opts.durable === true) {
      await writeDurable(tmp, data);
    } else {
      await writeFile(tmp, data);
    }
    await rename(tmp, path);
  } catch (e) {
    // A failed write (a full disk, `path` a directory) leaves nothing behind.
    await rm(tmp, { force: true });
    throw e;
  }
  if (opts.durable === true) await syncDir(dirname(path));
}

/** replaceFile (not durable) for callers that must not yield, e.g. a table saved from a progress callback. */
export function replaceFileSync(path: string, data: Uint8Array | string): void {
  const tmp = tempFileFor(path);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/**
 * A temporary directory beside `path` (`.<name>.tmp-<pid>-<random>`), for writing a directory that is then renamed
 * to `path`. The pid lets a later writer tell the leftovers of a killed one (removeDeadTemps).
 */
export async function makeTempSibling(path: string): Promise<string> {
  return mkdtemp(join(dirname(path), `.${basename(path)}.tmp-${process.pid}-`));
}

const isAlive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** Removes the temporary siblings of `path` (makeTempSibling) whose writer no longer runs: it was killed midway. */
export async function removeDeadTemps(path: string): Promise<void> {
  const prefix = `.${basename(path)}.tmp-`;
  let names: string[];
  try {
    names = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)-/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid !== undefined && Number(pid) !== process.pid && !isAlive(Number(pid))) {
      await rm(join(dirname(path), name), { recursive: true, force: true });
    }
  }
}
