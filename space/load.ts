// Turn what a user typed after a command into an ArchSpec: a reference name, a spec .json file, a whole-arch string,
// block strings or a result in the store (run:RUN#best, run:RUN#N, run:RUN), plus command-line overrides.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ArchError, NasError, UsageError } from '../common/errors.js';
import type { ArchSpec, Block } from './arch.js';
import { decodeArch, decodeBlock } from './blockString.js';
import { isReferenceName, referenceArch, referenceNames } from './reference.js';
import { positiveIntRule, type Rule, validateArchSpec, widthRule } from './validate.js';

export interface ArchOverrides {
  readonly input?: number | undefined;
  readonly classes?: number | undefined;
  /** Replaces the spec's width (it does not multiply it). */
  readonly width?: number | undefined;
  readonly channels?: number | undefined;
  /**
   * Adapt the network to 28-32 px images: the stem keeps the resolution (stride 1), so the last stage works on 2x2
   * instead of 1x1 at 32 px. Everything else stays as published.
   */
  readonly smallInput?: boolean | undefined;
  /** The results database that `run:` references read (default $NAS_DB, else ./nas.db). */
  readonly db?: string | undefined;
}

/**
 * Turns a `run:...` reference into an ArchSpec. The store is a higher layer than space/: results/archRef.ts passes
 * its resolver in (its loadArch is this one with run: references).
 */
export type RunRefResolver = (ref: string, db: string | undefined) => ArchSpec;

const BLOCK_RE = /^(conv|ds|ir)_/;
const RUN_RE = /^run:/;
const ARCH_RE = /^v[0-9]+_/;

/** A spec from bare blocks: stem, head and the other settings of mobilenetv3-large; equal out widths share a stage. */
export function archFromBlocks(blocks: readonly Block[], name = 'custom'): ArchSpec {
  const stages: Block[][] = [];
  for (const b of blocks) {
    const last = stages[stages.length - 1];
    const prev = last?.[last.length - 1];
    if (last && prev && prev.out === b.out) last.push(b);
    else stages.push([b]);
  }
  return { ...referenceArch('mobilenetv3-large'), name, stages };
}

/** Read and validate a spec file; errors name the file. */
export function readArchFile(path: string): ArchSpec {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EISDIR' ? 'is a directory' : (e as Error).message;
    throw new NasError('E_IO', `cannot read arch spec ${path}: ${why}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new ArchError(`${path}: invalid JSON: ${(e as Error).message}`);
  }
  // A checkpoint's arch.json wraps the spec with its canonical string (train/checkpoint.ts).
  if (json !== null && typeof json === 'object' && 'canonical' in json && 'spec' in json) json = (json as { spec: unknown }).spec;
  try {
    return validateArchSpec(json);
  } catch (e) {
    if (e instanceof ArchError) throw new ArchError(`${path}: ${e.message}`);
    throw e;
  }
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * The arch.json of a checkpoint directory, or of a training run directory's latest checkpoint (its `latest` file
 * names it: train/checkpoint.ts); null when `path` is neither.
 */
function checkpointArchFile(path: string): string | null {
  try {
    if (!statSync(path).isDirectory()) return null;
  } catch {
    return null;
  }
  if (isFile(join(path, 'arch.json'))) return join(path, 'arch.json');
  if (isFile(join(path, 'latest'))) {
    const file = join(path, readFileSync(join(path, 'latest'), 'utf8').trim(), 'arch.json');
    if (isFile(file)) return file;
  }
  return null;
}

function unknown(ref: string): ArchError {
  return new ArchError(
    `unknown architecture '${ref}': not a reference name (${referenceNames().join(', ')}), ` +
      'a spec .json file, a checkpoint or training run directory, an arch string (v1_...), block strings (e.g. ir_k3_s1_x16_c16_re) or run:RUN#best',
  );
}

function fromRefs(refs: readonly string[], db: string | undefined, resolveRun: RunRefResolver | undefined): ArchSpec {
  // Block strings may also come as one quoted list ("ir_... ir_..." or "ir_...,ir_..."); arch strings contain commas.
  const words = refs.flatMap((r) => (ARCH_RE.test(r.trim()) ? [r.trim()] : r.split(/[\s,]+/))).filter((w) => w !== '');
  const [first] = words;
  if (first === undefined) {
    throw new UsageError('name an architecture: a reference name, a spec .json file, an arch string or block strings');
  }
  if (words.some((w) => BLOCK_RE.test(w))) {
    const other = words.find((w) => !BLOCK_RE.test(w));
    if (other !== undefined) throw new ArchError(`'${other}' is not a block string; list either one architecture or block strings only`);
    return archFromBlocks(words.map(decodeBlock));
  }
  if (words.length > 1) {
    throw new UsageError(`give one architecture (got ${words.length}: ${words.join(' ')}); only block strings can be listed`);
  }
  if (isReferenceName(first)) return referenceArch(first);
  if (RUN_RE.test(first)) {
    if (resolveRun === undefined) throw new UsageError(`${first}: this command cannot read run: references; name the architecture itself`);
    return resolveRun(first, db);
  }
  if (ARCH_RE.test(first)) return decodeArch(first);
  if (first.toLowerCase().endsWith('.json') || isFile(first)) return readArchFile(first);
  const fromCheckpoint = checkpointArchFile(first);
  if (fromCheckpoint !== null) return readArchFile(fromCheckpoint);
  throw unknown(first);
}

function checkOverride(name: string, v: number | undefined, rule: Rule): void {
  if (v === undefined) return;
  const problem = rule(v);
  if (problem !== null) throw new UsageError(`--${name} ${problem}, got ${v}`);
}

/** Check the overrides and apply them to `spec` (each one replaces the spec's value). */
export function applyOverrides(spec: ArchSpec, o: ArchOverrides): ArchSpec {
  checkOverride('input', o.input, positiveIntRule);
  checkOverride('channels', o.channels, positiveIntRule);
  checkOverride('classes', o.classes, positiveIntRule);
  checkOverride('width', o.width, widthRule);
  return {
    ...spec,
    input: { size: o.input ?? spec.input.size, channels: o.channels ?? spec.input.channels },
    classes: o.classes ?? spec.classes,
    width: o.width ?? spec.width,
    ...(o.smallInput ? { name: `${spec.name}-small-input`, stem: { ...spec.stem, stride: 1 } } : {}),
  };
}

/**
 * Load the architecture named by `refs` (a reference name, a spec .json path, an arch string, one or more block
 * strings, or a `run:` reference when `resolveRun` is given: results/archRef.ts) and apply `overrides`.
 */
export function loadArch(refs: readonly string[], overrides: ArchOverrides = {}, resolveRun?: RunRefResolver): ArchSpec {
  return applyOverrides(fromRefs(refs, overrides.db, resolveRun), overrides);
}
