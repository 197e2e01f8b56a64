// A full disk (issue 13): a search whose database's disk fills up stops with one clear line, loses nothing it had
// written (every write is a SQLite transaction), and once space is freed `--resume` ends it with exactly its budget.
// The disk is a small tmpfs, which needs root (CI runs as root); elsewhere the test skips and says why.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, statfsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openStore } from '../results/store.js';
import { runCli } from './cli-helpers.js';
import { integrityOk, runIds } from './process-helpers.js';

const root = mkdtempSync(join(tmpdir(), 'nas-disk-'));
const disk = join(root, 'disk');
mkdirSync(disk);
const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', disk], { encoding: 'utf8' });
after(() => {
  if (mounted.status === 0) spawnSync('umount', [disk]);
  rmSync(root, { recursive: true, force: true });
});
const skip = mounted.status === 0 ? false : `needs a small tmpfs to fill (mount as root): ${(mounted.stderr || String(mounted.error)).trim()}`;

/** Fills the disk but for `free` bytes (fallocate: instant, and really allocated). */
function fillBut(free: number): string {
  const filler = join(disk, 'filler');
  const s = statfsSync(disk);
  const r = spawnSync('fallocate', ['-l', String(s.bavail * s.bsize - free), filler], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return filler;
}

const doneArchs = (db: string, runId: string): string[] => {
  const s = openStore(db, { readonly: true });
  try {
    return s.listCandidates(runId).filter((c) => c.status === 'done').map((c) => c.arch);
  } finally {
    s.close();
  }
};

test('a search on a disk that fills up stops with one line, keeps what it wrote, and resumes to its budget once space is freed', { skip }, () => {
  const db = join(disk, 'nas.db');
  const budget = 300;
  const filler = fillBut(1_500_000);
  const args = ['search', '--evaluator', 'synthetic', '--target', 'latency=20ms', '--strategy', 'random', '--workers', '0'];
  const full = runCli([...args, '--budget', String(budget), '--db', db]);
  assert.equal(full.status, 2, full.stderr);
  const lines = full.stderr.split('\n').filter((l) => l.startsWith('nas: '));
  assert.deepEqual(lines.length, 1, full.stderr);
  assert.match(lines[0] ?? '', /^nas: the disk is full: could not write the results database \(SQLITE_FULL\); free some space, then continue with --resume/);
  const runId = runIds(db)[0] ?? '';
  const before = doneArchs(db, runId);
  assert.ok(before.length > 0 && before.length < budget, `some candidates were stored before the disk filled: ${before.length}`);
  integrityOk(db);

  rmSync(filler);
  const resumed = runCli(['search', '--resume', runId, '--workers', '0', '--json', '--db', db]);
  assert.equal(resumed.status, 0, resumed.stderr);
  const after = doneArchs(db, runId);
  assert.equal(after.length, budget);
  assert.equal(new Set(after).size, budget);
  assert.ok(before.every((a) => after.includes(a)), 'every candidate stored before the disk filled is kept');
  integrityOk(db);
});
