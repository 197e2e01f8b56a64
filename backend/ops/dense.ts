// A dense layer's product in training, x w + bias: on wasm one fused kernel forward (the inference kernel
// NasDenseBiasAct without an activation) and one backward (denseKernels.ts), where tfjs's ops take a BatchMatMul and
// a broadcast Add forward and two products, a transpose, a sum and two reshapes backward; elsewhere the stock ops.
import * as tf from '@tensorflow/tfjs';
import { firstDy, kernelNames, useFusedKernels } from './fused.js';

const LINEAR = { activation: 'linear' } as const;

/** x w + bias for x [M, K], w [K, N] and bias [N], differentiable w.r.t. all three. */
export function denseBias(x: tf.Tensor, w: tf.Tensor, bias: tf.Tensor): tf.Tensor2D {
  const [, k] = x.shape;
  const n = w.shape[1];
  if (x.rank !== 2 || w.rank !== 2 || w.shape[0] !== k || bias.rank !== 1 || bias.shape[0] !== n) {
    throw new Error(`denseBias: x [M, K], w [K, N], bias [N] expected, got [${x.shape.join(', ')}], [${w.shape.join(', ')}], [${bias.shape.join(', ')}]`);
  }
  if (!useFusedKernels()) return tf.add<tf.Tensor2D>(tf.matMul(x, w), bias);
  return tf.engine().runKernel<tf.Tensor2D>(kernelNames.denseBiasAct, { x, w, bias }, LINEAR);
}

// The gradient of the fused kernel without an activation: [dx, dw, dbias] from one kernel call.
tf.registerGradient({
  kernelName: kernelNames.denseBiasAct,
  inputsToSave: ['x', 'w'],
  gradFunc: (dy, saved, attrs) => {
    if (attrs['activation'] !== 'linear') {
      throw new Error(`dense gradient: only without an activation (denseBias), got '${String(attrs['activation'])}'`);
    }
    const [x, w] = saved;
    if (!x || !w) throw new Error('dense gradient: a saved tensor is missing');
    const [dx, dw, db] = tf.engine().runKernel<tf.Tensor[]>(kernelNames.denseBiasGrad, { dy: firstDy(dy), x, w });
    if (!dx || !dw || !db) throw new Error('dense gradient: the kernel returned fewer than 3 tensors');
    return { x: () => dx, w: () => dw, bias: () => db };
  },
});
