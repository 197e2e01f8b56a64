// The only code that turns an architecture into a tfjs model. It reads the resolved IR (channels, sizes, residuals
// already decided) and names every layer after its block path, so checkpoints, weight import and NetAdapt's
// truncation find weights by name. The pieces (stem, block, head) are exported for the latency lookup tables,
// whose entries time each piece alone (latency/entryModels.ts).
import * as tf from '@tensorflow/tfjs';
import { nameSeed } from '../common/seed.js';
import type { ResolvedArch, ResolvedBlock } from '../space/resolve.js';
import { ConvBn, DenseAct, Dropout, GlobalAvgPool, type LayerActivation, SqueezeExcite } from './layers.js';

export interface BuildOptions {
  /** Seed of the weight initialisers; each layer draws from its own stream derived from it and its path. */
  readonly seed?: number;
  /**
   * The inference form: batch norm folded into each convolution (weights `kernel` and `bias`), no dropout layer.
   * It cannot train; model/fold.ts fills it from a trained model. Latency is measured on this form.
   */
  readonly folded?: boolean;
}

type Sym = tf.SymbolicTensor;

/** What the piece builders share: the arch's conv settings, the seed and the form. */
export interface PieceContext {
  readonly arch: ResolvedArch;
  readonly seed: number;
  readonly folded: boolean;
  convBn(name: string, filters: number, kernelSize: number, strides: number, activation: LayerActivation, depthwise?: boolean): ConvBn;
}

export function pieceContext(arch: ResolvedArch, opts: BuildOptions = {}): PieceContext {
  const seed = opts.seed ?? 0;
  const folded = opts.folded === true;
  const bn = { bnDecay: arch.bn.decay, bnEps: arch.bn.eps, padding: arch.padding, ...(folded ? { folded } : {}) };
  return {
    arch,
    seed,
    folded,
    convBn: (name, filters, kernelSize, strides, activation, depthwise = false) =>
      new ConvBn({ name, filters, kernelSize, strides, depthwise, activation, seed: nameSeed(seed, name), ...bn }),
  };
}

export function stemLayers(c: PieceContext, input: Sym): Sym {
  const s = c.arch.stem;
  return c.convBn('stem', s.outC, s.kernel, s.stride, s.act).apply(input) as Sym;
}

export function blockLayers(c: PieceContext, b: ResolvedBlock, input: Sym): Sym {
  const p = b.path;
  let x = input;
  if (b.type === 'conv') {
    x = c.convBn(`${p}.conv`, b.outC, b.kernel, b.stride, b.act).apply(x) as Sym;
  } else {
    if (b.hasExpand) x = c.convBn(`${p}.expand`, b.exp, 1, 1, b.act).apply(x) as Sym;
    x = c.convBn(`${p}.dw`, b.exp, b.kernel, b.stride, b.act, true).apply(x) as Sym;
    if (b.se) {
      x = new SqueezeExcite({ name: `${p}.se`, reduce: b.se.reduce, gate: b.se.gate, seed: nameSeed(c.seed, `${p}.se`) }).apply(x) as Sym;
    }
    x = c.convBn(`${p}.project`, b.outC, 1, 1, 'linear').apply(x) as Sym;
  }
  if (b.residual) x = tf.layers.add({ name: `${p}.add` }).apply([input, x]) as Sym;
  return x;
}

export function headLayers(c: PieceContext, input: Sym): Sym {
  const { arch, seed } = c;
  const h = arch.head;
  let x = c.convBn('head.conv', h.conv, 1, 1, h.act).apply(input) as Sym;
  x = new GlobalAvgPool({ name: 'head.pool' }).apply(x) as Sym;
  if (h.hidden !== null) {
    x = new DenseAct({ name: 'head.hidden', units: h.hidden, activation: h.act, seed: nameSeed(seed, 'head.hidden') }).apply(x) as Sym;
  }
  if (arch.dropout > 0 && !c.folded) {
    x = new Dropout({ name: 'head.dropout', rate: arch.dropout, seed: nameSeed(seed, 'head.dropout') }).apply(x) as Sym;
  }
  return new DenseAct({ name: 'head.classifier', units: arch.classes, activation: 'linear', seed: nameSeed(seed, 'head.classifier') }).apply(
    x,
  ) as Sym;
}

/** The tfjs model of a resolved architecture (space/resolve.ts `resolve`); layer names follow the block path (`s3.b1.expand`). */
export function buildModel(arch: ResolvedArch, opts: BuildOptions = {}): tf.LayersModel {
  const c = pieceContext(arch, opts);
  const input = tf.input({ shape: [arch.inputSize, arch.inputSize, arch.inputChannels], name: 'input' });
  let x = stemLayers(c, input);
  for (const b of arch.blocks) x = blockLayers(c, b, x);
  return tf.model({ inputs: input, outputs: headLayers(c, x), name: arch.spec.name });
}
