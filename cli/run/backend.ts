// The work of `nas backend` (cli/backend.ts), loaded once the command line is checked: it loads tfjs.
import type { BackendChoice } from '../../backend/choices.js';
import { type BackendInfo, useBackend } from '../../backend/select.js';
import { threadsFrom } from '../options.js';
import { emit } from '../output.js';

export interface BackendArgs {
  backend: BackendChoice;
  threads: number | undefined;
  json: boolean;
}

function toText(info: BackendInfo): string {
  const lines = [
    `backend:         ${info.name} (requested ${info.requested})`,
    `tfjs:            ${info.tfjsVersion}; backend package ${info.backendVersion}`,
    `threads:         ${info.threads === null ? 'chosen by libtensorflow' : `${info.threads} (native kernels; --threads)`}`,
  ];
  if (info.wasmSimd !== null) lines.push(`wasm SIMD:       ${info.wasmSimd ? 'yes' : 'no'}`);
  const native = info.nativeKernels;
  lines.push(`native kernels:  ${native.loaded ? native.version : `not loaded: ${native.reason}`}`);
  if (native.loaded) lines.push(`native ISA:      ${native.isa} (CPU: ${native.cpuIsa}; NAS_NATIVE_ISA lowers it)`);
  lines.push(
    `tensorflow:      ${info.tensorflow.loaded ? `${info.tensorflow.package} ${info.tensorflow.version}` : info.tensorflow.reason}`,
  );
  return lines.join('\n');
}

/** Loads the backend as a computing command would and prints what loaded. */
export async function runBackend(args: BackendArgs): Promise<void> {
  // The threads a computing command (train-final, eval, predict) uses with the same --threads.
  const info = await useBackend(args.backend, { threads: threadsFrom(args.threads) });
  emit(info, args.json, toText);
}
