// One candidate as a BullMQ job: what a worker on another machine needs to evaluate it (the arch, the evaluator by
// reference with its file hash and settings, the seed, the latency source, the evaluation key, the time limit), and
// the outcome it returns. Both cross Redis as JSON, so each side checks what it reads instead of trusting it.
import { createHash } from 'node:crypto';
import { checkJson, isJsonObject, type JsonObject, type JsonValue } from '../../../common/json.js';
import type { LatencySourceSpec } from '../../../latency/resources.js';
import { sourceRunnerFromJson } from '../../../latency/sourceRunner.js';
import { encodeArch } from '../../../space/blockString.js';
import { validateArchSpec } from '../../../space/validate.js';
import { checkMetrics } from '../../metrics.js';
import type { EvalOutcome, EvalTask } from '../types.js';

export interface JobData {
  /** A built-in evaluator's name, or a module's absolute path (search/evaluators.ts evaluatorRefOf). */
  readonly evaluator: string;
  /** SHA-256 of the evaluator's module file on the coordinator. */
  readonly evaluatorHash: string;
  readonly latency: LatencySourceSpec | null;
  /** The run's evaluation key (results/ caches by it): which settings the result belongs to. */
  readonly evalKey: string;
  /** Seconds the evaluation may take on the worker; null: no limit. */
  readonly evalTimeoutSeconds: number | null;
  readonly task: EvalTask;
}

/**
 * The job id of a run's candidate: one job per (run, architecture), so enqueueing it again (a resumed coordinator)
 * finds the job already in the queue instead of adding a second one. BullMQ ids may not contain ':'.
 */
export function jobIdOf(runId: string, arch: string): string {
  const h = createHash('sha256').update(arch).digest('hex').slice(0, 32);
  return `${runId.replace(/[^A-Za-z0-9_-]/g, '_')}-${h}`;
}

/** A job's data or result that is not what this version of nas sends: refused, never trusted. */
export class JobDataError extends Error {}

function bad(what: string): JobDataError {
  return new JobDataError(`malformed job: ${what}`);
}

function isJson(v: unknown): v is JsonValue {
  try {
    checkJson(v, 'job');
    return true;
  } catch {
    return false;
  }
}

function objectAt(o: JsonObject, key: string): JsonObject {
  const v = o[key];
  if (!isJsonObject(v)) throw bad(`${key} is not an object`);
  return v;
}

function stringAt(o: JsonObject, key: string): string {
  const v = o[key];
  if (typeof v !== 'string') throw bad(`${key} is not a string`);
  return v;
}

function numberAt(o: JsonObject, key: string): number {
  const v = o[key];
  if (typeof v !== 'number') throw bad(`${key} is not a number`);
  return v;
}

function latencyOf(v: JsonValue | undefined): LatencySourceSpec | null {
  if (v === null) return null;
  if (!isJsonObject(v)) throw bad('latency is not an object or null');
  const kind = v['kind'];
  const runner = sourceRunnerFromJson(v['runner']);
  if (runner === null) throw bad(`latency runner ${JSON.stringify(v['runner']).slice(0, 80)}`);
  const on = runner === undefined ? {} : { runner };
  if (kind === 'madds') return { kind };
  if (kind === 'measure') return { kind, ...on };
  if (kind === 'lut' || kind === 'module') return { kind, path: stringAt(v, 'path') };
  const ms = v['referenceMs'];
  if (kind === 'paired' && (ms === null || typeof ms === 'number')) return { kind, reference: stringAt(v, 'reference'), referenceMs: ms, ...on };
  throw bad(`latency source ${JSON.stringify(v).slice(0, 80)}`);
}

function decisionsOf(v: JsonValue | undefined): number[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw bad('task.context.decisions is not a list');
  return v.map((d: JsonValue) => {
    if (typeof d !== 'number' || !Number.isInteger(d)) throw bad('task.context.decisions is not a list of integers');
    return d;
  });
}

function taskOf(t: JsonObject): EvalTask {
  const ctx = objectAt(t, 'context');
  const arch = validateArchSpec(t['arch']);
  const canonical = stringAt(ctx, 'arch');
  if (encodeArch(arch) !== canonical) throw bad('task.arch is not the architecture task.context.arch names');
  const decisions = decisionsOf(ctx['decisions']);
  return {
    arch,
    context: { seed: numberAt(ctx, 'seed'), arch: canonical, ...(decisions === undefined ? {} : { decisions }), config: objectAt(ctx, 'config') },
  };
}

/** A job's data as a worker reads it from Redis, checked; throws JobDataError naming what is wrong. */
export function parseJobData(raw: unknown): JobData {
  if (!isJson(raw) || !isJsonObject(raw)) throw bad('its data is not a JSON object');
  const timeout = raw['evalTimeoutSeconds'];
  if (timeout !== null && (typeof timeout !== 'number' || !(timeout > 0))) throw bad('evalTimeoutSeconds is not a positive number or null');
  return {
    evaluator: stringAt(raw, 'evaluator'),
    evaluatorHash: stringAt(raw, 'evaluatorHash'),
    latency: latencyOf(raw['latency']),
    evalKey: stringAt(raw, 'evalKey'),
    evalTimeoutSeconds: timeout,
    task: taskOf(objectAt(raw, 'task')),
  };
}

/** A job's return value as the coordinator reads it back, checked; throws JobDataError naming what is wrong. */
export function parseOutcome(raw: unknown): EvalOutcome {
  if (!isJson(raw) || !isJsonObject(raw)) throw bad('its result is not a JSON object');
  const seconds = numberAt(raw, 'seconds');
  if (raw['ok'] === true) return { ok: true, metrics: checkMetrics(raw['metrics']), seconds };
  if (raw['ok'] === false) return { ok: false, reason: stringAt(raw, 'reason'), seconds };
  throw bad('its result has no ok flag');
}
