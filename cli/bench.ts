// `nas bench train`: training images/s of an architecture on a backend (bench/train-vs-pytorch.ts compares it
// with PyTorch in one run).
import type { CommandModule } from 'yargs';
import { type BackendChoice, useBackend } from '../backend/select.js';
import { type TrainBenchResult, benchTrain } from '../bench/trainSpeed.js';
import { UsageError } from '../common/errors.js';
import { loadArch } from '../space/load.js';
import { backendOption, jsonOption } from './options.js';
import { emit } from './output.js';

interface BenchTrainArgs {
  arch: string[];
  input: number;
  classes: number;
  width: number | undefined;
  batch: number;
  steps: number;
  warmup: number;
  seed: number;
  threads: number;
  backend: BackendChoice;
  json: boolean;
}

function positiveInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`--${name} must be a positive integer, got ${v}`);
  return v;
}

function toText(r: TrainBenchResult & { threads: number | null }): string {
  return (
    `${r.arch} on ${r.backend}: input ${r.input}, ${r.classes} classes, batch ${r.batch}, ${r.steps} steps ` +
    `(+${r.warmup} warm-up)\n` +
    `${r.msPerStep.toFixed(1)} ms/step (median ${r.msPerStepMedian.toFixed(1)}), ` +
    `${r.imagesPerSec.toFixed(1)} images/s; loss ${r.lossFirst.toFixed(4)} -> ${r.lossLast.toFixed(4)}`
  );
}

const trainCommand: CommandModule<object, BenchTrainArgs> = {
  command: 'train',
  describe: 'measure training images/s (SGD momentum 0.9, random data)',
  builder: (y) =>
    y
      .option('arch', { type: 'string', array: true, default: ['mobilenetv3-small'], describe: 'name, spec.json or block strings' })
      .option('input', { type: 'number', default: 32, describe: 'input size (pixels)' })
      .option('classes', { type: 'number', default: 10 })
      .option('width', { type: 'number', describe: 'width multiplier' })
      .option('batch', { type: 'number', default: 64 })
      .option('steps', { type: 'number', default: 20, describe: 'timed steps' })
      .option('warmup', { type: 'number', default: 3, describe: 'untimed steps first' })
      .option('seed', { type: 'number', default: 0 })
      .option('threads', { type: 'number', default: 1, describe: 'wasm threads' })
      .option('backend', backendOption)
      .option('json', jsonOption) as never,
  handler: async (args) => {
    const batch = positiveInt('batch', args.batch);
    const steps = positiveInt('steps', args.steps);
    if (!Number.isInteger(args.warmup) || args.warmup < 0) {
      throw new UsageError(`--warmup must be a non-negative integer, got ${args.warmup}`);
    }
    const arch = loadArch(args.arch, {
      input: args.input,
      classes: args.classes,
      ...(args.width !== undefined ? { width: args.width } : {}),
    });
    const info = await useBackend(args.backend, { threads: positiveInt('threads', args.threads) });
    const onStep = args.json
      ? undefined
      : (i: number, ms: number): void => {
          process.stderr.write(`\rstep ${i + 1}/${steps}  ${ms.toFixed(0)} ms `);
          if (i + 1 === steps) process.stderr.write('\n');
        };
    const result = benchTrain({ arch, batch, steps, warmup: args.warmup, seed: args.seed, ...(onStep ? { onStep } : {}) });
    emit({ ...result, threads: info.threads }, args.json, toText);
  },
};

export const benchCommand: CommandModule = {
  command: 'bench <command>',
  describe: 'Benchmarks against PyTorch',
  builder: (y) => y.command(trainCommand).demandCommand(1),
  handler: () => {},
};
