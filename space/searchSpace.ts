// Search spaces as data: the ArchSpec structure with choice nodes `{"oneOf": [...]}` (TuNAS style), walked in one
// fixed order so that a sample is a list of option indices and `applySample` is a pure function of (space, indices).
// The JSON format and the walk order are documented in docs/SEARCH_SPACE.md.
import { ArchError, UsageError } from '../common/errors.js';
import type { Activation, ArchSpec, BatchNormConfig, Block, Padding, SqueezeExcite } from './arch.js';
import { encodeArch } from './blockString.js';
import { makeDivisible } from './makeDivisible.js';
import {
  ACTIVATIONS,
  PADDINGS,
  bnDecayRule,
  bnEpsRule,
  dropoutRule,
  kernelRule,
  positiveIntRule,
  type Rule,
  seRatioRule,
  seStyleProblem,
  show,
  strideRule,
  validateArchSpec,
  widthRule,
} from './validate.js';

/** A decision: one of `oneOf`. Nodes with the same `id` are one decision (the first in walk order). */
export interface Choice<T> {
  readonly oneOf: readonly T[];
  readonly id?: string;
}
export type Val<T> = T | Choice<T>;

/** A number is a ratio of the block input width (exp = round(ratio * in)); `{width}` an absolute depthwise width. */
export type Expansion = number | { readonly width: number };
export type Op =
  | { readonly type: 'conv' }
  | { readonly type: 'ds' }
  | { readonly type: 'ir'; readonly expand: Val<Expansion> };
/** An absolute width, or a multiple of the stage's `base`, rounded by makeDivisible(base * mult, 8). */
export type OutWidth = number | { readonly mult: number };

export interface BlockSpace {
  readonly op: Val<Op>;
  readonly kernel: Val<number>;
  readonly se: Val<SqueezeExcite | null>;
  readonly act: Val<Activation>;
  readonly skip: Val<boolean>;
}

export interface StageSpace {
  /** Number of layers; 0 drops the stage. */
  readonly layers: Val<number>;
  /** Stride of the first layer; the others have stride 1. */
  readonly stride: Val<number>;
  readonly base?: number;
  readonly out: Val<OutWidth>;
  /** `stage`: one decision per field shared by the stage's layers (MnasNet); `layer`: one per field and layer. */
  readonly decide: 'stage' | 'layer';
  readonly block: BlockSpace;
}

export interface SearchSpace {
  readonly version: 1;
  readonly kind: 'space';
  readonly name: string;
  readonly input: { readonly size: Val<number>; readonly channels: number };
  readonly classes: number;
  readonly width: Val<number>;
  readonly padding: Padding;
  readonly bn: Val<BatchNormConfig>;
  readonly dropout: Val<number>;
  readonly stem: {
    readonly kernel: Val<number>;
    readonly stride: Val<number>;
    readonly out: Val<number>;
    readonly act: Val<Activation>;
  };
  readonly stages: readonly StageSpace[];
  readonly head: { readonly conv: Val<number>; readonly hidden: Val<number | null>; readonly act: Val<Activation> };
}

export interface Decision {
  /** Where the choice node sits, e.g. `stages[3].kernel` or `stages[2][1].expand` (stage 2, layer 1). */
  readonly path: string;
  readonly options: number;
  /** The option values, as written in the space. */
  readonly values: readonly unknown[];
  readonly id?: string;
}

export type Sample = readonly number[];

// ---------------------------------------------------------------------------------------------------------------
// Validation of the JSON form.

function fail(path: string, problem: string): never {
  throw new ArchError(`space ${path || '(root)'}: ${problem}`);
}

const key = (path: string, k: string): string => (path ? `${path}.${k}` : k);

function record(v: unknown, path: string, required: readonly string[], optional: readonly string[] = []): Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `must be an object, got ${show(v)}`);
  const r = v as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!required.includes(k) && !optional.includes(k)) fail(key(path, k), 'unknown key');
  for (const k of required) if (!(k in r)) fail(key(path, k), 'missing');
  return r;
}

type Check<T> = (v: unknown, path: string) => T;

const numberOf =
  (rule: Rule): Check<number> =>
  (v, path) => {
    if (typeof v !== 'number') fail(path, `must be a number, got ${show(v)}`);
    const problem = rule(v);
    if (problem !== null) fail(path, `${problem}, got ${show(v)}`);
    return v;
  };

const stringOf =
  <T extends string>(allowed: readonly T[]): Check<T> =>
  (v, path) => {
    if (typeof v !== 'string' || !(allowed as readonly string[]).includes(v)) {
      fail(path, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}, got ${show(v)}`);
    }
    return v as T;
  };

const boolean: Check<boolean> = (v, path) => {
  if (typeof v !== 'boolean') fail(path, `must be true or false, got ${show(v)}`);
  return v;
};

const nonNegIntRule: Rule = (v) => (Number.isInteger(v) && v >= 0 ? null : 'must be an integer >= 0');
const ratioRule: Rule = (v) => (Number.isFinite(v) && v > 0 ? null : 'must be > 0');

function isChoice(v: unknown): v is Choice<unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v) && 'oneOf' in v;
}

function containsChoice(v: unknown): boolean {
  if (v === null || typeof v !== 'object') return false;
  if (isChoice(v)) return true;
  return Object.values(v).some(containsChoice);
}

/** A value or a choice node whose options each pass `check`. */
function val<T>(check: Check<T>): Check<Val<T>> {
  return (v, path) => {
    if (!isChoice(v)) return check(v, path);
    const r = record(v, path, ['oneOf'], ['id']);
    const opts = r['oneOf'];
    if (!Array.isArray(opts) || opts.length === 0) fail(key(path, 'oneOf'), `must be a non-empty array, got ${show(opts)}`);
    const seen = new Set<string>();
    const oneOf = opts.map((o: unknown, i) => {
      const p = `${path}.oneOf[${i}]`;
      if (containsChoice(o)) fail(p, 'an option cannot contain a choice node');
      const checked = check(o, p);
      const k = JSON.stringify(checked);
      if (seen.has(k)) fail(p, `duplicate option ${show(o)}`);
      seen.add(k);
      return checked;
    });
    if (!('id' in r)) return { oneOf };
    const id = r['id'];
    if (typeof id !== 'string' || id === '') fail(key(path, 'id'), `must be a non-empty string, got ${show(id)}`);
    return { oneOf, id };
  };
}

const squeezeExcite: Check<SqueezeExcite | null> = (v, path) => {
  if (v === null) return null;
  const r = record(v, path, ['ratio', 'of', 'gate']);
  const se: SqueezeExcite = {
    ratio: numberOf(seRatioRule)(r['ratio'], key(path, 'ratio')),
    of: stringOf(['expanded', 'input'] as const)(r['of'], key(path, 'of')),
    gate: stringOf(['hsigmoid', 'sigmoid'] as const)(r['gate'], key(path, 'gate')),
  };
  const problem = seStyleProblem(se);
  if (problem !== null) fail(path, problem);
  return se;
};

const expansion: Check<Expansion> = (v, path) => {
  if (typeof v === 'number') return numberOf(ratioRule)(v, path);
  const r = record(v, path, ['width']);
  return { width: numberOf(positiveIntRule)(r['width'], key(path, 'width')) };
};

const op: Check<Op> = (v, path) => {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) fail(path, `must be an op object, got ${show(v)}`);
  const type = stringOf(['conv', 'ds', 'ir'] as const)((v as Record<string, unknown>)['type'], key(path, 'type'));
  if (type !== 'ir') {
    record(v, path, ['type']);
    return { type };
  }
  const r = record(v, path, ['type', 'expand']);
  return { type, expand: val(expansion)(r['expand'], key(path, 'expand')) };
};

const outWidth: Check<OutWidth> = (v, path) => {
  if (typeof v === 'number') return numberOf(positiveIntRule)(v, path);
  const r = record(v, path, ['mult']);
  return { mult: numberOf(ratioRule)(r['mult'], key(path, 'mult')) };
};

const bn: Check<BatchNormConfig> = (v, path) => {
  const r = record(v, path, ['decay', 'eps']);
  return { decay: numberOf(bnDecayRule)(r['decay'], key(path, 'decay')), eps: numberOf(bnEpsRule)(r['eps'], key(path, 'eps')) };
};

function blockSpace(v: unknown, path: string): BlockSpace {
  const r = record(v, path, ['op', 'kernel', 'act'], ['se', 'skip']);
  return {
    op: val(op)(r['op'], key(path, 'op')),
    kernel: val(numberOf(kernelRule))(r['kernel'], key(path, 'kernel')),
    se: 'se' in r ? val(squeezeExcite)(r['se'], key(path, 'se')) : null,
    act: val(stringOf(ACTIVATIONS))(r['act'], key(path, 'act')),
    skip: 'skip' in r ? val(boolean)(r['skip'], key(path, 'skip')) : true,
  };
}

function stageSpace(v: unknown, path: string): StageSpace {
  const r = record(v, path, ['layers', 'stride', 'out', 'block'], ['base', 'decide']);
  const out = val(outWidth)(r['out'], key(path, 'out'));
  const base = 'base' in r ? numberOf(positiveIntRule)(r['base'], key(path, 'base')) : undefined;
  const usesMult = optionsOf(out).some((o) => typeof o !== 'number');
  if (usesMult && base === undefined) fail(key(path, 'base'), 'missing (needed by the {"mult"} widths of out)');
  const stage: StageSpace = {
    layers: val(numberOf(nonNegIntRule))(r['layers'], key(path, 'layers')),
    stride: val(numberOf(strideRule))(r['stride'], key(path, 'stride')),
    out,
    decide: 'decide' in r ? stringOf(['stage', 'layer'] as const)(r['decide'], key(path, 'decide')) : 'stage',
    block: blockSpace(r['block'], key(path, 'block')),
  };
  return base === undefined ? stage : { ...stage, base };
}

/** Check that `json` is a well-formed search space; returns a fresh copy with defaults filled in. */
export function validateSpace(json: unknown): SearchSpace {
  const r = record(json, '', ['version', 'kind', 'name', 'input', 'classes', 'width', 'padding', 'bn', 'dropout', 'stem', 'stages', 'head']);
  if (r['version'] !== 1) fail('version', `must be 1, got ${show(r['version'])}`);
  if (r['kind'] !== 'space') fail('kind', `must be 'space', got ${show(r['kind'])}`);
  const name = r['name'];
  if (typeof name !== 'string' || name === '') fail('name', `must be a non-empty string, got ${show(name)}`);
  const input = record(r['input'], 'input', ['size', 'channels']);
  const stem = record(r['stem'], 'stem', ['kernel', 'stride', 'out', 'act']);
  const head = record(r['head'], 'head', ['conv', 'hidden', 'act']);
  const stages = r['stages'];
  if (!Array.isArray(stages)) fail('stages', `must be an array of stages, got ${show(stages)}`);
  const hidden: Check<number | null> = (v, p) => (v === null ? null : numberOf(positiveIntRule)(v, p));
  const space: SearchSpace = {
    version: 1,
    kind: 'space',
    name,
    input: {
      size: val(numberOf(positiveIntRule))(input['size'], 'input.size'),
      channels: numberOf(positiveIntRule)(input['channels'], 'input.channels'),
    },
    classes: numberOf(positiveIntRule)(r['classes'], 'classes'),
    width: val(numberOf(widthRule))(r['width'], 'width'),
    padding: stringOf(PADDINGS)(r['padding'], 'padding'),
    bn: val(bn)(r['bn'], 'bn'),
    dropout: val(numberOf(dropoutRule))(r['dropout'], 'dropout'),
    stem: {
      kernel: val(numberOf(kernelRule))(stem['kernel'], 'stem.kernel'),
      stride: val(numberOf(strideRule))(stem['stride'], 'stem.stride'),
      out: val(numberOf(positiveIntRule))(stem['out'], 'stem.out'),
      act: val(stringOf(ACTIVATIONS))(stem['act'], 'stem.act'),
    },
    stages: stages.map((s: unknown, i) => stageSpace(s, `stages[${i}]`)),
    head: {
      conv: val(numberOf(positiveIntRule))(head['conv'], 'head.conv'),
      hidden: val(hidden)(head['hidden'], 'head.hidden'),
      act: val(stringOf(ACTIVATIONS))(head['act'], 'head.act'),
    },
  };
  decisions(space); // checks that nodes sharing an id have the same options
  return space;
}

// ---------------------------------------------------------------------------------------------------------------
// The walk. One function builds an ArchSpec from a space, asking a Chooser for every choice node in the fixed
// order; sampling, listing the decisions and finding a sample are three choosers.

export function optionsOf<T>(v: Val<T>): readonly T[] {
  return isChoice(v) ? (v as Choice<T>).oneOf : [v as T];
}

/** `match` (given only when finding a sample) says which options agree with the target architecture. */
interface Chooser {
  choose<T>(path: string, v: Val<T>, match?: (option: T) => boolean): T;
}

const sameJson = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

function outValue(o: OutWidth, base: number | undefined): number {
  return typeof o === 'number' ? o : makeDivisible((base ?? 0) * o.mult, 8);
}

function expValue(e: Expansion, inC: number): number {
  return typeof e === 'number' ? Math.max(1, Math.round(e * inC)) : e.width;
}

interface BlockChoice {
  readonly op: Op;
  readonly expand: Expansion | null;
  readonly kernel: number;
  readonly se: SqueezeExcite | null;
  readonly act: Activation;
  readonly skip: boolean;
}

function chooseBlock(c: Chooser, b: BlockSpace, path: string, inC: number, target: Block | undefined): BlockChoice {
  const t = target;
  const op = c.choose(
    `${path}.op`,
    b.op,
    t && ((o) => o.type === t.type && (o.type !== 'ir' || isChoice(o.expand) || (t.type === 'ir' && expValue(o.expand, inC) === t.exp))),
  );
  const expand =
    op.type === 'ir'
      ? c.choose(`${path}.expand`, op.expand, t && ((e) => t.type === 'ir' && expValue(e, inC) === t.exp))
      : null;
  return {
    op,
    expand,
    kernel: c.choose(`${path}.kernel`, b.kernel, t && ((k) => k === t.kernel)),
    se: c.choose(`${path}.se`, b.se, t && ((s) => t.type === 'conv' || sameJson(s, t.se))),
    act: c.choose(`${path}.act`, b.act, t && ((a) => a === t.act)),
    skip: c.choose(`${path}.skip`, b.skip, t && ((s) => s === t.skip)),
  };
}

function makeBlock(ch: BlockChoice, stride: number, out: number, inC: number): Block {
  const { kernel, act, skip, se } = ch;
  if (ch.op.type === 'conv') return { type: 'conv', kernel, stride, out, act, skip };
  if (ch.op.type === 'ds') return { type: 'ds', kernel, stride, out, se, act, skip };
  return { type: 'ir', kernel, stride, exp: expValue(ch.expand ?? 1, inC), out, se, act, skip };
}

function walk(space: SearchSpace, c: Chooser, target?: ArchSpec): ArchSpec {
  const t = target;
  const size = c.choose('input.size', space.input.size, t && ((s) => s === t.input.size));
  const width = c.choose('width', space.width, t && ((w) => w === t.width));
  const bnChoice = c.choose('bn', space.bn, t && ((b) => sameJson(b, t.bn)));
  const dropout = c.choose('dropout', space.dropout, t && ((d) => d === t.dropout));
  const stem = {
    kernel: c.choose('stem.kernel', space.stem.kernel, t && ((k) => k === t.stem.kernel)),
    stride: c.choose('stem.stride', space.stem.stride, t && ((s) => s === t.stem.stride)),
    out: c.choose('stem.out', space.stem.out, t && ((o) => o === t.stem.out)),
    act: c.choose('stem.act', space.stem.act, t && ((a) => a === t.stem.act)),
  };
  const stages: Block[][] = [];
  let inC = stem.out;
  space.stages.forEach((s, i) => {
    const path = `stages[${i}]`;
    // Stages of the target are consumed in order; a stage whose layers can be 0 is skipped when its length cannot match.
    const tStage = t?.stages[stages.length];
    const layerOpts = optionsOf(s.layers);
    const wantLayers = tStage && layerOpts.includes(tStage.length) ? tStage.length : 0;
    const n = c.choose(`${path}.layers`, s.layers, t && ((l) => l === wantLayers));
    const t0 = n > 0 ? tStage?.[0] : undefined;
    const stride = c.choose(`${path}.stride`, s.stride, t && ((st) => t0 === undefined || st === t0.stride));
    const out = outValue(
      c.choose(`${path}.out`, s.out, t && ((o) => t0 === undefined || outValue(o, s.base) === t0.out)),
      s.base,
    );
    const blocks: Block[] = [];
    if (s.decide === 'stage') {
      const ch = chooseBlock(c, s.block, path, inC, t0);
      for (let j = 0; j < n; j++) blocks.push(makeBlock(ch, j === 0 ? stride : 1, out, j === 0 ? inC : out));
    } else {
      const maxLayers = Math.max(...layerOpts);
      for (let j = 0; j < maxLayers; j++) {
        const layerIn = j === 0 ? inC : out;
        const tj = j < n ? tStage?.[j] : undefined;
        const ch = chooseBlock(c, s.block, `${path}[${j}]`, layerIn, tj);
        if (j < n) blocks.push(makeBlock(ch, j === 0 ? stride : 1, out, layerIn));
      }
    }
    if (blocks.length > 0) {
      stages.push(blocks);
      inC = out;
    }
  });
  const head = {
    conv: c.choose('head.conv', space.head.conv, t && ((v) => v === t.head.conv)),
    hidden: c.choose('head.hidden', space.head.hidden, t && ((v) => v === t.head.hidden)),
    act: c.choose('head.act', space.head.act, t && ((a) => a === t.head.act)),
  };
  return {
    version: 1,
    name: space.name,
    input: { size, channels: space.input.channels },
    classes: space.classes,
    width,
    padding: space.padding,
    bn: bnChoice,
    dropout,
    stem,
    stages,
    head,
  };
}

/** Remembers the option chosen for each `id`, so later nodes with that id repeat it without a decision. */
abstract class IdChooser implements Chooser {
  private readonly byId = new Map<string, { readonly index: number; readonly path: string; readonly values: string }>();

  protected abstract pick<T>(path: string, options: readonly T[], match: ((option: T) => boolean) | undefined): number;

  choose<T>(path: string, v: Val<T>, match?: (option: T) => boolean): T {
    if (!isChoice(v)) return v as T;
    const node = v as Choice<T>;
    const id = node.id;
    if (id !== undefined) {
      const prev = this.byId.get(id);
      if (prev !== undefined) {
        if (prev.values !== JSON.stringify(node.oneOf)) {
          fail(path, `choice id '${id}' has other options than at ${prev.path}`);
        }
        return node.oneOf[prev.index] as T;
      }
    }
    const index = this.pick(path, node.oneOf, match);
    if (id !== undefined) this.byId.set(id, { index, path, values: JSON.stringify(node.oneOf) });
    return node.oneOf[index] as T;
  }
}

class Lister extends IdChooser {
  readonly list: Decision[] = [];
  protected pick<T>(path: string, options: readonly T[]): number {
    this.list.push({ path, options: options.length, values: options });
    return 0;
  }
  override choose<T>(path: string, v: Val<T>, match?: (option: T) => boolean): T {
    const before = this.list.length;
    const r = super.choose(path, v, match);
    const d = this.list[before];
    const id = isChoice(v) ? v.id : undefined;
    if (d !== undefined && id !== undefined) this.list[before] = { ...d, id };
    return r;
  }
}

class Replayer extends IdChooser {
  private next = 0;
  constructor(private readonly indices: Sample) {
    super();
  }
  protected pick(): number {
    return this.indices[this.next++] ?? 0;
  }
}

class NotFound extends Error {}

class Finder extends IdChooser {
  readonly indices: number[] = [];
  protected pick<T>(_path: string, options: readonly T[], match: ((option: T) => boolean) | undefined): number {
    const i = match === undefined ? 0 : options.findIndex(match);
    if (i < 0) throw new NotFound();
    this.indices.push(i);
    return i;
  }
}

/** The decisions of a space, in walk order (documented in docs/SEARCH_SPACE.md). */
export function decisions(space: SearchSpace): Decision[] {
  const l = new Lister();
  walk(space, l);
  return l.list;
}

function checkSample(space: SearchSpace, indices: unknown): Decision[] {
  const ds = decisions(space);
  if (!Array.isArray(indices)) throw new UsageError(`sample of space '${space.name}': must be an array of option indices`);
  if (indices.length !== ds.length) {
    throw new UsageError(`sample of space '${space.name}': expected ${ds.length} decisions, got ${indices.length}`);
  }
  indices.forEach((i: unknown, k) => {
    const d = ds[k] as Decision;
    if (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i >= d.options) {
      throw new UsageError(
        `sample of space '${space.name}': decision ${k} (${d.path}) must be an integer in [0, ${d.options - 1}], got ${show(i)}`,
      );
    }
  });
  return ds;
}

/** The architecture that a sample picks; pure; the result is a valid ArchSpec named `${space}-${indices}`. */
export function applySample(space: SearchSpace, indices: Sample): ArchSpec {
  checkSample(space, indices);
  const arch = walk(space, new Replayer(indices));
  return validateArchSpec({ ...arch, name: `${space.name}-${indices.join('.')}` });
}

/** The canonical string (encodeArch) of the architecture a sample picks. */
export function encodeSample(space: SearchSpace, indices: Sample): string {
  return encodeArch(applySample(space, indices));
}

/**
 * The sample that produces `arch` (same canonical string), or null when `arch` is not a point of the space. The
 * first matching option is taken at each decision, so a space whose `layers` may be 0 next to a stage of the same
 * shape, or whose shared ids disagree with the first occurrence, can miss a point.
 */
export function findSample(space: SearchSpace, arch: ArchSpec): number[] | null {
  const f = new Finder();
  try {
    walk(space, f, arch);
  } catch (e) {
    if (e instanceof NotFound) return null;
    throw e;
  }
  return encodeSample(space, f.indices) === encodeArch(arch) ? f.indices : null;
}

/** Independent uniform draws per decision (not uniform over distinct architectures). `rng` returns [0, 1). */
export function sampleUniform(space: SearchSpace, rng: () => number): number[] {
  return decisions(space).map((d) => Math.min(d.options - 1, Math.floor(rng() * d.options)));
}

/**
 * Number of architectures: distinct samples, counting once the decisions a sample ignores (per-layer decisions of
 * layers beyond the chosen count, every decision of a stage with 0 layers). Options that give the same block (an SE
 * choice on a regular conv, which has none) are still counted apart.
 */
export function spaceSize(space: SearchSpace): bigint {
  const ds = decisions(space);
  const count = new Map(ds.map((d) => [d.path, BigInt(d.options)]));
  const within = (prefix: string): bigint =>
    ds.filter((d) => d.path.startsWith(prefix)).reduce((p, d) => p * (count.get(d.path) ?? 1n), 1n);
  let total = ds.filter((d) => !d.path.startsWith('stages[')).reduce((p, d) => p * BigInt(d.options), 1n);
  space.stages.forEach((s, i) => {
    const p = `stages[${i}]`;
    const shape = (count.get(`${p}.stride`) ?? 1n) * (count.get(`${p}.out`) ?? 1n);
    let stage = 0n;
    for (const n of optionsOf(s.layers)) {
      if (n === 0) stage += 1n;
      else if (s.decide === 'stage') stage += shape * within(`${p}.`) / ((count.get(`${p}.layers`) ?? 1n) * shape);
      else {
        let layers = 1n;
        for (let j = 0; j < n; j++) layers *= within(`${p}[${j}].`);
        stage += shape * layers;
      }
    }
    // Decisions shared by id with an earlier node belong to that node's path, so a stage counts only its own.
    total *= stage;
  });
  return total;
}

/** log10 of spaceSize, for display. */
export function spaceSizeLog10(space: SearchSpace): number {
  const s = spaceSize(space).toString();
  return Math.log10(Number(`0.${s}`)) + s.length;
}

/**
 * Refuses a space that holds a single architecture (no choice node, or none whose options change the architecture):
 * there is nothing to search, and a strategy with no decision to take cannot work (the rl controller has no step).
 * `label` names the space as the user gave it.
 */
export function checkSearchable(space: SearchSpace, label: string): void {
  if (spaceSize(space) > 1n) return;
  const why = decisions(space).length === 0 ? 'no choice node' : 'no choice with two or more options in use';
  throw new ArchError(
    `--space ${label}: nothing to decide (${why}): the space '${space.name}' holds a single architecture; ` +
      'add choices such as {"oneOf": [3, 5]} (docs/SEARCH_SPACE.md), or train that architecture with nas train-final',
  );
}
