// `nas search --csv FILE`: the run's candidates as CSV (the columns of `nas results export --format csv`), written
// again whole from the store after every batch and at the end, so the file follows a running search and a resumed
// run's file holds its earlier candidates too. A file the command did not write is never replaced: a new run needs
// a new file, and a resumed run may only rewrite a file that holds its own candidates.
import { existsSync, readFileSync } from 'node:fs';
import { replaceFileSync } from '../common/atomicFs.js';
import { UsageError } from '../common/errors.js';
import { checkOutput } from '../common/outputPath.js';
import { candidateTable, toCsv } from '../results/export.js';
import type { Store } from '../results/store.js';
import type { SearchHooks } from '../search/loop.js';
import { databaseReads } from './options.js';

/** The header every candidates CSV starts with (its first columns). */
const HEAD = 'runId,id,seq,status,reward,';

/** True when `path` is a candidates CSV holding only run `runId`'s rows. */
function holdsRun(path: string, runId: string): boolean {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l !== '');
  const [header, ...rows] = lines;
  return header?.startsWith(HEAD) === true && rows.every((l) => l.startsWith(`${runId},`));
}

/** --csv: a new file (on --resume RUN, also RUN's own candidates file), never one the search reads. */
export function checkSearchCsv(path: string, db: string, resumeRunId: string | undefined): void {
  // The database (and its WAL files) are refused first; `force` because what may be replaced is checked below.
  checkOutput(path, { option: '--csv', kind: 'file', force: true, reads: databaseReads(db) });
  if (existsSync(path) && !(resumeRunId !== undefined && holdsRun(path, resumeRunId))) {
    const own = resumeRunId === undefined ? '' : ` of run ${resumeRunId}`;
    throw new UsageError(`--csv ${path} already exists and is not the candidates file${own}: choose another file, or remove it`);
  }
}

/** The hooks with the CSV written after each batch; `flush` writes it once more at the end. No path: as they are. */
export function withSearchCsv(hooks: SearchHooks, store: Store, path: string | undefined): { hooks: SearchHooks; flush: () => void } {
  if (path === undefined) return { hooks, flush: () => {} };
  let runId: string | null = null;
  const write = (): void => {
    if (runId !== null) replaceFileSync(path, toCsv(candidateTable(store.listCandidates(runId))));
  };
  return {
    hooks: {
      ...hooks,
      onStart: (i) => {
        runId = i.runId;
        hooks.onStart?.(i);
      },
      onBatch: (b) => {
        write();
        hooks.onBatch?.(b);
      },
    },
    flush: write,
  };
}
