// The schema, as an ordered list of migrations. The database's `PRAGMA user_version` is the number of migrations
// applied. A released migration is frozen: change the schema by appending one, never by editing one, because a
// project's nas.db may have been made by any earlier version.
import type Database from 'better-sqlite3';

export type Migration = (db: Database.Database) => void;

// Timestamps are ISO-8601 UTC with milliseconds (Date.toISOString), so text order is time order.
const iso = (column: string, nullable = false): string => {
  const glob = `${column} GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]T[0-9][0-9]:[0-9][0-9]:[0-9][0-9]*Z'`;
  return `TEXT${nullable ? '' : ' NOT NULL'} CHECK (${nullable ? `${column} IS NULL OR ` : ''}${glob})`;
};
const json = (column: string, nullable = false): string =>
  `TEXT${nullable ? '' : ' NOT NULL'} CHECK (${nullable ? `${column} IS NULL OR ` : ''}json_valid(${column}))`;

const v1: Migration = (db) => {
  db.exec(`
    CREATE TABLE runs (
      id         TEXT PRIMARY KEY,
      kind       TEXT NOT NULL CHECK (kind IN ('train', 'search', 'netadapt', 'latency')),
      status     TEXT NOT NULL CHECK (status IN ('running', 'finished', 'failed', 'killed')),
      config     ${json('config')},
      seed       INTEGER,
      arch       TEXT,
      owner      TEXT,
      created_at ${iso('created_at')},
      updated_at ${iso('updated_at')},
      result     ${json('result', true)},
      error      TEXT
    ) STRICT;
    CREATE INDEX runs_by_kind ON runs (kind, created_at);
    CREATE INDEX runs_by_status ON runs (status);

    CREATE TABLE epochs (
      run_id         TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      epoch          INTEGER NOT NULL CHECK (epoch >= 0),
      step           INTEGER NOT NULL CHECK (step >= 0),
      train_loss     REAL,
      train_acc      REAL,
      val_loss       REAL,
      val_top1       REAL,
      val_top5       REAL,
      lr             REAL,
      images_per_sec REAL,
      wall_seconds   REAL,
      extra          ${json('extra', true)},
      recorded_at    ${iso('recorded_at')},
      PRIMARY KEY (run_id, epoch)
    ) STRICT;

    CREATE TABLE checkpoints (
      id         INTEGER PRIMARY KEY,
      run_id     TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      epoch      INTEGER NOT NULL CHECK (epoch >= 0),
      step       INTEGER NOT NULL CHECK (step >= 0),
      path       TEXT NOT NULL,
      metrics    ${json('metrics', true)},
      created_at ${iso('created_at')},
      UNIQUE (run_id, epoch, step)
    ) STRICT;

    CREATE TABLE candidates (
      id          INTEGER PRIMARY KEY,
      run_id      TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      seq         INTEGER NOT NULL CHECK (seq >= 0),
      arch        TEXT NOT NULL,
      eval_key    TEXT NOT NULL,
      status      TEXT NOT NULL CHECK (status IN ('queued', 'running', 'done', 'failed')),
      decisions   ${json('decisions', true)},
      metrics     ${json('metrics', true)},
      reward      REAL,
      failure     TEXT,
      attempts    INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
      worker      TEXT,
      queued_at   ${iso('queued_at')},
      started_at  ${iso('started_at', true)},
      finished_at ${iso('finished_at', true)},
      UNIQUE (run_id, arch),
      UNIQUE (run_id, seq)
    ) STRICT;
    CREATE INDEX candidates_queue ON candidates (run_id, status, seq);
    CREATE INDEX candidates_cache ON candidates (arch, eval_key) WHERE status = 'done';

    CREATE TABLE strategy_state (
      run_id   TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      step     INTEGER NOT NULL CHECK (step >= 0),
      state    ${json('state')},
      saved_at ${iso('saved_at')},
      PRIMARY KEY (run_id, step)
    ) STRICT;

    CREATE TABLE latency_lut (
      runner      TEXT NOT NULL,
      backend     TEXT NOT NULL,
      machine     TEXT NOT NULL,
      input       TEXT NOT NULL,
      entry       TEXT NOT NULL,
      median_ms   REAL NOT NULL CHECK (median_ms >= 0),
      spread_ms   REAL NOT NULL CHECK (spread_ms >= 0),
      samples     INTEGER NOT NULL CHECK (samples > 0),
      measured_at ${iso('measured_at')},
      PRIMARY KEY (runner, backend, machine, input, entry)
    ) STRICT, WITHOUT ROWID;

    CREATE TABLE netadapt_iterations (
      run_id               TEXT NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
      iteration            INTEGER NOT NULL CHECK (iteration >= 0),
      proposals            ${json('proposals')},
      chosen               ${json('chosen', true)},
      latency_predicted_ms REAL,
      latency_measured_ms  REAL,
      accuracy             REAL,
      recorded_at          ${iso('recorded_at')},
      PRIMARY KEY (run_id, iteration)
    ) STRICT;
  `);
};

/** v2: the 10th percentile of each LUT entry's samples, the robust latency on a machine shared with other work. */
const v2: Migration = (db) => {
  db.exec('ALTER TABLE latency_lut ADD COLUMN p10_ms REAL CHECK (p10_ms IS NULL OR p10_ms >= 0)');
};

/**
 * v3: a run's lease (a fencing token). Every takeover of a run (a resume) raises `lease` and records when, and a
 * search writes only while the row still holds its own (owner, lease): a process that was blocked or stopped past the
 * heartbeat, and lost its run meanwhile, writes nothing more when it wakes (results/lease.ts).
 */
const v3: Migration = (db) => {
  db.exec(`
    ALTER TABLE runs ADD COLUMN lease INTEGER NOT NULL DEFAULT 0 CHECK (lease >= 0);
    ALTER TABLE runs ADD COLUMN leased_at ${iso('leased_at', true)};
  `);
};

export const MIGRATIONS: readonly Migration[] = [v1, v2, v3];

/** The schema version this nas writes. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export function userVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/**
 * Applies the missing migrations, each with its version bump in one write transaction. The version is read again
 * inside the transaction, so several processes opening an old file at once apply each migration exactly once.
 */
export function migrate(db: Database.Database, migrations: readonly Migration[] = MIGRATIONS): void {
  for (;;) {
    const done = db
      .transaction((): boolean => {
        const v = userVersion(db);
        const next = migrations[v];
        if (next === undefined) return true;
        next(db);
        db.pragma(`user_version = ${v + 1}`);
        return false;
      })
      .immediate();
    if (done) return;
  }
}
