// `--evaluator proxy | synthetic | zero-cost:NAME | FILE`: which module evaluates candidates. A user module is imported here, in the
// main process, before any worker starts, so that a wrong path or a missing `evaluate` export is one clear error
// instead of a failed candidate per worker.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { NasError, UsageError } from '../common/errors.js';
import type { JsonValue } from '../common/json.js';
import type { SearchSpace } from '../space/searchSpace.js';
import type { EvaluatorChecks } from './types.js';
import { evaluateExport } from './worker.js';

export const BUILTIN_EVALUATORS = ['proxy', 'synthetic', 'zero-cost:naswot', 'zero-cost:synflow'] as const;
export type BuiltinEvaluator = (typeof BUILTIN_EVALUATORS)[number];

/** `zero-cost:NAME`: the training-free scores (zero-cost/). */
const ZERO_COST_PREFIX = 'zero-cost:';

const BUILTIN_URLS: Readonly<Record<BuiltinEvaluator, string>> = {
  proxy: new URL('../proxy-train/evaluate.js', import.meta.url).href,
  synthetic: new URL('./synthetic.js', import.meta.url).href,
  'zero-cost:naswot': new URL('../zero-cost/naswotEvaluator.js', import.meta.url).href,
  'zero-cost:synflow': new URL('../zero-cost/synflowEvaluator.js', import.meta.url).href,
};

export interface ResolvedEvaluator {
  /** 'proxy', 'synthetic', or the module's absolute path: what the run's config records. */
  readonly name: string;
  /** What workers import. */
  readonly url: string;
}

export function isBuiltinEvaluator(text: string): text is BuiltinEvaluator {
  return (BUILTIN_EVALUATORS as readonly string[]).includes(text);
}

/** Resolves and checks `--evaluator`; throws a one-line NasError for a missing file or a module without evaluate. */
export async function resolveEvaluator(text: string): Promise<ResolvedEvaluator> {
  if (isBuiltinEvaluator(text)) return { name: text, url: BUILTIN_URLS[text] };
  if (text.startsWith(ZERO_COST_PREFIX)) {
    const known = BUILTIN_EVALUATORS.filter((e) => e.startsWith(ZERO_COST_PREFIX));
    throw new UsageError(`--evaluator ${text}: unknown zero-cost score '${text.slice(ZERO_COST_PREFIX.length)}'; use ${known.join(' or ')}`);
  }
  const path = isAbsolute(text) ? text : resolvePath(text);
  if (!existsSync(path)) {
    throw new UsageError(`--evaluator ${text}: no such file; use proxy, synthetic, zero-cost:naswot, zero-cost:synflow or the path of a module exporting evaluate`);
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

/** Where the built-in evaluators' checks live (module URLs, so that search imports no evaluator's code). */
const BUILTIN_CHECKS: Readonly<Record<BuiltinEvaluator, string>> = {
  proxy: new URL('../proxy-train/checks.js', import.meta.url).href,
  synthetic: new URL('./synthetic.js', import.meta.url).href,
  'zero-cost:naswot': new URL('../zero-cost/checks.js', import.meta.url).href,
  'zero-cost:synflow': new URL('../zero-cost/checks.js', import.meta.url).href,
};

/** An evaluator's optional checks (EvaluatorChecks): a built-in's checks module, or a user module's own exports. */
export async function evaluatorChecks(name: string): Promise<EvaluatorChecks> {
  const url = isBuiltinEvaluator(name) ? BUILTIN_CHECKS[name] : (await resolveEvaluator(name)).url;
  const mod = (await import(url)) as Record<string, unknown>;
  const fn = <F>(key: string): F | undefined => (typeof mod[key] === 'function' ? (mod[key] as F) : undefined);
  const checkConfig = fn<EvaluatorChecks['checkConfig']>('checkConfig');
  const expectedSeconds = fn<EvaluatorChecks['expectedSeconds']>('expectedSeconds');
  const completeConfig = fn<EvaluatorChecks['completeConfig']>('completeConfig');
  return { ...(checkConfig ? { checkConfig } : {}), ...(expectedSeconds ? { expectedSeconds } : {}), ...(completeConfig ? { completeConfig } : {}) };
}

/**
 * An evaluator's settings with its defaults named (EvaluatorChecks.completeConfig), as a run stores them and as
 * result keys are made of; an evaluator that cannot complete them keeps them as given.
 */
export async function completeEvaluatorConfig(name: string, config: Readonly<Record<string, JsonValue>>, legacy: boolean): Promise<Readonly<Record<string, JsonValue>>> {
  return (await evaluatorChecks(name)).completeConfig?.(config, legacy) ?? config;
}

/**
 * Checks an evaluator's settings (and the files they name) in the main process, so that a bad value is one error
 * before any worker starts; an evaluator without checkConfig is given its config as is.
 */
export async function checkEvaluatorConfig(name: string, config: Readonly<Record<string, JsonValue>>): Promise<void> {
  (await evaluatorChecks(name)).checkConfig?.(config);
}

// `--eval-timeout`'s default: EVAL_TIMEOUT_MULTIPLE times the evaluator's expectedSeconds, never under
// EVAL_TIMEOUT_FLOOR_SECONDS: a generous limit, meant to catch a hung evaluation, not a slow one (the proxy
// evaluator's defaults give 47 minutes at 32 px: proxy-train/checks.ts). An evaluator that cannot say gets an hour.
export const EVAL_TIMEOUT_FLOOR_SECONDS = 600;
export const EVAL_TIMEOUT_MULTIPLE = 20;
export const MODULE_EVAL_TIMEOUT_SECONDS = 3600;

/** `--eval-timeout`'s default in seconds for an evaluator (a built-in's name or a module path) and its settings. */
export async function defaultEvalTimeout(name: string, config: Readonly<Record<string, JsonValue>>, space: SearchSpace): Promise<number> {
  const { expectedSeconds } = await evaluatorChecks(name);
  if (expectedSeconds === undefined) return MODULE_EVAL_TIMEOUT_SECONDS;
  return Math.max(EVAL_TIMEOUT_FLOOR_SECONDS, Math.ceil(EVAL_TIMEOUT_MULTIPLE * expectedSeconds(config, space)));
}

/**
 * How an evaluator is named to a worker on another machine (the queue engine): a built-in by its name (each machine
 * has its own copy of nas), a user module by its absolute path (installed at the same path on every worker).
 */
export function evaluatorRefOf(url: string): string {
  const builtin = BUILTIN_EVALUATORS.find((b) => BUILTIN_URLS[b] === url);
  return builtin ?? fileURLToPath(url);
}

/** The module URL of an evaluator reference on this machine; throws a one-line NasError when it is not here. */
export function evaluatorUrlOf(ref: string): string {
  if (isBuiltinEvaluator(ref)) return BUILTIN_URLS[ref];
  if (!isAbsolute(ref)) throw new NasError('E_USAGE', `evaluator ${ref}: expected a built-in name or an absolute path`);
  if (!existsSync(ref)) throw new NasError('E_USAGE', `evaluator ${ref}: no such file on this machine`);
  return pathToFileURL(ref).href;
}

/** SHA-256 of an evaluator's module file (for a built-in, its entry module): workers refuse a module that differs. */
export function evaluatorHash(url: string): string {
  return createHash('sha256').update(readFileSync(fileURLToPath(url))).digest('hex');
}
