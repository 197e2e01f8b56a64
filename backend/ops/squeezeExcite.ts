// The squeeze-excite pieces with fused kernels on wasm (native/src/pool_scale.cc), the same formulas from stock
// tfjs ops elsewhere: global average pooling (the squeeze) and the per-image channel scale (the excite multiply).
import * as tf from '@tensorflow/tfjs';
import { firstDy, kernelNames, useFusedKernels } from './fused.js';

function dims4(x: tf.Tensor, op: string): [number, number, number, number] {
  const [n, h, w, c] = x.shape;
  if (x.rank !== 4 || n === undefined || h === undefined || w === undefined || c === undefined) {
    throw new Error(`${op}: x must be NHWC [N, H, W, C], got [${x.shape.join(', ')}]`);
  }
  return [n, h, w, c];
}

/** Mean over H and W: [N, H, W, C] -> [N, C]; backward dx = dy / (H*W) broadcast over H, W. */
export function globalAvgPool(x: tf.Tensor4D): tf.Tensor2D {
  const [n, height, width, c] = dims4(x, 'globalAvgPool');
  if (useFusedKernels()) return tf.engine().runKernel<tf.Tensor2D>(kernelNames.globalAvgPool, { x }, { height, width });
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => ({
    value: tf.mean(args[0] as tf.Tensor4D, [1, 2]) as tf.Tensor2D,
    gradFunc: (dy: tf.Tensor2D) => tf.mul(tf.reshape(dy, [n, 1, 1, c]), tf.fill([1, height, width, 1], 1 / (height * width))),
  }));
  return op(x) as tf.Tensor2D;
}

/**
 * The squeeze-excite multiply x * s[:, None, None, :] for x [N, H, W, C] and s [N, C]; backward dx = dy * s,
 * ds = sum over H, W of dy * x.
 */
export function channelScale(x: tf.Tensor4D, s: tf.Tensor2D): tf.Tensor4D {
  const [n, , , c] = dims4(x, 'channelScale');
  if (s.rank !== 2 || s.shape[0] !== n || s.shape[1] !== c) {
    throw new Error(`channelScale: s must be [${n}, ${c}], got [${s.shape.join(', ')}]`);
  }
  if (useFusedKernels()) return tf.engine().runKernel<tf.Tensor4D>(kernelNames.channelScale, { x, s });
  const op = tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const xi = args[0] as tf.Tensor4D;
    const si = args[1] as tf.Tensor2D;
    (args[2] as tf.GradSaveFunc)([xi, si]);
    return {
      value: tf.mul<tf.Tensor4D>(xi, tf.reshape(si, [n, 1, 1, c])),
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sx, ss] = saved as [tf.Tensor4D, tf.Tensor2D];
        return [tf.mul(dy, tf.reshape(ss, [n, 1, 1, c])), tf.sum(tf.mul(dy, sx), [1, 2])];
      },
    };
  });
  return op(x, s) as tf.Tensor4D;
}

// The fused kernels' gradients, registered with tfjs (one dispatch a call, where a tf.customGrad takes two and a scope).

tf.registerGradient({
  kernelName: kernelNames.globalAvgPool,
  gradFunc: (dy, _saved, attrs) => ({ x: () => tf.engine().runKernel<tf.Tensor4D>(kernelNames.globalAvgPoolGrad, { dy: firstDy(dy) }, attrs) }),
});

tf.registerGradient({
  kernelName: kernelNames.channelScale,
  inputsToSave: ['x', 's'],
  gradFunc: (dy, saved) => {
    const [x, s] = saved;
    if (!x || !s) throw new Error('channelScale gradient: a saved tensor is missing');
    const [dx, ds] = tf.engine().runKernel<tf.Tensor[]>(kernelNames.channelScaleGrad, { dy: firstDy(dy), x, s });
    if (!dx || !ds) throw new Error('channelScale gradient: the kernel returned fewer than 2 tensors');
    return { x: () => dx, s: () => ds };
  },
});
