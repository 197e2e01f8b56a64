// The only code that turns an architecture into a tfjs model. It reads the resolved IR (channels, sizes, residuals
// already decided) and names every layer after its block path, so checkpoints, weight import and NetAdapt's
// truncation find weights by name.
import * as tf from '@tensorflow/tfjs';
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

/** FNV-1a of the path mixed with the seed: a stable per-layer initialiser seed. */
function layerSeed(seed: number, path: string): number {
  let h = 0x811c9dc5 ^ seed;
  for (let i = 0; i < path.length; i++) h = Math.imul(h ^ path.charCodeAt(i), 0x01000193);
  return (h >>> 0) % 2147483647;
}

export function buildModel(arch: ResolvedArch, opts: BuildOptions = {}): tf.LayersModel {
  const seed = opts.seed ?? 0;
  const folded = opts.folded === true;
  const bn = { bnDecay: arch.bn.decay, bnEps: arch.bn.eps, padding: arch.padding, ...(folded ? { folded } : {}) };
  const convBn = (
    name: string,
    filters: number,
    kernelSize: number,
    strides: number,
    activation: LayerActivation,
    depthwise = false,
  ): ConvBn => new ConvBn({ name, filters, kernelSize, strides, depthwise, activation, seed: layerSeed(seed, name), ...bn });

  const input = tf.input({ shape: [arch.inputSize, arch.inputSize, arch.inputChannels], name: 'input' });
  const s = arch.stem;
  let x = convBn('stem', s.outC, s.kernel, s.stride, s.act).apply(input) as tf.SymbolicTensor;

  for (const b of arch.blocks) x = block(b, x, convBn, seed);

  const h = arch.head;
  x = convBn('head.conv', h.conv, 1, 1, h.act).apply(x) as tf.SymbolicTensor;
  x = new GlobalAvgPool({ name: 'head.pool' }).apply(x) as tf.SymbolicTensor;
  if (h.hidden !== null) {
    x = new DenseAct({ name: 'head.hidden', units: h.hidden, activation: h.act, seed: layerSeed(seed, 'head.hidden') }).apply(
      x,
    ) as tf.SymbolicTensor;
  }
  if (arch.dropout > 0 && !folded) {
    x = new Dropout({ name: 'head.dropout', rate: arch.dropout, seed: layerSeed(seed, 'head.dropout') }).apply(
      x,
    ) as tf.SymbolicTensor;
  }
  const logits = new DenseAct({
    name: 'head.classifier',
    units: arch.classes,
    activation: 'linear',
    seed: layerSeed(seed, 'head.classifier'),
  }).apply(x) as tf.SymbolicTensor;
  return tf.model({ inputs: input, outputs: logits, name: arch.spec.name });
}

type ConvBnFactory = (
  name: string,
  filters: number,
  kernelSize: number,
  strides: number,
  activation: LayerActivation,
  depthwise?: boolean,
) => ConvBn;

function block(b: ResolvedBlock, input: tf.SymbolicTensor, convBn: ConvBnFactory, seed: number): tf.SymbolicTensor {
  const p = b.path;
  let x = input;
  if (b.type === 'conv') {
    x = convBn(`${p}.conv`, b.outC, b.kernel, b.stride, b.act).apply(x) as tf.SymbolicTensor;
  } else {
    if (b.hasExpand) x = convBn(`${p}.expand`, b.exp, 1, 1, b.act).apply(x) as tf.SymbolicTensor;
    x = convBn(`${p}.dw`, b.exp, b.kernel, b.stride, b.act, true).apply(x) as tf.SymbolicTensor;
    if (b.se) {
      x = new SqueezeExcite({ name: `${p}.se`, reduce: b.se.reduce, gate: b.se.gate, seed: layerSeed(seed, `${p}.se`) }).apply(
        x,
      ) as tf.SymbolicTensor;
    }
    x = convBn(`${p}.project`, b.outC, 1, 1, 'linear').apply(x) as tf.SymbolicTensor;
  }
  if (b.residual) x = tf.layers.add({ name: `${p}.add` }).apply([input, x]) as tf.SymbolicTensor;
  return x;
}
