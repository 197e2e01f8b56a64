// Access to the tfjs wasm backend's heap for our kernels. tfjs-backend-wasm keeps every tensor in one
// WebAssembly.Memory; a kernel finds a tensor by its byte offset and writes its output in place.
import * as tf from '@tensorflow/tfjs';

/** The parts of tfjs-backend-wasm's BackendWasm that kernels use (typed here: the package's types need emscripten's). */
export interface WasmBackend {
  readonly wasm: { readonly HEAPU8: Uint8Array };
  readonly dataIdMap: { get(dataId: object): { memoryOffset: number } | undefined };
  makeOutput(shape: number[], dtype: tf.DataType): tf.TensorInfo;
  disposeData(dataId: object, force?: boolean): boolean;
}

/** The heap's current ArrayBuffer. Read it after every allocation: growing the memory replaces the buffer. */
export function heap(backend: WasmBackend): ArrayBuffer {
  return backend.wasm.HEAPU8.buffer as ArrayBuffer;
}

/** Byte offset of a tensor's data on the heap. */
export function offsetOf(backend: WasmBackend, t: tf.TensorInfo): number {
  const data = backend.dataIdMap.get(t.dataId);
  if (!data) throw new Error('tensor is not on the wasm backend');
  return data.memoryOffset;
}

/** A float32 output tensor allocated on the heap, and its byte offset. */
export function makeOutput(backend: WasmBackend, shape: number[]): { info: tf.TensorInfo; offset: number } {
  const info = backend.makeOutput(shape, 'float32');
  return { info, offset: offsetOf(backend, info) };
}

/** Whether `b` has the parts of the wasm backend our kernels use (checked, not assumed). */
function isWasmBackend(b: unknown): b is WasmBackend {
  if (typeof b !== 'object' || b === null || !('wasm' in b) || !('dataIdMap' in b)) return false;
  const wasm = b.wasm;
  return (
    typeof wasm === 'object' && wasm !== null && 'HEAPU8' in wasm && wasm.HEAPU8 instanceof Uint8Array &&
    'makeOutput' in b && typeof b.makeOutput === 'function' && 'disposeData' in b && typeof b.disposeData === 'function'
  );
}

/** The current backend as the wasm backend; throws when it is another. */
export function currentWasmBackend(): WasmBackend {
  const b: unknown = tf.backend();
  if (!isWasmBackend(b)) throw new Error(`expected the wasm backend, the backend is '${tf.getBackend()}'`);
  return b;
}
