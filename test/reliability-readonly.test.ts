// Reading results needs no write access: every read command works on a results database the user cannot write (a
// shared file, a mounted archive), including a WAL-mode file copied without its -shm (and with or without its -wal)
// and a file with an older schema, leaves it byte for byte as it was, and prints what the writable original prints.
// A read of a database that does not exist says so and creates nothing.
//
// Tests run as root here, and root ignores permission bits: the reading commands then run as the unprivileged user
// `nobody` through setpriv, so that chmod 0444/0555 binds. As a normal user the bits bind already.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import Database from 'better-sqlite3';
import { MIGRATIONS, migrate } from '../results/migrations.js';
import { openStore } from '../results/store.js';
import { CLI, type CliRun, commandHarness, runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-readonly-'));
chmodSync(dir, 0o755); // mkdtemp makes it 0700: the reader must be able to reach the copies inside
after(() => {
  for (const d of readdirSync(dir)) chmodSync(join(dir, d), 0o755);
  rmSync(dir, { recursive: true, force: true });
});

const NOBODY = 65534;
const asRoot = process.getuid?.() === 0;
const AS_NOBODY = ['setpriv', '--reuid', String(NOBODY), '--regid', String(NOBODY), '--clear-groups'];

/** Why the read-only reader cannot be run here, or null. */
function noReader(): string | null {
  if (!asRoot) return null;
  const [setpriv = '', ...flags] = AS_NOBODY;
  const canRead = `require('fs').accessSync(${JSON.stringify(CLI)}, require('fs').constants.R_OK)`;
  const probe = spawnSync(setpriv, [...flags, process.execPath, '-e', canRead], { encoding: 'utf8' });
  if (probe.error !== undefined) return `running as root and setpriv is not available (${probe.error.message})`;
  if (probe.status !== 0) return `running as root and user ${NOBODY} cannot run the CLI here: ${probe.stderr.trim()}`;
  return null;
}
const skip = { skip: noReader() ?? false };

// `nas results` and `nas runs` run alone, as cli/main.ts runs them (half the start-up time of the whole CLI).
const HARNESS: Readonly<Record<string, readonly string[]>> = {
  results: commandHarness('../cli/results.js', 'resultsCommand'),
  runs: commandHarness('../cli/runs.js', 'runsCommand'),
};
const nodeArgs = (args: readonly string[]): string[] => [...(HARNESS[args[0] ?? ''] ?? [CLI]), ...args];

/** The CLI with write access (as we are). */
function asWriter(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliRun {
  const r = spawnSync(process.execPath, nodeArgs(args), { encoding: 'utf8', cwd, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI as a user without write access to the copies (nobody when we are root). */
function readAs(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}): CliRun {
  const argv = [process.execPath, ...nodeArgs(args)];
  const [cmd, ...rest] = asRoot ? [...AS_NOBODY, ...argv] : argv;
  const r = spawnSync(cmd ?? '', rest, { encoding: 'utf8', cwd, env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(r: CliRun): string {
  assert.equal(r.status, 0, `exit code (stderr: ${r.stderr})`);
  return r.stdout;
}

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** Copies files into a new directory, then makes the files 0444 and the directory 0555. */
function readOnlyCopy(name: string, files: readonly [from: string, to: string][]): string {
  const d = join(dir, name);
  mkdirSync(d);
  for (const [from, to] of files) {
    copyFileSync(from, join(d, to));
    chmodSync(join(d, to), 0o444);
  }
  chmodSync(d, 0o555);
  return d;
}

/** What each read command prints (pareto: its JSON without the plot's path, and the plot). */
type Reader = (args: readonly string[], env?: NodeJS.ProcessEnv) => CliRun;

function readAll(read: Reader, run: string, svgName: string): Record<string, string> {
  const svg = join(out, svgName);
  const paretoArgs = ['results', 'pareto', run, '--svg', svg, '--json', '--db', 'nas.db'];
  const pareto = JSON.parse(ok(read(paretoArgs))) as Record<string, unknown>;
  delete pareto['svg'];
  return {
    'results list': ok(read(['results', 'list', '--json', '--db', 'nas.db'])),
    'results show': ok(read(['results', 'show', run, '--json', '--db', 'nas.db'])),
    'results export csv': ok(read(['results', 'export', run, '--format', 'csv', '--db', 'nas.db'])),
    'results export json': ok(read(['results', 'export', run, '--format', 'json', '--db', 'nas.db'])),
    'results pareto': JSON.stringify(pareto),
    'pareto svg': readFileSync(svg, 'utf8'),
    runs: ok(read(['runs', '--json', '--db', 'nas.db'])),
    'runs show': ok(read(['runs', 'show', run, '--json', '--db', 'nas.db'])),
    'arch show run:': ok(read(['arch', 'show', `run:${run}#best`, '--json'], { NAS_DB: 'nas.db' })),
  };
}

// One small search with the synthetic evaluator, in a directory of its own.
const work = join(dir, 'work');
mkdirSync(work);
const original = join(work, 'nas.db');
const search = runCli([
  ...['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--workers', '0', '--strategy', 'random'],
  ...['--budget', '6', '--seed', '3', '--json', '--db', original],
]);
assert.equal(search.status, 0, search.stderr);
const runId = (JSON.parse(search.stdout) as { runId: string }).runId;
const out = join(dir, 'out');
mkdirSync(out);
chmodSync(out, 0o777); // where the reader writes the plots

const fromOriginal = (args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun => asWriter(args, work, env);
const expected = readAll(fromOriginal, runId, 'original.svg');

test('every read command reads a 0444 WAL-mode database in a 0555 directory, without -wal and -shm', skip, () => {
  const header = readFileSync(original).subarray(18, 20);
  assert.deepEqual([...header], [2, 2], 'the database is in WAL mode');
  const ro = readOnlyCopy('ro', [[original, 'nas.db']]);
  const before = sha(join(ro, 'nas.db'));
  const got = readAll((args, env) => readAs(args, ro, env), runId, 'copy.svg');
  for (const [command, text] of Object.entries(expected)) assert.equal(got[command], text, command);
  assert.equal(sha(join(ro, 'nas.db')), before, 'the file is unchanged');
  assert.deepEqual(readdirSync(ro), ['nas.db']);
});

test('a WAL-mode database copied with its -wal but without -shm reads its last commits', skip, () => {
  const writer = openStore(original);
  let ro: string;
  try {
    writer.createRun({ kind: 'latency', config: { note: 'only in the -wal' } });
    assert.ok(statSync(`${original}-wal`).size > 0, 'the commit is in the -wal');
    ro = readOnlyCopy('ro-wal', [[original, 'nas.db'], [`${original}-wal`, 'nas.db-wal']]);
  } finally {
    writer.close();
  }
  const before = [sha(join(ro, 'nas.db')), sha(join(ro, 'nas.db-wal'))];
  const got = ok(readAs(['runs', '--json', '--db', 'nas.db'], ro));
  assert.match(got, /only in the -wal/);
  assert.equal(got, ok(fromOriginal(['runs', '--json', '--db', 'nas.db'])));
  assert.deepEqual([sha(join(ro, 'nas.db')), sha(join(ro, 'nas.db-wal'))], before, 'the files are unchanged');
  assert.deepEqual(readdirSync(ro).sort(), ['nas.db', 'nas.db-wal']);
});

/** A copy of the original's rows in a database with the first schema version only (what an old nas wrote). */
function firstSchemaCopy(path: string): void {
  const db = new Database(path);
  try {
    migrate(db, MIGRATIONS.slice(0, 1));
    db.pragma('journal_mode = WAL');
    db.prepare('ATTACH ? AS src').run(original);
    const tables = db.prepare("SELECT name FROM main.sqlite_schema WHERE type = 'table'").pluck().all();
    for (const t of tables) {
      const names = db.prepare('SELECT name FROM pragma_table_info(?)').pluck().all(t);
      const cols = names.map((c) => `"${String(c)}"`).join(', ');
      db.exec(`INSERT INTO main."${String(t)}" (${cols}) SELECT ${cols} FROM src."${String(t)}"`);
    }
    db.exec('DETACH src');
  } finally {
    db.close();
  }
}

test('a read-only database with an older schema is read as the upgraded one reads, and stays as it was', skip, () => {
  const old = join(dir, 'old.db');
  firstSchemaCopy(old);
  const ro = readOnlyCopy('ro-old', [[old, 'nas.db']]);
  // The reference: the same file upgraded by a command with write access.
  const upgraded = join(dir, 'upgraded');
  mkdirSync(upgraded);
  copyFileSync(old, join(upgraded, 'nas.db'));
  openStore(join(upgraded, 'nas.db')).close();
  const before = sha(join(ro, 'nas.db'));
  const commands = [
    ['runs', 'show', runId, '--json', '--db', 'nas.db'],
    ['results', 'list', '--json', '--db', 'nas.db'],
  ];
  for (const args of commands) {
    assert.equal(ok(readAs(args, ro)), ok(asWriter(args, upgraded)), args.join(' '));
  }
  assert.equal(sha(join(ro, 'nas.db')), before, 'the file is unchanged');
  const raw = new Database(join(ro, 'nas.db'), { readonly: true });
  assert.equal(raw.pragma('user_version', { simple: true }), 1, 'still the old schema');
  raw.close();
});

test('a read of a database that does not exist says so in one line and creates nothing', () => {
  const empty = join(dir, 'empty');
  mkdirSync(empty);
  const run = (args: readonly string[], env: NodeJS.ProcessEnv = {}): CliRun => asWriter(args, empty, env);
  userError(run(['results', 'list', '--db', 'missing.db']), 'missing.db', 'no such file');
  userError(run(['runs', 'show', runId, '--db', 'missing.db']), 'missing.db', 'no such file');
  userError(run(['arch', 'show', `run:${runId}#best`], { NAS_DB: 'missing.db' }), 'missing.db');
  assert.deepEqual(readdirSync(empty), [], 'nothing was created');
});

test('a database the user cannot read is refused in one line, not with an internal error', skip, () => {
  const d = readOnlyCopy('unreadable', [[original, 'nas.db']]);
  chmodSync(join(d, 'nas.db'), 0);
  userError(readAs(['runs', '--db', 'nas.db'], d), 'nas.db', 'permission denied');
});
