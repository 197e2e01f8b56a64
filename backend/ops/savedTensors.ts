// Tensors saved for the backward pass without a kernel call. tfjs's engine saves each tensor a gradient reads by
// running the Identity kernel on it and recording that "clone" on the gradient tape, so that gradients of
// gradients can flow through it. On wasm our Identity only shares the data (backend/kernels/identity.ts): what a
// save costs is the dispatch, and saves were 7 of the 12 kernel calls of a training ConvBn layer's forward. In a
// first-order gradient the clone's tape node never leads to the loss (saved tensors feed only gradient functions),
// so the tape walk drops it; here a save is the same shared-data tensor made directly. Nested gradients (tape depth
// above 1) and other backends keep tfjs's own clone.
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs's Engine a save uses (`clone` is private in its types, not in fact). */
interface EngineSaves {
  clone(x: tf.Tensor): tf.Tensor;
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: tf.KernelBackend): tf.Tensor;
  readonly backend: tf.KernelBackend;
  readonly backendName: string;
  readonly state: { readonly gradientDepth: number };
}

function hasSaves(e: object): e is EngineSaves {
  return (
    'clone' in e && typeof e.clone === 'function' && 'makeTensorFromTensorInfo' in e &&
    typeof e.makeTensorFromTensorInfo === 'function' && 'state' in e && typeof e.state === 'object' && e.state !== null &&
    'gradientDepth' in e.state && 'backendName' in e
  );
}

const installed = new WeakSet<object>();
let enabled = true;

/** Turn the direct saves off (on by default) to save through tfjs's Identity clone: for tests and benchmarks. */
export function setDirectSavesEnabled(on: boolean): void {
  enabled = on;
}

/** Makes first-order saves on wasm share the data without a kernel call (idempotent); false if tfjs changed shape. */
export function installDirectSaves(): boolean {
  const engine: object = tf.engine();
  if (installed.has(engine)) return true;
  if (!hasSaves(engine)) return false;
  installed.add(engine);
  const stock = engine.clone.bind(engine);
  engine.clone = (x: tf.Tensor): tf.Tensor => {
    if (!enabled || engine.backendName !== 'wasm' || engine.state.gradientDepth > 1) return stock(x);
    const backend = engine.backend;
    backend.incRef(x.dataId);
    return engine.makeTensorFromTensorInfo({ dataId: x.dataId, shape: x.shape, dtype: x.dtype }, backend);
  };
  return true;
}
