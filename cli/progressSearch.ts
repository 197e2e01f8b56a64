// `nas search`'s progress: the search loop's hooks written to a Reporter. In a log, a line per candidate (as
// before); on a terminal, one status line (done / budget, failures, elapsed, ETA, the best so far) with a line kept
// only for a failure or a new best; in json, a `start`, `candidate`, `batch` and `end` event (docs/PROGRESS.md).
import type { BatchEvent, CandidateEvent, SearchHooks, SearchResult } from '../search/loop.js';
import { duration, finite, progressBar, type ProgressEvent, RecentRate, type Reporter } from './progress.js';

/** The best candidate so far, as the status line shows it. */
export interface Best {
  readonly reward: number;
  readonly accuracy: number | null;
  readonly latencyMs: number | null;
}

/** What the status line shows. */
export interface SearchStatus {
  readonly done: number;
  readonly budget: number;
  readonly failed: number;
  readonly elapsedSeconds: number;
  readonly etaSeconds: number | null;
  readonly best: Best | null;
}

const f4 = (v: number | null): string => (v === null ? '-' : v.toFixed(4));
const ms = (v: number | null): string => (v === null ? '-' : v.toFixed(2));

/** `search [####....] 12/50  2 failed  0m41s  ETA 2m10s  best 0.8123 (acc 0.8450, 12.30 ms)` */
export function searchStatusText(s: SearchStatus): string {
  const best = s.best === null ? 'no result yet' : `best ${f4(s.best.reward)} (acc ${f4(s.best.accuracy)}, ${ms(s.best.latencyMs)} ms)`;
  const failed = s.failed > 0 ? `  ${s.failed} failed` : '';
  return `${progressBar('search', s.done, s.budget, '').trimEnd()}${failed}  ${duration(s.elapsedSeconds)}  ETA ${duration(s.etaSeconds)}  ${best}`;
}

/** Today's line per candidate, kept in a log. */
function candidateLine(e: CandidateEvent): string {
  const n = `[${String(e.distinct).padStart(String(e.budget).length)}/${e.budget}]`;
  const what = e.ok
    ? `acc ${f4(e.metrics?.accuracy ?? null)}  lat ${ms(e.metrics?.latencyMs ?? null)} ms  reward ${f4(e.reward)}`
    : `FAILED: ${e.failure ?? 'unknown'}`;
  const src = e.source === 'evaluated' ? `${e.seconds.toFixed(1)} s` : e.source;
  return `${n} batch ${e.batch} seq ${e.seq}  ${what}  (${src})`;
}

function candidateEvent(e: CandidateEvent, s: SearchStatus): ProgressEvent {
  const m = e.metrics;
  return {
    type: 'candidate', batch: e.batch, seq: e.seq, arch: e.arch, source: e.source, ok: e.ok, reward: finite(e.reward),
    accuracy: finite(m?.accuracy), latencyMs: finite(m?.latencyMs), madds: finite(m?.madds), params: finite(m?.params),
    failure: e.failure, seconds: e.seconds, done: e.distinct, budget: e.budget, failed: s.failed,
    elapsedSeconds: s.elapsedSeconds, etaSeconds: finite(s.etaSeconds), bestReward: s.best?.reward ?? null,
  };
}

/** The search's hooks on a reporter, and the end event once the result is known. */
export function searchProgress(r: Reporter): { hooks: SearchHooks; finish: (result: SearchResult) => void } {
  const rate = new RecentRate();
  let status: SearchStatus = { done: 0, budget: 0, failed: 0, elapsedSeconds: 0, etaSeconds: null, best: null };
  const onCandidate = (e: CandidateEvent): void => {
    const t = r.elapsed();
    rate.add(t, e.distinct);
    const better = e.reward !== null && (status.best === null || e.reward > status.best.reward);
    const best = better ? { reward: e.reward ?? 0, accuracy: e.metrics?.accuracy ?? null, latencyMs: e.metrics?.latencyMs ?? null } : status.best;
    const failed = status.failed + (e.ok ? 0 : 1);
    status = { done: e.distinct, budget: e.budget, failed, elapsedSeconds: t, etaSeconds: rate.eta(e.budget, e.distinct), best };
    r.event(candidateEvent(e, status));
    if (r.mode !== 'json' && (!e.ok || (better && r.mode === 'tty'))) r.note(`${candidateLine(e)}${better ? '  new best' : ''}`);
    else r.detail(candidateLine(e));
    r.live(() => searchStatusText({ ...status, elapsedSeconds: r.elapsed() }));
  };
  const onBatch = (b: BatchEvent): void => {
    // The store's count of failures (a resumed run's earlier ones too) replaces the session's own.
    status = { ...status, failed: b.failed, done: b.distinct, budget: b.budget };
    r.event({ type: 'batch', ...b, done: b.distinct, elapsedSeconds: r.elapsed() });
    if (b.replayed) r.note(`batch ${b.batch} replayed from the store`);
  };
  const hooks: SearchHooks = {
    onStart: (i) => {
      r.event({ type: 'start', command: 'search', ...i });
      r.note(
        `search ${i.runId}${i.resumed ? ' (resumed)' : ''}: engine ${i.engine}, ${i.concurrency} at a time, ` +
          `an evaluation fails after ${i.evalTimeoutSeconds} s (--eval-timeout)`,
      );
    },
    onCandidate,
    onBatch,
  };
  const finish = (x: SearchResult): void => {
    const { done, failed } = x.counts;
    r.event({ type: 'end', runId: x.runId, status: x.status, stopReason: x.stopReason, done: done + failed, failed, budget: x.budget, elapsedSeconds: r.elapsed() });
    r.end();
  };
  return { hooks, finish };
}
