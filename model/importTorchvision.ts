// Weights from torchvision's MobileNetV3 (state_dict names, NCHW/OIHW layouts) into a model built by buildModel.
// The mapping walks the resolved IR in the order torchvision builds its `features` list, so any arch with
// torchvision's layer order (MobileNetV3 Large/Small at any width) imports. The copy itself (layout conversion,
// shape checks, every key used) is shared with the timm mapping (model/importTimm.ts).
import * as tf from '@tensorflow/tfjs';
import { ArchError } from '../common/errors.js';
import type { ResolvedArch } from '../space/resolve.js';
import type { NamedArray } from './safetensors.js';

/** How a PyTorch tensor is laid out: conv OIHW, depthwise [C,1,H,W], linear [out,in] (or a 1x1 conv), or 1-D. */
export type PyTorchLayout = 'conv' | 'dw' | 'linear' | 'vector';

export interface PyTorchSource {
  readonly key: string;
  readonly layout: PyTorchLayout;
}

/** For each of our layers (by name), the PyTorch keys of its weights in our layer's weight order. */
export type PyTorchNames = Map<string, PyTorchSource[]>;

/** The keys of a conv followed by a BatchNorm2d: conv weight, then BN weight, bias, running mean and variance. */
export function convBnSources(conv: string, bn: string, layout: 'conv' | 'dw'): PyTorchSource[] {
  return [
    { key: `${conv}.weight`, layout },
    { key: `${bn}.weight`, layout: 'vector' },
    { key: `${bn}.bias`, layout: 'vector' },
    { key: `${bn}.running_mean`, layout: 'vector' },
    { key: `${bn}.running_var`, layout: 'vector' },
  ];
}

/** The keys of a layer with weight and bias (nn.Linear, or a 1x1 nn.Conv2d with bias). */
export function linearSources(prefix: string): PyTorchSource[] {
  return [
    { key: `${prefix}.weight`, layout: 'linear' },
    { key: `${prefix}.bias`, layout: 'vector' },
  ];
}

/** The keys of a squeeze-and-excite: reduce weight and bias, expand weight and bias. */
export function seSources(reduce: string, expand: string): PyTorchSource[] {
  return [...linearSources(reduce), ...linearSources(expand)];
}

/** For each of our layers, the torchvision keys of its weights in our layer's weight order. */
export function torchvisionMobileNetV3Names(arch: ResolvedArch): PyTorchNames {
  const map: PyTorchNames = new Map();
  const convBn = (ours: string, prefix: string, layout: 'conv' | 'dw'): void => {
    map.set(ours, convBnSources(`${prefix}.0`, `${prefix}.1`, layout));
  };
  convBn('stem', 'features.0', 'conv');
  arch.blocks.forEach((b, i) => {
    if (b.type !== 'ir' && b.type !== 'ds') throw new ArchError(`torchvision MobileNetV3 has no ${b.type} block (${b.path})`);
    const f = `features.${i + 1}.block`;
    let j = 0;
    if (b.hasExpand) convBn(`${b.path}.expand`, `${f}.${j++}`, 'conv');
    convBn(`${b.path}.dw`, `${f}.${j++}`, 'dw');
    if (b.se) {
      const se = `${f}.${j++}`;
      map.set(`${b.path}.se`, seSources(`${se}.fc1`, `${se}.fc2`));
    }
    convBn(`${b.path}.project`, `${f}.${j++}`, 'conv');
  });
  convBn('head.conv', `features.${arch.blocks.length + 1}`, 'conv');
  if (arch.head.hidden !== null) {
    map.set('head.hidden', linearSources('classifier.0'));
    map.set('head.classifier', linearSources('classifier.3'));
  } else {
    map.set('head.classifier', linearSources('classifier.1'));
  }
  return map;
}

/** OIHW -> HWIO (conv), [C,1,H,W] -> [H,W,C,1] (depthwise), [out,in(,1,1)] -> [in,out] (linear and SE convs). */
function toTfjs(a: NamedArray, layout: PyTorchLayout): tf.Tensor {
  return tf.tidy(() => {
    const t = tf.tensor(a.data, [...a.shape]);
    switch (layout) {
      case 'vector':
        return t;
      case 'conv':
        return tf.transpose(t, [2, 3, 1, 0]);
      case 'dw':
        return tf.transpose(t, [2, 3, 0, 1]);
      case 'linear':
        return tf.transpose(t.reshape([a.shape[0] ?? 0, a.shape.slice(1).reduce((x, y) => x * y, 1)]), [1, 0]);
    }
  });
}

/** The expected rank of a PyTorch tensor of a layout (linear also takes a 1x1 conv's 4-D weight). */
function rankFits(a: NamedArray, layout: PyTorchLayout): boolean {
  switch (layout) {
    case 'vector':
      return a.shape.length === 1;
    case 'conv':
    case 'dw':
      return a.shape.length === 4;
    case 'linear':
      return a.shape.length === 2 || (a.shape.length === 4 && a.shape[2] === 1 && a.shape[3] === 1);
  }
}

/**
 * Copies PyTorch weights into `model` by `names`: every layer of the model that has weights must be named, every key
 * must exist and be used (num_batches_tracked aside), and every shape must match; else an ArchError naming the first
 * key that does not fit. `source` names the mapping in errors. Nothing is written into the model unless all of it fits.
 */
export function copyPyTorchWeights(
  model: tf.LayersModel,
  names: PyTorchNames,
  weights: ReadonlyMap<string, NamedArray>,
  source: string,
): void {
  const unnamed = model.layers.filter((l) => l.weights.length > 0 && !names.has(l.name)).map((l) => l.name);
  if (unnamed.length > 0) throw new ArchError(`the ${source} mapping has no weights for layers ${unnamed.slice(0, 5).join(', ')}`);
  const used = new Set<string>();
  const plan: { layer: tf.layers.Layer; arrays: { a: NamedArray; layout: PyTorchLayout }[] }[] = [];
  for (const [layerName, sources] of names) {
    const layer = model.getLayer(layerName);
    const arrays = sources.map(({ key, layout }) => {
      const a = weights.get(key);
      if (!a) throw new ArchError(`the weights lack ${key} (for ${layerName})`);
      if (!rankFits(a, layout)) throw new ArchError(`${key} has shape [${a.shape.join(', ')}], not that of a ${layout} weight`);
      used.add(key);
      return { a, layout };
    });
    const expected = layer.weights.map((w) => w.shape.join('x'));
    const got = arrays.map(({ a, layout }) => pytorchToTfjsShape(a.shape, layout).join('x'));
    if (expected.join() !== got.join()) {
      throw new ArchError(
        `${sources[0]?.key ?? layerName}: weight shapes ${got.join(', ')} (as ${layerName}) do not match this architecture's ${expected.join(', ')}`,
      );
    }
    plan.push({ layer, arrays });
  }
  const unused = [...weights.keys()].filter((k) => !used.has(k) && !k.endsWith('num_batches_tracked'));
  if (unused.length > 0) throw new ArchError(`the weights have keys this architecture does not use: ${unused.slice(0, 5).join(', ')}`);
  for (const { layer, arrays } of plan) {
    const tensors = arrays.map(({ a, layout }) => toTfjs(a, layout));
    try {
      layer.setWeights(tensors);
    } finally {
      tf.dispose(tensors);
    }
  }
}

function pytorchToTfjsShape(shape: readonly number[], layout: PyTorchLayout): number[] {
  const [a = 0, b = 0, c = 0, d = 0] = shape;
  switch (layout) {
    case 'vector':
      return [...shape];
    case 'conv':
      return [c, d, b, a];
    case 'dw':
      return [c, d, a, b];
    case 'linear':
      return [shape.slice(1).reduce((x, y) => x * y, 1), a];
  }
}

/** Copies torchvision MobileNetV3 weights into `model`; every key must be used and every shape must match. */
export function importTorchvisionMobileNetV3(
  model: tf.LayersModel,
  arch: ResolvedArch,
  weights: ReadonlyMap<string, NamedArray>,
): void {
  copyPyTorchWeights(model, torchvisionMobileNetV3Names(arch), weights, 'torchvision MobileNetV3');
}
