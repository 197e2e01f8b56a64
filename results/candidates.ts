// Search candidates: the queue of architectures to evaluate and their results. The canonical arch string is unique
// within a run (an arch sampled twice is evaluated once), and a done result is reusable by any run whose evaluation
// settings hash to the same evalKey (evalKeyOf in json.ts).
import type { Conn } from './conn.js';
import { JsonColumnError, type JsonValue } from '../common/json.js';
import { decodeJson, decodeJsonOrNull, encodeJson, encodeJsonOrNull } from './json.js';

export const CANDIDATE_STATUSES = ['queued', 'running', 'done', 'failed'] as const;
export type CandidateStatus = (typeof CANDIDATE_STATUSES)[number];

export interface NewCandidate {
  readonly runId: string;
  /** The canonical arch string. */
  readonly arch: string;
  readonly evalKey: string;
  /** The sampled decision indices. */
  readonly decisions?: readonly number[];
}

export interface CandidateRecord {
  readonly id: number;
  readonly runId: string;
  /** 0, 1, 2... in the order the run first proposed each arch. */
  readonly seq: number;
  readonly arch: string;
  readonly evalKey: string;
  readonly status: CandidateStatus;
  readonly decisions: readonly number[] | null;
  /** accuracy, latency, params, madds... as the evaluator returned them. */
  readonly metrics: JsonValue | null;
  readonly reward: number | null;
  /** Why the last attempt failed. */
  readonly failure: string | null;
  /** How many times it was claimed. */
  readonly attempts: number;
  readonly worker: string | null;
  readonly queuedAt: string;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
}

export interface Enqueued {
  readonly candidate: CandidateRecord;
  /** False when the run already had this arch: candidate is the existing one, whatever its status. */
  readonly created: boolean;
}

export interface CandidateResult {
  readonly metrics: unknown;
  readonly reward?: number;
}

export interface CandidateListOptions {
  readonly status?: CandidateStatus;
  /** 'seq' (default) ascending, or 'reward' best first (candidates without a reward last). */
  readonly orderBy?: 'seq' | 'reward';
  readonly limit?: number;
}

export type CandidateCounts = Readonly<Record<CandidateStatus | 'total', number>>;

export interface CandidatesApi {
  enqueueCandidate(candidate: NewCandidate): Enqueued;
  /** Atomically takes the run's oldest queued candidate for a worker (status 'running'), or null when none is. */
  claimCandidate(runId: string, worker: string): CandidateRecord | null;
  markCandidateDone(id: number, result: CandidateResult): CandidateRecord;
  /** Records the failure; with retry, the candidate goes back to the queue instead of to 'failed'. */
  markCandidateFailed(id: number, reason: string, opts?: { readonly retry?: boolean }): CandidateRecord;
  /** Puts the run's 'running' candidates back to 'queued' (resume after a kill); returns how many. */
  requeueInFlight(runId: string): number;
  /** The latest done candidate of any run with this arch and evalKey, or null. */
  cachedResult(arch: string, evalKey: string): CandidateRecord | null;
  getCandidate(id: number): CandidateRecord | null;
  getCandidateBySeq(runId: string, seq: number): CandidateRecord | null;
  listCandidates(runId: string, opts?: CandidateListOptions): CandidateRecord[];
  countCandidates(runId: string): CandidateCounts;
}

interface CandidateRow {
  id: number;
  run_id: string;
  seq: number;
  arch: string;
  eval_key: string;
  status: CandidateStatus;
  decisions: string | null;
  metrics: string | null;
  reward: number | null;
  failure: string | null;
  attempts: number;
  worker: string | null;
  queued_at: string;
  started_at: string | null;
  finished_at: string | null;
}

function toDecisions(text: string | null): readonly number[] | null {
  if (text === null) return null;
  const v = decodeJson(text);
  return Array.isArray(v) && v.every((d) => typeof d === 'number') ? (v as readonly number[]) : null;
}

function toRecord(r: CandidateRow): CandidateRecord {
  return {
    id: r.id,
    runId: r.run_id,
    seq: r.seq,
    arch: r.arch,
    evalKey: r.eval_key,
    status: r.status,
    decisions: toDecisions(r.decisions),
    metrics: decodeJsonOrNull(r.metrics),
    reward: r.reward,
    failure: r.failure,
    attempts: r.attempts,
    worker: r.worker,
    queuedAt: r.queued_at,
    startedAt: r.started_at,
    finishedAt: r.finished_at,
  };
}

export function candidatesApi(c: Conn): CandidatesApi {
  const get = (id: number): CandidateRow | undefined =>
    c.stmt<CandidateRow>('SELECT * FROM candidates WHERE id = ?').get(id);
  const must = (id: number): CandidateRow => {
    const r = get(id);
    if (r === undefined) throw new Error(`unknown candidate ${id}`);
    return r;
  };

  return {
    enqueueCandidate(cand) {
      if (cand.decisions !== undefined && !cand.decisions.every((d) => Number.isInteger(d) && d >= 0)) {
        throw new JsonColumnError('candidates.decisions', '$', 'decision indices must be integers >= 0');
      }
      const row = {
        run_id: cand.runId,
        arch: cand.arch,
        eval_key: cand.evalKey,
        decisions: encodeJsonOrNull(cand.decisions, 'candidates.decisions'),
      };
      return c.write(() => {
        const inserted = c
          .stmt<CandidateRow>(
            `INSERT INTO candidates (run_id, seq, arch, eval_key, status, decisions, queued_at)
             VALUES (@run_id, (SELECT coalesce(max(seq) + 1, 0) FROM candidates WHERE run_id = @run_id), @arch,
               @eval_key, 'queued', @decisions, @now)
             ON CONFLICT (run_id, arch) DO NOTHING
             RETURNING *`,
          )
          .get({ ...row, now: c.now() });
        if (inserted !== undefined) return { candidate: toRecord(inserted), created: true };
        const existing = c
          .stmt<CandidateRow>('SELECT * FROM candidates WHERE run_id = ? AND arch = ?')
          .get(cand.runId, cand.arch);
        if (existing === undefined) throw new Error('candidate insert neither inserted nor found a row');
        return { candidate: toRecord(existing), created: false };
      });
    },

    claimCandidate(runId, worker) {
      return c.write(() => {
        const row = c
          .stmt<CandidateRow>(
            `UPDATE candidates SET status = 'running', worker = @worker, started_at = @now, finished_at = NULL,
               attempts = attempts + 1
             WHERE id = (SELECT id FROM candidates WHERE run_id = @run_id AND status = 'queued' ORDER BY seq LIMIT 1)
             RETURNING *`,
          )
          .get({ run_id: runId, worker, now: c.now() });
        return row === undefined ? null : toRecord(row);
      });
    },

    markCandidateDone(id, result) {
      if (result.reward !== undefined && !Number.isFinite(result.reward)) {
        throw new JsonColumnError('candidates.reward', '$', `${result.reward} is not a finite number`);
      }
      const metrics = encodeJson(result.metrics, 'candidates.metrics');
      return c.write(() => {
        must(id);
        c.stmt(
          `UPDATE candidates SET status = 'done', metrics = ?, reward = ?, failure = NULL, finished_at = ?
           WHERE id = ?`,
        ).run(metrics, result.reward ?? null, c.now(), id);
        return toRecord(must(id));
      });
    },

    markCandidateFailed(id, reason, opts = {}) {
      return c.write(() => {
        must(id);
        if (opts.retry === true) {
          c.stmt(
            `UPDATE candidates SET status = 'queued', failure = ?, worker = NULL, started_at = NULL, finished_at = NULL
             WHERE id = ?`,
          ).run(reason, id);
        } else {
          c.stmt(`UPDATE candidates SET status = 'failed', failure = ?, finished_at = ? WHERE id = ?`).run(
            reason,
            c.now(),
            id,
          );
        }
        return toRecord(must(id));
      });
    },

    requeueInFlight(runId) {
      return c.write(
        () =>
          c
            .stmt(
              `UPDATE candidates SET status = 'queued', worker = NULL, started_at = NULL
               WHERE run_id = ? AND status = 'running'`,
            )
            .run(runId).changes,
      );
    },

    cachedResult(arch, evalKey) {
      const row = c
        .stmt<CandidateRow>(
          `SELECT * FROM candidates WHERE arch = ? AND eval_key = ? AND status = 'done'
           ORDER BY finished_at DESC, id DESC LIMIT 1`,
        )
        .get(arch, evalKey);
      return row === undefined ? null : toRecord(row);
    },

    getCandidate(id) {
      const row = get(id);
      return row === undefined ? null : toRecord(row);
    },

    getCandidateBySeq(runId, seq) {
      const row = c.stmt<CandidateRow>('SELECT * FROM candidates WHERE run_id = ? AND seq = ?').get(runId, seq);
      return row === undefined ? null : toRecord(row);
    },

    listCandidates(runId, opts = {}) {
      const order = opts.orderBy === 'reward' ? 'reward IS NULL, reward DESC, seq' : 'seq';
      return c
        .stmt<CandidateRow>(
          `SELECT * FROM candidates WHERE run_id = @run_id AND (@status IS NULL OR status = @status)
           ORDER BY ${order} LIMIT @limit`,
        )
        .all({ run_id: runId, status: opts.status ?? null, limit: opts.limit ?? -1 })
        .map(toRecord);
    },

    countCandidates(runId) {
      const rows = c
        .stmt<{ status: CandidateStatus; n: number }>(
          'SELECT status, count(*) AS n FROM candidates WHERE run_id = ? GROUP BY status',
        )
        .all(runId);
      const counts = { queued: 0, running: 0, done: 0, failed: 0, total: 0 };
      for (const r of rows) {
        counts[r.status] = r.n;
        counts.total += r.n;
      }
      return counts;
    },
  };
}
