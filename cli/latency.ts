// `nas latency measure`: whole-network latency on the local tfjs backend. The `latency` command is the home of the
// lookup-table subcommands to come (lut build, predict, validate).
import type { Argv, CommandModule } from 'yargs';
import type { BackendChoice } from '../backend/select.js';
import { UsageError } from '../common/errors.js';
import { type ArchLatency, checkMeasureCounts, measureArch } from '../latency/measure.js';
import type { ArchSpec } from '../space/arch.js';
import { loadArch } from '../space/load.js';
import { backendOption, jsonOption } from './options.js';
import { emit, table } from './output.js';

const BLOCK_RE = /^(conv|ds|ir)_/;

interface MeasureArgs {
  readonly arch: string[];
  readonly input: number | undefined;
  readonly classes: number | undefined;
  readonly width: number | undefined;
  readonly backend: BackendChoice;
  readonly threads: number;
  readonly warmup: number;
  readonly runs: number;
  readonly minSeconds: number;
  readonly json: boolean;
}

interface MeasureEntry extends ArchLatency {
  /** What the user typed for this architecture. */
  readonly ref: string;
}

interface MeasureResult {
  readonly results: readonly MeasureEntry[];
}

/**
 * Each --arch word is one architecture, except block strings: those together form one network (as in `arch show`),
 * and a mix of the two is rejected by loadArch.
 */
export function groupArchRefs(words: readonly string[]): string[][] {
  return words.some((w) => BLOCK_RE.test(w.trim())) ? [[...words]] : words.map((w) => [w]);
}

const ms = (v: number): string => v.toFixed(2);

function measureText(r: MeasureResult): string {
  const first = r.results[0];
  const setting =
    first === undefined
      ? ''
      : `backend ${first.backend}, threads ${first.threads ?? 'auto'}, input ${first.input.join('x')}, batch 1\n`;
  return (
    setting +
    table(
      ['arch', 'median ms', 'IQR ms', 'MAD ms', 'min ms', 'runs'],
      r.results.map((m) => [m.ref, ms(m.medianMs), ms(m.iqrMs), ms(m.madMs), ms(m.minMs), String(m.runs)]),
    )
  );
}

const measureCommand: CommandModule<object, MeasureArgs> = {
  command: 'measure',
  describe: 'Measure whole-network latency on the local backend (batch 1, median of timed runs after warm-up)',
  builder: (y: Argv) =>
    y
      .option('arch', {
        type: 'string',
        array: true,
        demandOption: true,
        describe: 'architectures: reference names, spec .json files or arch strings; or the block strings of one network',
      })
      .option('input', { type: 'number', describe: 'input size (square)' })
      .option('classes', { type: 'number', describe: 'number of classes' })
      .option('width', { type: 'number', describe: 'width multiplier (replaces the spec width)' })
      .option('backend', { ...backendOption, default: 'wasm' })
      .option('threads', { type: 'number', default: 1, describe: 'wasm threads' })
      .option('warmup', { type: 'number', default: 10, describe: 'untimed runs first' })
      .option('runs', { type: 'number', default: 30, describe: 'timed runs' })
      .option('min-seconds', { type: 'number', default: 0, describe: 'keep timing until this much time is spent' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    checkMeasureCounts(args);
    if (!Number.isInteger(args.threads) || args.threads < 1) {
      throw new UsageError(`--threads must be a positive integer, got ${args.threads}`);
    }
    const overrides = { input: args.input, classes: args.classes, width: args.width };
    const specs: [string, ArchSpec][] = groupArchRefs(args.arch).map((refs) => [refs.join(' '), loadArch(refs, overrides)]);
    const results: MeasureEntry[] = [];
    for (const [ref, spec] of specs) {
      const m = await measureArch(spec, {
        warmup: args.warmup,
        runs: args.runs,
        minSeconds: args.minSeconds,
        backend: args.backend,
        threads: args.threads,
      });
      results.push({ ref, ...m });
    }
    emit({ results }, args.json, measureText);
  },
};

export const latencyCommand: CommandModule = {
  command: 'latency',
  describe: 'Measure network latency on a device',
  builder: (y: Argv) => y.command(measureCommand).demandCommand(1, 'name a subcommand: measure'),
  handler: () => undefined,
};
