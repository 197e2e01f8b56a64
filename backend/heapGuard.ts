// Telling a full wasm heap from other failures. tfjs-backend-wasm keeps every tensor in one wasm32 memory of at most
// 4 GiB. When an allocation does not fit, emscripten's malloc returns 0, which tfjs takes for an offset (the tensor
// lands on the module's own data), or, with the heap grown to its end, a block that runs past the end (measured:
// 32 MB asked with 33 MB left at the end gave a block ending 92 KB beyond it; sbrk's 32-bit sum wraps). tfjs then
// fails writing it ("offset is out of bounds"), an allocation inside the module (register_tensor's table) traps with
// "memory access out of bounds", and our addon's offset checks refuse such arrays. The allocator is broken from then
// on, so later kernels fail too. The guard turns a malloc that failed either way into WasmHeapFullError before tfjs
// uses the block, and `isWasmHeapFull` reads the other symptoms as a full heap when the heap is at its end.
import * as tf from '@tensorflow/tfjs';
import { markHeapFull, NEAR_MAX, WASM_HEAP_MAX, watchHeapSize } from './heapState.js';

export { WASM_HEAP_MAX } from './heapState.js';

/** A malloc on the wasm heap returned no memory. */
export class WasmHeapFullError extends Error {
  constructor(readonly requested: number, readonly heapBytes: number) {
    super(`the wasm heap is full: ${requested} bytes requested with ${heapBytes} bytes in use`);
    this.name = 'WasmHeapFullError';
  }
}

/** The parts of the wasm module the guard touches. */
interface WasmModule {
  readonly HEAPU8: Uint8Array;
  _malloc: (bytes: number) => number;
  readonly asm?: { readonly memory?: WebAssembly.Memory };
}

const guarded = new WeakSet<object>();
let growFailed = false;

function isWasmModule(v: unknown): v is WasmModule {
  if (v === null || typeof v !== 'object') return false;
  return 'HEAPU8' in v && v.HEAPU8 instanceof Uint8Array && '_malloc' in v && typeof v._malloc === 'function';
}

function wasmModule(): WasmModule | null {
  if (tf.getBackend() !== 'wasm') return null;
  const backend: unknown = tf.backend();
  const wasm: unknown = backend !== null && typeof backend === 'object' && 'wasm' in backend ? backend.wasm : null;
  return isWasmModule(wasm) ? wasm : null;
}

/** Installs the guard on the current wasm backend (once per module): a failed malloc throws WasmHeapFullError. */
export function guardWasmHeap(): void {
  const wasm = wasmModule();
  if (wasm === null || guarded.has(wasm)) return;
  guarded.add(wasm);
  watchHeapSize(() => wasm.HEAPU8.length);
  let malloc = wasm._malloc;
  const guardedMalloc = (bytes: number): number => {
    const at = malloc(bytes) >>> 0;
    // Near the 4 GiB end, sbrk's 32-bit arithmetic wraps and malloc returns a block that runs past the heap.
    if ((at === 0 && bytes > 0) || at + bytes > wasm.HEAPU8.length) {
      markHeapFull();
      throw new WasmHeapFullError(bytes, wasm.HEAPU8.length);
    }
    return at;
  };
  // The glue's first _malloc is a stub that replaces itself with the module's export: keep the guard around it.
  Object.defineProperty(wasm, '_malloc', {
    get: () => guardedMalloc,
    set: (f: (bytes: number) => number) => void (malloc = f),
    configurable: true,
  });
  const memory = wasm.asm?.memory;
  if (memory === undefined) return;
  const grow = memory.grow.bind(memory);
  // The glue catches a failed grow and reports only "no memory" to malloc: remember that it happened.
  memory.grow = (pages: number): number => {
    try {
      return grow(pages);
    } catch (e) {
      growFailed = true;
      throw e;
    }
  };
}

/** Bytes of the current wasm backend's heap, or null on another backend. */
export function wasmHeapBytes(): number | null {
  return wasmModule()?.HEAPU8.length ?? null;
}

/** A wasm trap, tfjs writing a block past the heap, or one of our addon's heap-offset checks. */
function heapSymptom(e: unknown): boolean {
  if (e instanceof WebAssembly.RuntimeError) return true;
  return e instanceof RangeError && /wasm heap|offset into the heap|offset is out of bounds/.test(e.message);
}

/** Whether `e` comes from the wasm backend's heap being full: a failed malloc, or a symptom with the heap at its end. */
export function isWasmHeapFull(e: unknown): boolean {
  if (e instanceof WasmHeapFullError) return true;
  if (!heapSymptom(e)) return false;
  const bytes = wasmHeapBytes();
  const full = bytes !== null && (growFailed || bytes >= WASM_HEAP_MAX - NEAR_MAX);
  if (full) markHeapFull();
  return full;
}
