// Telling a full wasm heap from other failures. tfjs-backend-wasm keeps every tensor in one wasm32 memory of at most
// 4 GiB. When an allocation does not fit, emscripten's malloc returns 0, which tfjs takes for an offset (the tensor
// lands on the module's own data); an allocation inside the module (register_tensor's table) traps instead with
// "memory access out of bounds", measured with the heap at its maximum. Either way the module's state is broken, so
// later kernels fail too, with traps or our addon's offset checks. The guard turns a failed malloc into an error
// before tfjs uses the 0, and `isWasmHeapFull` reads the other failures as a full heap when the heap is at its end.
import * as tf from '@tensorflow/tfjs';

/** emscripten's getHeapMax() in tfjs-backend-wasm's glue: 65535 pages of 64 KiB. */
export const WASM_HEAP_MAX = 4294901760;

/**
 * A heap this close to its maximum cannot take a tensor of a training batch: the glue grows it to at most the
 * request plus 96 MiB, so a failing request of up to this margin leaves it at least this close.
 */
const NEAR_MAX = 512 * 1024 * 1024;

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
  const malloc = wasm._malloc;
  wasm._malloc = (bytes: number): number => {
    const at = malloc(bytes);
    if (at === 0 && bytes > 0) throw new WasmHeapFullError(bytes, wasm.HEAPU8.length);
    return at;
  };
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

/** A wasm trap, or one of our addon's heap-offset checks (which fail once a full heap broke the module's state). */
function heapSymptom(e: unknown): boolean {
  if (e instanceof WebAssembly.RuntimeError) return true;
  return e instanceof RangeError && /wasm heap|offset into the heap/.test(e.message);
}

/** Whether `e` comes from the wasm backend's heap being full: a failed malloc, or a symptom with the heap at its end. */
export function isWasmHeapFull(e: unknown): boolean {
  if (e instanceof WasmHeapFullError) return true;
  if (!heapSymptom(e)) return false;
  const bytes = wasmHeapBytes();
  return bytes !== null && (growFailed || bytes >= WASM_HEAP_MAX - NEAR_MAX);
}
