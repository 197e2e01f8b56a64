// `--config FILE`: a command's flags from a JSON object whose keys are the flags' long names, as on the command line
// (`proxy-epochs`) or in camelCase (`proxyEpochs`). It is yargs' config option, so a flag given on the command line
// wins over the file, and the file over the defaults; this module reads and checks the file.
import { readFileSync } from 'node:fs';
import type { Argv } from 'yargs';
import { NasError, UsageError } from '../common/errors.js';

const DESCRIBE = 'a JSON file of flags, keys as the long flags ({"budget": 64, "target": ["latency=15ms"]}); flags given here win';

/** Options that are not flags of the command (yargs' own, and the config option itself). */
const NOT_FLAGS = new Set(['help', 'version', 'config', '$0', '_']);

const kebab = (key: string): string => key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

/** A field of yargs' getOptions() (its type declarations omit the method): the option names it holds. */
function optionField(y: object, field: 'key' | 'array'): string[] {
  const get: unknown = Reflect.get(y, 'getOptions');
  const options: unknown = typeof get === 'function' ? Reflect.apply(get, y, []) : undefined;
  const value: unknown = typeof options === 'object' && options !== null ? Reflect.get(options, field) : undefined;
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  if (typeof value === 'object' && value !== null) return Object.keys(value);
  throw new Error(`yargs getOptions().${field} is missing: --config cannot check its keys`);
}

function readObject(file: string): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    const code = e instanceof Error && 'code' in e ? e.code : undefined;
    const why = code === 'ENOENT' ? 'no such file' : code === undefined ? `not JSON: ${(e instanceof Error ? e.message : String(e)).split('\n')[0]}` : String(code);
    throw new UsageError(`--config ${file}: ${why}`);
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new UsageError(`--config ${file}: expected a JSON object of flags, e.g. {"budget": 64, "target": ["latency=15ms"]}`);
  }
  return Object.fromEntries(Object.entries(json));
}

function checkValue(file: string, flag: string, value: unknown, isArray: boolean): void {
  const scalar = (v: unknown): boolean => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
  if (scalar(value) || (isArray && Array.isArray(value) && value.every(scalar))) return;
  const expected = isArray ? 'a string, number, boolean or a list of them' : 'a string, number or boolean';
  throw new UsageError(`--config ${file}: "${flag}" must be ${expected}, got ${JSON.stringify(value)}`);
}

/**
 * yargs' config parser for `y`'s flags: the file's object, after checking that each key names one of the flags
 * defined on `y` (read when the file is, so flags added after this call count too) and its value is of a flag's kind.
 */
export function configFileParser(y: object): (file: string) => Record<string, unknown> {
  return (file) => {
    const known = new Set(optionField(y, 'key').filter((k) => !NOT_FLAGS.has(k)));
    const arrays = new Set(optionField(y, 'array'));
    const config = readObject(file);
    const seen = new Map<string, string>();
    for (const [key, value] of Object.entries(config)) {
      const flag = kebab(key);
      if (!known.has(flag)) throw new UsageError(`--config ${file}: unknown key "${key}"; the keys are the flags' long names: ${[...known].join(', ')}`);
      const twice = seen.get(flag);
      if (twice !== undefined) throw new UsageError(`--config ${file}: "${twice}" and "${key}" name the same flag; keep one`);
      seen.set(flag, key);
      checkValue(file, key, value, arrays.has(flag));
    }
    return config;
  };
}

/** The option that reads a config file for the flags of the command `y` builds. */
export function withConfigFile<T>(y: Argv<T>): Argv<T> {
  // yargs turns an error of a config parser into a plain YError (an internal error to main.ts): the parser keeps
  // ours, and a middleware that runs before validation throws it as it is.
  const parse = configFileParser(y);
  let failure: NasError | null = null;
  const parseOrKeep = (file: string): Record<string, unknown> => {
    try {
      return parse(file);
    } catch (e) {
      if (!(e instanceof NasError)) throw e;
      failure = e;
      return {};
    }
  };
  return y.config('config', DESCRIBE, parseOrKeep).middleware(() => {
    if (failure !== null) throw failure;
  }, true);
}
