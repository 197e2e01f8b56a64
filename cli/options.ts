// Options shared by every command that computes.
import type { Options } from 'yargs';
import { backendChoices } from '../backend/select.js';
import { DEFAULT_DB_PATH } from '../results/store.js';

export const backendOption = {
  choices: backendChoices,
  default: 'auto',
  describe: 'compute backend: auto = tensorflow if @tensorflow/tfjs-node(-gpu) loads, else wasm',
} as const satisfies Options;

export const jsonOption = { type: 'boolean', default: false, describe: 'print the result as JSON' } as const satisfies Options;

export const dbOption = {
  type: 'string',
  default: DEFAULT_DB_PATH,
  describe: 'the results database file',
} as const satisfies Options;
