// Reliability of `nas search` (issue 13), each through the CLI: two owners of one run (a blocked or stopped process
// taken over by --resume), a space with nothing to decide, files a run needs that are missing (also on --resume), a
// --budget below what a run holds, a session with nothing to do, evaluators returning a string or a circular object,
// and negative targets.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../results/store.js';
import { builtinSpace } from '../space/spaces.js';
import { CLI, type CliRun, runCli, userError } from './cli-helpers.js';
import { integrityOk, peek, runIds, type Spawned, spawnCli, waitFor } from './process-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-reliability-search-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (ext = ''): string => join(dir, `t${n++}${ext}`);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

const BASE = ['search', '--target', 'latency=20ms', '--workers', '0'];
const SYNTH = [...BASE, '--evaluator', 'synthetic'];

/** The one run of a fresh database, after the CLI made it. */
function onlyRun(db: string): string {
  const ids = runIds(db);
  assert.equal(ids.length, 1, `one run in ${db}`);
  return ids[0] ?? '';
}

/** runCli with extra environment variables. */
function runCliEnv(args: readonly string[], env: Record<string, string>): CliRun {
  const r = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const LEASE_ENV = { NAS_LEASE_SECONDS: '1' };

/** Waits until the run's heartbeat is older than the lease (1 s here): a --resume may take it over. */
async function waitExpired(db: string, runId: string): Promise<void> {
  await waitFor(
    () => peek(db, (s) => Date.now() - Date.parse(s.requireRun(runId).updatedAt) > 1500) === true,
    'the first process to miss its heartbeat',
  );
}

/**
 * After a takeover: the resume ends the run with exactly its budget of distinct, done candidates; the first process
 * exited non-zero with the one takeover line and wrote nothing after it; the database is sound.
 */
async function checkTakeover(db: string, runId: string, first: Spawned, resume: Spawned, budget: number): Promise<void> {
  const [old, cont] = await Promise.all([first.done, resume.done]);
  assert.equal(cont.status, 0, cont.stderr);
  const r = JSON.parse(cont.stdout) as { counts: { done: number; failed: number; total: number } };
  assert.deepEqual(r.counts, { done: budget, failed: 0, total: budget });
  assert.notEqual(old.status, 0, `the first process must fail: ${old.stderr}`);
  const lines = old.stderr.split('\n').filter((l) => l !== '');
  assert.equal(lines.length, 1, `one line from the first process, got: ${old.stderr}`);
  const line = new RegExp(
    `^nas: run ${runId} was taken over by another process \\(pid ${resume.child.pid} on host ${hostname()}\\) ` +
      'at \\d{4}-\\d\\d-\\d\\dT[0-9:.]+Z; this process stops without writing$',
  );
  assert.match(lines[0] ?? '', line);
  const s = openStore(db, { readonly: true });
  try {
    const cands = s.listCandidates(runId);
    assert.equal(cands.length, budget);
    assert.equal(new Set(cands.map((c) => c.arch)).size, budget, 'no duplicates');
    assert.ok(cands.every((c) => c.status === 'done'));
    const run = s.requireRun(runId);
    assert.equal(run.status, 'finished');
    assert.equal(run.owner, `${hostname()}:${resume.child.pid}`);
  } finally {
    s.close();
  }
  integrityOk(db);
}

test('a search blocked past its lease is taken over by --resume; when it wakes it writes nothing, says so and exits non-zero; the budget holds', async () => {
  const db = fresh('.db');
  const log = fresh('.log');
  const release = fresh('.release');
  const blocked = fresh('.blocked');
  const budget = 8;
  const args = ['search', '--evaluator', fixture('eval-block'), '--target', 'latency=20ms', '--strategy', 'random'];
  const first = spawnCli([...args, '--workers', '0', '--budget', String(budget), '--batch', '4', '--json', '--db', db], {
    ...LEASE_ENV,
    NAS_FIXTURE_LOG: log,
    NAS_FIXTURE_BLOCK_AT: '3',
    NAS_FIXTURE_BLOCKED: blocked,
    NAS_FIXTURE_RELEASE: release,
  });
  await waitFor(() => existsSync(blocked), 'the first process to block in its third evaluation');
  const runId = onlyRun(db);
  await waitExpired(db, runId);
  // The resume evaluates slowly, so that the first process wakes while the resume is still at work.
  const resume = spawnCli(['search', '--resume', runId, '--workers', '0', '--json', '--db', db], {
    ...LEASE_ENV,
    NAS_FIXTURE_LOG: log,
    NAS_FIXTURE_SLEEP_MS: '200',
  });
  await waitFor(() => peek(db, (s) => s.requireRun(runId).owner === `${hostname()}:${resume.child.pid}`) === true, 'the takeover');
  writeFileSync(release, '');
  await checkTakeover(db, runId, first, resume, budget);
  // The candidate in flight in the first process was evaluated again by the resume; nothing else twice.
  const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
  const byFirst = lines.filter((l) => l.startsWith(`${first.child.pid} `)).map((l) => l.split(' ')[1]);
  const byResume = lines.filter((l) => l.startsWith(`${resume.child.pid} `)).map((l) => l.split(' ')[1]);
  assert.equal(byFirst.length, 3);
  assert.ok(byResume.includes(byFirst[2]), 'the in-flight candidate is re-evaluated by the new owner');
  assert.equal(lines.length, budget + 1);
});

test('a search stopped (SIGSTOP) past its lease with two workers is taken over; after SIGCONT it writes nothing and exits non-zero', async () => {
  const db = fresh('.db');
  const budget = 12;
  const args = ['search', '--evaluator', fixture('eval-block'), '--target', 'latency=20ms', '--strategy', 'evolution'];
  const first = spawnCli([...args, '--workers', '2', '--budget', String(budget), '--batch', '4', '--json', '--db', db], {
    ...LEASE_ENV,
    NAS_FIXTURE_SLEEP_MS: '150',
  });
  let runId = '';
  await waitFor(() => {
    runId = runIds(db)[0] ?? '';
    return runId !== '' && (peek(db, (s) => s.countCandidates(runId).done) ?? 0) >= 3;
  }, 'three candidates of the first process');
  first.child.kill('SIGSTOP');
  try {
    await waitExpired(db, runId);
    const resume = spawnCli(['search', '--resume', runId, '--workers', '2', '--json', '--db', db], {
      ...LEASE_ENV,
      NAS_FIXTURE_SLEEP_MS: '150',
    });
    await waitFor(() => peek(db, (s) => s.requireRun(runId).owner === `${hostname()}:${resume.child.pid}`) === true, 'the takeover');
    first.child.kill('SIGCONT');
    await checkTakeover(db, runId, first, resume, budget);
  } finally {
    first.child.kill('SIGCONT');
  }
});

/** The space with every choice node replaced by its first option (or kept as a one-option choice). */
function collapse(v: unknown, keep: boolean): unknown {
  if (Array.isArray(v)) return v.map((x) => collapse(x, keep));
  if (v === null || typeof v !== 'object') return v;
  const o = v as Record<string, unknown>;
  if (Array.isArray(o['oneOf'])) return keep ? { oneOf: [o['oneOf'][0]] } : o['oneOf'][0];
  return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, collapse(x, keep)]));
}

test('a space with nothing to decide is refused up front for every strategy: one line, exit 2, no run', () => {
  const space = JSON.parse(JSON.stringify(builtinSpace('mnasnet-small-input'))) as unknown;
  const none = fresh('.json');
  writeFileSync(none, JSON.stringify(collapse(space, false)));
  const single = fresh('.json');
  writeFileSync(single, JSON.stringify(collapse(space, true)));
  const db = fresh('.db');
  for (const strategy of ['rl', 'evolution', 'random', 'predictor']) {
    userError(runCli([...SYNTH, '--space', none, '--strategy', strategy, '--budget', '4', '--db', db]), none, 'nothing to decide');
  }
  userError(runCli([...SYNTH, '--space', single, '--budget', '4', '--db', db]), single, 'nothing to decide');
  assert.deepEqual(runIds(db), []);
});

test('a missing --latency lut:FILE, dataset or latency module is found before any candidate: one line, exit 2, no run', () => {
  const db = fresh('.db');
  const lut = join(dir, 'no-such-lut.json');
  userError(runCli([...SYNTH, '--latency', `lut:${lut}`, '--budget', '2', '--db', db]), `lut:${lut}`, 'no such file');
  const mod = join(dir, 'no-such-latency.mjs');
  userError(runCli([...SYNTH, '--latency', `module:${mod}`, '--budget', '2', '--db', db]), `module:${mod}`, 'no such file');
  const empty = fresh();
  mkdirSync(empty);
  const proxy = ['search', '--target', 'latency=20ms', '--workers', '0', '--proxy-images', '64', '--budget', '2'];
  const r = runCliEnv([...proxy, '--dataset', 'cifar10', '--db', db], { NAS_DATA_DIR: empty });
  userError(r, 'cifar10', empty);
  assert.deepEqual(runIds(db), []);
});

test('--resume checks the files again: a latency module or an evaluator moved away since is one line, exit 2, and the run is left as it was', () => {
  const db = fresh('.db');
  const mod = fresh('.mjs');
  writeFileSync(mod, 'export function latency(arch) { return 5 + arch.stages.length; }\n');
  const evaluator = fresh('.mjs');
  writeFileSync(evaluator, 'export function evaluate(arch, ctx) { return { accuracy: 0.5 + (ctx.arch.length % 7) / 20 }; }\n');
  const start = (extra: string[]): string => {
    const r = runCli([...BASE, '--strategy', 'random', '--budget', '4', ...extra, '--json', '--db', db]);
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { runId: string }).runId;
  };
  const withModule = start(['--evaluator', 'synthetic', '--latency', `module:${mod}`]);
  const withEvaluator = start(['--evaluator', evaluator]);
  rmSync(mod);
  rmSync(evaluator);
  userError(runCli(['search', '--resume', withModule, '--budget', '8', '--workers', '0', '--db', db]), `module:${mod}`, 'no such file');
  userError(runCli(['search', '--resume', withEvaluator, '--budget', '8', '--workers', '0', '--db', db]), evaluator, 'no such file');
  const s = openStore(db, { readonly: true });
  try {
    for (const id of [withModule, withEvaluator]) {
      assert.equal(s.requireRun(id).status, 'finished');
      assert.deepEqual(s.countCandidates(id), { queued: 0, running: 0, done: 4, failed: 0, total: 4 });
    }
  } finally {
    s.close();
  }
});

test('--resume --budget below the candidates a run holds is refused; a resume with nothing to do says so truthfully', () => {
  const db = fresh('.db');
  const r = runCli([...SYNTH, '--strategy', 'random', '--budget', '6', '--json', '--db', db]);
  assert.equal(r.status, 0, r.stderr);
  const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
  userError(runCli(['search', '--resume', runId, '--budget', '4', '--workers', '0', '--db', db]), runId, 'already has 6', '--budget 4');
  for (const extra of [[], ['--budget', '6']]) {
    const again = runCli(['search', '--resume', runId, ...extra, '--workers', '0', '--db', db]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stdout, /this session: 0 samples/);
    assert.doesNotMatch(again.stdout, /per sample|1000000000/);
  }
  const s = openStore(db, { readonly: true });
  try {
    assert.equal(s.countCandidates(runId).total, 6);
  } finally {
    s.close();
  }
});

test('an evaluator returning accuracy as a string, or a circular metrics object, fails its candidate with a clear reason', () => {
  const db = fresh('.db');
  const text = fresh('.mjs');
  writeFileSync(text, 'export function evaluate() { return { accuracy: "0.5" }; }\n');
  const circular = fresh('.mjs');
  writeFileSync(circular, 'export function evaluate() { const m = { accuracy: 0.5, extra: {} }; m.extra.back = m; return m; }\n');
  const run = (evaluator: string): CliRun => {
    const r = runCli([...BASE, '--evaluator', evaluator, '--strategy', 'random', '--budget', '2', '--max-failures', '5', '--db', db]);
    assert.equal(r.status, 0, r.stderr);
    return r;
  };
  const s1 = run(text).stderr;
  assert.match(s1, /FAILED: .*accuracy is a string \("0\.5"\); the evaluator must return a number in \[0, 1\]/);
  assert.doesNotMatch(s1, /not a number/);
  const s2 = run(circular).stderr;
  assert.match(s2, /FAILED: .*metrics\.extra\.back refers back to metrics \(a circular object\)/);
  assert.doesNotMatch(s2, /call stack/);
});

test('a target that is not greater than 0 says so, for every kind of target', () => {
  const db = fresh('.db');
  for (const t of ['latency=-5ms', 'madds=-60M', 'params=-2M', 'latency=-0.8x']) {
    const r = runCli(['search', '--evaluator', 'synthetic', '--target', t, '--db', db]);
    userError(r, `--target ${t}`, 'must be greater than 0');
    assert.doesNotMatch(r.stderr, /not a number/);
  }
});
