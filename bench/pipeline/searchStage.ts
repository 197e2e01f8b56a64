// Stage (c): the search, through the real loop (`runSearch`: the store in --db, the built-in proxy evaluator, the
// default strategy), with every candidate timed against the reference in A/B rounds (`--latency paired:REF`) and a
// target of 1x the reference. Not the stage (a) table: at 32 px it compresses differences (the reference / a searched
// network was 0.79 by the calibrated table, 0.41-0.44 timed together), so a search aimed at the table's figure found
// networks twice as slow as the reference. The run's id is written as soon as the run exists, so a killed pipeline
// resumes that run (`resumeSearch`, with the figure the run stored) instead of starting another.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { replaceFileSync } from '../../common/atomicFs.js';
import { isJsonObject, type JsonObject, type JsonValue } from '../../common/json.js';
import { pairedSourceFor } from '../../latency/pairedSource.js';
import type { LatencySourceSpec } from '../../latency/resources.js';
import { parseTargets } from '../../latency/targets.js';
import type { Store } from '../../results/store.js';
import type { ArchSpec } from '../../space/arch.js';
import { DEFAULT_BATCH } from '../../search/defaults.js';
import { type EngineOptions, failedRunError, resumeSearch, type RunOptions, runSearch, type SearchResult, type SearchSettings } from '../../search/loop.js';
import { settingsFromStore } from '../../search/settings.js';
import { listAt, numberAt, type Say, stringAt } from './record.js';

export interface SearchStageOptions {
  readonly store: Store;
  readonly outDir: string;
  readonly space: string;
  /** The network every candidate is timed against; the target is its latency. */
  readonly reference: ArchSpec;
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

function settingsOf(o: SearchStageOptions, latency: LatencySourceSpec, targetMs: number): SearchSettings {
  return {
    space: { name: o.space },
    strategy: 'rl',
    targets: [targetText(targetMs)],
    // MnasNet's hard constraint (alpha 0, beta -1): the claim is "more accurate at no more than the reference's
    // latency", and the soft reward (-0.07) costs a network twice as slow only 5% (smoke run: the winner was
    // judged 5x the reference).
    reward: { mode: 'hard' },
    evaluator: 'proxy',
    evaluatorConfig: o.evaluatorConfig,
    latency,
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
      say(`[search] run ${info.runId}${info.resumed ? ' resumed' : ''}: ${o.space}, every candidate timed against the reference, budget ${o.budget}`);
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

async function startRun(o: SearchStageOptions, run: Omit<RunOptions, 'seed'>, say: Say): Promise<SearchResult> {
  const latency = await pairedSourceFor(o.reference);
  const targetMs = roundTarget(latency.referenceMs);
  say(`[search] reference timed alone: ${targetMs} ms, the target`);
  return runSearch(o.store, settingsOf(o, latency, targetMs), { ...run, seed: o.seed });
}

/** The latency target a run was started with (its stored settings, so a resumed run reports what it searched for). */
function targetOf(store: Store, runId: string): number {
  const [target] = parseTargets(settingsFromStore(runId, store.getRun(runId)?.config ?? null).targets);
  if (target === undefined || target.resource !== 'latency') throw new Error(`search run ${runId} has no latency target`);
  return target.value;
}

export async function searchStage(o: SearchStageOptions, say: Say): Promise<SearchStageResult> {
  const prior = startedRun(o.outDir);
  const run = { engine: o.engine, hooks: hooksFor(o, say), top: Math.max(5, o.top) };
  const r = prior === null ? await startRun(o, run, say) : await resumeSearch(o.store, prior, {}, run);
  if (r.status === 'failed') throw failedRunError(r);
  return { runId: r.runId, targetMs: targetOf(o.store, r.runId), evaluated: r.counts.done, best: bestOf(r, o.top) };
}
