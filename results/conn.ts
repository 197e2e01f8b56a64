// What every table module shares: the open database, a cache of prepared statements, write transactions and the
// clock. Internal to results/.
import type Database from 'better-sqlite3';

export type Row = Record<string, unknown>;

export interface Conn {
  readonly db: Database.Database;
  /** A prepared statement, prepared once per connection. */
  stmt<R = Row>(sql: string): Database.Statement<unknown[], R>;
  /**
   * Runs fn in a transaction that takes the write lock first (BEGIN IMMEDIATE), so a read-then-write inside it never
   * races another connection; nested calls become savepoints.
   */
  write<T>(fn: () => T): T;
  clock(): Date;
  /** clock() as ISO-8601 UTC with milliseconds: sortable as text. */
  now(): string;
}

export function createConn(db: Database.Database, clock: () => Date): Conn {
  const cache = new Map<string, Database.Statement<unknown[], unknown>>();
  return {
    db,
    stmt<R>(sql: string): Database.Statement<unknown[], R> {
      let s = cache.get(sql);
      if (s === undefined) {
        s = db.prepare<unknown[], unknown>(sql);
        cache.set(sql, s);
      }
      return s as Database.Statement<unknown[], R>;
    },
    write<T>(fn: () => T): T {
      return db.transaction(fn).immediate();
    },
    clock,
    now: () => clock().toISOString(),
  };
}
