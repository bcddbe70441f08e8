import Database from 'better-sqlite3';
import pg from 'pg';

/**
 * Reads the service's database from outside it, on either engine, as the reliability suites check
 * what a service process (or a stack) left behind: SQLite's file read-only (WAL: the running
 * service is not blocked), or PostgreSQL's database through a client of its own. `env` is what the
 * service reads (testStore.ts TestDatabase.env): DATABASE_URL selects PostgreSQL, as in the service.
 * Queries are written with `?` placeholders (turned into `$1`, `$2`… on PostgreSQL) in SQL both
 * engines speak; counts come back as numbers on both (PostgreSQL answers COUNT as a bigint string).
 */
export interface DatabaseReader {
  readonly engine: 'sqlite' | 'postgres';
  rows<T extends Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  count(sql: string, params?: readonly unknown[]): Promise<number>;
  /** The tables Dealgate made, by name. */
  tables(): Promise<string[]>;
  columns(table: string): Promise<string[]>;
  close(): Promise<void>;
}

export async function openDatabaseReader(env: Readonly<Record<string, string>>): Promise<DatabaseReader> {
  const url = env.DATABASE_URL;
  if (url !== undefined && url !== '') return postgresReader(url);
  const path = env.DATABASE_PATH;
  if (path === undefined) throw new Error('openDatabaseReader: neither DATABASE_URL nor DATABASE_PATH is set');
  return sqliteReader(path);
}

function sqliteReader(path: string): DatabaseReader {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  const rows = async <T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) => db.prepare(sql).all(...params) as T[];
  return {
    engine: 'sqlite',
    rows,
    count: async (sql, params = []) => Number(Object.values(db.prepare(sql).get(...params) as Record<string, unknown>)[0]),
    tables: async () => (await rows<{ name: string }>(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name`)).map((t) => t.name),
    columns: async (table) => (await rows<{ name: string }>('SELECT name FROM pragma_table_info(?) ORDER BY cid', [table])).map((c) => c.name),
    close: async () => void db.close(),
  };
}

async function postgresReader(url: string): Promise<DatabaseReader> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const numbered = (sql: string) => {
    let n = 0;
    return sql.replace(/\?/g, () => `$${++n}`);
  };
  const rows = async <T extends Record<string, unknown>>(sql: string, params: readonly unknown[] = []) => (await client.query<T>(numbered(sql), [...params])).rows;
  return {
    engine: 'postgres',
    rows,
    count: async (sql, params = []) => Number(Object.values((await rows(sql, params))[0] ?? {})[0]),
    tables: async () =>
      (await rows<{ name: string }>(`SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`)).map((t) => t.name),
    columns: async (table) =>
      (await rows<{ name: string }>('SELECT column_name AS name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = ? ORDER BY ordinal_position', [table])).map((c) => c.name),
    close: () => client.end(),
  };
}
