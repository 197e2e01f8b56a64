// Strict validation of an ArchSpec read from JSON (a file, a database row, a search-space sample). Every problem is
// one line naming the key path, e.g. `stages[2][0].kernal: unknown key`. The range rules are exported so that the
// block-string codec reports the same rules for the same fields.
import { ArchError } from '../common/errors.js';
import type {
  Activation,
  ArchSpec,
  BatchNormConfig,
  Block,
  Head,
  Padding,
  SqueezeExcite,
  Stem,
} from './arch.js';

export const ACTIVATIONS: readonly Activation[] = ['relu', 'relu6', 'hswish'];
export const PADDINGS: readonly Padding[] = ['symmetric', 'same'];

/** A rule returns null when `v` is fine, else what is wrong with it ("must be ..."). */
export type Rule = (v: number) => string | null;

const isInt = (v: number): boolean => Number.isInteger(v);

export const kernelRule: Rule = (v) => (isInt(v) && v >= 1 && v % 2 === 1 ? null : 'must be an odd integer >= 1');
export const strideRule: Rule = (v) => (v === 1 || v === 2 ? null : 'must be 1 or 2');
export const positiveIntRule: Rule = (v) => (isInt(v) && v >= 1 ? null : 'must be a positive integer');
export const widthRule: Rule = (v) => (Number.isFinite(v) && v > 0 ? null : 'must be > 0');
export const dropoutRule: Rule = (v) => (v >= 0 && v < 1 ? null : 'must be in [0, 1)');
export const bnDecayRule: Rule = (v) => (v >= 0 && v < 1 ? null : 'must be in [0, 1)');
export const bnEpsRule: Rule = (v) => (Number.isFinite(v) && v > 0 ? null : 'must be > 0');
export const seRatioRule: Rule = (v) => (v > 0 && v <= 1 ? null : 'must be in (0, 1]');

/**
 * The two squeeze-and-excite styles the IR (and its block strings) can express: MobileNetV3's (of the expanded
 * width, hard-sigmoid gate) and MnasNet's (of the block input, sigmoid gate).
 */
export function seStyleProblem(se: SqueezeExcite): string | null {
  const v3 = se.of === 'expanded' && se.gate === 'hsigmoid';
  const mnas = se.of === 'input' && se.gate === 'sigmoid';
  return v3 || mnas
    ? null
    : `of '${se.of}' with gate '${se.gate}' is neither MobileNetV3 style (of 'expanded', gate 'hsigmoid') nor MnasNet style (of 'input', gate 'sigmoid')`;
}

/** A value as an error message shows it: short JSON, or its kind for arrays and objects. */
export function show(v: unknown): string {
  if (v === undefined) return 'undefined';
  if (Array.isArray(v)) return 'an array';
  if (v !== null && typeof v === 'object') return 'an object';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function fail(path: string, problem: string): never {
  throw new ArchError(`${path || 'arch spec'}: ${problem}`);
}

const key = (path: string, k: string): string => (path ? `${path}.${k}` : k);

function record(
  v: unknown,
  path: string,
  required: readonly string[],
  optional: readonly string[] = [],
): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `must be an object, got ${show(v)}`);
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) {
    if (!required.includes(k) && !optional.includes(k)) fail(key(path, k), 'unknown key');
  }
  for (const k of required) if (!(k in r)) fail(key(path, k), 'missing');
  return r;
}

function num(v: unknown, path: string, rule: Rule): number {
  if (typeof v !== 'number') fail(path, `must be a number, got ${show(v)}`);
  const problem = rule(v);
  if (problem !== null) fail(path, `${problem}, got ${show(v)}`);
  return v;
}

function oneOf<T extends string>(v: unknown, path: string, allowed: readonly T[]): T {
  if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
    fail(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}`);
  }
  return v as T;
}

function bool(v: unknown, path: string): boolean {
  if (typeof v !== 'boolean') fail(path, `must be true or false, got ${show(v)}`);
  return v;
}

function squeezeExcite(v: unknown, path: string): SqueezeExcite | null {
  if (v === null) return null;
  const r = record(v, path, ['ratio', 'of', 'gate']);
  const se: SqueezeExcite = {
    ratio: num(r['ratio'], key(path, 'ratio'), seRatioRule),
    of: oneOf(r['of'], key(path, 'of'), ['expanded', 'input'] as const),
    gate: oneOf(r['gate'], key(path, 'gate'), ['hsigmoid', 'sigmoid'] as const),
  };
  const problem = seStyleProblem(se);
  if (problem !== null) fail(path, problem);
  return se;
}

// `se` (default null) and `skip` (default true) may be left out of hand-written JSON; everything else is required.
function block(v: unknown, path: string): Block {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `must be a block object, got ${show(v)}`);
  const type = oneOf((v as Record<string, unknown>)['type'], key(path, 'type'), ['conv', 'ds', 'ir'] as const);
  const common = ['type', 'kernel', 'stride', 'out', 'act'];
  const r =
    type === 'conv'
      ? record(v, path, common, ['skip'])
      : type === 'ds'
        ? record(v, path, common, ['se', 'skip'])
        : record(v, path, [...common, 'exp'], ['se', 'skip']);
  const kernel = num(r['kernel'], key(path, 'kernel'), kernelRule);
  const stride = num(r['stride'], key(path, 'stride'), strideRule);
  const out = num(r['out'], key(path, 'out'), positiveIntRule);
  const act = oneOf(r['act'], key(path, 'act'), ACTIVATIONS);
  const skip = 'skip' in r ? bool(r['skip'], key(path, 'skip')) : true;
  if (type === 'conv') return { type, kernel, stride, out, act, skip };
  const se = 'se' in r ? squeezeExcite(r['se'], key(path, 'se')) : null;
  if (type === 'ds') return { type, kernel, stride, out, se, act, skip };
  const exp = num(r['exp'], key(path, 'exp'), positiveIntRule);
  return { type, kernel, stride, exp, out, se, act, skip };
}

function stem(v: unknown, path: string): Stem {
  const r = record(v, path, ['kernel', 'stride', 'out', 'act']);
  return {
    kernel: num(r['kernel'], key(path, 'kernel'), kernelRule),
    stride: num(r['stride'], key(path, 'stride'), strideRule),
    out: num(r['out'], key(path, 'out'), positiveIntRule),
    act: oneOf(r['act'], key(path, 'act'), ACTIVATIONS),
  };
}

function head(v: unknown, path: string): Head {
  const r = record(v, path, ['conv', 'hidden', 'act']);
  return {
    conv: num(r['conv'], key(path, 'conv'), positiveIntRule),
    hidden: r['hidden'] === null ? null : num(r['hidden'], key(path, 'hidden'), positiveIntRule),
    act: oneOf(r['act'], key(path, 'act'), ACTIVATIONS),
  };
}

function batchNorm(v: unknown, path: string): BatchNormConfig {
  const r = record(v, path, ['decay', 'eps']);
  return { decay: num(r['decay'], key(path, 'decay'), bnDecayRule), eps: num(r['eps'], key(path, 'eps'), bnEpsRule) };
}

function stages(v: unknown, path: string): Block[][] {
  if (!Array.isArray(v)) fail(path, `must be an array of stages, got ${show(v)}`);
  return v.map((s: unknown, i) => {
    const sp = `${path}[${i}]`;
    if (!Array.isArray(s)) fail(sp, `must be an array of blocks, got ${show(s)}`);
    if (s.length === 0) fail(sp, 'a stage needs at least one block');
    return s.map((b: unknown, j) => block(b, `${sp}[${j}]`));
  });
}

/** Check that `json` is a complete, well-formed ArchSpec; returns a fresh copy with defaults filled in. */
export function validateArchSpec(json: unknown): ArchSpec {
  const r = record(json, '', [
    'version',
    'name',
    'input',
    'classes',
    'width',
    'padding',
    'bn',
    'dropout',
    'stem',
    'stages',
    'head',
  ]);
  if (r['version'] !== 1) fail('version', `must be 1, got ${show(r['version'])}`);
  if (typeof r['name'] !== 'string' || r['name'] === '') fail('name', `must be a non-empty string, got ${show(r['name'])}`);
  const input = record(r['input'], 'input', ['size', 'channels']);
  return {
    version: 1,
    name: r['name'],
    input: {
      size: num(input['size'], 'input.size', positiveIntRule),
      channels: num(input['channels'], 'input.channels', positiveIntRule),
    },
    classes: num(r['classes'], 'classes', positiveIntRule),
    width: num(r['width'], 'width', widthRule),
    padding: oneOf(r['padding'], 'padding', PADDINGS),
    bn: batchNorm(r['bn'], 'bn'),
    dropout: num(r['dropout'], 'dropout', dropoutRule),
    stem: stem(r['stem'], 'stem'),
    stages: stages(r['stages'], 'stages'),
    head: head(r['head'], 'head'),
  };
}
