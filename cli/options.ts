// Options shared by every command that computes.
import type { Options } from 'yargs';
import { backendChoices } from '../backend/select.js';

export const backendOption = {
  choices: backendChoices,
  default: 'auto',
  describe: 'compute backend: auto = tensorflow if @tensorflow/tfjs-node(-gpu) loads, else wasm',
} as const satisfies Options;

export const jsonOption = { type: 'boolean', default: false, describe: 'print the result as JSON' } as const satisfies Options;
