// Parameters and multiply-adds of a resolved architecture, layer by layer, in torchvision's convention: convs have
// no bias (a BN follows, with trainable gamma and beta and two running statistics); SE convs, head.hidden and the
// classifier have a bias and no BN. MAdds count convolutions and fully-connected layers (SE convs included), which
// is what the published figures count (MobileNetV3-Large 216.6M, Small 56.5M).
import type { ResolvedArch, ResolvedBlock } from './resolve.js';

export type LayerOp = 'conv' | 'dw' | 'pw' | 'se-reduce' | 'se-expand' | 'hidden' | 'classifier';
export type Shape3 = readonly [number, number, number];

export interface LayerCost {
  readonly path: string;
  readonly op: LayerOp;
  readonly inShape: Shape3; // [h, w, c]
  readonly outShape: Shape3;
  readonly kernel: number;
  readonly stride: number;
  /** Trainable parameters, BN gamma and beta included. */
  readonly params: number;
  /** BN running mean and variance. */
  readonly bnStats: number;
  readonly madds: number;
}

export interface ArchCost {
  readonly layers: readonly LayerCost[];
  readonly params: number;
  readonly paramsWithBnStats: number;
  readonly madds: number;
}

interface ConvArgs {
  readonly path: string;
  readonly op: LayerOp;
  readonly inSize: number;
  readonly inC: number;
  readonly outC: number;
  readonly kernel: number;
  readonly stride: number;
  readonly outSize: number;
  readonly groups: number;
}

/** Conv (no bias) + BN. */
function convBn(a: ConvArgs): LayerCost {
  const weights = a.kernel * a.kernel * (a.inC / a.groups) * a.outC;
  return {
    path: a.path,
    op: a.op,
    inShape: [a.inSize, a.inSize, a.inC],
    outShape: [a.outSize, a.outSize, a.outC],
    kernel: a.kernel,
    stride: a.stride,
    params: weights + 2 * a.outC,
    bnStats: 2 * a.outC,
    madds: a.outSize * a.outSize * weights,
  };
}

/** Fully connected (a 1x1 conv on a 1x1 map) with bias, no BN. */
function dense(path: string, op: LayerOp, inC: number, outC: number): LayerCost {
  return {
    path,
    op,
    inShape: [1, 1, inC],
    outShape: [1, 1, outC],
    kernel: 1,
    stride: 1,
    params: inC * outC + outC,
    bnStats: 0,
    madds: inC * outC,
  };
}

function pointwise(path: string, size: number, inC: number, outC: number): LayerCost {
  return convBn({ path, op: 'pw', inSize: size, inC, outC, kernel: 1, stride: 1, outSize: size, groups: 1 });
}

function blockLayers(b: ResolvedBlock): LayerCost[] {
  const p = b.path;
  if (b.type === 'conv') {
    const op = b.kernel === 1 ? 'pw' : 'conv';
    return [convBn({ path: `${p}.conv`, op, inSize: b.inSize, inC: b.inC, outC: b.outC, kernel: b.kernel, stride: b.stride, outSize: b.outSize, groups: 1 })];
  }
  const layers: LayerCost[] = [];
  if (b.hasExpand) layers.push(pointwise(`${p}.expand`, b.inSize, b.inC, b.exp));
  layers.push(
    convBn({ path: `${p}.dw`, op: 'dw', inSize: b.inSize, inC: b.exp, outC: b.exp, kernel: b.kernel, stride: b.stride, outSize: b.outSize, groups: b.exp }),
  );
  if (b.se) {
    layers.push(dense(`${p}.se.reduce`, 'se-reduce', b.exp, b.se.reduce));
    layers.push(dense(`${p}.se.expand`, 'se-expand', b.se.reduce, b.exp));
  }
  layers.push(pointwise(`${p}.project`, b.outSize, b.exp, b.outC));
  return layers;
}

/** Per-layer and total parameters and multiply-adds of a resolved architecture. */
export function costOf(arch: ResolvedArch): ArchCost {
  const s = arch.stem;
  const h = arch.head;
  const layers: LayerCost[] = [
    convBn({ path: 'stem', op: 'conv', inSize: s.inSize, inC: s.inC, outC: s.outC, kernel: s.kernel, stride: s.stride, outSize: s.outSize, groups: 1 }),
    ...arch.blocks.flatMap(blockLayers),
    pointwise('head.conv', h.inSize, h.inC, h.conv),
  ];
  if (h.hidden !== null) layers.push(dense('head.hidden', 'hidden', h.conv, h.hidden));
  layers.push(dense('head.classifier', 'classifier', h.hidden ?? h.conv, arch.classes));
  const sum = (f: (l: LayerCost) => number): number => layers.reduce((t, l) => t + f(l), 0);
  const params = sum((l) => l.params);
  return { layers, params, paramsWithBnStats: params + sum((l) => l.bnStats), madds: sum((l) => l.madds) };
}
