// `--evaluator proxy | synthetic | FILE`: which module evaluates candidates. A user module is imported here, in the
// main process, before any worker starts, so that a wrong path or a missing `evaluate` export is one clear error
// instead of a failed candidate per worker.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NasError, UsageError } from '../common/errors.js';
import type { JsonValue } from '../common/json.js';
import type { SearchSpace } from '../space/searchSpace.js';
import { evaluateExport } from './worker.js';

export const BUILTIN_EVALUATORS = ['proxy', 'synthetic'] as const;
export type BuiltinEvaluator = (typeof BUILTIN_EVALUATORS)[number];

const BUILTIN_URLS: Readonly<Record<BuiltinEvaluator, string>> = {
  proxy: new URL('../proxy-train/evaluate.js', import.meta.url).href,
  synthetic: new URL('./synthetic.js', import.meta.url).href,
};

export interface ResolvedEvaluator {
  /** 'proxy', 'synthetic', or the module's absolute path: what the run's config records. */
  readonly name: string;
  /** What workers import. */
  readonly url: string;
}

function isBuiltin(text: string): text is BuiltinEvaluator {
  return (BUILTIN_EVALUATORS as readonly string[]).includes(text);
}

/** Resolves and checks `--evaluator`; throws a one-line NasError for a missing file or a module without evaluate. */
export async function resolveEvaluator(text: string): Promise<ResolvedEvaluator> {
  if (isBuiltin(text)) return { name: text, url: BUILTIN_URLS[text] };
  const path = isAbsolute(text) ? text : resolvePath(text);
  if (!existsSync(path)) {
    throw new UsageError(`--evaluator ${text}: no such file; use proxy, synthetic or the path of a module exporting evaluate`);
  }
  const url = pathToFileURL(path).href;
  let mod: Record<string, unknown>;
  try {
    mod = (await import(url)) as Record<string, unknown>;
  } catch (e) {
    throw new NasError('E_USAGE', `--evaluator ${text}: cannot load the module (${(e as Error).message.split('\n')[0]})`);
  }
  if (evaluateExport(mod) === null) {
    throw new UsageError(
      `--evaluator ${text}: the module does not export a function evaluate(arch, context) returning { accuracy, ... }`,
    );
  }
  return { name: path, url };
}

/**
 * Checks an evaluator's settings in the main process, so that a bad value is one error before any worker starts
 * (the built-in proxy evaluator knows its keys; a user's module is given the config as is).
 */
export async function checkEvaluatorConfig(name: string, config: Readonly<Record<string, JsonValue>>): Promise<void> {
  if (name !== 'proxy') return;
  const { parseProxyConfig } = await import('../proxy-train/config.js');
  parseProxyConfig(config);
}

// `--eval-timeout`'s default, derived from what the evaluator is asked to do. The proxy evaluator trains
// proxyEpochs x proxyImages images and scores valImages (a forward pass, about a third of a training step's work).
// Measured: a large candidate of mnasnet-small-input took 30.6 s for the default 8,192 images at 16 px (3.7 ms per
// image) with two workers on a busy two-core machine, and 112 s alone on one much busier (load 14). So the expected
// time is PROXY_SECONDS_PER_IMAGE per image at 16 px, scaled by the input's area (the arch's own size when input is
// null: the space's largest), times CPU_BACKEND_FACTOR on tfjs's reference cpu backend (it did not finish one
// 512-image candidate in 20 minutes that wasm scored in 5 s); the timeout is EVAL_TIMEOUT_MULTIPLE times that, and
// never under EVAL_TIMEOUT_FLOOR_SECONDS: a generous limit, meant to catch a hung evaluation, not a slow one. The
// defaults give 12 minutes. A user's module does something this code cannot estimate: it gets an hour.
export const EVAL_TIMEOUT_FLOOR_SECONDS = 600;
export const EVAL_TIMEOUT_MULTIPLE = 20;
export const PROXY_SECONDS_PER_IMAGE = 0.004;
export const CPU_BACKEND_FACTOR = 300;
export const MODULE_EVAL_TIMEOUT_SECONDS = 3600;

/** The largest input size a space's architectures can have. */
function largestInput(space: SearchSpace): number {
  const size = space.input.size;
  return typeof size === 'number' ? size : Math.max(...size.oneOf);
}

/** `--eval-timeout`'s default in seconds for an evaluator ('proxy', 'synthetic' or a module path) and its settings. */
export async function defaultEvalTimeout(name: string, config: Readonly<Record<string, JsonValue>>, space: SearchSpace): Promise<number> {
  if (name === 'synthetic') return EVAL_TIMEOUT_FLOOR_SECONDS;
  if (name !== 'proxy') return MODULE_EVAL_TIMEOUT_SECONDS;
  const { parseProxyConfig } = await import('../proxy-train/config.js');
  const cfg = parseProxyConfig(config);
  const images = cfg.proxyEpochs * cfg.proxyImages + cfg.valImages / 3;
  const area = ((cfg.input ?? largestInput(space)) / 16) ** 2;
  const expected = images * PROXY_SECONDS_PER_IMAGE * area * (cfg.backend === 'cpu' ? CPU_BACKEND_FACTOR : 1);
  return Math.max(EVAL_TIMEOUT_FLOOR_SECONDS, Math.ceil(EVAL_TIMEOUT_MULTIPLE * expected));
}
