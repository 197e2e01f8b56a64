// Activations with one fused forward and one fused backward kernel on wasm (native/src/activation.cc); on other
// backends the same formulas composed from stock tfjs ops. Gradients at the kinks follow PyTorch 1.13:
//   relu      0 at x = 0                      relu6     1 strictly inside (0, 6), else 0
//   hswish    0 for x < -3, (2x+3)/6 on [-3, 3] (so -0.5 at -3 and 1.5 at 3), 1 for x > 3
//   hsigmoid  1/6 strictly inside (-3, 3), else 0
import * as tf from '@tensorflow/tfjs';
import { activationGradReadsInput, kernelNames, useFusedKernels, type ActivationKind } from './fused.js';

export type { ActivationKind } from './fused.js';

export const activationKinds: readonly ActivationKind[] = ['relu', 'relu6', 'hswish', 'hsigmoid', 'sigmoid'];

const SIXTH = 1 / 6;
const THIRD = 1 / 3;

/**
 * relu, relu6, hswish(x) = x * relu6(x + 3) / 6, hsigmoid(x) = relu6(x + 3) / 6 (not tfjs's hardSigmoid, which
 * is clip(0.2x + 0.5)), or sigmoid, elementwise on a float32 tensor of any shape.
 */
export function activation(x: tf.Tensor, kind: ActivationKind): tf.Tensor {
  const op = useFusedKernels() ? fusedOps[kind] : compositeOps[kind];
  if (!op) throw new Error(`activation: unknown kind '${String(kind)}'`);
  return op(x);
}

/** The forward alone, with no gradient bookkeeping (tf.customGrad costs tens of microseconds a call): inference. */
export function activationForward(x: tf.Tensor, kind: ActivationKind): tf.Tensor {
  if (!activationKinds.includes(kind)) throw new Error(`activation: unknown kind '${String(kind)}'`);
  return useFusedKernels() ? tf.engine().runKernel<tf.Tensor>(kernelNames.activation, { x }, { kind }) : compositeForward(x, kind);
}

type Unary = (x: tf.Tensor) => tf.Tensor;

function makeFused(kind: ActivationKind): Unary {
  const readsInput = activationGradReadsInput(kind);
  const attrs = { kind };
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const y = tf.engine().runKernel<tf.Tensor>(kernelNames.activation, { x }, attrs);
    (args[1] as tf.GradSaveFunc)([readsInput ? x : y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) =>
        tf.engine().runKernel<tf.Tensor>(kernelNames.activationGrad, { dy, saved: saved[0]! }, attrs),
    };
  }) as Unary;
}

function makeComposite(kind: ActivationKind): Unary {
  const readsInput = activationGradReadsInput(kind);
  return tf.customGrad((...args: Array<tf.Tensor | tf.GradSaveFunc>) => {
    const x = args[0] as tf.Tensor;
    const y = compositeForward(x, kind);
    (args[1] as tf.GradSaveFunc)([readsInput ? x : y]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => compositeBackward(dy, saved[0]!, kind),
    };
  }) as Unary;
}

function compositeForward(x: tf.Tensor, kind: ActivationKind): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.relu(x);
    case 'relu6':
      return tf.relu6(x);
    case 'hswish':
      return tf.mul(x, tf.mul(tf.relu6(tf.add(x, 3)), SIXTH));
    case 'hsigmoid':
      return tf.mul(tf.relu6(tf.add(x, 3)), SIXTH);
    case 'sigmoid':
      return tf.sigmoid(x);
  }
}

/**
 * dx from dy and the saved tensor: y for relu, relu6 and sigmoid, x for hswish and hsigmoid. Masks are products of
 * tf.step (1 where its argument is > 0, else 0), one float kernel each on every backend.
 */
function compositeBackward(dy: tf.Tensor, t: tf.Tensor, kind: ActivationKind): tf.Tensor {
  switch (kind) {
    case 'relu':
      return tf.mul(dy, tf.step(t));
    case 'relu6':
      return tf.mul(dy, tf.mul(tf.step(t), tf.step(tf.sub(6, t))));
    case 'hswish': {
      // (2x + 3) / 6 on [-3, 3], 1 above, 0 below.
      const slope = tf.where(tf.lessEqual(t, 3), tf.add(tf.mul(t, THIRD), 0.5), tf.onesLike(t));
      return tf.mul(dy, tf.where(tf.less(t, -3), tf.zerosLike(t), slope));
    }
    case 'hsigmoid':
      return tf.mul(dy, tf.mul(tf.mul(tf.step(tf.add(t, 3)), tf.step(tf.sub(3, t))), SIXTH));
    case 'sigmoid':
      return tf.mul(dy, tf.mul(t, tf.sub(1, t)));
  }
}

const fusedOps = Object.fromEntries(activationKinds.map((k) => [k, makeFused(k)])) as Record<ActivationKind, Unary>;
const compositeOps = Object.fromEntries(activationKinds.map((k) => [k, makeComposite(k)])) as Record<
  ActivationKind,
  Unary
>;
