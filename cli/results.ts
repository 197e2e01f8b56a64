// `nas results list | show RUN | pareto RUN | export RUN`: what searches found, read from the results database.
import { closeSync, openSync, readSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { replaceFile } from '../common/atomicFs.js';
import { NasError } from '../common/errors.js';
import { checkOutput, pathComponent } from '../common/outputPath.js';
import { formatTarget, parseTarget, RESOURCES, type Resource, type Target } from '../latency/targets.js';
import type { CandidateCounts, CandidateRecord } from '../results/candidates.js';
import { candidateTable, toCsv } from '../results/export.js';
import type { JsonValue } from '../common/json.js';
import { candidateFront, PARETO_X, type ParetoX } from '../results/pareto.js';
import { type CandidateSummary, metricOf, summarizeCandidate } from '../results/summary.js';
import { isRunStale, type RunRecord } from '../results/runs.js';
import { openStore, type Store } from '../results/store.js';
import { parseQueueUrl } from '../search/engine/queue/connection.js';
import { type InFlightCandidate, queueProgress, type QueueView } from '../search/engine/queue/progress.js';
import { isParetoPlot, paretoSvg } from '../results/svg.js';
import { databaseReads, dbOption, forceOption, jsonOption } from './options.js';
import { emit, table, thousands } from './output.js';

function withStore<T>(path: string, fn: (store: Store) => T): T {
  const store = openStore(path, { readonly: true });
  try {
    return store.readSnapshot(() => fn(store));
  } finally {
    store.close();
  }
}

/** The search run `id`; a one-line error for an unknown run or a run of another kind. */
function searchRun(store: Store, id: string): RunRecord {
  const run = store.requireRun(id);
  if (run.kind !== 'search') {
    throw new NasError('E_USAGE', `run ${id} is a ${run.kind} run, not a search; \`nas runs show ${id}\` shows it`);
  }
  return run;
}

/** `path` checked as the output file of a command reading `db` (UsageError when it may not be written). */
function outputFile(option: string, path: string, db: string, force: boolean, isOwn?: (abs: string) => boolean): string {
  return checkOutput(path, { option, kind: 'file', force, reads: databaseReads(db), ...(isOwn === undefined ? {} : { isOwn }) });
}

/** Whether the file at `path` is a plot `nas results pareto` wrote (replaced without --force). */
function isOwnPlot(path: string): boolean {
  const head = Buffer.alloc(512);
  let fd: number | null = null;
  try {
    fd = openSync(path, 'r');
    return isParetoPlot(head.subarray(0, readSync(fd, head, 0, head.length, 0)).toString('utf8'));
  } catch {
    return false;
  } finally {
    if (fd !== null) closeSync(fd);
  }
}

async function writeOut(path: string, text: string): Promise<void> {
  try {
    await replaceFile(path, text);
  } catch (e) {
    throw new NasError('E_IO', `cannot write ${path}: ${(e as Error).message}`);
  }
}

const when = (iso: string): string => iso.slice(0, 19).replace('T', ' ');
const statusOf = (run: RunRecord): string => (isRunStale(run) ? `${run.status} (stale)` : run.status);
const fixed = (v: number | null, digits: number): string => (v === null ? '' : v.toFixed(digits));
const count = (v: number | null): string => (v === null ? '' : thousands(v));
const oneLine = (s: string, max: number): string => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

/** The absolute resource targets in a search run's config (`targets` or `target`: strings or parsed Targets). */
export function configTargets(config: JsonValue): Target[] {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return [];
  const c = config as Readonly<Record<string, JsonValue>>;
  const raw = c['targets'] ?? c['target'] ?? null;
  const items = Array.isArray(raw) ? raw : raw === null ? [] : [raw];
  const out: Target[] = [];
  for (const t of items) {
    if (typeof t === 'string') {
      try {
        out.push(parseTarget(t));
      } catch {
        // A target this nas cannot read only loses its line on the plot.
      }
    } else if (t !== null && typeof t === 'object' && !Array.isArray(t)) {
      const o = t as Readonly<Record<string, JsonValue>>;
      const resource = o['resource'];
      const value = o['value'];
      if (typeof resource === 'string' && (RESOURCES as readonly string[]).includes(resource) && typeof value === 'number') {
        out.push({ resource: resource as Resource, value, relative: o['relative'] === true, text: String(o['text'] ?? '') });
      }
    }
  }
  return out.filter((t) => !t.relative);
}

const candidateRow = (c: CandidateSummary): string[] => [
  String(c.seq),
  fixed(c.reward, 4),
  fixed(c.accuracy, 4),
  fixed(c.latencyMs, 3),
  count(c.madds),
  count(c.params),
  c.arch,
];
const CANDIDATE_HEADER = ['#', 'reward', 'accuracy', 'latency ms', 'MAdds', 'params', 'arch'];

// ---- list

interface SearchSummary {
  readonly id: string;
  readonly status: string;
  readonly createdAt: string;
  readonly candidates: CandidateCounts;
  /** The done candidate with the highest reward. */
  readonly best: CandidateSummary | null;
}

interface ListResult {
  readonly db: string;
  readonly runs: readonly SearchSummary[];
}

function listSearches(store: Store): SearchSummary[] {
  return store.listRuns({ kind: 'search' }).map((run) => {
    const [best] = store.listCandidates(run.id, { status: 'done', orderBy: 'reward', limit: 1 });
    return {
      id: run.id,
      status: statusOf(run),
      createdAt: run.createdAt,
      candidates: store.countCandidates(run.id),
      best: best === undefined ? null : summarizeCandidate(best),
    };
  });
}

function listText(r: ListResult): string {
  if (r.runs.length === 0) return `no search runs in ${r.db}`;
  return table(
    ['id', 'status', 'done', 'failed', 'total', 'best reward', 'accuracy', 'latency ms', 'best', 'created (UTC)'],
    r.runs.map((s) => [
      s.id,
      s.status,
      String(s.candidates.done),
      String(s.candidates.failed),
      String(s.candidates.total),
      fixed(s.best?.reward ?? null, 4),
      fixed(s.best?.accuracy ?? null, 4),
      fixed(s.best?.latencyMs ?? null, 3),
      s.best === null ? '' : `run:${s.id}#${s.best.seq}`,
      when(s.createdAt),
    ]),
  );
}

// ---- show

interface ShowResult {
  readonly run: RunRecord & { readonly stale: boolean };
  readonly candidates: CandidateCounts;
  /** Candidates running on a queue's workers (`nas search --queue`), as the store says. */
  readonly inQueue: number;
  /** Their jobs read from the queue (--queue URL), or why it could not be read; null: not asked or none in flight. */
  readonly queue: QueueView | null;
  readonly top: readonly CandidateSummary[];
}

function configLines(config: JsonValue): string[] {
  if (config === null || typeof config !== 'object' || Array.isArray(config)) return [`config    ${JSON.stringify(config)}`];
  const entries = Object.entries(config as Readonly<Record<string, JsonValue>>);
  const width = Math.max(0, ...entries.map(([k]) => k.length));
  return entries.map(([k, v]) => `  ${k.padEnd(width)}  ${oneLine(typeof v === 'string' ? v : JSON.stringify(v), 100)}`);
}

/** The candidates in flight through a queue: their jobs' states, or a line saying why they are not shown. */
function queueLines(r: ShowResult): string[] {
  const q = r.queue;
  if (r.inQueue === 0) return [];
  if (q === null) return [`in queue    ${r.inQueue} candidates on a queue's workers (add --queue URL to see their jobs)`];
  if (!q.reachable) return [`in queue    ${r.inQueue} candidates; the queue cannot be read (${q.reason}): the store's view only`];
  const now = Date.now();
  const since = (iso: string | null): string => (iso === null ? '' : `${when(iso)} UTC (${Math.max(0, Math.round((now - Date.parse(iso)) / 1000))} s ago)`);
  const rows = q.jobs.map((j) => [String(j.seq), j.state, j.worker ?? '', since(j.since), String(j.attempts)]);
  return [`in queue    ${q.jobs.length} candidates' jobs on ${q.queue}:`, table(['#', 'state', 'worker', 'since', 'attempts'], rows)];
}

function showText(r: ShowResult): string {
  const { run } = r;
  const c = r.candidates;
  const lines = [
    `run         ${run.id}`,
    `status      ${statusOf(run)}`,
    `created     ${when(run.createdAt)} UTC`,
    `updated     ${when(run.updatedAt)} UTC`,
  ];
  if (run.seed !== null) lines.push(`seed        ${run.seed}`);
  if (run.error !== null) lines.push(`error       ${run.error}`);
  lines.push(`candidates  ${c.total}: ${c.done} done, ${c.failed} failed, ${c.running} running, ${c.queued} queued`);
  lines.push(...queueLines(r));
  const targets = configTargets(run.config);
  if (targets.length > 0) lines.push(`targets     ${targets.map(formatTarget).join(', ')}`);
  lines.push('config', ...configLines(run.config));
  if (r.top.length === 0) {
    lines.push('', 'no done candidates yet');
  } else {
    lines.push('', `top ${r.top.length} by reward (run:${run.id}#N names candidate N's architecture):`);
    lines.push(table(CANDIDATE_HEADER, r.top.map(candidateRow)));
  }
  return lines.join('\n');
}

// ---- pareto

interface FrontPoint extends CandidateSummary {
  readonly x: number;
}

interface ParetoResult {
  readonly run: string;
  readonly x: ParetoX;
  readonly xMetric: string;
  readonly target: { readonly value: number; readonly text: string } | null;
  /** Done candidates with accuracy and the x metric. */
  readonly candidates: number;
  /** Done candidates without one of them. */
  readonly skipped: number;
  /** By increasing x. */
  readonly front: readonly FrontPoint[];
  readonly svg: string;
}

const X_LABEL: Readonly<Record<ParetoX, string>> = {
  latency: 'latency (ms)',
  madds: 'multiply-adds',
  params: 'parameters',
};

function paretoText(r: ParetoResult): string {
  const lines = [
    `Pareto front of ${r.run}: accuracy vs ${X_LABEL[r.x]}, ${r.front.length} of ${r.candidates} candidates` +
      (r.skipped > 0 ? ` (${r.skipped} done without accuracy or ${r.xMetric} left out)` : '') +
      (r.target === null ? '' : `; target ${r.target.text}`),
    table(CANDIDATE_HEADER, r.front.map(candidateRow)),
    `plot: ${r.svg}`,
  ];
  return lines.join('\n');
}

function pareto(store: Store, runId: string, x: ParetoX, svgPath: string): { result: ParetoResult; svg: string } {
  const run = searchRun(store, runId);
  const f = candidateFront(store.listCandidates(runId, { status: 'done' }), x);
  if (f.points.length === 0) {
    const done = f.skipped;
    throw new NasError(
      'E_USAGE',
      done === 0
        ? `run ${runId} has no done candidates yet`
        : `none of the ${done} done candidates of run ${runId} has both accuracy and ${f.xMetric}; ` +
          `try --x ${PARETO_X.filter((o) => o !== x).join(' or --x ')}`,
    );
  }
  const target = configTargets(run.config).find((t) => t.resource === x) ?? null;
  const label = (c: CandidateRecord): string =>
    `#${c.seq}: accuracy ${metricOf(c.metrics, 'accuracy')}, ${f.xMetric} ${metricOf(c.metrics, f.xMetric)}`;
  const svg = paretoSvg({
    title: `${runId}: accuracy vs ${X_LABEL[x]}`,
    xLabel: X_LABEL[x],
    yLabel: 'accuracy',
    points: f.points.map((p) => ({ x: p.x, y: p.y, label: label(p.item) })),
    front: f.front.map((p) => ({ x: p.x, y: p.y, label: label(p.item) })),
    // formatTarget says 'latency 15 ms'; the axis already says latency.
    ...(target === null ? {} : { target: { x: target.value, label: `target ${formatTarget(target).replace(/^\w+ /, '')}` } }),
  });
  return {
    svg,
    result: {
      run: runId,
      x,
      xMetric: f.xMetric,
      target: target === null ? null : { value: target.value, text: formatTarget(target) },
      candidates: f.points.length,
      skipped: f.skipped,
      front: f.front.map((p) => ({ ...summarizeCandidate(p.item), x: p.x })),
      svg: svgPath,
    },
  };
}

// ---- commands

interface CommonArgs {
  readonly db: string;
  readonly json: boolean;
}

interface RunArgs extends CommonArgs {
  readonly run: string;
}

const runPositional = { type: 'string', demandOption: true, describe: 'the search run id (`nas results list`)' } as const;

const listCommand: CommandModule<object, CommonArgs> = {
  command: 'list',
  describe: 'List the search runs: candidates done and failed, the best so far',
  builder: (y: Argv) => y.option('db', dbOption).option('json', jsonOption),
  handler: (argv) => {
    const runs = withStore(argv.db, listSearches);
    emit({ db: argv.db, runs }, argv.json, listText);
  },
};

/** The run's candidates running on a queue's workers (the queue engine claims them as worker 'queue'), while unfinished. */
function inQueue(store: Store, run: RunRecord): InFlightCandidate[] {
  if (run.status === 'finished') return [];
  return store.listCandidates(run.id, { status: 'running' }).filter((c) => c.worker === 'queue').map((c) => ({ seq: c.seq, arch: c.arch }));
}

const showCommand: CommandModule<object, RunArgs & { readonly top: number; readonly queue: string | undefined }> = {
  command: 'show <run>',
  describe: "Show a search run's settings and its best candidates by reward",
  builder: (y: Argv) =>
    y
      .positional('run', runPositional)
      .option('top', { type: 'number', default: 10, describe: 'how many of the best candidates to show' })
      .option('queue', { type: 'string', describe: "the Redis URL the search was given: show its candidates' jobs in flight" })
      .option('db', dbOption)
      .option('json', jsonOption),
  handler: async (argv) => {
    if (!Number.isSafeInteger(argv.top) || argv.top < 1) {
      throw new NasError('E_USAGE', `--top must be a positive integer, got ${argv.top}`);
    }
    const url = argv.queue === undefined ? undefined : parseQueueUrl(argv.queue);
    const { run, candidates, inFlight, top } = withStore(argv.db, (store) => {
      const run = searchRun(store, argv.run);
      const top = store.listCandidates(run.id, { status: 'done', orderBy: 'reward', limit: argv.top }).map(summarizeCandidate);
      return { run, candidates: store.countCandidates(run.id), inFlight: inQueue(store, run), top };
    });
    const queue = url === undefined || inFlight.length === 0 ? null : await queueProgress(url, run.id, inFlight);
    const result: ShowResult = { run: { ...run, stale: isRunStale(run) }, candidates, inQueue: inFlight.length, queue, top };
    emit(result, argv.json, showText);
  },
};

interface OutArgs {
  readonly force: boolean;
}

const paretoCommand: CommandModule<object, RunArgs & OutArgs & { readonly x: ParetoX; readonly svg: string | undefined }> = {
  command: 'pareto <run>',
  describe: 'The accuracy vs latency (or MAdds, params) Pareto front of a search, as a table and an SVG plot',
  builder: (y: Argv) =>
    y
      .positional('run', runPositional)
      .option('x', { choices: PARETO_X, default: 'latency' as ParetoX, describe: 'the cost on the x axis' })
      .option('svg', { type: 'string', describe: 'where to write the plot (default: <RUN>-pareto.svg here)' })
      .option('force', { ...forceOption, describe: 'replace an existing --svg file that is not a plot of ours (never the database)' })
      .option('db', dbOption)
      .option('json', jsonOption),
  handler: async (argv) => {
    // The run id comes from the database: made one safe file name before it reaches a path.
    const svgPath = outputFile('--svg', argv.svg ?? `${pathComponent(argv.run, 'run')}-pareto.svg`, argv.db, argv.force, isOwnPlot);
    const { result, svg } = withStore(argv.db, (store) => pareto(store, argv.run, argv.x, svgPath));
    await writeOut(svgPath, svg);
    emit(result, argv.json, paretoText);
  },
};

type ExportFormat = 'csv' | 'json';

const exportCommand: CommandModule<object, RunArgs & OutArgs & { readonly format: ExportFormat; readonly out: string | undefined }> = {
  command: 'export <run>',
  describe: 'Every candidate of a search with its metrics, as CSV or JSON (to stdout, or --out FILE)',
  builder: (y: Argv) =>
    y
      .positional('run', runPositional)
      .option('format', { choices: ['csv', 'json'] as const, demandOption: true, describe: 'the file format' })
      .option('out', { type: 'string', describe: 'the file to write (default: stdout)' })
      .option('force', { ...forceOption, describe: 'replace an existing --out file (never the database)' })
      .option('db', dbOption)
      .option('json', { ...jsonOption, describe: 'with --out: print what was written as JSON' }),
  handler: async (argv) => {
    const out = argv.out === undefined ? undefined : outputFile('--out', argv.out, argv.db, argv.force);
    const { run, candidates } = withStore(argv.db, (store) => ({
      run: searchRun(store, argv.run),
      candidates: store.listCandidates(argv.run),
    }));
    const text =
      argv.format === 'csv' ? toCsv(candidateTable(candidates)) : `${JSON.stringify({ run, candidates }, null, 2)}\n`;
    if (out === undefined) {
      process.stdout.write(text);
      return;
    }
    await writeOut(out, text);
    emit(
      { run: run.id, format: argv.format, candidates: candidates.length, out },
      argv.json,
      (r) => `wrote ${r.candidates} candidates of ${r.run} to ${argv.out} (${r.format})`,
    );
  },
};

export const resultsCommand: CommandModule<object, object> = {
  command: 'results',
  describe: 'What searches found: list, show RUN, pareto RUN, export RUN',
  builder: (y: Argv) =>
    y
      .command(listCommand)
      .command(showCommand)
      .command(paretoCommand)
      .command(exportCommand)
      .demandCommand(1, 'name a results command: list, show RUN, pareto RUN or export RUN'),
  handler: () => undefined,
};
