// `nas search`: MnasNet's platform-aware search. Parses and checks the options, builds the run's settings and calls
// search/loop.ts; `--resume RUN` continues a killed, stopped or finished run with its stored settings.
import { existsSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { resolve as resolvePath } from 'node:path';
import type { CommandModule } from 'yargs';
import type { BackendChoice } from '../backend/choices.js';
import { ArchError, UsageError } from '../common/errors.js';
import { checkInteger } from '../common/intOption.js';
import { absoluteTargets, resolvePairedSource } from '../latency/pairedSource.js';
import type { LatencySourceSpec } from '../latency/resources.js';
import type { JsonValue } from '../common/json.js';
import { openStore, type Store } from '../results/store.js';
import { validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import type { CandidateSummary, EngineOptions, SearchResult, SearchSettings, SpaceRef } from '../search/loop.js';
import { parseDuration, resolveSpace } from '../search/settings.js';
import { DEFAULT_BATCH } from '../search/defaults.js';
import { isBuiltinEvaluator } from '../search/evaluators.js';
import { describeSplit, engineOptionsFrom } from '../search/engine/factory.js';
import { checkReachable } from '../search/engine/queue/connection.js';
import type { RewardMode } from '../search/reward.js';
import { STRATEGY_NAMES } from '../search/strategies/names.js';
import type { StrategyName } from '../search/types.js';
import { withConfigFile } from './configFile.js';
import { backendOption, dbOption, jsonOption } from './options.js';
import { latencyWithRunner, type RunnerArgs, runnerOptions } from './runnerOptions.js';
import { emit, table, thousands } from './output.js';
import { type ProgressChoice, progressMode, progressOption, Reporter } from './progress.js';
import { searchProgress } from './progressSearch.js';
import { checkSearchCsv, withSearchCsv } from './searchCsv.js';

/** The search loop, loaded once the command line is checked (its rl strategy loads tfjs): a bad one fails at once. */
const searchLoop = (): Promise<typeof import('../search/loop.js')> => import('../search/loop.js');

/** The embedded default: 32 proxy-trained candidates of the small-input MnasNet space on MNIST. */
export const DEFAULT_SPACE = 'mnasnet-small-input';
export const DEFAULT_BUDGET = 32;
export const DEFAULT_LATENCY = 'madds';

interface SearchArgs extends RunnerArgs {
  space: string | undefined;
  strategy: string | undefined;
  target: string[] | undefined;
  reward: string | undefined;
  w: number | undefined;
  alpha: number | undefined;
  beta: number | undefined;
  evaluator: string | undefined;
  dataset: string | undefined;
  'proxy-epochs': number | undefined;
  'proxy-images': number | undefined;
  input: number | undefined;
  latency: string | undefined;
  workers: number | undefined;
  threads: number | undefined;
  gpus: string | undefined;
  queue: string | undefined;
  'eval-timeout': string | undefined;
  batch: number | undefined;
  budget: number | undefined;
  time: string | undefined;
  'max-failures': number | undefined;
  patience: number | undefined;
  seed: number | undefined;
  top: number;
  db: string;
  resume: string | undefined;
  json: boolean;
  progress: ProgressChoice;
  csv: string | undefined;
  backend: BackendChoice | undefined;
}

/** Options that define a run: fixed at its start, so --resume refuses them. */
const RUN_DEFINING = [
  'space', 'strategy', 'target', 'reward', 'w', 'alpha', 'beta', 'evaluator', 'dataset', 'proxy-epochs',
  'proxy-images', 'input', 'latency', 'runner', 'runner-backend', 'runner-threads', 'batch', 'seed', 'backend',
] as const;

function spaceRef(text: string): SpaceRef {
  if (existsSync(text) || text.endsWith('.json')) {
    const file = resolvePath(text);
    let json: unknown;
    try {
      json = JSON.parse(readFileSync(file, 'utf8'));
    } catch (e) {
      const why = (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (e as Error).message.split('\n')[0];
      throw new UsageError(`--space ${text}: cannot read the space file (${why})`);
    }
    try {
      return { file, json: validateSpace(json) as unknown as JsonValue };
    } catch (e) {
      if (e instanceof ArchError) throw new ArchError(`--space ${text}: ${e.message}`);
      throw e;
    }
  }
  builtinSpace(text); // an unknown name is a one-line ArchError listing the known ones
  return { name: text };
}

function engineOptions(args: SearchArgs): EngineOptions {
  const timeout = args['eval-timeout'] === undefined ? {} : { evalTimeoutSeconds: parseDuration(args['eval-timeout'], '--eval-timeout') };
  const given = { workers: args.workers, gpus: args.gpus, queue: args.queue, threads: args.threads };
  return { ...engineOptionsFrom(given, availableParallelism()), ...timeout };
}

/** The evaluator's settings: the proxy's (and zero-cost's) keys, only those given (its own defaults fill the rest). */
function evaluatorConfig(args: SearchArgs, evaluator: string, space: SpaceRef): Record<string, JsonValue> {
  const given: Record<string, JsonValue> = {};
  if (args.dataset !== undefined) given['dataset'] = args.dataset;
  if (args['proxy-epochs'] !== undefined) given['proxyEpochs'] = args['proxy-epochs'];
  if (args['proxy-images'] !== undefined) given['proxyImages'] = args['proxy-images'];
  if (args.input !== undefined) given['input'] = args.input;
  if (args.backend !== undefined) given['backend'] = args.backend;
  if (evaluator === 'proxy' || evaluator.startsWith('zero-cost:')) return given;
  // The synthetic evaluator and user modules also get the space: a built-in's name, or a space file's validated JSON
  // (the synthetic evaluator derives its optimum from it).
  return { space: 'name' in space ? space.name : (space.json as JsonValue), ...given };
}

/** `--latency` (madds by default), with the runner `--runner` names for a source that measures. */
function latencySource(args: SearchArgs): LatencySourceSpec {
  return latencyWithRunner(args.latency ?? DEFAULT_LATENCY, args);
}

function settingsFrom(args: SearchArgs): SearchSettings {
  const strategy = args.strategy ?? 'rl';
  if (!(STRATEGY_NAMES as readonly string[]).includes(strategy)) {
    throw new UsageError(`--strategy ${strategy}: expected one of ${STRATEGY_NAMES.join(', ')}`);
  }
  const mode = args.reward ?? 'soft';
  if (mode !== 'soft' && mode !== 'hard') throw new UsageError(`--reward ${mode}: expected soft or hard`);
  const targets = args.target ?? [];
  if (targets.length === 0) throw new UsageError('give at least one --target, e.g. --target latency=15ms (also madds=60M, params=2M)');
  checkInteger('--batch', args.batch, 1);
  checkInteger('--budget', args.budget, 1);
  checkInteger('--max-failures', args['max-failures'], 0);
  checkInteger('--patience', args.patience, 1);
  checkInteger('--seed', args.seed, 0);
  const space = spaceRef(args.space ?? DEFAULT_SPACE);
  const evaluator = args.evaluator ?? 'proxy';
  return {
    space,
    strategy: strategy as StrategyName,
    targets,
    reward: {
      mode: mode as RewardMode,
      ...(args.w === undefined ? {} : { w: args.w }),
      ...(args.alpha === undefined ? {} : { alpha: args.alpha }),
      ...(args.beta === undefined ? {} : { beta: args.beta }),
    },
    // zero-cost:NAME stays a name even when unknown: the preflight's error lists the valid ones.
    evaluator: isBuiltinEvaluator(evaluator) || evaluator.startsWith('zero-cost:') ? evaluator : resolvePath(evaluator),
    evaluatorConfig: evaluatorConfig(args, evaluator, space),
    latency: latencySource(args),
    batch: args.batch ?? DEFAULT_BATCH,
    budget: args.budget ?? DEFAULT_BUDGET,
    timeSeconds: args.time === undefined ? null : parseDuration(args.time),
    maxFailures: args['max-failures'] ?? null,
    patience: args.patience ?? null,
  };
}

/** `--latency paired:REF`: the reference measured once, here, and `latency=Nx` targets made absolute from it. */
async function withPairedReference(settings: SearchSettings, db: string | undefined, quiet: boolean): Promise<SearchSettings> {
  if (settings.latency.kind !== 'paired') return settings;
  const latency = await resolvePairedSource(settings.latency, resolveSpace(settings.space), db);
  const targets = absoluteTargets(settings.targets, latency);
  if (!quiet && latency.kind === 'paired') process.stderr.write(`reference timed: ${latency.referenceMs?.toFixed(4)} ms; targets ${targets.join(' ')}\n`);
  return { ...settings, latency, targets };
}

const f4 = (v: number | null): string => (v === null ? '-' : v.toFixed(4));
const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(2));
const count = (v: number | null): string => (v === null ? '-' : thousands(v));

function candidateRows(cs: readonly CandidateSummary[]): string[][] {
  return cs.map((c) => [String(c.seq), f4(c.reward), f4(c.accuracy), ms(c.latencyMs), count(c.madds), count(c.params), c.arch]);
}

const HEADER = ['seq', 'reward', 'accuracy', 'latency ms', 'MAdds', 'params', 'arch'];

/** Samples per second, or seconds per sample when slower; nothing when the session took no sample. */
function rate(s: SearchResult['session']): string {
  if (s.samples === 0) return '';
  return s.samplesPerSec >= 1 ? ` (${s.samplesPerSec.toFixed(1)} samples/s)` : ` (${(s.seconds / s.samples).toFixed(1)} s per sample)`;
}

function toText(r: SearchResult): string {
  const s = r.session;
  return [
    `run ${r.runId}${r.resumed ? ' (resumed)' : ''}: ${r.strategy} on ${r.space}, seed ${r.seed}, target ${r.targets.join(' ')}`,
    `${r.counts.total} candidates (${r.counts.done} done, ${r.counts.failed} failed): ${r.message}`,
    `this session: ${s.samples} samples, ${s.evaluated} evaluated, ${s.cached} from the cache, ${s.seconds.toFixed(1)} s${rate(s)}`,
    '',
    `best ${r.best.length} by reward:`,
    table(HEADER, candidateRows(r.best)),
    '',
    'Pareto front, accuracy vs latency:',
    table(HEADER, candidateRows(r.pareto)),
    '',
    `more: nas results show ${r.runId}; nas results pareto ${r.runId}`,
  ].join('\n');
}

export const searchCommand: CommandModule<object, SearchArgs> = {
  command: 'search',
  describe: 'Platform-aware architecture search (MnasNet): sample, proxy-train, reward ACC x (LAT/T)^w, learn',
  builder: (y) =>
    withConfigFile(y)
      .option('space', { type: 'string', describe: `search space: a built-in name or a JSON file (default ${DEFAULT_SPACE})` })
      .option('strategy', { type: 'string', describe: 'rl (LSTM controller + PPO, default), evolution, random or predictor (MLP-ensemble model-based)' })
      .option('target', { type: 'string', array: true, describe: 'resource target (repeatable): latency=15ms, madds=60M, params=2M' })
      .option('reward', { type: 'string', describe: 'soft (alpha = beta = -0.07, default) or hard (alpha = 0, beta = -1)' })
      .option('w', { type: 'number', describe: 'reward exponent: alpha = beta = w' })
      .option('alpha', { type: 'number', describe: 'reward exponent within the target' })
      .option('beta', { type: 'number', describe: 'reward exponent beyond the target' })
      .option('evaluator', { type: 'string', describe: 'proxy (proxy training, default), zero-cost:naswot or zero-cost:synflow (training-free scores), synthetic, or a module exporting evaluate' })
      .option('dataset', { type: 'string', describe: 'proxy-training dataset (default mnist)' })
      .option('proxy-epochs', { type: 'number', describe: 'proxy-training epochs' })
      .option('proxy-images', { type: 'number', describe: 'training images used by proxy training' })
      .option('input', { type: 'number', describe: 'proxy-training input size (default the space\'s)' })
      .option('latency', { type: 'string', describe: `latency source: lut:FILE, measure, paired:REF (each network timed against REF, as --arch names it; allows latency=1x), madds (default: 1 ms per 1M MAdds) or module:FILE` })
      .options(runnerOptions)
      .option('workers', { type: 'number', describe: 'evaluation threads; 0 = in this process (default one per core; at most 4 per core, within memory)' })
      .option('threads', { type: 'number', describe: 'native kernel threads per evaluation worker (default: the cores shared among --workers; in process: every core)' })
      .option('gpus', { type: 'string', describe: 'GPU ids, e.g. 0,1: one worker process per GPU (CUDA_VISIBLE_DEVICES)' })
      .option('queue', { type: 'string', describe: 'Redis URL (redis://HOST:6379/0): this process coordinates, `nas worker --queue URL` processes evaluate' })
      .option('batch', { type: 'number', describe: `candidates per strategy step (default ${DEFAULT_BATCH}; independent of --workers)` })
      .option('budget', { type: 'number', describe: `distinct candidates to evaluate (default ${DEFAULT_BUDGET})` })
      .option('time', { type: 'string', describe: 'stop once this much time passed (evaluations in flight wait for --resume): 2h, 30m, 90s' })
      .option('eval-timeout', { type: 'string', describe: 'fail an evaluation after this long and replace its worker: 90s, 30m, 2h (default: from the proxy settings, at least 10m)' })
      .option('max-failures', { type: 'number', describe: 'failed candidates allowed before the run fails (default max(5, 25% of the budget))' })
      .option('patience', { type: 'number', describe: 'stop early once this many distinct candidates bring no better reward (default: run to the budget)' })
      .option('seed', { type: 'number', describe: 'run seed (default 0)' })
      .option('top', { type: 'number', default: 5, describe: 'best candidates to list' })
      .option('resume', { type: 'string', describe: 'continue this search run (with --budget N to extend it)' })
      .option('db', dbOption)
      .option('json', jsonOption)
      .option('progress', progressOption)
      .option('csv', { type: 'string', describe: "write the run's candidates to this CSV file after every batch (a new file; with --resume RUN, also RUN's own)" })
      .option('backend', { ...backendOption, default: undefined }) as never,
  handler: async (args) => {
    for (const [k, v] of Object.entries(args)) {
      if (Array.isArray(v) && k !== 'target' && k !== '_' && k.length > 1) throw new UsageError(`--${k} is given more than once; give it once`);
    }
    checkInteger('--top', args.top, 1);
    const timeSeconds = args.time === undefined ? undefined : parseDuration(args.time);
    const engine = engineOptions(args);
    if (engine.queue !== undefined) await checkReachable(engine.queue);
    // With --json and no --progress, stderr stays quiet as it always was.
    const reporter = new Reporter(args.json && args.progress === 'auto' ? 'none' : progressMode(args.progress));
    const progress = searchProgress(reporter);
    if (args.csv !== undefined) checkSearchCsv(args.csv, args.db, args.resume);
    const outputs = (store: Store): ReturnType<typeof withSearchCsv> => withSearchCsv(progress.hooks, store, args.csv);
    let result: SearchResult;
    if (args.resume !== undefined) {
      const fixed = RUN_DEFINING.filter((k) => args[k] !== undefined);
      if (fixed.length > 0) {
        throw new UsageError(
          `--resume continues run ${args.resume} with its own settings; drop --${fixed.join(', --')} (only --budget, --time, --max-failures, --patience, --workers, --threads, --gpus, --queue and --eval-timeout apply)`,
        );
      }
      checkInteger('--budget', args.budget, 1);
      checkInteger('--max-failures', args['max-failures'], 0);
      checkInteger('--patience', args.patience, 1);
      const { resumeSearch } = await searchLoop();
      const store = openStore(args.db);
      const { hooks, flush } = outputs(store);
      try {
        result = await resumeSearch(
          store,
          args.resume,
          {
            ...(args.budget === undefined ? {} : { budget: args.budget }),
            ...(timeSeconds === undefined ? {} : { timeSeconds }),
            ...(args['max-failures'] === undefined ? {} : { maxFailures: args['max-failures'] }),
            ...(args.patience === undefined ? {} : { patience: args.patience }),
          },
          { engine, hooks, top: args.top },
        );
        flush();
      } finally {
        store.close();
        reporter.end();
      }
    } else {
      const settings = await withPairedReference(settingsFrom(args), args.db, args.json);
      const { runSearch } = await searchLoop();
      const store = openStore(args.db);
      const { hooks, flush } = outputs(store);
      try {
        result = await runSearch(store, settings, { seed: args.seed ?? 0, engine, hooks, top: args.top });
        flush();
      } finally {
        store.close();
        reporter.end();
      }
    }
    progress.finish(result);
    const split = describeSplit(engine);
    emit(result, args.json, (r) => (split === null ? toText(r) : `${toText(r)}\nevaluations: ${split}`));
    if (result.status === 'failed') throw (await searchLoop()).failedRunError(result);
  },
};
