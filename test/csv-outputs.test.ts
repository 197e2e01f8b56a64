// The CSV files other tools read: train-final's summary.csv (an epoch a row, kept whole across a resume), and
// `nas search --csv FILE` (a candidate a row, rewritten from the store; never over a file the search did not write).
// NetAdapt's iterations.csv is checked with its progress events in test/cli-progress.test.ts (one tiny run for both).
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { parseCsv } from '../bench/tables/csv.js';
import { runCli, userError } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-csv-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const csvRows = (path: string): string[][] => parseCsv(readFileSync(path, 'utf8'));

test('train-final writes summary.csv in its run directory, an epoch a row, and a resume keeps the earlier epochs', () => {
  const out = join(dir, 'train');
  const train = (epochs: string, ...more: string[]): ReturnType<typeof runCli> =>
    runCli([
      'train-final', '--data', 'mnist', '--limit', '200', '--input', '16', '--arch', 'ir_k3_s2_x16_c16_re', '--epochs', epochs,
      '--batch', '25', '--backend', 'wasm', '--db', join(dir, 'train.db'), '--out', out, '--json', ...more,
    ]);
  const first = train('1');
  assert.equal(first.status, 0, first.stderr);
  const again = train('2', '--resume');
  assert.equal(again.status, 0, again.stderr);
  const [header, ...rows] = csvRows(join(out, 'summary.csv'));
  assert.deepEqual(header?.slice(0, 6), ['epoch', 'train_loss', 'eval_loss', 'eval_top1', 'eval_top5', 'lr']);
  assert.deepEqual(rows.map((r) => r[0]), ['1', '2']);
  for (const r of rows) {
    const top1 = Number(r[3]);
    assert.ok(top1 >= 0 && top1 <= 1, `eval_top1 ${r[3]}`);
    assert.ok(Number(r[1]) > 0 && Number(r[6]) > 0, r.join(','));
  }
});

const search = ['search', '--evaluator', 'synthetic', '--strategy', 'random', '--target', 'latency=20ms', '--workers', '0', '--progress', 'none'];

test('nas search --csv writes a candidate a row (quoted where needed), and only its own run resumes into the file', () => {
  const db = join(dir, 'search.db');
  const csv = join(dir, 'candidates.csv');
  const r = runCli([...search, '--budget', '5', '--batch', '2', '--db', db, '--csv', csv, '--json']);
  assert.equal(r.status, 0, r.stderr);
  const runId = (JSON.parse(r.stdout) as { runId: string }).runId;
  const [header, ...rows] = csvRows(csv);
  assert.deepEqual(header?.slice(0, 5), ['runId', 'id', 'seq', 'status', 'reward']);
  assert.equal(rows.length, 5);
  const arch = header?.indexOf('arch') ?? -1;
  for (const row of rows) {
    assert.equal(row.length, header?.length);
    assert.equal(row[0], runId);
    assert.match(row[arch] ?? '', /^v1_in32x3_.*,/); // block strings hold commas: the field was quoted
  }
  userError(runCli([...search, '--budget', '2', '--db', db, '--csv', csv]), `--csv ${csv} already exists`);
  const resumed = runCli(['search', '--resume', runId, '--budget', '8', '--db', db, '--csv', csv, '--progress', 'none']);
  assert.equal(resumed.status, 0, resumed.stderr);
  assert.deepEqual(csvRows(csv).slice(1).map((row) => row[2]), ['0', '1', '2', '3', '4', '5', '6', '7']);
  const other = join(dir, 'notes.csv');
  writeFileSync(other, 'my,own\n1,2\n');
  userError(runCli(['search', '--resume', runId, '--budget', '9', '--db', db, '--csv', other]), `--csv ${other} already exists`);
  assert.equal(readFileSync(other, 'utf8'), 'my,own\n1,2\n');
  userError(runCli(['search', '--resume', runId, '--budget', '9', '--db', db, '--csv', db]), '--csv');
});
