// Stage (c): the search, through the real loop (`runSearch`: the store in --db, the built-in proxy evaluator, the
// default strategy), with a latency target equal to the reference's latency as the stage (a) table predicts it, the
// same measure the search judges every candidate by. The run's id is written as soon as the run exists, so a
// killed pipeline resumes that run (`resumeSearch`) instead of starting another.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileSync } from '../../common/atomicFs.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../common/json.js';
import type { Store } from '../../results/store.js';
import { DEFAULT_BATCH } from '../../search/defaults.js';
import { type EngineOptions, failedRunError, resumeSearch, runSearch, type SearchResult, type SearchSettings } from '../../search/loop.js';
import { listAt, numberAt, type Say, stringAt } from './record.js';

export interface SearchStageOptions {
  readonly store: Store;
  readonly outDir: string;
  readonly space: string;
  readonly lutPath: string;
  readonly targetMs: number;
  readonly budget: number;
  readonly seed: number;
  /** The proxy evaluator's config (dataset and any overrides; its defaults fill the rest). */
  readonly evaluatorConfig: JsonObject;
  readonly engine: EngineOptions;
  /** Candidates the result keeps, best reward first. */
  readonly top: number;
}

export type Candidate = {
  readonly arch: string;
  readonly reward: number;
  readonly accuracy: number;
  readonly predictedMs: number;
};

export type SearchStageResult = {
  readonly runId: string;
  readonly targetMs: number;
  readonly evaluated: number;
  readonly best: readonly Candidate[];
};

function parseCandidate(v: JsonValue): Candidate | null {
  if (!isJsonObject(v)) return null;
  const [arch, reward, accuracy, predictedMs] = [stringAt(v, 'arch'), numberAt(v, 'reward'), numberAt(v, 'accuracy'), numberAt(v, 'predictedMs')];
  return arch === null || reward === null || accuracy === null || predictedMs === null ? null : { arch, reward, accuracy, predictedMs };
}

export function parseSearchStage(v: JsonValue): SearchStageResult | null {
  if (!isJsonObject(v)) return null;
  const [runId, targetMs, evaluated] = [stringAt(v, 'runId'), numberAt(v, 'targetMs'), numberAt(v, 'evaluated')];
  const best = listAt(v['best'], parseCandidate);
  return runId === null || targetMs === null || evaluated === null || best === null ? null : { runId, targetMs, evaluated, best };
}

/** A latency target as `--target` takes it: 4 decimals, the table's figure to a tenth of a microsecond. */
export const targetText = (ms: number): string => `latency=${ms.toFixed(4)}ms`;

/** The target's value as the search reads it back from its text. */
export const roundTarget = (ms: number): number => Number(ms.toFixed(4));

function settingsOf(o: SearchStageOptions): SearchSettings {
  return {
    space: { name: o.space },
    strategy: 'rl',
    targets: [targetText(o.targetMs)],
    reward: { mode: 'soft' },
    evaluator: 'proxy',
    evaluatorConfig: o.evaluatorConfig,
    latency: { kind: 'lut', path: o.lutPath },
    batch: Math.min(DEFAULT_BATCH, o.budget),
    budget: o.budget,
    timeSeconds: null,
    maxFailures: null,
    patience: null,
  };
}

const RUN_FILE = 'search-run.json';

function startedRun(outDir: string): string | null {
  const path = join(outDir, RUN_FILE);
  if (!existsSync(path)) return null;
  const v: JsonValue = JSON.parse(readFileSync(path, 'utf8')); // JSON.parse yields JSON; checked next
  return isJsonObject(v) ? stringAt(v, 'runId') : null;
}

function hooksFor(o: SearchStageOptions, say: Say) {
  return {
    onStart: (info: { runId: string; resumed: boolean }) => {
      say(`[search] run ${info.runId}${info.resumed ? ' resumed' : ''}: ${o.space}, target ${targetText(o.targetMs)}, budget ${o.budget}`);
      replaceFileSync(join(o.outDir, RUN_FILE), `${JSON.stringify({ runId: info.runId })}\n`);
    },
    onCandidate: (e: { distinct: number; budget: number; reward: number | null; arch: string }) =>
      say(`[search ${e.distinct}/${e.budget}] reward ${e.reward === null ? 'failed' : e.reward.toFixed(4)} ${e.arch}`),
  };
}

function bestOf(r: SearchResult, top: number): Candidate[] {
  const out: Candidate[] = [];
  for (const c of r.best) {
    if (c.reward === null || c.accuracy === null || c.latencyMs === null || out.some((x) => x.arch === c.arch)) continue;
    out.push({ arch: c.arch, reward: c.reward, accuracy: c.accuracy, predictedMs: c.latencyMs });
  }
  return out.slice(0, top);
}

export async function searchStage(o: SearchStageOptions, say: Say): Promise<SearchStageResult> {
  const prior = startedRun(o.outDir);
  const run = { engine: o.engine, hooks: hooksFor(o, say), top: Math.max(5, o.top) };
  const r = prior === null ? await runSearch(o.store, settingsOf(o), { ...run, seed: o.seed }) : await resumeSearch(o.store, prior, {}, run);
  if (r.status === 'failed') throw failedRunError(r);
  return { runId: r.runId, targetMs: o.targetMs, evaluated: r.counts.done, best: bestOf(r, o.top) };
}
