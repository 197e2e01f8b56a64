// Weights from torchvision's MobileNetV3 (state_dict names, NCHW/OIHW layouts) into a model built by buildModel.
// The mapping walks the resolved IR in the order torchvision builds its `features` list, so any arch with
// torchvision's layer order (MobileNetV3 Large/Small at any width) imports.
import * as tf from '@tensorflow/tfjs';
import { ArchError } from '../common/errors.js';
import type { ResolvedArch } from '../space/resolve.js';
import type { NamedArray } from './safetensors.js';

type Layout = 'conv' | 'dw' | 'linear' | 'vector';

interface Source {
  readonly key: string;
  readonly layout: Layout;
}

/** For each of our layers, the torchvision keys of its weights in our layer's weight order. */
export function torchvisionMobileNetV3Names(arch: ResolvedArch): Map<string, Source[]> {
  const map = new Map<string, Source[]>();
  const convBn = (ours: string, prefix: string, layout: 'conv' | 'dw'): void => {
    map.set(ours, [
      { key: `${prefix}.0.weight`, layout },
      { key: `${prefix}.1.weight`, layout: 'vector' },
      { key: `${prefix}.1.bias`, layout: 'vector' },
      { key: `${prefix}.1.running_mean`, layout: 'vector' },
      { key: `${prefix}.1.running_var`, layout: 'vector' },
    ]);
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
      map.set(`${b.path}.se`, [
        { key: `${se}.fc1.weight`, layout: 'linear' },
        { key: `${se}.fc1.bias`, layout: 'vector' },
        { key: `${se}.fc2.weight`, layout: 'linear' },
        { key: `${se}.fc2.bias`, layout: 'vector' },
      ]);
    }
    convBn(`${b.path}.project`, `${f}.${j++}`, 'conv');
  });
  convBn('head.conv', `features.${arch.blocks.length + 1}`, 'conv');
  const linear = (ours: string, prefix: string): void => {
    map.set(ours, [
      { key: `${prefix}.weight`, layout: 'linear' },
      { key: `${prefix}.bias`, layout: 'vector' },
    ]);
  };
  if (arch.head.hidden !== null) {
    linear('head.hidden', 'classifier.0');
    linear('head.classifier', 'classifier.3');
  } else {
    linear('head.classifier', 'classifier.1');
  }
  return map;
}

/** OIHW -> HWIO (conv), [C,1,H,W] -> [H,W,C,1] (depthwise), [out,in(,1,1)] -> [in,out] (linear and SE convs). */
function toTfjs(a: NamedArray, layout: Layout): tf.Tensor {
  const t = tf.tensor(a.data, [...a.shape]);
  switch (layout) {
    case 'vector':
      return t;
    case 'conv':
      return tf.tidy(() => tf.transpose(t, [2, 3, 1, 0]));
    case 'dw':
      return tf.tidy(() => tf.transpose(t, [2, 3, 0, 1]));
    case 'linear':
      return tf.tidy(() => tf.transpose(t.reshape([a.shape[0] ?? 0, a.shape[1] ?? 0]), [1, 0]));
  }
}

/** Copies torchvision MobileNetV3 weights into `model`; every key must be used and every shape must match. */
export function importTorchvisionMobileNetV3(
  model: tf.LayersModel,
  arch: ResolvedArch,
  weights: ReadonlyMap<string, NamedArray>,
): void {
  const used = new Set<string>();
  for (const [layerName, sources] of torchvisionMobileNetV3Names(arch)) {
    const layer = model.getLayer(layerName);
    const tensors = sources.map(({ key, layout }) => {
      const a = weights.get(key);
      if (!a) throw new ArchError(`weights lack ${key} (for ${layerName}); is this a torchvision MobileNetV3 of this arch?`);
      used.add(key);
      return toTfjs(a, layout);
    });
    const expected = layer.getWeights().map((w) => w.shape.join('x'));
    const got = tensors.map((t) => t.shape.join('x'));
    if (expected.join() !== got.join()) {
      tf.dispose(tensors);
      throw new ArchError(`${layerName}: weight shapes ${got.join(', ')} do not match the arch's ${expected.join(', ')}`);
    }
    layer.setWeights(tensors);
    tf.dispose(tensors);
  }
  const unused = [...weights.keys()].filter((k) => !used.has(k) && !k.endsWith('num_batches_tracked'));
  if (unused.length > 0) throw new ArchError(`weights have keys the arch does not use: ${unused.slice(0, 5).join(', ')}`);
}
