// The report page's data of a search run: every candidate with its metrics and time, whether it is on the Pareto
// front of each cost, the best reward and accuracy so far, and the failures grouped by reason.
import { isJsonObject, type JsonValue } from '../common/json.js';
import type { CandidateRecord } from './candidates.js';
import { candidateFront, PARETO_X } from './pareto.js';
import { choiceTrends } from './reportChoices.js';
import type { BestSoFar, FailureReason, ReportCandidate, ReportCost, SearchReport, TargetLine } from './reportTypes.js';
import { runHeader } from './reportHeader.js';
import type { RunRecord } from './runs.js';
import type { Store } from './store.js';
import { metricOf, summarizeCandidate } from './summary.js';

/** The evaluator's own time, else the time between claim and finish (which includes queueing in a worker). */
function secondsOf(c: CandidateRecord): number | null {
  const own = metricOf(c.metrics, 'evalSeconds');
  if (own !== null) return own;
  if (c.startedAt === null || c.finishedAt === null) return null;
  const ms = Date.parse(c.finishedAt) - Date.parse(c.startedAt);
  return Number.isFinite(ms) ? ms / 1000 : null;
}

function reportCandidates(candidates: readonly CandidateRecord[]): ReportCandidate[] {
  const fronts = new Map<number, ReportCost[]>();
  for (const x of PARETO_X) {
    for (const p of candidateFront(candidates, x).front) fronts.set(p.item.seq, [...(fronts.get(p.item.seq) ?? []), x]);
  }
  return candidates.map((c) => {
    const s = summarizeCandidate(c);
    return {
      seq: c.seq,
      status: c.status,
      arch: c.arch,
      reward: s.reward,
      accuracy: s.accuracy,
      latencyMs: s.latencyMs,
      madds: s.madds,
      params: s.params,
      seconds: secondsOf(c),
      failure: c.status === 'failed' ? c.failure : null,
      front: fronts.get(c.seq) ?? [],
    };
  });
}

const maxOrNull = (a: number | null, b: number | null): number | null => (a === null ? b : b === null ? a : Math.max(a, b));

/** The best so far after each finished candidate, in proposal order (the order the strategy asked for them). */
export function bestSoFar(candidates: readonly ReportCandidate[]): BestSoFar[] {
  const out: BestSoFar[] = [];
  let reward: number | null = null;
  let accuracy: number | null = null;
  for (const c of candidates) {
    if (c.status !== 'done' && c.status !== 'failed') continue;
    if (c.status === 'done') {
      reward = maxOrNull(reward, c.reward);
      accuracy = maxOrNull(accuracy, c.accuracy);
    }
    out.push({ n: out.length + 1, seq: c.seq, reward, accuracy });
  }
  return out;
}

/** Failed candidates grouped by their reason, the most frequent first. */
export function failureReasons(candidates: readonly ReportCandidate[]): FailureReason[] {
  const by = new Map<string, number[]>();
  for (const c of candidates) {
    if (c.status !== 'failed') continue;
    const reason = c.failure ?? '(no reason recorded)';
    by.set(reason, [...(by.get(reason) ?? []), c.seq]);
  }
  return [...by.entries()]
    .map(([reason, seqs]) => ({ reason, count: seqs.length, seqs }))
    .sort((a, b) => b.count - a.count || a.reason.localeCompare(b.reason));
}

const field = (config: JsonValue | undefined, key: string): JsonValue | undefined => (isJsonObject(config) ? config[key] : undefined);

const stringOrNull = (v: JsonValue | undefined): string | null => (typeof v === 'string' ? v : null);

/** A search's settings as stored (search/settings.ts): a space is a built-in's name or a file's JSON with a name. */
function settingsOf(config: JsonValue): Pick<SearchReport, 'strategy' | 'space' | 'evaluator' | 'targets'> {
  const targets = field(config, 'targets');
  return {
    strategy: stringOrNull(field(config, 'strategy')),
    space: stringOrNull(field(config, 'space')) ?? stringOrNull(field(field(config, 'space'), 'name')),
    evaluator: stringOrNull(field(config, 'evaluator')),
    targets: Array.isArray(targets) ? targets.filter((t): t is string => typeof t === 'string') : [],
  };
}

/** Reads a stored `--target` text; null for one without a line to draw (a relative target) or not readable. */
export type ReadTarget = (text: string) => TargetLine | null;

export function searchReport(store: Store, run: RunRecord, readTarget: ReadTarget = () => null): SearchReport {
  const records = store.listCandidates(run.id);
  const candidates = reportCandidates(records);
  const settings = settingsOf(run.config);
  return {
    kind: 'search',
    ...runHeader(run),
    ...settings,
    targetLines: settings.targets.flatMap((t) => readTarget(t) ?? []),
    candidates,
    best: bestSoFar(candidates),
    failures: failureReasons(candidates),
    choices: choiceTrends(run.config, records),
  };
}
