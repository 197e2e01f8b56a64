// The adapter of a tabular NAS benchmark: an ES module saying how a table of architecture -> accuracy (and costs)
// maps onto a search space, so that `nas bench search` can run the real search loop over it (docs/SEARCH.md,
// "Benchmarking strategies"). nb201.ts is the shipped example.
import { dirname, isAbsolute, resolve as resolvePath } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ArchError, UsageError } from '../../common/errors.js';
import { type SearchSpace, validateSpace } from '../../space/searchSpace.js';
import { builtinSpace } from '../../space/spaces.js';

/** The metrics a table's cost columns can provide (ms, count, count): the resources a `--target` constrains. */
export const COST_METRICS = ['latencyMs', 'madds', 'params'] as const;
export type CostMetric = (typeof COST_METRICS)[number];

/**
 * What an adapter module exports, as named exports (or as the properties of its default export). Only `space`,
 * `key`, `keyColumn` and `accuracy` are required.
 */
export interface TableAdapter {
  /** The search space: its JSON (docs/SEARCH_SPACE.md) or a built-in space's name. */
  readonly space: unknown;
  /**
   * The key (the keyColumn value) of the row a sample stands for; the sample is its option indices in the space's
   * decision order. Distinct architectures of the space must get distinct rows.
   */
  readonly key: (decisions: readonly number[]) => string;
  /** The column that identifies a row; its values must be unique. */
  readonly keyColumn: string;
  /** The accuracy column searched on by default. */
  readonly accuracy: string;
  /** The table: a CSV file, plain or gzipped, relative to the adapter module. Optional when `--table FILE` names it. */
  readonly table?: string;
  /** True (default): accuracy columns hold percentages, divided by 100; false: fractions in [0, 1]. */
  readonly percent?: boolean;
  /** Cost columns by metric, e.g. `{ latencyMs: 'lat_ms', params: 'n_params' }`: what `--target` can constrain. */
  readonly columns?: Readonly<Partial<Record<CostMetric, string>>>;
  /** The held-out column reported beside an accuracy column, e.g. `{ 'cifar10-val': 'cifar10-test' }`. */
  readonly test?: Readonly<Record<string, string>>;
  /** `--dataset` names, each an accuracy column, e.g. `{ cifar100: 'cifar100-val' }`. */
  readonly datasets?: Readonly<Record<string, string>>;
}

export interface LoadedAdapter extends TableAdapter {
  /** The module's absolute path. */
  readonly path: string;
  readonly searchSpace: SearchSpace;
  /** The adapter's table as an absolute path, or null when it names none. */
  readonly tablePath: string | null;
}

/** The adapters that ship, by `--table` name. */
export const BUILTIN_ADAPTERS: Readonly<Record<string, string>> = {
  nb201: fileURLToPath(new URL('./nb201.js', import.meta.url)),
};

const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isStringMap = (v: unknown): v is Record<string, string> => isObject(v) && Object.values(v).every((x) => typeof x === 'string');

/** Imports and checks an adapter module; a missing file or a missing or mistyped export is a one-line UsageError. */
export async function loadAdapter(path: string, label = path): Promise<LoadedAdapter> {
  const abs = isAbsolute(path) ? path : resolvePath(path);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ERR_MODULE_NOT_FOUND' && err.message.includes(abs) ? 'no such file' : `cannot load the module (${err.message.split('\n')[0]})`;
    throw new UsageError(`--adapter ${label}: ${why}`);
  }
  const x = isObject(mod['default']) && !('key' in mod) ? mod['default'] : mod;
  const fail: (what: string) => never = (what) => {
    throw new UsageError(`--adapter ${label}: ${what} (docs/SEARCH.md, "Benchmarking strategies")`);
  };
  const text = (name: string): string => {
    const v = x[name];
    if (typeof v !== 'string' || v === '') fail(`export '${name}' must be a non-empty string, got ${v === undefined ? 'nothing' : typeof v}`);
    return v;
  };
  const map = (name: string): Record<string, string> | undefined => {
    const v = x[name];
    if (v === undefined) return undefined;
    if (!isStringMap(v)) fail(`export '${name}' must be an object of strings`);
    return v;
  };
  if (typeof x['key'] !== 'function') fail("missing export 'key', a function key(decisions) returning the table row's key");
  if (x['space'] === undefined) fail("missing export 'space', a search space's JSON or a built-in space name");
  const keyColumn = text('keyColumn');
  const accuracy = text('accuracy');
  const table = x['table'] === undefined ? undefined : text('table');
  const percent = x['percent'];
  if (percent !== undefined && typeof percent !== 'boolean') fail("export 'percent' must be true or false");
  const columns = map('columns');
  const unknownCost = Object.keys(columns ?? {}).find((k) => !(COST_METRICS as readonly string[]).includes(k));
  if (unknownCost !== undefined) fail(`export 'columns' has '${unknownCost}'; cost metrics are ${COST_METRICS.join(', ')}`);
  const test = map('test');
  const datasets = map('datasets');
  let searchSpace: SearchSpace;
  try {
    searchSpace = typeof x['space'] === 'string' ? builtinSpace(x['space']) : validateSpace(x['space']);
  } catch (e) {
    if (e instanceof ArchError) throw new ArchError(`--adapter ${label}: ${e.message}`);
    throw e;
  }
  const key = x['key'] as (decisions: readonly number[]) => unknown;
  return {
    path: abs,
    space: x['space'],
    searchSpace,
    key: (decisions) => {
      let k: unknown;
      try {
        k = key(decisions);
      } catch (e) {
        throw new UsageError(`--adapter ${label}: key([${decisions.join(',')}]) threw: ${(e as Error).message}`);
      }
      if (typeof k !== 'string') throw new UsageError(`--adapter ${label}: key([${decisions.join(',')}]) returned ${typeof k}, not a string`);
      return k;
    },
    keyColumn,
    accuracy,
    tablePath: table === undefined ? null : resolvePath(dirname(abs), table),
    ...(table === undefined ? {} : { table }),
    ...(percent === undefined ? {} : { percent }),
    ...(columns === undefined ? {} : { columns }),
    ...(test === undefined ? {} : { test }),
    ...(datasets === undefined ? {} : { datasets }),
  };
}
