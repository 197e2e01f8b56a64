// The user's form of a full wasm heap during training or evaluation: what ran out, for which network and batch, and
// what to change. backend/heapGuard.ts decides from the evidence whether an error is one.
import { isWasmHeapFull, wasmHeapBytes } from '../backend/heapGuard.js';
import { NasError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';

/** What was running when the heap filled. */
export interface HeapUse {
  readonly arch: ArchSpec;
  readonly batchSize: number;
}

const GB = 1e9;

/** `e` as a one-line NasError('E_MEMORY') when the wasm heap is full, else `e` itself. */
export function explainHeapFull(e: unknown, use: HeapUse): unknown {
  if (e instanceof NasError || !isWasmHeapFull(e)) return e;
  const { arch, batchSize } = use;
  const heap = wasmHeapBytes();
  const size = heap === null ? '' : ` (${(heap / GB).toFixed(2)} GB in use)`;
  return new NasError(
    'E_MEMORY',
    `the wasm backend's 4 GiB heap is full${size} with ${arch.name} at ${arch.input.size} px, batch ${batchSize}: ` +
      'use a smaller --batch, a smaller --input, or --backend tensorflow',
    1,
  );
}
