// `nas report RUN [RUN2 ...] [--out FILE]`: one self-contained HTML page with the runs' charts and tables, drawn in
// the browser by Observable Plot from the data embedded in the page (results/reportData.ts).
import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { replaceFile } from '../common/atomicFs.js';
import { NasError } from '../common/errors.js';
import { checkOutput, pathComponent } from '../common/outputPath.js';
import { formatTarget, parseTarget } from '../latency/targets.js';
import { reportData } from '../results/reportData.js';
import type { TargetLine } from '../results/reportTypes.js';
import { databaseReads, dbOption, forceOption, jsonOption } from './options.js';
import { emit } from './output.js';
import { reportHtml } from './reportHtml.js';
import { withStore } from './runs.js';

/** Built by `npm run build:web` (web/build.mjs) beside this module's dist/cli/. */
const SCRIPT = new URL('../web/report.js', import.meta.url);

function pageScript(): string {
  try {
    return readFileSync(SCRIPT, 'utf8');
  } catch {
    throw new NasError('E_IO', `the report page's script ${SCRIPT.pathname} is missing: run \`npm run build:web\` first`, 1);
  }
}

/** A stored target as a line on its cost's chart: absolute targets only (a relative one has no fixed value). */
function readTarget(text: string): TargetLine | null {
  try {
    const t = parseTarget(text);
    return t.relative ? null : { cost: t.resource, value: t.value, text: `target ${formatTarget(t).replace(/^\w+ /, '')}` };
  } catch {
    return null;
  }
}

interface ReportArgs {
  readonly runs: readonly string[];
  readonly out: string | undefined;
  readonly force: boolean;
  readonly db: string;
  readonly json: boolean;
}

interface ReportResult {
  readonly out: string;
  readonly bytes: number;
  readonly runs: readonly { readonly id: string; readonly kind: string; readonly status: string }[];
}

const text = (r: ReportResult): string =>
  `wrote ${r.out} (${(r.bytes / 1024).toFixed(0)} KiB): ${r.runs.map((x) => `${x.kind} ${x.id}`).join(', ')}; open it in a browser`;

async function writeReport(argv: ReportArgs): Promise<ReportResult> {
  const first = argv.runs[0] ?? '';
  const out = checkOutput(argv.out ?? `${pathComponent(first, 'run')}-report.html`, {
    option: '--out',
    kind: 'file',
    force: argv.force,
    reads: databaseReads(argv.db),
  });
  const script = pageScript();
  const data = withStore(argv.db, (store) => reportData(store, argv.runs, { readTarget }));
  const html = reportHtml(data, script);
  try {
    await replaceFile(out, html);
  } catch (e) {
    throw new NasError('E_IO', `cannot write ${out}: ${e instanceof Error ? e.message : String(e)}`);
  }
  return { out, bytes: Buffer.byteLength(html), runs: data.runs.map((r) => ({ id: r.id, kind: r.kind, status: r.status })) };
}

export const reportCommand: CommandModule<object, ReportArgs> = {
  command: 'report <runs..>',
  describe: 'One self-contained HTML page (opens from disk) with charts and tables of search runs, overlaid when several',
  builder: (y: Argv) =>
    y
      .positional('runs', { type: 'string', array: true, demandOption: true, describe: 'run ids (`nas runs`)' })
      .option('out', { type: 'string', describe: 'the HTML file to write (default: <RUN>-report.html here)' })
      .option('force', { ...forceOption, describe: 'replace an existing --out file (never the database)' })
      .option('db', dbOption)
      .option('json', { ...jsonOption, describe: 'print what was written as JSON' }),
  handler: async (argv) => emit(await writeReport(argv), argv.json, text),
};
