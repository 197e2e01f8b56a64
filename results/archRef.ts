// Architecture references into the results store, for any command that takes an architecture:
//   run:RUN#best   the done candidate of search RUN with the highest reward (ties: the earliest)
//   run:RUN#N      candidate number N of search RUN: its seq, the `#` column of `nas results show`
//   run:RUN        the architecture a train or NetAdapt run recorded (its `arch` column)
import { existsSync } from 'node:fs';
import { ArchError, NasError } from '../common/errors.js';
import type { ArchSpec } from '../space/arch.js';
import { decodeArch } from '../space/blockString.js';
import { type ArchOverrides, loadArch as loadGivenArch } from '../space/load.js';
import type { RunRecord } from './runs.js';
import { DEFAULT_DB_PATH, openStore, type Store } from './store.js';

export const RUN_REF_PREFIX = 'run:';
export const RUN_REF_SYNTAX = 'run:RUN#best, run:RUN#N (candidate N of a search) or run:RUN (a train or NetAdapt run)';

export type RunRefPick = { readonly kind: 'best' } | { readonly kind: 'seq'; readonly seq: number } | { readonly kind: 'run' };

export interface RunRef {
  readonly text: string;
  readonly runId: string;
  readonly pick: RunRefPick;
}

export interface ResolvedRunRef {
  readonly ref: RunRef;
  /** The canonical arch string. */
  readonly arch: string;
  readonly run: RunRecord;
  /** The candidate's seq, for a search reference. */
  readonly seq: number | null;
  /** A name for the spec: the run id, and `-cN` for a candidate (file-name safe, unlike the reference). */
  readonly name: string;
}

export const isRunRef = (text: string): boolean => text.startsWith(RUN_REF_PREFIX);

function refError(text: string, why: string): NasError {
  return new NasError('E_USAGE', `${text}: ${why}`);
}

/** Parses `run:RUN[#best|#N]`; throws a one-line error naming the accepted forms. */
export function parseRunRef(text: string): RunRef {
  const body = text.slice(RUN_REF_PREFIX.length);
  const hash = body.indexOf('#');
  const runId = hash < 0 ? body : body.slice(0, hash);
  const pickText = hash < 0 ? null : body.slice(hash + 1);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(runId)) {
    throw refError(text, `'${runId}' is not a run id; use ${RUN_REF_SYNTAX}`);
  }
  if (pickText === null) return { text, runId, pick: { kind: 'run' } };
  if (pickText === 'best') return { text, runId, pick: { kind: 'best' } };
  if (/^[0-9]+$/.test(pickText) && Number.isSafeInteger(Number(pickText))) {
    return { text, runId, pick: { kind: 'seq', seq: Number(pickText) } };
  }
  throw refError(text, `'#${pickText}' names no candidate; use ${RUN_REF_SYNTAX}`);
}

/** Resolves a parsed reference with an open store. */
export function resolveRunRefIn(store: Store, ref: RunRef): ResolvedRunRef {
  const run = store.getRun(ref.runId);
  if (run === null) throw refError(ref.text, `unknown run ${ref.runId} in ${store.path}; \`nas runs\` lists them`);
  const { pick } = ref;
  if (pick.kind === 'run') {
    if (run.arch !== null) return { ref, arch: run.arch, run, seq: null, name: run.id };
    throw refError(
      ref.text,
      run.kind === 'search'
        ? `run ${run.id} is a search: name one of its candidates, run:${run.id}#best or run:${run.id}#N`
        : `${run.kind} run ${run.id} recorded no architecture`,
    );
  }
  if (run.kind !== 'search') {
    throw refError(ref.text, `run ${run.id} is a ${run.kind} run, not a search: name it as run:${run.id}`);
  }
  const cand =
    pick.kind === 'best'
      ? (store.listCandidates(run.id, { status: 'done', orderBy: 'reward', limit: 1 })[0] ?? null)
      : store.getCandidateBySeq(run.id, pick.seq);
  if (cand === null) {
    if (pick.kind === 'best') throw refError(ref.text, `run ${run.id} has no done candidate yet`);
    const total = store.countCandidates(run.id).total;
    throw refError(
      ref.text,
      `run ${run.id} has no candidate #${pick.seq}` +
        (total === 0 ? ' (it has none yet)' : ` (it has #0 to #${total - 1}; \`nas results show ${run.id}\` lists them)`),
    );
  }
  if (pick.kind === 'best' && cand.reward === null) {
    throw refError(ref.text, `no done candidate of run ${run.id} has a reward; name one as run:${run.id}#N`);
  }
  return { ref, arch: cand.arch, run, seq: cand.seq, name: `${run.id}-c${cand.seq}` };
}

/** Resolves `run:...` against the results database at dbPath, opened read-only. */
export function resolveRunRef(text: string, dbPath: string): ResolvedRunRef {
  const ref = parseRunRef(text);
  if (dbPath !== ':memory:' && !existsSync(dbPath)) {
    throw new NasError('E_IO', `${text}: no results database at ${dbPath} (set NAS_DB, or --db where the command has it)`);
  }
  let store: Store;
  try {
    store = openStore(dbPath, { readonly: true });
  } catch (e) {
    if (e instanceof NasError) throw new NasError(e.code, `${text}: ${e.message}`, e.exitCode);
    throw e;
  }
  try {
    return store.readSnapshot(() => resolveRunRefIn(store, ref));
  } finally {
    store.close();
  }
}

/** The database a reference resolves against: the command's --db, else $NAS_DB, else ./nas.db. */
export function runRefDbPath(db?: string): string {
  return db ?? process.env['NAS_DB'] ?? DEFAULT_DB_PATH;
}

/** The ArchSpec a `run:...` reference names, named after the run (and candidate). */
export function archFromRunRef(text: string, db?: string): ArchSpec {
  const r = resolveRunRef(text, runRefDbPath(db));
  try {
    return decodeArch(r.arch, r.name);
  } catch (e) {
    if (e instanceof NasError) throw new ArchError(`${text}: the stored architecture is not valid: ${e.message}`);
    throw e;
  }
}

/** space/load.ts's loadArch that also reads `run:` references from the results store (overrides.db, $NAS_DB, ./nas.db). */
export function loadArch(refs: readonly string[], overrides: ArchOverrides = {}): ArchSpec {
  return loadGivenArch(refs, overrides, archFromRunRef);
}
