// Issue 13, items 1, 9 and 11 (part): what a command writes, through the real CLI. No command writes over the
// database it reads, a checkpoint or another input (even with --force; paths compared as real paths, so `./x.db`,
// `x.db` and a link to it are one file); an existing file or non-empty directory it did not write is replaced only
// with --force; a name from a spec never leads a path out of `runs/`; a failed write leaves no temporary file.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative, resolve as resolvePath, sep } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openStore } from '../results/store.js';
import { loadArch } from '../space/load.js';
import { type CliOptions, commandHarness, runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-rel-out-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const here: CliOptions = { cwd: dir };
// `nas results` alone (as test/results-commands.test.ts runs it), for the cases that need many runs.
const results: CliOptions = { entry: commandHarness('../cli/results.js', 'resultsCommand'), cwd: dir };

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A results database holding one search run with two done candidates; returns the run id. */
function makeDb(path: string): string {
  const store = openStore(path);
  const run = store.createRun({ kind: 'search', config: { budget: 2 } });
  for (const [i, arch] of ['arch-a', 'arch-b'].entries()) {
    store.enqueueCandidate({ runId: run.id, arch, evalKey: 'k' });
    const c = store.claimCandidate(run.id, 'w');
    assert.ok(c !== null);
    store.markCandidateDone(c.id, { metrics: { accuracy: 0.5 + i / 10, latencyMs: 3 + i }, reward: 0.4 + i / 10 });
  }
  store.close();
  return run.id;
}

/** The database is unchanged and still lists `runId`. */
function intact(db: string, runId: string, hash: string): void {
  assert.equal(sha(db), hash, `${db} was changed`);
  const r = runCli(['results', 'list', '--db', db, '--json'], results);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(runId), r.stdout);
}

const tempsIn = (d: string): string[] => readdirSync(d).filter((n) => n.includes('.tmp-'));

describe('results export --out / pareto --svg', () => {
  const db = join(dir, 'clob.db');
  const runId = makeDb(db);
  const hash = sha(db);
  symlinkSync(db, join(dir, 'link.db'));

  it('refuses to write the export over the database it reads, however it is spelled, even with --force', () => {
    // The command, through the whole CLI; then the other spellings through the results command alone.
    userError(runCli(['results', 'export', runId, '--format', 'csv', '--out', 'clob.db', '--db', 'clob.db'], here), '--out clob.db', 'database', 'never');
    for (const out of ['./clob.db', db, 'link.db', 'clob.db-wal']) {
      const r = runCli(['results', 'export', runId, '--format', 'csv', '--out', out, '--db', 'clob.db', '--force'], results);
      userError(r, `--out ${out}`, 'database', 'never');
      assert.equal(sha(db), hash, `${db} was changed`);
    }
    intact(db, runId, hash);
  });

  it('refuses to write the plot over the database it reads, even with --force', () => {
    userError(runCli(['results', 'pareto', runId, '--svg', 'clob.db', '--db', 'clob.db'], here), '--svg clob.db', 'database');
    userError(runCli(['results', 'pareto', runId, '--svg', 'link.db', '--db', './clob.db', '--force'], results), '--svg link.db', 'database');
    intact(db, runId, hash);
  });

  it('replaces an existing file only with --force', () => {
    const out = join(dir, 'mine.csv');
    writeFileSync(out, 'my notes\n');
    userError(runCli(['results', 'export', runId, '--format', 'csv', '--out', out, '--db', db], results), out, 'exists', '--force');
    assert.equal(readFileSync(out, 'utf8'), 'my notes\n');
    const r = runCli(['results', 'export', runId, '--format', 'csv', '--out', out, '--db', db, '--force'], results);
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(out, 'utf8'), /^runId,id,seq,status/);
  });

  it('replaces a plot of its own, but any other existing --svg only with --force', () => {
    for (let i = 0; i < 2; i++) {
      const r = runCli(['results', 'pareto', runId, '--db', db], results);
      assert.equal(r.status, 0, `run ${i}: ${r.stderr}`);
    }
    assert.ok(existsSync(join(dir, `${runId}-pareto.svg`)));
    const out = join(dir, 'figure.svg');
    writeFileSync(out, '<svg>my figure</svg>');
    userError(runCli(['results', 'pareto', runId, '--svg', out, '--db', db], results), out, 'exists', '--force');
    assert.equal(readFileSync(out, 'utf8'), '<svg>my figure</svg>');
    const r = runCli(['results', 'pareto', runId, '--svg', out, '--db', db, '--force'], results);
    assert.equal(r.status, 0, r.stderr);
    assert.match(readFileSync(out, 'utf8'), /^<\?xml/);
  });

  it('refuses a directory or a path under a file with one line, leaving no temporary file', () => {
    const sub = join(dir, 'a-directory');
    mkdirSync(sub);
    const before = readdirSync(dir).sort();
    userError(runCli(['results', 'export', runId, '--format', 'json', '--out', sub, '--db', db, '--force'], results), sub, 'directory');
    userError(runCli(['results', 'export', runId, '--format', 'json', '--out', join(db, 'x.json'), '--db', db], results), 'not a directory');
    userError(runCli(['results', 'pareto', runId, '--svg', sub, '--db', db, '--force'], results), sub, 'directory');
    assert.deepEqual(readdirSync(dir).sort(), before);
    assert.deepEqual(tempsIn(dir), []);
    assert.deepEqual(readdirSync(sub), []);
  });
});

// A tiny network on 16 px MNIST: one epoch of 20 images.
const TRAIN = ['train-final', '--data', 'mnist', '--limit', '20', '--input', '16', '--epochs', '1', '--batch', '10', '--backend', 'wasm', '--json'];
const BLOCK = 'ir_k3_s2_x32_c16_re';

describe('train-final --out, and the name of a spec', () => {
  const db = join(dir, 'train.db');

  it('refuses an existing file, the database and a non-empty directory it did not make, with one line each', () => {
    const file = join(dir, 'notes.txt');
    writeFileSync(file, 'mine');
    userError(runCli([...TRAIN, '--arch', BLOCK, '--db', db, '--out', file]), file, 'not a directory');
    assert.equal(readFileSync(file, 'utf8'), 'mine');
    makeDb(db);
    userError(runCli([...TRAIN, '--arch', BLOCK, '--db', db, '--out', db, '--force']), 'database', 'never');
    const other = join(dir, 'somebody-else');
    mkdirSync(other);
    writeFileSync(join(other, 'keep.txt'), 'theirs');
    userError(runCli([...TRAIN, '--arch', BLOCK, '--db', db, '--out', other]), other, 'not empty', '--force');
    assert.deepEqual(readdirSync(other), ['keep.txt']);
  });

  it('with --force, trains into a non-empty directory and keeps its files', () => {
    const other = join(dir, 'somebody-else');
    const r = runCli([...TRAIN, '--arch', BLOCK, '--db', db, '--out', other, '--force']);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(readFileSync(join(other, 'keep.txt'), 'utf8'), 'theirs');
    assert.ok(existsSync(join(other, 'run.json')));
  });

  it('writes a spec named x/../../../escaped under runs/, not outside it', () => {
    const cwd = join(dir, 'project', 'a', 'b');
    mkdirSync(cwd, { recursive: true });
    const spec = loadArch([BLOCK], { input: 16, classes: 10, channels: 3 });
    writeFileSync(join(cwd, 'spec.json'), JSON.stringify({ ...spec, name: 'x/../../../escaped' }));
    const r = runCli([...TRAIN, '--arch', 'spec.json', '--db', 'nas.db'], { cwd });
    assert.equal(r.status, 0, r.stderr);
    const outDir = (JSON.parse(r.stdout) as { outDir: string }).outDir;
    const rel = relative(join(cwd, 'runs'), resolvePath(cwd, outDir));
    assert.ok(!rel.startsWith('..') && !rel.includes(sep), `the run went to ${outDir}`);
    assert.deepEqual(readdirSync(join(dir, 'project')), ['a']);
    assert.deepEqual(readdirSync(join(dir, 'project', 'a')), ['b']);
  });
});

describe('export --out and netadapt --out', () => {
  const db = join(dir, 'export.db');
  const runDir = join(dir, 'exp', 'run');
  const userFiles = join(dir, 'exp', 'run', 'README.txt');
  let listing: string[] = [];

  before(() => {
    const r = runCli([...TRAIN, '--arch', BLOCK, '--db', db, '--out', runDir]);
    assert.equal(r.status, 0, r.stderr);
    writeFileSync(userFiles, 'notes');
    listing = readdirSync(runDir).sort();
  });

  it('never replaces the checkpoint it reads, a directory holding it, or the current directory, even with --force', () => {
    const ckpt = join(runDir, 'epoch-0001');
    const hashes = readdirSync(ckpt).map((n) => sha(join(ckpt, n)));
    for (const out of [ckpt, join(dir, 'exp'), `${runDir}/../run`]) {
      userError(runCli(['export', '--checkpoint', ckpt, '--out', out, '--force']), 'checkpoint', 'never');
      assert.deepEqual(readdirSync(runDir).sort(), listing);
    }
    assert.deepEqual(readdirSync(ckpt).map((n) => sha(join(ckpt, n))), hashes);
    const elsewhere = join(dir, 'elsewhere');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'keep.txt'), 'mine');
    userError(runCli(['export', '--checkpoint', runDir, '--out', '.', '--force'], { cwd: elsewhere }), 'current directory');
    assert.deepEqual(readdirSync(elsewhere), ['keep.txt']);
  });

  it('removes what a killed export left behind, and leaves no temporary directory on a failed one', () => {
    const parent = join(dir, 'exp');
    // A process that has exited: its pid names a writer that no longer runs.
    const dead = spawnSync(process.execPath, ['-e', '']).pid;
    mkdirSync(join(parent, `.model.tmp-${dead}-abc123`));
    writeFileSync(join(parent, `.model.tmp-${dead}-abc123`, 'model.json'), '{');
    const r = runCli(['export', '--checkpoint', runDir, '--out', join(parent, 'model')]);
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(tempsIn(parent), []);
    // A path under a file cannot be created: a one-line error, nothing left.
    userError(runCli(['export', '--checkpoint', runDir, '--out', join(userFiles, 'model')]), 'not a directory');
    userError(runCli(['export', '--checkpoint', runDir, '--out', join(parent, 'x'.repeat(300))]), 'x'.repeat(20));
    assert.deepEqual(tempsIn(parent), []);
    assert.deepEqual(tempsIn(runDir), []);
  });

  it('netadapt refuses an --out that is a file, the database, the checkpoint, or a directory it did not make', () => {
    const na = ['netadapt', '--checkpoint', runDir, '--target', 'latency=0.5x', '--latency', 'madds', '--db', db, '--workers', '0'];
    userError(runCli([...na, '--out', userFiles]), userFiles, 'not a directory');
    userError(runCli([...na, '--out', db, '--force']), 'database', 'never');
    userError(runCli([...na, '--out', runDir, '--force']), 'checkpoint', 'never');
    userError(runCli([...na, '--out', join(dir, 'exp')]), 'not empty', '--force');
    assert.deepEqual(readdirSync(runDir).sort(), listing);
    assert.equal(readFileSync(userFiles, 'utf8'), 'notes');
  });
});
