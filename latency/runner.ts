// The seam between what is measured (LUT entries, whole networks) and where: a runner owns a backend on one device
// and times models there. `node` is the local tfjs backend in this process; `browser` is tfjs inside a page of
// headless Chromium, the latency a web deployment sees; `onnxruntime` is ONNX Runtime's CPU provider in this
// process, timing the exported ONNX form.
import { backendChoices } from '../backend/choices.js';
import { NasError, UsageError } from '../common/errors.js';
import { type LatencyRunner, ortBackendName, ortOptLevels, type RunnerName, runnerNames } from './runners/interface.js';

// What a runner is lives in runners/interface.ts (so the runners need not import this module, which opens them);
// it is re-exported here, the seam's entry point.
export {
  type ArchMeasureOptions,
  type LatencyRunner,
  machineName,
  type RunnerMeasureOptions,
  type RunnerName,
  runnerNames,
} from './runners/interface.js';

/**
 * The backends each runner offers (node: as `--backend` elsewhere; browser: what a page's tfjs can run, and
 * onnxruntime-web's wasm provider on the exported ONNX form (`--engine ort-web`);
 * onnxruntime: the CPU provider at each graph optimisation level).
 */
export const runnerBackends: Readonly<Record<RunnerName, readonly string[]>> = {
  node: backendChoices,
  browser: ['wasm', 'webgl', 'ort-web'],
  onnxruntime: ortOptLevels.map(ortBackendName),
};

const defaultBackends: Readonly<Record<RunnerName, string>> = { node: 'wasm', browser: 'wasm', onnxruntime: 'cpu' };

/** The backend `name` runs when none is given (wasm for a runner nas lacks: checkRunner rejects it anyway). */
export function defaultBackend(name: string): string {
  return isRunnerName(name) ? defaultBackends[name] : 'wasm';
}

/** The runners as a list for a message: `node, browser or onnxruntime`. */
export function runnerList(): string {
  return `${runnerNames.slice(0, -1).join(', ')} or ${runnerNames[runnerNames.length - 1]}`;
}

/**
 * Timed runs per model in each interleaved round by default. Load from other tenants of a shared machine comes in
 * spells of a fraction of a second to seconds; two runs per round (plus the round's one warm-up run) spread every
 * model's samples evenly over the whole measurement, so a spell inflates all of them alike instead of a few. Measured
 * here: two repeated measurements of 20 networks agreed with Kendall tau 0.958 at 2 runs per round against 0.895
 * at 30.
 */
export const RUNS_PER_ROUND = 2;

/** Rounds for `runs` timed runs at RUNS_PER_ROUND. */
export function fineRounds(runs: number): number {
  return Math.max(1, Math.ceil(runs / RUNS_PER_ROUND));
}

export interface OpenRunnerOptions {
  /** Default: the runner's first (defaultBackend). */
  readonly backend?: string;
  /** wasm threads, or ONNX Runtime's intra-op threads (default 1). */
  readonly threads?: number;
}

export function isRunnerName(name: string): name is RunnerName {
  return (runnerNames as readonly string[]).includes(name);
}

/** Check a runner, backend and thread count as the user typed them, before anything is launched. */
export function checkRunner(name: string, backend: string, threads = 1): RunnerName {
  if (!isRunnerName(name)) throw new UsageError(`unknown runner '${name}': use --runner ${runnerList()}`);
  const offered = runnerBackends[name];
  if (!offered.includes(backend)) {
    // ort-web is the browser's other engine, chosen by `--engine ort-web`: the list names tfjs's backends.
    const listed = offered.filter((b) => b !== 'ort-web');
    throw new UsageError(`the ${name} runner has no backend '${backend}': use --backend ${listed.join(', ')}`);
  }
  if (!Number.isInteger(threads) || threads < 1) throw new UsageError(`--threads must be a positive integer, got ${threads}`);
  // tfjs-backend-wasm 4.22's threaded binary starts in the cross-origin-isolated page but keeps one thread.
  if (name === 'browser' && threads !== 1) throw new UsageError(`the browser runner measures with one thread: drop --threads ${threads}`);
  return name;
}

/** Open a runner; close it when done (the browser runner holds a Chromium process and an HTTP server). */
export async function openRunner(name: string, opts: OpenRunnerOptions = {}): Promise<LatencyRunner> {
  const backend = opts.backend ?? defaultBackend(name);
  const threads = opts.threads ?? 1;
  const runner = checkRunner(name, backend, threads);
  if (runner === 'node') {
    const { openNodeRunner } = await import('./runners/node.js');
    return openNodeRunner(backend as (typeof backendChoices)[number], threads);
  }
  if (runner === 'onnxruntime') return openOnnxruntime(backend, threads);
  let mod: typeof import('./runners/browser.js');
  try {
    mod = await import('./runners/browser.js');
  } catch (e) {
    const msg = (e as Error).message;
    if ((e as { code?: string }).code === 'ERR_MODULE_NOT_FOUND' && msg.includes('playwright-core')) {
      throw new NasError('E_BACKEND', 'the browser runner needs playwright-core: npm install playwright-core');
    }
    throw e;
  }
  return mod.openBrowserRunner(backend === 'webgl' || backend === 'ort-web' ? backend : 'wasm', threads);
}

/** The onnxruntime runner at the level `backend` names (checked against runnerBackends by the caller). */
async function openOnnxruntime(backend: string, threads: number): Promise<LatencyRunner> {
  const level = ortOptLevels.find((l) => ortBackendName(l) === backend) ?? 'all';
  let mod: typeof import('./runners/onnxruntime.js');
  try {
    mod = await import('./runners/onnxruntime.js');
  } catch (e) {
    if (e instanceof Error && 'code' in e && e.code === 'ERR_MODULE_NOT_FOUND' && e.message.includes('onnxruntime-node')) {
      throw new NasError('E_BACKEND', 'the onnxruntime runner needs onnxruntime-node: npm install onnxruntime-node');
    }
    throw e;
  }
  return mod.openOrtRunner(level, threads);
}
