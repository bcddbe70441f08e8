/**
 * The one door to the database that every repository goes through, so each query is written once
 * and runs on SQLite (the embedded default) and on PostgreSQL (several instances).
 *
 * Rules for the SQL written against it, which both engines then agree on:
 * - Placeholders are `?` (positional, params an array) or `@name` (params an object). Neither
 *   character appears anywhere else in a statement (no `?` or `@` inside string literals).
 * - Integers (ids, counts, epoch milliseconds) come back as JavaScript numbers on both engines,
 *   `COUNT(*)`, `SUM(...)` and `AVG(...)` included. Comparisons used as values are written
 *   `CASE WHEN ... THEN 1 ELSE 0 END`, never bare (PostgreSQL would answer a boolean).
 * - Conflicts are `INSERT ... ON CONFLICT (...) DO NOTHING | DO UPDATE SET x = excluded.x`;
 *   generated ids are read with `RETURNING id`, never from the driver.
 * - Binary columns take and give `Buffer`.
 * Where the dialects truly differ, a repository asks `dialect` and says why.
 */
export type SqlValue = string | number | bigint | null | Buffer;

export type SqlParams = readonly SqlValue[] | Readonly<Record<string, SqlValue>>;

export interface SqlRunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

export type SqlDialect = 'sqlite' | 'postgres';

/** What a statement runs on: the database outside a transaction, or one transaction inside it. */
export interface SqlSession {
  readonly dialect: SqlDialect;
  all<T>(sql: string, params?: SqlParams): Promise<T[]>;
  get<T>(sql: string, params?: SqlParams): Promise<T | undefined>;
  run(sql: string, params?: SqlParams): Promise<SqlRunResult>;
}

export interface SqlDatabase extends SqlSession {
  /**
   * Runs `work` in one transaction on a session of its own: all of its writes land, or none (a
   * throw rolls back). Statements outside it never join it: on SQLite they wait until it ends.
   * `work` may await only the session it is given; nothing in it may call HubSpot.
   */
  transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}
