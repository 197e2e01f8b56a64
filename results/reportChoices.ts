// How a search's choices moved: each candidate's stored decision indices (the strategy's sample), read against the
// run's space, counted per decision in windows of the search. A controller that learns concentrates on few options;
// random search stays spread out.
import { isJsonObject, type JsonValue } from '../common/json.js';
import { type Decision, decisions, type SearchSpace, validateSpace } from '../space/searchSpace.js';
import { builtinSpace } from '../space/spaces.js';
import type { CandidateRecord } from './candidates.js';
import type { ChoiceTrends, DecisionTrend } from './reportTypes.js';

/** At most this many windows: enough to see a trend, few enough to read each. */
export const CHOICE_WINDOWS = 8;

/** The run's space as search/settings.ts stores it (a built-in's name or a file's JSON); null when unreadable. */
export function storedSpace(config: JsonValue): SearchSpace | null {
  const ref = isJsonObject(config) ? config['space'] : undefined;
  if (!isJsonObject(ref)) return null;
  try {
    if (typeof ref['name'] === 'string') return builtinSpace(ref['name']);
    return ref['json'] === undefined ? null : validateSpace(ref['json']);
  } catch {
    // A space this nas no longer has (renamed, or a file of another version): no choice chart, the rest stands.
    return null;
  }
}

/** `n` items cut into at most `max` consecutive windows whose sizes differ by at most one. */
export function windowsOf(n: number, max: number): { start: number; end: number }[] {
  const k = Math.min(n, max);
  return Array.from({ length: k }, (_, i) => ({ start: Math.floor((i * n) / k), end: Math.floor(((i + 1) * n) / k) }));
}

function trend(d: Decision, index: number, samples: readonly (readonly number[])[], windows: readonly { start: number; end: number }[]): DecisionTrend {
  const shares = windows.map(({ start, end }) => {
    const counts = new Array<number>(d.options).fill(0);
    for (const s of samples.slice(start, end)) {
      const o = s[index];
      if (o !== undefined && o < d.options) counts[o] = (counts[o] ?? 0) + 1;
    }
    return counts.map((c) => c / (end - start));
  });
  const last = shares[shares.length - 1] ?? [];
  return {
    path: d.path,
    options: d.values.map((v) => JSON.stringify(v) ?? String(v)),
    favourite: last.indexOf(Math.max(...last)),
    shares,
  };
}

/** The trends of a run's candidates (in seq order) with decisions of the space's length; null when none have. */
export function choiceTrends(config: JsonValue, candidates: readonly CandidateRecord[]): ChoiceTrends | null {
  const space = storedSpace(config);
  if (space === null) return null;
  const ds = decisions(space);
  const sampled = [...candidates].sort((a, b) => a.seq - b.seq).filter((c) => c.decisions !== null && c.decisions.length === ds.length);
  if (sampled.length === 0 || ds.length === 0) return null;
  const samples = sampled.map((c) => c.decisions ?? []);
  const windows = windowsOf(samples.length, CHOICE_WINDOWS);
  return {
    windows: windows.map(({ start, end }) => ({ from: sampled[start]?.seq ?? 0, to: sampled[end - 1]?.seq ?? 0, candidates: end - start })),
    decisions: ds.map((d, i) => trend(d, i, samples, windows)),
  };
}
