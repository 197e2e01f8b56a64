import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../results/store.js';
import { encodeArch } from '../space/blockString.js';
import { loadArch } from '../space/load.js';
import { type CliOptions, commandHarness, runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-results-commands-'));
after(() => rmSync(dir, { recursive: true, force: true }));
// `nas results` alone, in a directory of its own (the default database is ./nas.db, the default plot goes here).
const results: CliOptions = { entry: commandHarness('../cli/results.js', 'resultsCommand'), cwd: dir };
const db = join(dir, 'nas.db');

// Real canonical arch strings: long, with commas and colons, as a search stores them.
const archOf = (k: number): string =>
  encodeArch(loadArch([`ir_k${k % 2 === 0 ? 3 : 5}_s2_x${16 + 8 * k}_c24_re`, 'ir_k3_s1_x72_c24_hs'], { input: 28, channels: 1, classes: 10 }));

// The search (its config as `nas search` stores it: targets as typed): (accuracy, latency ms, MAdds, reward) per candidate, seq 0.. in this order. By latency the front is
// seq 1 (4 ms), 0 (6 ms), 3 (9 ms), 6 (20 ms); seq 5 duplicates seq 3 and is left out; seq 2 and 4 are dominated.
const DONE: readonly (readonly [number, number, number, number])[] = [
  [0.8, 6, 3e6, 0.81],
  [0.7, 4, 2e6, 0.72],
  [0.75, 8, 1e6, 0.74],
  [0.9, 9, 5e6, 0.9],
  [0.85, 12, 6e6, 0.83],
  [0.9, 9, 7e6, 0.88],
  [0.95, 20, 9e6, 0.86],
];
const store = openStore(db);
const search = store.createRun({
  kind: 'search',
  config: { space: 'mnasnet-small-input', strategy: 'rl', targets: ['latency=10ms'], budget: 10 },
  seed: 3,
});
for (const [i, [accuracy, latencyMs, madds, reward]] of DONE.entries()) {
  store.enqueueCandidate({ runId: search.id, arch: archOf(i), evalKey: 'k', decisions: [i, 0, 1] });
  const c = store.claimCandidate(search.id, 'w0');
  assert.ok(c !== null);
  store.markCandidateDone(c.id, { metrics: { accuracy, latencyMs, madds, params: 1000 + i, trainSeconds: 2.5 }, reward });
}
// seq 7 failed, seq 8 done without a latency, seq 9 still queued.
store.enqueueCandidate({ runId: search.id, arch: archOf(7), evalKey: 'k' });
const failed = store.claimCandidate(search.id, 'w1');
assert.ok(failed !== null);
store.markCandidateFailed(failed.id, 'evaluator threw: "NaN loss", step 3');
store.enqueueCandidate({ runId: search.id, arch: archOf(8), evalKey: 'k' });
const noLatency = store.claimCandidate(search.id, 'w1');
assert.ok(noLatency !== null);
store.markCandidateDone(noLatency.id, { metrics: { accuracy: 0.99 }, reward: 0.5 });
store.enqueueCandidate({ runId: search.id, arch: archOf(9), evalKey: 'k' });
const emptySearch = store.createRun({ kind: 'search', config: { targets: ['madds=4M'] } });
const train = store.createRun({ kind: 'train', config: { epochs: 1 }, arch: archOf(0) });
store.close();

/** The run's 10 candidates, seq 0..9. */
const TOTAL = DONE.length + 3;

/** A minimal RFC 4180 reader, for checking what export writes. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  assert.equal(field + row.join(''), '', 'the text ends with a newline');
  return rows;
}

test('results list shows each search with its counts and best candidate, and no other runs', () => {
  const r = runCli(['results', 'list'], results);
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.match(lines[0] ?? '', /^id\s+status\s+done\s+failed\s+total\s+best reward\s+accuracy\s+latency ms/);
  const row = lines.find((l) => l.startsWith(search.id)) ?? '';
  assert.match(row, new RegExp(`^${search.id}\\s+running\\s+8\\s+1\\s+10\\s+0\\.9000\\s+0\\.9000\\s+9\\.000\\s+run:${search.id}#3`));
  assert.ok(lines.some((l) => l.startsWith(emptySearch.id)));
  assert.ok(!r.stdout.includes(train.id));
});

test('results list --json gives the counts and the best candidate of each search', () => {
  const r = runCli(['results', 'list', '--json', '--db', db], results);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { runs: { id: string; candidates: { done: number; failed: number; queued: number }; best: { seq: number } | null }[] };
  const s = j.runs.find((x) => x.id === search.id);
  assert.deepEqual([s?.candidates.done, s?.candidates.failed, s?.candidates.queued, s?.best?.seq], [8, 1, 1, 3]);
  assert.equal(j.runs.find((x) => x.id === emptySearch.id)?.best, null);
});

test('results show RUN --top K prints the settings and the K best candidates by reward', () => {
  const r = runCli(['results', 'show', search.id, '--top', '3'], results);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^candidates\s+10: 8 done, 1 failed, 0 running, 1 queued$/m);
  assert.match(r.stdout, /^\s+strategy\s+rl$/m);
  assert.match(r.stdout, /^targets\s+latency 10 ms$/m);
  assert.match(r.stdout, /^\s+targets\s+\["latency=10ms"\]$/m);
  const table = r.stdout.slice(r.stdout.indexOf('top 3 by reward')).trimEnd();
  const seqs = table.split('\n').slice(3).map((l) => l.trim().split(/\s+/)[0]);
  assert.deepEqual(seqs, ['3', '5', '6']);
  assert.match(table, /^\s*3\s+0\.9000\s+0\.9000\s+9\.000\s+5,000,000\s+1,003\s+v1_in28x1_cls10/m);
});

test('results show RUN --json has the run, its counts and the top candidates with their metrics', () => {
  const r = runCli(['results', 'show', search.id, '--top', '2', '--json'], results);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { run: { id: string; seed: number }; top: { seq: number; latencyMs: number; arch: string }[] };
  assert.equal(j.run.seed, 3);
  assert.deepEqual(j.top.map((c) => [c.seq, c.latencyMs]), [[3, 9], [5, 9]]);
  assert.equal(j.top[0]?.arch, archOf(3));
});

test('results pareto RUN prints the accuracy/latency front and writes the plot to <RUN>-pareto.svg here', () => {
  const r = runCli(['results', 'pareto', search.id], results);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /4 of 7 candidates \(1 done without accuracy or latencyMs left out\); target latency 10 ms/);
  const rows = r.stdout.split('\n').filter((l) => /^\s*\d+\s+\d/.test(l));
  assert.deepEqual(rows.map((l) => l.trim().split(/\s+/)[0]), ['1', '0', '3', '6']);
  const svgPath = join(dir, `${search.id}-pareto.svg`);
  assert.ok(r.stdout.includes(`plot: ${svgPath}`));
  const svg = readFileSync(svgPath, 'utf8');
  assert.equal((/<g class="candidates"[^>]*>([\s\S]*?)<\/g>/.exec(svg)?.[1]?.match(/<circle /g) ?? []).length, 7);
  assert.equal((/<g class="front">([\s\S]*?)<\/g>/.exec(svg)?.[1]?.match(/<circle /g) ?? []).length, 4);
  assert.ok(svg.includes('class="target"') && svg.includes('target 10 ms'));
});

test('results pareto --x madds --svg FILE --json: the front against MAdds, no target line without a MAdds target', () => {
  const out = join(dir, 'plots-madds.svg');
  const r = runCli(['results', 'pareto', search.id, '--x', 'madds', '--svg', out, '--json'], results);
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { x: string; xMetric: string; target: unknown; candidates: number; skipped: number; front: { seq: number; x: number }[]; svg: string };
  assert.deepEqual([j.x, j.xMetric, j.target, j.candidates, j.skipped], ['madds', 'madds', null, 7, 1]);
  assert.deepEqual(j.front.map((p) => [p.seq, p.x]), [[2, 1e6], [0, 3e6], [3, 5e6], [6, 9e6]]);
  assert.equal(j.svg, out);
  const svg = readFileSync(out, 'utf8');
  assert.ok(!svg.includes('class="target"'));
  assert.ok(svg.includes('>multiply-adds</text>') && />\d+M<\/text>/.test(svg));
});

test('results export --format csv writes a header and every candidate, quoting archs and failures', () => {
  const r = runCli(['results', 'export', search.id, '--format', 'csv'], results);
  assert.equal(r.status, 0, r.stderr);
  const rows = parseCsv(r.stdout);
  const [header = [], ...body] = rows;
  assert.equal(body.length, TOTAL);
  assert.ok(body.every((row) => row.length === header.length));
  const col = (name: string): number => header.indexOf(name);
  assert.deepEqual(header.slice(0, 9), ['runId', 'id', 'seq', 'status', 'reward', 'accuracy', 'latencyMs', 'madds', 'params']);
  assert.ok(col('trainSeconds') > 0);
  const seq3 = body.find((row) => row[col('seq')] === '3') ?? [];
  assert.deepEqual([seq3[col('reward')], seq3[col('accuracy')], seq3[col('latencyMs')], seq3[col('madds')]], ['0.9', '0.9', '9', '5000000']);
  assert.equal(seq3[col('arch')], archOf(3));
  assert.equal(seq3[col('decisions')], '3 0 1');
  const failedRow = body.find((row) => row[col('status')] === 'failed') ?? [];
  assert.equal(failedRow[col('failure')], 'evaluator threw: "NaN loss", step 3');
  assert.equal(failedRow[col('accuracy')], '');
});

test('results export --format json --out FILE writes the run and every candidate, and says so', () => {
  const out = join(dir, 'export.json');
  const r = runCli(['results', 'export', search.id, '--format', 'json', '--out', out, '--json'], results);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(JSON.parse(r.stdout), { run: search.id, format: 'json', candidates: TOTAL, out });
  const j = JSON.parse(readFileSync(out, 'utf8')) as { run: { id: string; config: { strategy: string } }; candidates: { seq: number; status: string; metrics: { accuracy?: number } | null }[] };
  assert.equal(j.run.config.strategy, 'rl');
  assert.deepEqual(j.candidates.map((c) => c.seq), [...Array(TOTAL).keys()]);
  assert.equal(j.candidates[6]?.metrics?.accuracy, 0.95);
  assert.equal(j.candidates[9]?.status, 'queued');
});

test('a found architecture goes to other commands as run:RUN#best, read from ./nas.db', () => {
  const r = runCli(['arch', 'show', `run:${search.id}#best`, '--json'], {
    entry: commandHarness('../cli/arch.js', 'archCommand'),
    cwd: dir,
  });
  assert.equal(r.status, 0, r.stderr);
  const j = JSON.parse(r.stdout) as { name: string; canonical: string };
  assert.deepEqual([j.name, j.canonical], [`${search.id}-c3`, archOf(3)]);
});

test('an unknown run is a one-line error naming it', () => {
  userError(runCli(['results', 'pareto', 'sr-nosuch'], results), 'unknown run sr-nosuch');
  userError(runCli(['results', 'export', 'sr-nosuch', '--format', 'csv'], results), 'unknown run sr-nosuch');
});

test('a run of another kind is refused: it is not a search', () => {
  userError(runCli(['results', 'show', train.id], results), `run ${train.id} is a train run, not a search`);
  userError(runCli(['results', 'export', train.id, '--format', 'json'], results), 'not a search');
});

test('export needs a known --format', () => {
  userError(runCli(['results', 'export', search.id, '--format', 'xml'], results), 'format', 'xml', 'csv');
  userError(runCli(['results', 'export', search.id], results), 'format');
});

test('pareto of a search without results, or with an unknown --x, is a one-line error', () => {
  userError(runCli(['results', 'pareto', emptySearch.id], results), `run ${emptySearch.id} has no done candidates yet`);
  userError(runCli(['results', 'pareto', search.id, '--x', 'energy'], results), 'energy');
  assert.ok(!existsSync(join(dir, `${emptySearch.id}-pareto.svg`)), 'no plot written on error');
});

test('a missing database, a bad --top or no subcommand is a one-line error', () => {
  userError(runCli(['results', 'list', '--db', join(dir, 'none.db')], results), 'none.db', 'no such file');
  userError(runCli(['results', 'show', search.id, '--top', '0'], results), '--top must be a positive integer');
  userError(runCli(['results'], results), 'list, show RUN, pareto RUN or export RUN');
});
