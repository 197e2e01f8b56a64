// Built-in search spaces, as data in the format of searchSpace.ts.
import { ArchError } from '../common/errors.js';
import type { BatchNormConfig, SqueezeExcite } from './arch.js';
import { makeDivisible } from './makeDivisible.js';
import { type Choice, type OutWidth, type SearchSpace, type StageSpace, validateSpace } from './searchSpace.js';

const TF_BN: BatchNormConfig = { decay: 0.99, eps: 1e-3 };
const MNAS_SE: SqueezeExcite = { ratio: 0.25, of: 'input', gate: 'sigmoid' };
const V3_SE: SqueezeExcite = { ratio: 0.25, of: 'expanded', gate: 'hsigmoid' };

/** Layers {-1, 0, +1} x base, never below 1 so no stage (and its stride) disappears. */
function layersAround(n: number): Choice<number> {
  return { oneOf: [...new Set([Math.max(1, n - 1), n, n + 1])] };
}

/** Filters {0.75, 1.0, 1.25} x base, dropping multipliers that round (makeDivisible) to a width already offered. */
function widths(base: number, extra: readonly number[] = []): Choice<OutWidth> {
  const byWidth = new Map<number, OutWidth>();
  // 1.0 first, so that the base width is written as {"mult": 1} when another multiplier rounds to it.
  for (const mult of [1, 0.75, 1.25]) {
    const w = makeDivisible(base * mult, 8);
    if (!byWidth.has(w)) byWidth.set(w, { mult });
  }
  for (const w of extra) if (!byWidth.has(w)) byWidth.set(w, w);
  return { oneOf: [...byWidth.entries()].sort(([a], [b]) => a - b).map(([, o]) => o) };
}

/** What every built-in space shares: 3-channel input, width 1, symmetric padding, TF batch norm, dropout 0.2. */
function shell(
  name: string,
  size: number,
  classes: number,
  stem: SearchSpace['stem'],
  stages: readonly StageSpace[],
  head: SearchSpace['head'],
): SearchSpace {
  return {
    version: 1,
    kind: 'space',
    name,
    input: { size, channels: 3 },
    classes,
    width: 1,
    padding: 'symmetric',
    // The batch-norm convention is a training setting, not something to search: TF's, as MnasNet trained.
    bn: TF_BN,
    dropout: 0.2,
    stem,
    stages,
    head,
  };
}

// MobileNetV2's stages (out, repeats, stride), the base of MnasNet's factorized hierarchical space.
const V2_STAGES: readonly (readonly [number, number, number])[] = [
  [16, 1, 1],
  [24, 2, 2],
  [32, 3, 2],
  [64, 4, 2],
  [96, 3, 1],
  [160, 3, 2],
  [320, 1, 1],
];

// MnasNet-A1's 112 is 1.17 x MobileNetV2's 96, between the 1.0 and 1.25 multipliers: offered as an absolute width.
const MNAS_EXTRA_WIDTHS: ReadonlyMap<number, readonly number[]> = new Map([[4, [112]]]);

const RELU_FAMILY: Choice<'relu' | 'relu6'> = { oneOf: ['relu', 'relu6'], id: 'act' };

function mnasnet(name: string, size: number, stemStride: number, classes: number): SearchSpace {
  const stages: StageSpace[] = V2_STAGES.map(([out, n, stride], i) => ({
    layers: layersAround(n),
    stride,
    base: out,
    out: widths(out, MNAS_EXTRA_WIDTHS.get(i) ?? []),
    decide: 'stage',
    block: {
      op: {
        oneOf: [
          { type: 'conv' },
          { type: 'ds' },
          { type: 'ir', expand: 1 },
          { type: 'ir', expand: 3 },
          { type: 'ir', expand: 6 },
        ],
      },
      kernel: { oneOf: [3, 5] },
      se: { oneOf: [null, MNAS_SE] },
      act: RELU_FAMILY,
      skip: { oneOf: [true, false] },
    },
  }));
  return shell(name, size, classes, { kernel: 3, stride: stemStride, out: 32, act: RELU_FAMILY }, stages, {
    conv: 1280,
    hidden: null,
    act: RELU_FAMILY,
  });
}

// MobileNetV3-Large's stages (out, repeats, stride).
const V3_STAGES: readonly (readonly [number, number, number])[] = [
  [16, 1, 1],
  [24, 2, 2],
  [40, 3, 2],
  [80, 4, 2],
  [112, 2, 1],
  [160, 3, 2],
];

// MobileNetV3-Small's stages (its Table 2, blocks grouped by output width) and head.
const V3_SMALL_STAGES: readonly (readonly [number, number, number])[] = [
  [16, 1, 2],
  [24, 2, 2],
  [40, 3, 2],
  [48, 2, 1],
  [96, 3, 2],
];

type V3Shape = { readonly stages: readonly (readonly [number, number, number])[]; readonly head: SearchSpace['head'] };
const V3_LARGE: V3Shape = { stages: V3_STAGES, head: { conv: 960, hidden: 1280, act: 'hswish' } };
const V3_SMALL: V3Shape = { stages: V3_SMALL_STAGES, head: { conv: 576, hidden: 1024, act: 'hswish' } };

function mobilenetv3(name: string, size: number, stemStride: number, classes: number, shape: V3Shape = V3_LARGE): SearchSpace {
  const stages: StageSpace[] = shape.stages.map(([out, n, stride], i) => ({
    layers: layersAround(n),
    stride,
    base: out,
    out: widths(out),
    decide: 'stage',
    block: {
      op: { type: 'ir', expand: { oneOf: i === 0 ? [1, 3, 4, 6] : [3, 4, 6] } },
      kernel: { oneOf: [3, 5] },
      se: { oneOf: [null, V3_SE] },
      act: { oneOf: ['relu', 'hswish'] },
      skip: true,
    },
  }));
  return shell(name, size, classes, { kernel: 3, stride: stemStride, out: 16, act: 'hswish' }, stages, shape.head);
}

const SPACES: ReadonlyMap<string, () => SearchSpace> = new Map<string, () => SearchSpace>([
  // MnasNet factorized hierarchical space relative to MobileNetV2 (7 stages, per-stage decisions), 224 px.
  ['mnasnet', () => mnasnet('mnasnet', 224, 2, 1000)],
  // MobileNetV3-style blocks (expansion, kernel, SE, ReLU/h-swish per stage), 224 px.
  ['mobilenetv3', () => mobilenetv3('mobilenetv3', 224, 2, 1000)],
  // The two above with a stride-1 stem, for 28-32 px inputs (32 px, 10 classes).
  ['mnasnet-small-input', () => mnasnet('mnasnet-small-input', 32, 1, 10)],
  ['mobilenetv3-small-input', () => mobilenetv3('mobilenetv3-small-input', 32, 1, 10)],
  // The same choices around MobileNetV3-Small's 5 stages and head, for latency targets near the Small's: the two
  // spaces above are built around MobileNetV2/V3-Large, whose typical network at 32 px is 4x the Small's MAdds.
  ['mobilenetv3s', () => mobilenetv3('mobilenetv3s', 224, 2, 1000, V3_SMALL)],
  ['mobilenetv3s-small-input', () => mobilenetv3('mobilenetv3s-small-input', 32, 1, 10, V3_SMALL)],
]);

/** Names of the built-in spaces, in a fixed order. */
export function spaceNames(): readonly string[] {
  return [...SPACES.keys()];
}

/** A fresh, validated copy of a built-in space. */
export function builtinSpace(name: string): SearchSpace {
  return validateSpace(lookup(name)());
}

function lookup(name: string): () => SearchSpace {
  const s = SPACES.get(name);
  if (!s) throw new ArchError(`unknown search space '${name}'; known: ${spaceNames().join(', ')}`);
  return s;
}
