// A pipeline stage's result file, `<out>/<stage>.json`: what the stage found, its wall time, and the key of the
// settings it was run with. A rerun reads a finished stage's file instead of running it again; a file written with
// other settings is an error (the stages after it would mix two experiments), not silently replaced.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFile } from '../../common/atomicFs.js';
import { NasError, UsageError } from '../../common/errors.js';
import { evalKeyOf, isJsonObject, type JsonObject, type JsonValue } from '../../common/json.js';

export type Say = (line: string) => void;

/** Reads a stage's result back from its JSON (null: damaged). */
export type Parse<T> = (v: JsonValue) => T | null;

export interface StageOutcome<T> {
  readonly result: T;
  /** Wall seconds of the run that produced the result (not of this invocation when reused). */
  readonly seconds: number;
  readonly reused: boolean;
}

function readJson(path: string): JsonValue {
  try {
    // JSON.parse yields only JSON values; the parsers check their shape.
    const v: JsonValue = JSON.parse(readFileSync(path, 'utf8'));
    return v;
  } catch (e) {
    throw new NasError('E_IO', `${path}: cannot read (${e instanceof Error ? e.message : String(e)}); delete it to run its stage again`);
  }
}

function storedKey(path: string): JsonValue | undefined {
  const v = readJson(path);
  return isJsonObject(v) ? v['key'] : undefined;
}

function readStage<T>(path: string, key: string, parse: Parse<T>): StageOutcome<T> {
  const v = readJson(path);
  const o: JsonObject = isJsonObject(v) ? v : {};
  if (o['key'] !== key) {
    throw new UsageError(`${path} was written by a pipeline with other settings; rerun with those settings or use another --out`);
  }
  const result = o['result'] === undefined ? null : parse(o['result']);
  const seconds = o['seconds'];
  if (result === null || typeof seconds !== 'number') throw new NasError('E_IO', `${path} is damaged; delete it to run its stage again`);
  return { result, seconds, reused: true };
}

/** Whether a stage file with other settings is an error (the default) or replaced by a new run (`redo`). */
export type OnChange = 'refuse' | 'redo';

/**
 * The stage `name`'s result: read from `<dir>/<name>.json` when a run with the same `settings` wrote it, else from
 * `run()`, timed and written there. `redo` is for a stage derived from the ones before it (the joint measurement of
 * whichever networks there are: a rerun that adds --netadapt measures them all again).
 */
export async function stage<T extends JsonValue>(
  dir: string,
  name: string,
  settings: JsonValue,
  parse: Parse<T>,
  run: () => Promise<T>,
  onChange: OnChange = 'refuse',
): Promise<StageOutcome<T>> {
  const path = join(dir, `${name}.json`);
  const key = evalKeyOf({ stage: name, settings });
  if (existsSync(path) && (onChange === 'refuse' || storedKey(path) === key)) return readStage(path, key, parse);
  const t0 = performance.now();
  const result = await run();
  const seconds = (performance.now() - t0) / 1000;
  await replaceFile(path, `${JSON.stringify({ stage: name, key, settings, seconds, result }, null, 2)}\n`);
  return { result, seconds, reused: false };
}

/** Field readers for the parsers: a value of the wanted type, or null. */
export const numberAt = (o: JsonObject, k: string): number | null => {
  const v = o[k];
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
};

export const stringAt = (o: JsonObject, k: string): string | null => {
  const v = o[k];
  return typeof v === 'string' ? v : null;
};

/** Each element read by `read`; null when the value is not an array or any element fails. */
export function listAt<T>(v: JsonValue | undefined, read: (x: JsonValue) => T | null): T[] | null {
  if (!Array.isArray(v)) return null;
  const out: T[] = [];
  for (const x of v) {
    const r = read(x);
    if (r === null) return null;
    out.push(r);
  }
  return out;
}
