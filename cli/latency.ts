// `nas latency measure`: whole-network latency on a runner (the local tfjs backend, tfjs in headless Chromium, or
// ONNX Runtime);
// `lut build`, `predict` and `validate`: lookup tables of block latencies (docs/LATENCY_LUT.md).
import type { Options } from 'yargs';
import type { Argv, CommandModule } from 'yargs';
import { UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { parseTargets, type Resource, type Target } from '../latency/targets.js';
import { costOf } from '../space/cost.js';
import { buildLutFile, type LutBuildOptions, type LutBuildResult } from '../latency/buildLutFile.js';
import { readLut, sampleArchs } from '../latency/lut.js';
import { type ArchLatency, checkMeasureCounts, measureArchOn } from '../latency/measure.js';
import { missingError, predictLatency } from '../latency/predict.js';
import { checkRunner, defaultBackend, openRunner, runnerBackends, runnerList } from '../latency/runner.js';
import { type ValidationReport, validatePredictions } from '../latency/validate.js';
import type { ArchSpec } from '../space/arch.js';
import { encodeArch } from '../space/blockString.js';
import { loadArch } from '../results/archRef.js';
import { resolve } from '../space/resolve.js';
import { builtinSpace } from '../space/spaces.js';
import { jsonOption } from './options.js';
import { emit, table } from './output.js';
import { countedProgress, type CountedProgress, type ProgressChoice, progressMode, progressOption, Reporter } from './progress.js';

const BLOCK_RE = /^(conv|ds|ir)_/;

// Checked against the runner by checkRunner (one line naming what that runner offers), not by yargs choices.
const runnerOption = {
  type: 'string',
  default: 'node',
  describe: `where to measure: ${runnerList()} (browser: headless Chromium; onnxruntime: the exported ONNX form)`,
} as const satisfies Options;

const runnerBackendOption = {
  type: 'string',
  describe:
    `backend of the runner: node ${runnerBackends.node.join('|')} (default wasm); browser ${runnerBackends.browser.join('|')}; ` +
    `onnxruntime ${runnerBackends.onnxruntime.join('|')} (graph optimisation level; cpu: all)`,
} as const satisfies Options;

const threadsOption = {
  type: 'number',
  default: 1,
  describe: 'threads: wasm threads (node), intra-op threads (onnxruntime)',
} as const satisfies Options;

const engineOption = {
  type: 'string',
  describe: "the browser runner's runtime: tfjs (default) or ort-web (onnxruntime-web's wasm provider on the exported ONNX form: backend ort-web)",
} as const satisfies Options;

interface RunnerArgs {
  runner: string;
  backend: string | undefined;
  engine: string | undefined;
  threads: number;
}

/** The backend `--engine` and `--backend` name together (the browser's ort-web engine is its backend `ort-web`). */
function backendOf(args: RunnerArgs): string {
  const { engine, backend } = args;
  if (engine === undefined) return backend ?? defaultBackend(args.runner);
  if (args.runner !== 'browser') throw new UsageError(`--engine chooses the browser runner's runtime: add --runner browser, or drop --engine ${engine}`);
  if (engine !== 'tfjs' && engine !== 'ort-web') throw new UsageError(`--engine ${engine}: expected tfjs or ort-web`);
  if (engine === 'ort-web' ? backend !== undefined && backend !== 'ort-web' : backend === 'ort-web') {
    throw new UsageError(`--engine ${engine} does not run --backend ${backend}: drop --backend`);
  }
  return engine === 'ort-web' ? 'ort-web' : (backend ?? 'wasm');
}

/** The runner, its backend (the runner's default when none is given) and threads, checked: one line if wrong. */
function runnerSetting(args: RunnerArgs): { runner: string; backend: string; threads: number } {
  const backend = backendOf(args);
  checkRunner(args.runner, backend, args.threads);
  return { runner: args.runner, backend, threads: args.threads };
}

interface MeasureArgs {
  readonly arch: string[];
  readonly input: number | undefined;
  readonly classes: number | undefined;
  readonly width: number | undefined;
  readonly runner: string;
  readonly backend: string | undefined;
  readonly engine: string | undefined;
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
      : `runner ${first.runner}, backend ${first.backend}, threads ${first.threads ?? 'auto'}, input ${first.input.join('x')}, batch 1\n`;
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
  describe: 'Measure whole-network latency on a runner (batch 1, median of timed runs after warm-up)',
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
      .option('runner', runnerOption)
      .option('backend', runnerBackendOption)
      .option('engine', engineOption)
      .option('threads', threadsOption)
      .option('warmup', { type: 'number', default: 10, describe: 'untimed runs first' })
      .option('runs', { type: 'number', default: 30, describe: 'timed runs' })
      .option('min-seconds', { type: 'number', default: 0, describe: 'keep timing until this much time is spent' })
      .option('json', jsonOption) as never,
  handler: async (args) => {
    checkMeasureCounts(args);
    if (!Number.isInteger(args.threads) || args.threads < 1) {
      throw new UsageError(`--threads must be a positive integer, got ${args.threads}`);
    }
    const setting = runnerSetting(args);
    const overrides = { input: args.input, classes: args.classes, width: args.width };
    const specs: [string, ArchSpec][] = groupArchRefs(args.arch).map((refs) => [refs.join(' '), loadArch(refs, overrides)]);
    const results: MeasureEntry[] = [];
    const runner = await openRunner(setting.runner, setting);
    try {
      for (const [ref, spec] of specs) {
        const m = await measureArchOn(runner, spec, { warmup: args.warmup, runs: args.runs, minSeconds: args.minSeconds });
        results.push({ ref, ...m });
      }
    } finally {
      await runner.close();
    }
    emit({ results }, args.json, measureText);
  },
};

/** The event type of each phase of lut build and validate under --progress json (docs/PROGRESS.md). */
const PHASE_EVENTS = { lut: 'entry', calibrate: 'calibration', validate: 'validation' };

/** A counted task's progress on stderr, as --progress asks; `run` gets it and the reporter ends after it. */
async function withProgress<T>(choice: ProgressChoice, run: (p: CountedProgress) => Promise<T>): Promise<T> {
  const reporter = new Reporter(progressMode(choice));
  try {
    return await run(countedProgress(reporter, PHASE_EVENTS));
  } finally {
    reporter.end();
  }
}

/** The library's options as typed (what it takes as specs, the user names). */
interface LutBuildArgs extends Omit<LutBuildOptions, 'archs' | 'space' | 'onProgress' | 'backend'> {
  readonly backend: string | undefined;
  readonly engine: string | undefined;
  readonly space: string | undefined;
  readonly arch: string[] | undefined;
  readonly samples: number | undefined;
  readonly widths: number[] | undefined;
  readonly db: string | undefined;
  readonly json: boolean;
  readonly progress: ProgressChoice;
}

const lutBuildCommand: CommandModule<object, LutBuildArgs> = {
  command: 'build',
  describe: 'Measure the LUT entries of given archs or of seeded samples of a search space (resumable)',
  builder: (y: Argv) =>
    y
      .option('space', { type: 'string', describe: 'built-in search space to sample' })
      .option('samples', { type: 'number', describe: 'how many archs to sample from --space (default: every entry of the space)' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the samples' })
      .option('arch', { type: 'string', array: true, describe: 'architectures (names, spec files, arch strings)' })
      .option('widths', {
        type: 'number',
        array: true,
        describe: 'with --arch: also each arch at these width multipliers (e.g. 0.75 0.5 0.35: the variants NetAdapt visits, calibrated with a scale)',
      })
      .option('input', { type: 'number', demandOption: true, describe: 'input size (square)' })
      .option('runner', runnerOption)
      .option('backend', runnerBackendOption)
      .option('engine', engineOption)
      .option('threads', threadsOption)
      .option('warmup', { type: 'number', default: 5, describe: 'untimed runs per entry' })
      .option('runs', { type: 'number', default: 30, describe: 'timed runs per entry and pass' })
      .option('sweeps', { type: 'number', default: 3, describe: 'passes over the table; each entry keeps its lowest figures' })
      .option('out', { type: 'string', default: 'lut.json', describe: 'the LUT file; an existing one is resumed' })
      .option('calibrate', { type: 'number', default: 20, describe: 'whole archs measured to calibrate the overheads (0: keep)' })
      .option('db', { type: 'string', describe: 'also cache entries in this results database' })
      .option('json', jsonOption)
      .option('progress', progressOption) as never,
  handler: async (args) => {
    checkMeasureCounts(args);
    checkInteger('--input', args.input);
    checkInteger('--threads', args.threads);
    checkInteger('--calibrate', args.calibrate, 0);
    if ((args.space === undefined) === (args.arch === undefined)) throw new UsageError('give either --space (with or without --samples) or --arch');
    const { backend } = runnerSetting(args);
    const space = args.space === undefined ? undefined : builtinSpace(args.space);
    if (args.widths !== undefined) {
      if (args.arch === undefined) throw new UsageError('--widths narrows the archs of --arch: give --arch too');
      for (const w of args.widths) if (!(w > 0 && w <= 4)) throw new UsageError(`--widths: each must be in (0, 4], got ${w}`);
    }
    const archs = args.arch === undefined ? undefined : groupArchRefs(args.arch).map((refs) => loadArch(refs, { input: args.input }));
    const { samples, seed, input, runner, threads, warmup, runs, sweeps, out, calibrate, widths, db } = args;
    const result = await withProgress(args.progress, (onProgress) =>
      buildLutFile({ ...{ archs, widths, space, samples, seed, input, runner, backend, threads, warmup, runs, sweeps, out, calibrate, db }, onProgress }),
    );
    emit(result, args.json, (r: LutBuildResult) =>
      `${r.out}: ${r.entries} entries (${r.measured} measured now), overhead ${r.overheadMs.toFixed(3)} ms` +
      `${r.scale === null ? '' : `, scale ${r.scale.toFixed(3)}`}${r.perEntryMs ? `, ${r.perEntryMs.toFixed(3)} ms per entry` : ''}` +
      `${r.calibratedOn > 0 ? ` calibrated on ${r.calibratedOn} archs` : ''}; ${r.runner}, ${r.backend}, threads ${r.threads ?? 'auto'}, ` +
      `input ${r.input.join('x')}, ${r.machine}`,
    );
  },
};

const lutCommand: CommandModule = {
  command: 'lut',
  describe: 'Latency lookup tables',
  builder: (y: Argv) => y.command(lutBuildCommand).demandCommand(1, 'name a subcommand: build'),
  handler: () => undefined,
};

interface PredictArgs {
  readonly lut: string;
  readonly arch: string[];
  readonly target: string[] | undefined;
  readonly json: boolean;
}

interface TargetCheck {
  readonly target: string;
  readonly value: number;
  readonly limit: number;
  readonly meets: boolean;
}

interface PredictRow {
  readonly ref: string;
  readonly arch: string;
  readonly predictedMs: number;
  readonly entries: number;
  readonly madds: number;
  readonly params: number;
  readonly targets: readonly TargetCheck[];
}

/** Each target against the arch's predicted latency, MAdds and parameters. */
function checkTargets(targets: readonly Target[], values: Readonly<Record<Resource, number>>): TargetCheck[] {
  return targets.map((t) => ({ target: t.text, value: values[t.resource], limit: t.value, meets: values[t.resource] <= t.value }));
}

const predictCommand: CommandModule<object, PredictArgs> = {
  command: 'predict',
  describe: 'Predict network latency from a LUT: the sum of its entries plus the calibrated overhead',
  builder: (y: Argv) =>
    y
      .option('lut', { type: 'string', demandOption: true, describe: 'the LUT file' })
      .option('arch', { type: 'string', array: true, demandOption: true, describe: 'architectures (set to the LUT input size)' })
      .option('target', {
        type: 'string',
        array: true,
        describe: 'check against a budget: latency=15ms, madds=60M, params=2M (repeatable)',
      })
      .option('json', jsonOption) as never,
  handler: (args) => {
    const targets = parseTargets(args.target ?? []);
    const relative = targets.find((t) => t.relative);
    if (relative !== undefined) {
      throw new UsageError(`--target ${relative.text}: a relative target needs a reference network (nas netadapt); give an absolute value`);
    }
    const lut = readLut(args.lut);
    const results: PredictRow[] = groupArchRefs(args.arch).map((refs) => {
      const ref = refs.join(' ');
      const spec = loadArch(refs, { input: lut.input[0] });
      const p = predictLatency(lut, spec);
      if (p.missing.length > 0) throw missingError(p.missing, ref, lut.input[0], args.lut);
      const cost = costOf(resolve(spec));
      const values = { latency: p.predictedMs, madds: cost.madds, params: cost.params };
      return {
        ref,
        arch: encodeArch(spec),
        predictedMs: p.predictedMs,
        entries: p.entries,
        madds: cost.madds,
        params: cost.params,
        targets: checkTargets(targets, values),
      };
    });
    emit({ lut: args.lut, runner: lut.runner, backend: lut.backend, overheadMs: lut.overheadMs, results }, args.json, (r) =>
      table(
        ['arch', 'predicted ms', 'MAdds', 'params', 'entries', ...(targets.length > 0 ? ['targets'] : [])],
        r.results.map((x) => [
          x.ref,
          ms(x.predictedMs),
          `${(x.madds / 1e6).toFixed(1)}M`,
          `${(x.params / 1e6).toFixed(2)}M`,
          String(x.entries),
          ...(targets.length > 0 ? [x.targets.map((t) => `${t.target} ${t.meets ? 'met' : 'exceeded'}`).join(', ')] : []),
        ]),
      ),
    );
  },
};

interface ValidateArgs {
  readonly lut: string;
  readonly space: string;
  readonly samples: number;
  readonly seed: number;
  readonly warmup: number;
  readonly runs: number;
  readonly sweeps: number;
  readonly json: boolean;
  readonly progress: ProgressChoice;
}

const pct = (v: number): string => `${(v * 100).toFixed(1)}%`;

const validateCommand: CommandModule<object, ValidateArgs> = {
  command: 'validate',
  describe: 'Measure sampled archs whole on the LUT\'s runner and compare with its prediction (within +-10%/5%, MAPE, tau)',
  builder: (y: Argv) =>
    y
      .option('lut', { type: 'string', demandOption: true, describe: 'the LUT file' })
      .option('space', { type: 'string', demandOption: true, describe: 'built-in search space to sample' })
      .option('samples', { type: 'number', demandOption: true, describe: 'how many archs to sample and measure' })
      .option('seed', { type: 'number', default: 0, describe: 'seed of the samples (a LUT built from --samples covers the same seed)' })
      .option('warmup', { type: 'number', default: 10, describe: 'untimed runs per arch' })
      .option('runs', { type: 'number', default: 60, describe: 'timed runs per arch and pass (2 per interleaved round)' })
      .option('sweeps', { type: 'number', default: 3, describe: 'passes over the archs; each keeps its lowest figure' })
      .option('json', jsonOption)
      .option('progress', progressOption) as never,
  handler: async (args) => {
    checkMeasureCounts(args);
    checkInteger('--samples', args.samples, 2);
    checkInteger('--sweeps', args.sweeps, 1);
    const lut = readLut(args.lut);
    const space = builtinSpace(args.space);
    const archs = sampleArchs(space, args.samples, lut.input[0], args.seed);
    const report = await withProgress(args.progress, (progress) =>
      validatePredictions(lut, archs, {
        warmup: args.warmup,
        runs: args.runs,
        sweeps: args.sweeps,
        lutPath: args.lut,
        onProgress: (done, total, row) => progress('validate', done, total, `${pct(row.error)}`),
      }),
    );
    emit(report, args.json, (r: ValidationReport) => {
      const line =
        `${r.n} archs: ${pct(r.within10)} within +-10%, ${pct(r.within5)} within +-5%, MAPE ${r.mape.toFixed(2)}%, ` +
        `Kendall tau ${r.tau.toFixed(3)}`;
      const rep = r.repeatability;
      if (rep === null) return line;
      // How noisy the measurement is, so that a noisy machine is not read as a bad LUT.
      return (
        `${line}\nthe measurement itself: its ${rep.sweeps} sweeps agree with Kendall tau ${rep.tau.toFixed(3)} and differ by ` +
        `${rep.meanDiffPct.toFixed(1)}% on average (the figures above use the lowest)` +
        (rep.tau < 0.9 ? '; a noisy machine: raise --runs and --sweeps, or validate on an idle one' : '')
      );
    });
  },
};

export const latencyCommand: CommandModule = {
  command: 'latency',
  describe: 'Measure network latency on a device, build lookup tables and predict from them',
  builder: (y: Argv) =>
    y
      .command(measureCommand)
      .command(lutCommand)
      .command(predictCommand)
      .command(validateCommand)
      .demandCommand(1, 'name a subcommand: measure, lut, predict, validate'),
  handler: () => undefined,
};
