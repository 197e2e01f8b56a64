// `--evaluator proxy | synthetic | FILE`: which module evaluates candidates. A user module is imported here, in the
// main process, before any worker starts, so that a wrong path or a missing `evaluate` export is one clear error
// instead of a failed candidate per worker.
import { existsSync } from 'node:fs';
import { isAbsolute, resolve as resolvePath } from 'node:path';
import { pathToFileURL } from 'node:url';
import { NasError, UsageError } from '../common/errors.js';
import type { JsonValue } from '../results/json.js';
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
