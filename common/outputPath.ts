// The check every command runs on an output path a user named (or a default one) before it does any work. A file
// or directory the command did not write is replaced only when the user asked (`--force`); what the command reads
// (its database, a checkpoint, a recipe) is never written over, whatever was asked. Paths are compared as real
// paths (`.`, `..` and symbolic links resolved) and by inode, so `./x.db`, `x.db` and a link to it are one file.
import { type Stats, readdirSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve as resolvePath, sep } from 'node:path';
import { UsageError } from './errors.js';

/** What the command writes at the path: one file, a directory replaced whole, or a directory it writes files into. */
export type OutputKind = 'file' | 'dir' | 'into';

/** Something the command reads, for the message that refuses to write over it: `{ what: 'the checkpoint', path }`. */
export interface ReadPath {
  readonly what: string;
  readonly path: string;
}

export interface OutputRules {
  /** The option that named the path, as the user typed it: '--out', '--svg'. */
  readonly option: string;
  readonly kind: OutputKind;
  /** The user asked to replace an existing file, or a non-empty directory. */
  readonly force: boolean;
  /** Paths the command reads: never written over, even with `force`. */
  readonly reads?: readonly ReadPath[];
  /** An existing target that is this command's own earlier output, replaced without `force`. */
  readonly isOwn?: (path: string) => boolean;
}

/** `path` with its symbolic links resolved, for a path that may not exist yet (its nearest existing ancestor's). */
export function realPath(path: string): string {
  const abs = resolvePath(path);
  try {
    return realpathSync(abs);
  } catch {
    const parent = dirname(abs);
    return parent === abs ? abs : join(realPath(parent), basename(abs));
  }
}

function statOf(path: string, option: string): Stats | null {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ENOTDIR') throw new UsageError(`${option} ${path}: a parent of it is not a directory; choose another path`);
    throw new UsageError(`${option} ${path} cannot be used: ${code ?? (e as Error).message}; choose another path`);
  }
}

/** Whether `inner` is `outer` or lies inside it (both real paths). */
const within = (inner: string, outer: string): boolean => {
  const rel = relative(outer, inner);
  return rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel);
};

function sameFile(a: string, b: string): boolean {
  try {
    const sa = statSync(a);
    const sb = statSync(b);
    return sa.dev === sb.dev && sa.ino === sb.ino;
  } catch {
    return false;
  }
}

/** Refuses a target that is (or, replaced whole, would take with it) something the command reads. */
function refuseInputs(typed: string, target: string, rules: OutputRules): void {
  const reads = [...(rules.reads ?? []), ...(rules.kind === 'dir' ? [{ what: 'the current directory', path: process.cwd() }] : [])];
  for (const r of reads) {
    const input = realPath(r.path);
    const hit = input === target || sameFile(input, target) || (rules.kind === 'dir' && within(input, target));
    if (!hit) continue;
    const how = input === target || sameFile(input, target) ? 'is' : 'contains';
    throw new UsageError(
      `${rules.option} ${typed} ${how} ${r.what} this command reads (${r.path}); it is never written over, even with --force: choose another path`,
    );
  }
}

/** An existing target: the right kind, and replaced (or written into) only with --force or when it is our own. */
function checkExisting(typed: string, abs: string, st: Stats, rules: OutputRules): void {
  const own = rules.force || rules.isOwn?.(abs) === true;
  if (rules.kind === 'file') {
    if (st.isDirectory()) throw new UsageError(`${rules.option} ${typed} is a directory: name a file`);
    if (!own) throw new UsageError(`${rules.option} ${typed} already exists: pass --force to replace it, or choose another file`);
    return;
  }
  if (!st.isDirectory()) throw new UsageError(`${rules.option} ${typed} exists and is not a directory: choose another path`);
  if (!own && readdirSync(abs).length > 0) {
    const verb = rules.kind === 'dir' ? 'replace it' : 'write into it';
    throw new UsageError(`${rules.option} ${typed} exists and is not empty: pass --force to ${verb}, or choose another directory`);
  }
}

/** The nearest existing ancestor of `abs` must be a directory, or nothing can be created there. */
function checkParent(typed: string, abs: string, option: string): void {
  for (let p = dirname(abs); ; p = dirname(p)) {
    const st = statOf(p, option);
    if (st !== null) {
      if (!st.isDirectory()) throw new UsageError(`${option} ${typed}: ${p} is not a directory; choose another path`);
      return;
    }
    if (dirname(p) === p) return;
  }
}

/**
 * Checks an output path by `rules` and returns it absolute; a one-line UsageError (exit 2) naming the path and what
 * to do when the command must not write there.
 */
export function checkOutput(typed: string, rules: OutputRules): string {
  if (typed === '') throw new UsageError(`${rules.option} needs a ${rules.kind === 'file' ? 'file' : 'directory'} name`);
  const abs = resolvePath(typed);
  refuseInputs(typed, realPath(abs), rules);
  checkParent(typed, abs, rules.option);
  const st = statOf(abs, rules.option);
  if (st !== null) checkExisting(typed, abs, st, rules);
  return abs;
}

/**
 * `name` (an architecture's, a run's: text a user or a file chose) as one safe path component: only letters, digits,
 * `.`, `_` and `-`, no leading dot or run of dots, at most 100 characters; `fallback` when nothing is left.
 */
export function pathComponent(name: string, fallback = 'unnamed'): string {
  const safe = name
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .replace(/^[._-]+/, '')
    .slice(0, 100);
  return safe === '' ? fallback : safe;
}
