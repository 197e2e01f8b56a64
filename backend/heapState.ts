// What a thread knows about its wasm heap's exhaustion, without loading tfjs (the search's worker threads ask it after
// every task, also when their evaluator never loads tfjs). backend/heapGuard.ts fills it in.

/** emscripten's getHeapMax() in tfjs-backend-wasm's glue: 65535 pages of 64 KiB. */
export const WASM_HEAP_MAX = 4294901760;

/**
 * A heap this close to its maximum cannot take a tensor of a training batch: the glue grows it to at most the
 * request plus 96 MiB, so a failing request of up to this margin leaves it at least this close.
 */
export const NEAR_MAX = 512 * 1024 * 1024;

let heapSize: (() => number) | null = null;
let fullSeen = false;

/** Called by the guard with the guarded heap's size. */
export function watchHeapSize(size: () => number): void {
  heapSize = size;
}

/** An allocation failed for want of heap in this thread (tfjs-backend-wasm's module may be broken since). */
export function markHeapFull(): void {
  fullSeen = true;
}

/**
 * Whether this thread's wasm heap is spent: it was found full, or it has grown to its last NEAR_MAX bytes (the
 * fragments of earlier networks keep it there: wasm memory never shrinks). A thread that runs many networks in turn
 * should then end and leave the next one to a fresh thread.
 */
export function wasmHeapSpent(): boolean {
  return fullSeen || (heapSize !== null && heapSize() >= WASM_HEAP_MAX - NEAR_MAX);
}
