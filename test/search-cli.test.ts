import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { openStore } from '../results/store.js';
import { builtinSpace } from '../space/spaces.js';
import { CLI, type CliRun, runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-search-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (ext = ''): string => join(dir, `t${n++}${ext}`);
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}.js`, import.meta.url));

const SYNTH = ['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--workers', '0'];

test('bad input is one line and exit code 2', () => {
  const db = fresh('.db');
  const badSpace = fresh('.json');
  const space = JSON.parse(JSON.stringify(builtinSpace('mnasnet-small-input'))) as { stem: { kernel: unknown } };
  space.stem.kernel = { oneOf: [3, 4] };
  writeFileSync(badSpace, JSON.stringify(space));
  const cases: [string[], string[]][] = [
    [['search', '--target', 'latency=fast', '--db', db], ['--target latency=fast']],
    [['search', '--target', 'latency=0.8x', '--evaluator', 'synthetic', '--db', db], ['relative']],
    [['search', '--evaluator', 'synthetic', '--db', db], ['--target']],
    [[...SYNTH, '--space', 'no-such-space', '--db', db], ['unknown search space', 'no-such-space']],
    [[...SYNTH, '--space', badSpace, '--db', db], ['stem.kernel', 'odd']],
    [['search', '--target', 'madds=60M', '--evaluator', fixture('eval-no-export'), '--db', db], ['does not export', 'evaluate']],
    [['search', '--target', 'madds=60M', '--evaluator', join(dir, 'missing.js'), '--db', db], ['no such file']],
    [[...SYNTH, '--evaluator', 'proxy', '--db', db], ['--evaluator is given more than once']],
    [[...SYNTH, '--strategy', 'grid', '--db', db], ['--strategy grid']],
    [[...SYNTH, '--time', 'soon', '--db', db], ['--time soon']],
    [[...SYNTH, '--gpus', '0,x', '--db', db], ['--gpus']],
    [['search', '--resume', 'sr-nope', '--db', db], ['unknown run sr-nope']],
    [['search', '--resume', 'sr-nope', '--strategy', 'random', '--db', db], ['--resume', '--strategy']],
  ];
  for (const [args, parts] of cases) userError(runCli(args), ...parts);
});

test('nas search prints the best candidates and the Pareto front; --json the result', () => {
  const db = fresh('.db');
  const text = runCli([...SYNTH, '--strategy', 'random', '--budget', '8', '--db', db]);
  assert.equal(text.status, 0, text.stderr);
  assert.match(text.stdout, /8 candidates \(8 done, 0 failed\): reached the budget of 8/);
  assert.match(text.stdout, /best 5 by reward:/);
  assert.match(text.stdout, /Pareto front, accuracy vs latency:/);
  assert.match(text.stderr, /\[8\/8\]/);
  const json = runCli([...SYNTH, '--strategy', 'random', '--budget', '8', '--seed', '1', '--json', '--db', db]);
  assert.equal(json.status, 0, json.stderr);
  assert.equal(json.stderr, '');
  const r = JSON.parse(json.stdout) as { counts: { total: number }; best: unknown[]; status: string };
  assert.equal(r.status, 'finished');
  assert.equal(r.counts.total, 8);
  assert.equal(r.best.length, 5);
});

interface Spawned {
  readonly child: ChildProcess;
  readonly done: Promise<CliRun>;
}

function spawnCli(args: readonly string[], env: Record<string, string>): Spawned {
  const child = spawn(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<CliRun>((resolve) => child.on('close', (status) => resolve({ status, stdout, stderr })));
  return { child, done };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls the database (read-only) until check passes; fails after 60 s. */
async function waitFor(db: string, check: (store: ReturnType<typeof openStore>) => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (existsSync(db)) {
      let ok = false;
      try {
        const store = openStore(db, { readonly: true });
        try {
          ok = check(store);
        } finally {
          store.close();
        }
      } catch {
        // the schema may not exist yet
      }
      if (ok) return;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

test('kill -9 mid-search, then --resume: exactly the budget, nothing lost, the same samples as an uninterrupted run; a second resume is told the run is busy', async () => {
  const db = fresh('.db');
  const log = fresh('.log');
  const budget = 24;
  const common = ['search', '--evaluator', fixture('eval-slow'), '--target', 'latency=20ms', '--strategy', 'rl', '--workers', '2'];
  const args = [...common, '--budget', String(budget), '--batch', '8', '--seed', '1', '--db', db];

  const first = spawnCli(args, { NAS_FIXTURE_LOG: log, NAS_FIXTURE_SLEEP_MS: '150' });
  let runId = '';
  await waitFor(
    db,
    (s) => {
      const run = s.listRuns({ kind: 'search' })[0];
      if (run === undefined) return false;
      runId = run.id;
      return s.countCandidates(run.id).done >= 4;
    },
    'the first run to settle 4 candidates',
  );
  first.child.kill('SIGKILL');
  const killed = await first.done;
  assert.equal(killed.status, null);
  const atKill = (() => {
    const s = openStore(db, { readonly: true });
    try {
      return s.countCandidates(runId);
    } finally {
      s.close();
    }
  })();
  assert.ok(atKill.done + atKill.failed < budget, 'the kill landed before the end');

  // The resume runs slowly, so that a second resume and an unrelated run overlap it.
  const resume = spawnCli(['search', '--resume', runId, '--workers', '2', '--json', '--db', db], {
    NAS_FIXTURE_LOG: log,
    NAS_FIXTURE_SLEEP_MS: '1000',
  });
  await waitFor(db, (s) => s.getRun(runId)?.owner?.endsWith(`:${resume.child.pid}`) === true, 'the resume to own the run');
  const other = spawnCli([...common, '--budget', String(budget), '--batch', '8', '--seed', '1', '--dataset', 'u', '--json', '--db', db], {
    NAS_FIXTURE_LOG: fresh('.log'),
    NAS_FIXTURE_SLEEP_MS: '10',
  });
  userError(runCli(['search', '--resume', runId, '--db', db]), `run ${runId} is busy`);

  const resumed = await resume.done;
  assert.equal(resumed.status, 0, resumed.stderr);
  const r = JSON.parse(resumed.stdout) as { counts: { done: number; failed: number; total: number }; resumed: boolean };
  assert.equal(r.resumed, true);
  assert.deepEqual(r.counts, { done: budget, failed: 0, total: budget });
  const whole = await other.done;
  assert.equal(whole.status, 0, whole.stderr);
  const wholeId = (JSON.parse(whole.stdout) as { runId: string }).runId;

  const s = openStore(db, { readonly: true });
  try {
    const got = s.listCandidates(runId).map((c) => c.arch);
    assert.deepEqual(got, s.listCandidates(wholeId).map((c) => c.arch), 'same samples in the same order');
    assert.equal(s.requireRun(runId).status, 'finished');
    // Each candidate evaluated once, apart from those in flight at the kill (at most one per worker).
    const lines = readFileSync(log, 'utf8').split('\n').filter((l) => l !== '');
    assert.deepEqual([...new Set(lines)].sort(), [...got].sort());
    assert.ok(lines.length <= budget + 2, `${lines.length} evaluations for ${budget} candidates`);
  } finally {
    s.close();
  }
});
