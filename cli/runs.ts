// `nas runs [--kind K]` lists the runs in the results database; `nas runs show RUN` shows one: its config, result,
// epochs, latest checkpoint, candidates and NetAdapt iterations.
import type { Argv, CommandModule } from 'yargs';
import { describeRun, listRunSummaries, type RunDetails, type RunSummary } from '../results/report.js';
import { RUN_KINDS, RUN_STATUSES, type RunKind, type RunStatus } from '../results/runs.js';
import { openStore, type Store } from '../results/store.js';
import { dbOption, jsonOption } from './options.js';
import { emit, table } from './output.js';

/** `fn` on the database at `path` opened read-only, closed after (also by `nas report`). */
export function withStore<T>(path: string, fn: (store: Store) => T): T {
  const store = openStore(path, { readonly: true });
  try {
    return fn(store);
  } finally {
    store.close();
  }
}

/** '2026-11-29T10:31:12.345Z' -> '2026-11-29 10:31:12'. */
const when = (iso: string): string => iso.slice(0, 19).replace('T', ' ');
const statusOf = (r: RunSummary): string => (r.stale ? `${r.status} (stale)` : r.status);
const num = (v: number | null, digits = 4): string => (v === null ? '' : v.toFixed(digits));
const oneLine = (s: string, max = 60): string => {
  const line = s.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
};

interface ListResult {
  readonly db: string;
  readonly runs: readonly RunSummary[];
}

function listText(r: ListResult): string {
  if (r.runs.length === 0) return `no runs in ${r.db}`;
  return table(
    ['id', 'kind', 'status', 'created (UTC)', 'updated (UTC)', 'seed', 'error'],
    r.runs.map((run) => [
      run.id,
      run.kind,
      statusOf(run),
      when(run.createdAt),
      when(run.updatedAt),
      run.seed === null ? '' : String(run.seed),
      run.error === null ? '' : oneLine(run.error),
    ]),
  );
}

function showText(d: RunDetails): string {
  const { run } = d;
  const lines = [
    `run       ${run.id}`,
    `kind      ${run.kind}`,
    `status    ${statusOf(run)}`,
    `created   ${when(run.createdAt)} UTC`,
    `updated   ${when(run.updatedAt)} UTC`,
  ];
  if (run.owner !== null) lines.push(`owner     ${run.owner}`);
  if (run.seed !== null) lines.push(`seed      ${run.seed}`);
  if (run.arch !== null) lines.push(`arch      ${run.arch}`);
  if (run.error !== null) lines.push(`error     ${run.error}`);
  lines.push(`config    ${JSON.stringify(run.config)}`);
  if (run.result !== null) lines.push(`result    ${JSON.stringify(run.result)}`);
  if (d.epochs.length > 0) {
    lines.push(
      '',
      table(
        ['epoch', 'step', 'train loss', 'train acc', 'val loss', 'val top1', 'val top5', 'lr', 'img/s', 'wall s'],
        d.epochs.map((e) => [
          String(e.epoch),
          String(e.step),
          num(e.trainLoss),
          num(e.trainAcc),
          num(e.valLoss),
          num(e.valTop1),
          num(e.valTop5),
          e.lr === null ? '' : e.lr.toPrecision(3),
          num(e.imagesPerSec, 1),
          num(e.wallSeconds, 1),
        ]),
      ),
    );
  }
  if (d.latestCheckpoint !== null) {
    const ck = d.latestCheckpoint;
    lines.push('', `checkpoint  epoch ${ck.epoch}, step ${ck.step}: ${ck.path}`);
  }
  if (d.candidates.total > 0) {
    const c = d.candidates;
    lines.push(
      '',
      `candidates  ${c.total}: ${c.done} done, ${c.failed} failed, ${c.running} running, ${c.queued} queued` +
        (d.strategyStep === null ? '' : `; strategy step ${d.strategyStep}`),
    );
    if (d.topCandidates.length > 0) {
      lines.push(
        table(
          ['#', 'reward', 'metrics', 'arch'],
          d.topCandidates.map((t) => [
            String(t.seq),
            num(t.reward),
            oneLine(JSON.stringify(t.metrics), 50),
            oneLine(t.arch, 70),
          ]),
        ),
      );
    }
  }
  if (d.netadaptIterations.length > 0) {
    lines.push(
      '',
      table(
        ['iteration', 'latency predicted ms', 'latency measured ms', 'accuracy', 'chosen'],
        d.netadaptIterations.map((i) => [
          String(i.iteration),
          num(i.latencyPredictedMs, 3),
          num(i.latencyMeasuredMs, 3),
          num(i.accuracy),
          i.chosen === null ? '' : oneLine(JSON.stringify(i.chosen), 50),
        ]),
      ),
    );
  }
  return lines.join('\n');
}

interface ListArgs {
  readonly db: string;
  readonly kind: RunKind | undefined;
  readonly status: RunStatus | undefined;
  readonly json: boolean;
}

interface ShowArgs {
  readonly db: string;
  readonly run: string;
  readonly top: number;
  readonly json: boolean;
}

const showCommand: CommandModule<object, ShowArgs> = {
  command: 'show <run>',
  describe: 'Show one run: config, result, epochs, checkpoint, candidates, NetAdapt iterations',
  builder: (y: Argv) =>
    y
      .positional('run', { type: 'string', demandOption: true, describe: 'the run id (`nas runs` lists them)' })
      .option('top', { type: 'number', default: 5, describe: 'how many of the best candidates to show' })
      .option('db', dbOption)
      .option('json', jsonOption),
  handler: (argv) => {
    const details = withStore(argv.db, (store) => describeRun(store, argv.run, argv.top));
    emit(details, argv.json, showText);
  },
};

export const runsCommand: CommandModule<object, ListArgs> = {
  command: 'runs',
  describe: 'List the runs in the results database (`nas runs show RUN` for one)',
  builder: (y: Argv) =>
    y
      .command(showCommand)
      .option('kind', { choices: RUN_KINDS, global: false, describe: 'only runs of this kind' })
      .option('status', { choices: RUN_STATUSES, global: false, describe: 'only runs with this status' })
      .option('db', dbOption)
      .option('json', jsonOption),
  handler: (argv) => {
    const filter = {
      ...(argv.kind === undefined ? {} : { kind: argv.kind }),
      ...(argv.status === undefined ? {} : { status: argv.status }),
    };
    const runs = withStore(argv.db, (store) => listRunSummaries(store, filter));
    emit({ db: argv.db, runs }, argv.json, listText);
  },
};
