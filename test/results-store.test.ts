import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { NasError } from '../common/errors.js';
import { JsonColumnError } from '../common/json.js';
import { MIGRATIONS, migrate, SCHEMA_VERSION, userVersion } from '../results/migrations.js';
import { openStore } from '../results/store.js';

const dir = mkdtempSync(join(tmpdir(), 'nas-results-store-'));
after(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = (): string => join(dir, `t${n++}.db`);

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

/** A NasError with code E_IO and exit code 2 whose message mentions every part. */
function ioRefusal(...parts: string[]): (e: unknown) => boolean {
  return (e) => {
    assert.ok(e instanceof NasError, `a NasError, got ${String(e)}`);
    assert.equal(e.code, 'E_IO');
    assert.equal(e.exitCode, 2);
    assert.doesNotMatch(e.message, /\n/);
    for (const p of parts) assert.ok(e.message.includes(p), `'${e.message}' should mention '${p}'`);
    return true;
  };
}

const TABLES = ['candidates', 'checkpoints', 'epochs', 'latency_lut', 'netadapt_iterations', 'runs', 'strategy_state'];

test('a new file is created with every table and the latest schema version', () => {
  const path = fresh();
  const store = openStore(path);
  try {
    assert.equal(store.schemaVersion, SCHEMA_VERSION);
    assert.equal(SCHEMA_VERSION, MIGRATIONS.length);
  } finally {
    store.close();
  }
  const raw = new Database(path, { readonly: true });
  try {
    const tables = raw
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
      .all()
      .map((r) => (r as { name: string }).name);
    assert.deepEqual(tables, TABLES);
    assert.equal(userVersion(raw), SCHEMA_VERSION);
  } finally {
    raw.close();
  }
});

test('an empty file (touch nas.db) is migrated like a missing one', () => {
  const path = fresh();
  writeFileSync(path, '');
  const store = openStore(path);
  assert.equal(store.schemaVersion, SCHEMA_VERSION);
  store.close();
});

test('the database is in WAL mode with synchronous=NORMAL', () => {
  const path = fresh();
  openStore(path).close();
  const raw = new Database(path);
  try {
    assert.equal(raw.pragma('journal_mode', { simple: true }), 'wal');
  } finally {
    raw.close();
  }
});

test('foreign keys are enforced: an epoch of an unknown run is refused', () => {
  const store = openStore(fresh());
  try {
    assert.throws(() => store.recordEpoch({ runId: 'nope', epoch: 0, step: 1 }), /FOREIGN KEY/);
  } finally {
    store.close();
  }
});

test('reopening keeps the data', () => {
  const path = fresh();
  const a = openStore(path);
  const run = a.createRun({ kind: 'train', config: { epochs: 3, lr: 0.1 }, seed: 7, arch: 'v1_in32x1_cls10' });
  a.recordEpoch({ runId: run.id, epoch: 0, step: 100, trainLoss: 1.5, valTop1: 0.6 });
  const before = a.getRun(run.id);
  a.close();
  const b = openStore(path);
  try {
    assert.deepEqual(b.getRun(run.id), before);
    assert.deepEqual(before?.config, { epochs: 3, lr: 0.1 });
    assert.equal(b.listEpochs(run.id)[0]?.trainLoss, 1.5);
  } finally {
    b.close();
  }
});

test('close can be called twice', () => {
  const store = openStore(fresh());
  store.close();
  store.close();
});

test('a database written by a newer nas is refused, clearly and without modification', () => {
  const path = fresh();
  openStore(path).close();
  const raw = new Database(path);
  raw.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
  raw.close();
  const before = sha(path);
  assert.throws(() => openStore(path), ioRefusal(path, 'newer nas', String(SCHEMA_VERSION + 5), 'upgrade nas'));
  assert.throws(() => openStore(path, { readonly: true }), ioRefusal('newer nas'));
  assert.equal(sha(path), before);
});

test('a file that is not a SQLite database is refused and left untouched', () => {
  const path = fresh();
  const text = 'epoch,loss\n1,0.5\n'.repeat(200);
  writeFileSync(path, text);
  const before = sha(path);
  assert.throws(() => openStore(path), ioRefusal(path, 'not a SQLite database'));
  assert.throws(() => openStore(path, { readonly: true }), ioRefusal('not a SQLite database'));
  assert.equal(sha(path), before);
  for (const suffix of ['-wal', '-shm', '-journal']) assert.ok(!existsSync(path + suffix), `no ${suffix} file`);
});

test('a file with a SQLite header but damaged content is refused and left untouched', () => {
  const path = fresh();
  const bytes = Buffer.alloc(8192, 0xa5);
  bytes.write('SQLite format 3\0', 0, 'latin1');
  writeFileSync(path, bytes);
  const before = sha(path);
  assert.throws(() => openStore(path), ioRefusal(path));
  assert.equal(sha(path), before);
});

test("another program's SQLite database is refused and left untouched", () => {
  const path = fresh();
  const raw = new Database(path);
  raw.exec("CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('mine')");
  raw.close();
  const before = sha(path);
  assert.throws(() => openStore(path), ioRefusal('not a nas results store'));
  assert.equal(sha(path), before);
});

test('a directory, a missing parent directory and a missing file in read-only mode are refused clearly', () => {
  const d = join(dir, 'adir');
  mkdirSync(d);
  assert.throws(() => openStore(d), ioRefusal('is a directory'));
  assert.throws(() => openStore(join(dir, 'no', 'such', 'dir', 'nas.db')), ioRefusal('nas.db'));
  const missing = fresh();
  assert.throws(() => openStore(missing, { readonly: true }), ioRefusal(missing, 'no such file'));
  assert.ok(!existsSync(missing), 'read-only open does not create the file');
});

test('a read-only store reads but cannot write', () => {
  const path = fresh();
  const w = openStore(path);
  const run = w.createRun({ kind: 'latency', config: {} });
  w.close();
  const r = openStore(path, { readonly: true });
  try {
    assert.equal(r.readonly, true);
    assert.equal(r.getRun(run.id)?.kind, 'latency');
    assert.throws(() => r.createRun({ kind: 'train', config: {} }), /readonly/i);
  } finally {
    r.close();
  }
});

test('migrations apply in order, each in one transaction; a failing one leaves the previous version', () => {
  const raw = new Database(':memory:');
  try {
    const [v1] = MIGRATIONS;
    assert.ok(v1 !== undefined);
    const broken = (db: Database.Database): void => {
      db.exec('CREATE TABLE half_done (x INTEGER)');
      throw new Error('migration 2 failed');
    };
    assert.throws(() => migrate(raw, [v1, broken]), /migration 2 failed/);
    assert.equal(userVersion(raw), 1);
    const half = raw.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = 'half_done'").get() as { n: number };
    assert.equal(half.n, 0);

    const v2 = (db: Database.Database): void => {
      db.exec('ALTER TABLE runs ADD COLUMN note TEXT');
    };
    migrate(raw, [v1, v2]);
    assert.equal(userVersion(raw), 2);
    migrate(raw, [v1, v2]);
    assert.equal(userVersion(raw), 2, 'applied migrations are not applied again');
  } finally {
    raw.close();
  }
});

test('JSON columns take only JSON data: NaN, Infinity, functions, class instances and undefined are refused', () => {
  const store = openStore(fresh());
  try {
    const bad: unknown[] = [{ loss: Number.NaN }, { lr: Infinity }, { f: () => 1 }, new Map(), [undefined], undefined];
    for (const config of bad) {
      assert.throws(() => store.createRun({ kind: 'train', config }), JsonColumnError);
    }
    assert.equal(store.listRuns().length, 0, 'nothing was written');
    const run = store.createRun({ kind: 'train', config: { a: 1, skipped: undefined, nested: [{ b: null }] } });
    assert.deepEqual(run.config, { a: 1, nested: [{ b: null }] });
    assert.throws(() => store.setRunResult(run.id, { top1: Number.NaN }), /runs\.result.*\$\.top1/);
  } finally {
    store.close();
  }
});

test('the database itself refuses invalid JSON text and malformed timestamps', () => {
  const path = fresh();
  openStore(path).close();
  const raw = new Database(path);
  try {
    const insert = raw.prepare(
      "INSERT INTO runs (id, kind, status, config, created_at, updated_at) VALUES (?, 'train', 'running', ?, ?, ?)",
    );
    const iso = '2026-11-29T10:00:00.000Z';
    assert.throws(() => insert.run('a', '{not json', iso, iso), /CHECK constraint/);
    assert.throws(() => insert.run('b', '{}', 'yesterday', iso), /CHECK constraint/);
    assert.throws(() => insert.run('c', '{}', iso, '2026-11-29 10:00:00'), /CHECK constraint/);
    insert.run('d', '{}', iso, iso);
  } finally {
    raw.close();
  }
});

test('a transaction that throws leaves nothing behind', () => {
  const store = openStore(fresh());
  try {
    const keep = store.createRun({ kind: 'search', config: {} });
    assert.throws(
      () =>
        store.transaction(() => {
          store.createRun({ kind: 'search', config: { doomed: true } });
          const { candidate } = store.enqueueCandidate({ runId: keep.id, arch: 'a', evalKey: 'k' });
          store.markCandidateDone(candidate.id, { metrics: { acc: 0.9 }, reward: 0.5 });
          store.saveStrategyState(keep.id, 1, { rng: [1, 2, 3] });
          store.finishRun(keep.id, { best: 'a' });
          throw new Error('crash before commit');
        }),
      /crash before commit/,
    );
    assert.deepEqual(
      store.listRuns().map((r) => r.id),
      [keep.id],
    );
    assert.equal(store.countCandidates(keep.id).total, 0);
    assert.equal(store.loadStrategyState(keep.id), null);
    assert.equal(store.getRun(keep.id)?.status, 'running');

    // A store method that throws inside a transaction (bad JSON) rolls back the writes before it too.
    assert.throws(
      () =>
        store.transaction(() => {
          store.recordCheckpoint({ runId: keep.id, epoch: 0, step: 1, path: '/tmp/ck' });
          store.setRunResult(keep.id, { x: Number.NaN });
        }),
      JsonColumnError,
    );
    assert.equal(store.latestCheckpoint(keep.id), null);

    const value = store.transaction(() => store.createRun({ kind: 'train', config: {} }).id);
    assert.equal(store.getRun(value)?.kind, 'train', 'a transaction that returns commits');
  } finally {
    store.close();
  }
});

test('opening while another connection holds the write lock past the timeout is the one-line lock error', () => {
  const path = join(dir, 'locked.db');
  openStore(path).close();
  const other = new Database(path);
  other.exec('BEGIN EXCLUSIVE');
  try {
    assert.throws(() => openStore(path, { busyTimeoutMs: 100 }), (e: unknown) => e instanceof NasError && /^the results database stayed locked by another process/.test(e.message));
  } finally {
    other.exec('ROLLBACK');
    other.close();
  }
});

// A second store on the same file in one process (the pipeline's trainings and search do this) must not drop the
// first one's POSIX locks: closing any other descriptor of the file does (SQLite's "How To Corrupt" 2.2), and then
// another process closing its connection takes itself for the last one and deletes the -wal still in use. Seen:
// `nas bench pipeline` lost its -wal to a `sqlite3` query and died with "disk I/O error".
test('a second store on the same file in one process leaves the first its locks: another process keeps off its -wal', () => {
  const path = join(dir, 'two-in-one.db');
  const first = openStore(path);
  first.createRun({ kind: 'search', config: { n: 1 } });
  assert.ok(existsSync(`${path}-wal`), 'the store writes a -wal');
  openStore(path).close();
  // Another process asks for the file to itself (exclusive locking mode, no busy wait): it must be refused.
  const other = [
    `const D = require('better-sqlite3'); const d = new D(${JSON.stringify(path)}, { timeout: 0 });`,
    `d.pragma('locking_mode = EXCLUSIVE'); try { d.exec('BEGIN EXCLUSIVE; COMMIT'); console.log('taken'); }`,
    `catch (e) { console.log(e.code); } d.close();`,
  ].join(' ');
  const r = spawnSync(process.execPath, ['-e', other], { cwd: fileURLToPath(new URL('../..', import.meta.url)), encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout.trim(), 'SQLITE_BUSY', 'another process took an open store\'s file to itself');
  assert.ok(existsSync(`${path}-wal`), 'another process deleted the -wal of an open store');
  assert.equal(first.listRuns().length, 1);
  first.close();
});
