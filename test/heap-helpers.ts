// A wasm heap filled up to a few MB below its 4 GiB maximum, for the tests of what a full heap does. The ballast is
// tensors allocated, not written: their pages are never touched, so they cost neither time nor memory.
import * as tf from '@tensorflow/tfjs';
import { WASM_HEAP_MAX, wasmHeapBytes } from '../backend/heapGuard.js';
import { makeOutput, type WasmBackend } from '../backend/wasmHeap.js';

/** Fills the current wasm backend's heap to `freeBytes` below its maximum; returns what frees the ballast again. */
export function fillWasmHeap(freeBytes: number): () => void {
  const backend = tf.backend() as unknown as WasmBackend;
  const ballast: tf.TensorInfo[] = [];
  // malloc first takes the free space at the heap's end, so the heap grows by less than asked: ask again for the rest.
  for (let i = 0; i < 4; i++) {
    const bytes = WASM_HEAP_MAX - (wasmHeapBytes() ?? WASM_HEAP_MAX) - freeBytes;
    if (bytes < 2 ** 20) break;
    ballast.push(makeOutput(backend, [Math.floor(bytes / 4)]).info);
  }
  return () => ballast.forEach((t) => backend.disposeData(t.dataId, true));
}
