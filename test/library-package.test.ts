// `nas` as a library, as a user gets it: `npm pack` of this checkout, a fresh TypeScript project that installs the
// tarball, the example evaluator (examples/custom-evaluator) compiled with tsc against the installed declarations in
// strict mode, and a search run through the library API. A wrongly typed evaluator must fail to compile, so the
// types are really checked (not `any`).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statfsSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const EXAMPLE = join(ROOT, 'examples', 'custom-evaluator');
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const rootRequire = createRequire(join(ROOT, 'package.json'));

/**
 * The install writes about 15,000 files (730 MB, mostly onnxruntime-node and tfjs). Where a tmpfs with room exists
 * it holds them: removing them from disk took 40 s on the loaded test machine, from /dev/shm 0.8 s.
 */
function scratchBase(): string {
  if (!existsSync('/dev/shm')) return tmpdir();
  const fs = statfsSync('/dev/shm');
  return fs.bavail * fs.bsize > 2 ** 31 ? '/dev/shm' : tmpdir();
}

const npmMissing = spawnSync('npm', ['--version'], { encoding: 'utf8' }).status !== 0;

function run(cmd: string, args: readonly string[], cwd: string, timeoutSec: number): SpawnSyncReturns<string> {
  const r = spawnSync(cmd, args, { cwd, encoding: 'utf8', timeout: timeoutSec * 1000, maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  return r;
}

function ok(r: SpawnSyncReturns<string>, what: string): string {
  assert.equal(r.status, 0, `${what} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
}

/** A field of parsed JSON, checked to be an object (tests read what npm and the example print). */
function field(value: unknown, key: string): unknown {
  assert.ok(typeof value === 'object' && value !== null && key in value, `no ${key} in ${JSON.stringify(value)}`);
  return Object.entries(value).find(([k]) => k === key)?.[1];
}

function text(value: unknown): string {
  assert.equal(typeof value, 'string');
  return String(value);
}

/** Packs this checkout's built dist (no prepare script: the suite has just built it) into dir; returns the tarball and its file list. */
function pack(dir: string): { tarball: string; files: string[] } {
  const out = ok(run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT, 120), 'npm pack');
  const parsed: unknown = JSON.parse(out);
  assert.ok(Array.isArray(parsed) && parsed.length === 1, out);
  const info: unknown = parsed[0];
  const files = field(info, 'files');
  assert.ok(Array.isArray(files));
  return { tarball: join(dir, text(field(info, 'filename'))), files: files.map((f: unknown) => text(field(f, 'path'))) };
}

const versionIn = (dir: string): string => text(field(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')), 'version'));

/**
 * npm install of the tarball without install scripts: ours builds the native kernels with node-gyp (minutes) and the
 * optional GPU backend downloads libtensorflow, neither used here (--omit=optional also spares its 26 MB). The one
 * compiled binding the store needs, better-sqlite3's, is the one this checkout's install built, of the same version.
 */
function install(proj: string, tarball: string): void {
  writeFileSync(join(proj, 'package.json'), `${JSON.stringify({ name: 'nas-consumer', private: true, type: 'module' })}\n`);
  const typesNode = text(field(field(JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')), 'devDependencies'), '@types/node'));
  const args = ['install', tarball, `@types/node@${typesNode}`, '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--omit=optional'];
  ok(run('npm', args, proj, 300), 'npm install');
  const ours = join(rootRequire.resolve('better-sqlite3/package.json'), '..');
  const theirs = join(proj, 'node_modules', 'better-sqlite3');
  assert.equal(versionIn(theirs), versionIn(ours), 'the installed better-sqlite3 differs from this checkout\'s: its binding cannot be reused');
  mkdirSync(join(theirs, 'build', 'Release'), { recursive: true });
  copyFileSync(join(ours, 'build', 'Release', 'better_sqlite3.node'), join(theirs, 'build', 'Release', 'better_sqlite3.node'));
}

/** An evaluator that returns no accuracy, and a function used as a number: both must be compile errors. */
const WRONG = `import { runSearch, type EvaluateFn } from 'nas';
export const evaluate: EvaluateFn = () => ({ acc: 0.5 });
export const n: number = runSearch;
`;

/** The tarball holds the entry, its declarations, the CLI and the recipes, and no test. */
function checkTarball(files: readonly string[]): void {
  assert.deepEqual(files.filter((f) => f.startsWith('dist/test/') || f.startsWith('test/') || /\.test\.[jt]s$/.test(f)), [], 'tests in the tarball');
  for (const f of ['dist/index.js', 'dist/index.d.ts', 'dist/cli/main.js', 'configs/proxy.json']) assert.ok(files.includes(f), `${f} not in the tarball`);
}

/**
 * Compiles the example with a mistyped file beside it, in one tsc run (each costs about 9 s): the mistyped file's
 * errors, and only its, must show; the example's JavaScript is emitted all the same.
 */
function compileExample(proj: string): void {
  for (const f of ['evaluator.ts', 'search.ts', 'tsconfig.json']) copyFileSync(join(EXAMPLE, f), join(proj, f));
  writeFileSync(join(proj, 'wrong.ts'), WRONG);
  writeFileSync(join(proj, 'all.json'), `${JSON.stringify({ extends: './tsconfig.json', files: ['evaluator.ts', 'search.ts', 'wrong.ts'] })}\n`);
  const tsc = run(process.execPath, [TSC, '-p', 'all.json'], proj, 120);
  const errors = tsc.stdout.split('\n').filter((l) => / error TS\d+/.test(l));
  assert.deepEqual(errors.filter((l) => !l.startsWith('wrong.ts(')), [], `the example does not compile:\n${tsc.stdout}`);
  assert.notEqual(tsc.status, 0, 'a mistyped evaluator compiled');
  assert.ok(errors.some((l) => l.startsWith('wrong.ts(2,')), `no error for an evaluator without accuracy:\n${tsc.stdout}`);
  assert.ok(errors.some((l) => /^wrong\.ts\(3,\d+\): error TS2322/.test(l)), `runSearch typed as any?\n${tsc.stdout}`);
}

/** Runs the example's search (6 candidates, the random strategy, the instant evaluator) and checks its summary line. */
function runExample(proj: string): void {
  const out = ok(run(process.execPath, ['dist/search.js', 'results.db', '6'], proj, 120), 'the example search');
  const summary: unknown = JSON.parse(out.trim().split('\n').at(-1) ?? '');
  assert.equal(field(summary, 'done'), 6);
  const best = field(summary, 'best');
  assert.ok(Number(field(best, 'reward')) > 0, out);
  assert.ok(Number(field(field(best, 'metrics'), 'params')) > 0, out);
  assert.match(text(field(best, 'arch')), /^v1_in\d+x3_/);
}

test('a fresh TypeScript project installs the packed tarball, compiles a typed evaluator and runs a search through the library', { skip: npmMissing && 'npm is not on PATH' }, () => {
  const tmp = mkdtempSync(join(scratchBase(), 'nas-lib-'));
  try {
    const { tarball, files } = pack(tmp);
    checkTarball(files);
    const proj = join(tmp, 'proj');
    mkdirSync(proj);
    install(proj, tarball);
    compileExample(proj);
    runExample(proj);
    // The bin, linked by npm, still works from the installed package and reads the run the library wrote.
    const runs = ok(run(join(proj, 'node_modules', '.bin', 'nas'), ['runs', '--db', 'results.db', '--json'], proj, 60), 'nas runs');
    assert.match(runs, /"kind":\s*"search"/);
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
});
