// Identity for the 'wasm' backend without a copy: the output shares the input's memory (tensors are immutable),
// as tfjs's cpu backend does. tfjs clones every tensor a gradient saves through Identity, so the stock kernel's
// memcpy ran hundreds of times a training step.
import * as tf from '@tensorflow/tfjs';
import type { KernelArgs } from './convGeometry.js';

interface RefCounting {
  incRef(dataId: object): void;
}

export function identity(args: KernelArgs): tf.TensorInfo {
  const x = args.inputs['x'];
  if (!x) throw new Error('Identity: input x is missing');
  (args.backend as unknown as RefCounting).incRef(x.dataId);
  return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
}

export const identityConfig: tf.KernelConfig = {
  kernelName: tf.Identity,
  backendName: 'wasm',
  kernelFunc: identity as unknown as tf.KernelFunc,
};
