// The pure step between the IR and everything that builds, counts or measures a network: it threads channels and
// spatial sizes through the blocks, applies the width multiplier, and decides residuals, expand convs and SE widths.
// Width w != 1: stem, block outputs and head.conv become makeDivisible(c * w, 8); an ir block's expansion keeps its
// ratio to the block input (see scaleExpansion); head.hidden is scaled only when w > 1. Width 1 keeps the spec's
// absolute widths exactly.
// Layer paths: `stem`; per block `${path}.expand`, `.dw`, `.se.reduce`, `.se.expand`, `.project` (ir/ds) or
// `.conv` (conv); `head.conv`, `head.hidden`, `head.classifier`.
import type { Activation, ArchSpec, BatchNormConfig, Block, BlockType, Padding } from './arch.js';
import { makeDivisible } from './makeDivisible.js';

export interface ResolvedBlock {
  readonly path: string; // `s${stage}.b${index}`, both 0-based
  readonly stage: number;
  readonly index: number;
  readonly type: BlockType;
  readonly inC: number;
  readonly exp: number; // depthwise width (== inC when no expand conv; for `conv` blocks == outC)
  readonly outC: number;
  readonly hasExpand: boolean;
  readonly kernel: number;
  readonly stride: number;
  readonly inSize: number;
  readonly outSize: number;
  readonly act: Activation;
  readonly se: { readonly reduce: number; readonly gate: 'hsigmoid' | 'sigmoid' } | null;
  readonly residual: boolean;
}

export interface ResolvedArch {
  readonly spec: ArchSpec;
  readonly inputSize: number;
  readonly inputChannels: number;
  readonly classes: number;
  readonly padding: Padding;
  readonly bn: BatchNormConfig;
  readonly dropout: number;
  readonly stem: {
    readonly path: 'stem';
    readonly inC: number;
    readonly outC: number;
    readonly kernel: number;
    readonly stride: number;
    readonly inSize: number;
    readonly outSize: number;
    readonly act: Activation;
  };
  readonly blocks: readonly ResolvedBlock[];
  readonly head: {
    readonly inC: number;
    readonly conv: number;
    readonly hidden: number | null;
    readonly act: Activation;
    readonly inSize: number;
  };
}

/**
 * A channel count under width multiplier `width`: makeDivisible(c * width, 8). At width 1 the spec's absolute
 * widths are kept as written (they are already what the user, a search or NetAdapt chose).
 */
export function scaleChannels(c: number, width: number): number {
  return width === 1 ? c : makeDivisible(c * width, 8);
}

/** Output size of a stride-s layer with an odd kernel, for both k//2 symmetric and 'same' padding. */
export function outputSize(inSize: number, stride: number): number {
  return Math.ceil(inSize / stride);
}

/**
 * The depthwise width of an ir block under width multiplier `width`, given the block's input width before (`specIn`)
 * and after (`inC`) scaling. The expansion ratio exp / specIn is kept and applied to the scaled input, as TF-slim's
 * expand_input_by_factor does: this is what the published MobileNetV3 0.75 figures count (Large 3.994M params and
 * 154.6M MAdds; scaling exp on its own, makeDivisible(exp * 0.75, 8), gives 3.928M and 140.6M). With exp == specIn
 * the block keeps having no expand conv.
 */
export function scaleExpansion(exp: number, specIn: number, inC: number, width: number): number {
  return width === 1 ? exp : makeDivisible((exp / specIn) * inC, 8);
}

function resolveBlock(
  b: Block,
  stage: number,
  index: number,
  specIn: number,
  inC: number,
  inSize: number,
  width: number,
): ResolvedBlock {
  const outC = scaleChannels(b.out, width);
  const exp = b.type === 'ir' ? scaleExpansion(b.exp, specIn, inC, width) : b.type === 'ds' ? inC : outC;
  const se =
    b.type === 'conv' || b.se === null
      ? null
      : {
          reduce:
            b.se.of === 'expanded'
              ? makeDivisible(b.se.ratio * exp, 8)
              : Math.max(1, Math.floor(b.se.ratio * inC)),
          gate: b.se.gate,
        };
  return {
    path: `s${stage}.b${index}`,
    stage,
    index,
    type: b.type,
    inC,
    exp,
    outC,
    hasExpand: b.type === 'ir' && exp !== inC,
    kernel: b.kernel,
    stride: b.stride,
    inSize,
    outSize: outputSize(inSize, b.stride),
    act: b.act,
    se,
    residual: b.skip && b.stride === 1 && inC === outC,
  };
}

/** Resolve a (valid) spec: concrete widths, sizes and wiring decisions for every layer. */
export function resolve(spec: ArchSpec): ResolvedArch {
  const w = spec.width;
  const stemOut = scaleChannels(spec.stem.out, w);
  const stem = {
    path: 'stem' as const,
    inC: spec.input.channels,
    outC: stemOut,
    kernel: spec.stem.kernel,
    stride: spec.stem.stride,
    inSize: spec.input.size,
    outSize: outputSize(spec.input.size, spec.stem.stride),
    act: spec.stem.act,
  };
  const blocks: ResolvedBlock[] = [];
  let specC = spec.stem.out;
  let c = stem.outC;
  let size = stem.outSize;
  spec.stages.forEach((stage, si) =>
    stage.forEach((b, bi) => {
      const r = resolveBlock(b, si, bi, specC, c, size, w);
      blocks.push(r);
      specC = b.out;
      c = r.outC;
      size = r.outSize;
    }),
  );
  const hidden = spec.head.hidden;
  return {
    spec,
    inputSize: spec.input.size,
    inputChannels: spec.input.channels,
    classes: spec.classes,
    padding: spec.padding,
    bn: spec.bn,
    dropout: spec.dropout,
    stem,
    blocks,
    head: {
      inC: c,
      conv: scaleChannels(spec.head.conv, w),
      // The paper and TF-slim keep the last 1280/1024 for width < 1 (torchvision scales it too).
      hidden: hidden === null ? null : w > 1 ? makeDivisible(hidden * w, 8) : hidden,
      act: spec.head.act,
      inSize: size,
    },
  };
}
