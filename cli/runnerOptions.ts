// The options that choose the runner a measuring latency source times on (`--runner`, `--runner-backend`,
// `--runner-threads`), shared by `nas search` and `nas netadapt` so that both say and check them alike.
import type { Options } from 'yargs';
import { type LatencySourceSpec, parseLatencySource } from '../latency/resources.js';
import { sourceRunnerFor } from '../latency/searchRunner.js';

export const runnerOptions = {
  runner: {
    type: 'string',
    describe: 'where --latency measure|paired:REF times networks: node (default), browser (headless Chromium) or onnxruntime (the exported ONNX form)',
  },
  'runner-backend': {
    type: 'string',
    describe:
      "the runner's backend, as `nas latency measure --backend` (browser: wasm, webgl, or ort-web for onnxruntime-web; onnxruntime: cpu, cpu-extended, cpu-basic, cpu-disabled: graph optimisation level)",
  },
  'runner-threads': { type: 'number', describe: 'threads the runner computes with (node: wasm threads; onnxruntime: intra-op threads; default 1)' },
} as const satisfies Record<string, Options>;

/** The runner options as parsed (each undefined when not given). */
export interface RunnerArgs {
  runner: string | undefined;
  'runner-backend': string | undefined;
  'runner-threads': number | undefined;
}

/** `--latency TEXT`, with the runner `--runner` names for a source that measures (one line if the pair is wrong). */
export function latencyWithRunner(text: string, args: RunnerArgs): LatencySourceSpec {
  const source = parseLatencySource(text);
  const runner = sourceRunnerFor(source.kind, { runner: args.runner, backend: args['runner-backend'], threads: args['runner-threads'] });
  return runner === undefined || (source.kind !== 'measure' && source.kind !== 'paired') ? source : { ...source, runner };
}
