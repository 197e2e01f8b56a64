// `nas backend`: which compute backend loads here, its version and threads, and why tensorflow did not.
import type { CommandModule } from 'yargs';
import { type BackendChoice, type BackendInfo, useBackend } from '../backend/select.js';
import { backendOption, jsonOption } from './options.js';
import { emit } from './output.js';

interface BackendArgs {
  backend: BackendChoice;
  json: boolean;
}

function toText(info: BackendInfo): string {
  const lines = [
    `backend:         ${info.name} (requested ${info.requested})`,
    `tfjs:            ${info.tfjsVersion}; backend package ${info.backendVersion}`,
    `threads:         ${info.threads ?? 'chosen by libtensorflow'}`,
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

export const backendCommand: CommandModule<object, BackendArgs> = {
  command: 'backend',
  describe: 'Show which compute backend loads, its version and threads',
  builder: (y) => y.option('backend', backendOption).option('json', jsonOption),
  handler: async (args) => {
    const info = await useBackend(args.backend);
    emit(info, args.json, toText);
  },
};
