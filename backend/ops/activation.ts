// Activations with one fused forward and one fused backward kernel on wasm (native/src/activation.cc); on other
// backends the same formulas composed from stock tfjs ops. Gradients at the kinks follow PyTorch 1.13:
//   relu      0 at x = 0                      relu6     1 strictly inside (0, 6), else 0
//   hswish    0 for x < -3, (2x+3)/6 on [-3, 3] (so -0.5 at -3 and 1.5 at 3), 1 for x > 3
//   hsigmoid  1/6 strictly inside (-3, 3), else 0
import * as tf from '@tensorflow/tfjs';
import { activationGradReadsInput, firstDy, kernelNames, useFusedKernels, type ActivationKind } from './fused.js';

export type { ActivationKind } from './fused.js';

export const activationKinds: readonly ActivationKind[] = ['relu', 'relu6', 'hswish', 'hsigmoid', 'sigmoid'];

const SIXTH = 1 / 6;
const THIRD = 1 / 3;

/**
 * relu, relu6, hswish(x) = x * relu6(x + 3) / 6, hsigmoid(x) = relu6(x + 3) / 6 (not tfjs's hardSigmoid, which
 * is clip(0.2x + 0.5)), or sigmoid, elementwise on a float32 tensor of any shape.
 */
export function activation(x: tf.Tensor, kind: ActivationKind): tf.Tensor {
  const attrs = attrsOf[kind];
  if (!attrs) throw new Error(`activation: unknown kind '${String(kind)}'`);
  if (!useFusedKernels()) return compositeOps[kind](x);
  // A registered kernel with a registered gradient (below): a tf.customGrad costs a second dispatch and a scope.
  const name = activationGradReadsInput(kind) ? kernelNames.activationSavingInput : kernelNames.activation;
  return tf.engine().runKernel<tf.Tensor>(name, { x }, attrs);
}

/** The forward alone, for inference: the fused kernel on wasm, the composite formula elsewhere. */
export function activationForward(x: tf.Tensor, kind: ActivationKind): tf.Tensor {
  const attrs = attrsOf[kind];
  if (!attrs) throw new Error(`activation: unknown kind '${String(kind)}'`);
  return useFusedKernels() ? tf.engine().runKernel<tf.Tensor>(kernelNames.activation, { x }, attrs) : compositeForward(x, kind);
}

type Unary = (x: tf.Tensor) => tf.Tensor;

const attrsOf: Readonly<Partial<Record<string, { readonly kind: ActivationKind }>>> = Object.fromEntries(
  activationKinds.map((kind) => [kind, { kind }]),
);

function kindAttr(attrs: tf.NamedAttrMap): ActivationKind {
  const kind = activationKinds.find((k) => k === attrs['kind']);
  if (kind === undefined) throw new Error(`activation: unknown kind '${String(attrs['kind'])}'`);
  return kind;
}

/** The fused kernel's gradient from the tensor it saved: its input where `readsInput`, else its output. */
function fusedGradient(readsInput: boolean): tf.GradFunc {
  return (dy, saved, attrs) => {
    const kind = kindAttr(attrs);
    if (activationGradReadsInput(kind) !== readsInput) {
      throw new Error(`activation: the gradient of ${kind} needs its ${readsInput ? 'output' : 'input'}, which was not saved`);
    }
    const t = saved[0];
    if (!t) throw new Error('activation gradient: the saved tensor is missing');
    return { x: () => tf.engine().runKernel<tf.Tensor>(kernelNames.activationGrad, { dy: firstDy(dy), saved: t }, attrs) };
  };
}

tf.registerGradient({ kernelName: kernelNames.activation, outputsToSave: [true], gradFunc: fusedGradient(false) });
tf.registerGradient({ kernelName: kernelNames.activationSavingInput, inputsToSave: ['x'], gradFunc: fusedGradient(true) });

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

const compositeOps = Object.fromEntries(activationKinds.map((k) => [k, makeComposite(k)])) as Record<
  ActivationKind,
  Unary
>;
