import type { WriteCheck } from './db';
import { createPostgresDatabase, type PostgresDatabaseOptions } from './postgresSql';
import { migratePostgres } from './postgresSchema';
import { createStore } from './repositories';
import type { SqlDatabase } from './sql';
import type { Store } from './store';

/**
 * The Store on PostgreSQL (DATABASE_URL): the schema brought up to date first (migratePostgres,
 * under an advisory lock, so instances starting together migrate once), then the same
 * repositories as on SQLite over the PostgreSQL side of the SQL door. SQLite's file-level care
 * (the WAL checkpointer, the free-space check) has no counterpart here: the server owns its files.
 */
export async function createPostgresStore(url: string, options: PostgresDatabaseOptions = {}): Promise<Store> {
  const sql = createPostgresDatabase(url, options);
  try {
    await migratePostgres(sql);
  } catch (error) {
    await sql.close().catch(() => undefined);
    throw error;
  }
  return createStore(sql, { ping: () => ping(sql), writable: () => checkPostgresWritable(sql) });
}

async function ping(sql: SqlDatabase): Promise<boolean> {
  try {
    return (await sql.get<{ one: number }>('SELECT 1 AS one'))?.one === 1;
  } catch {
    return false;
  }
}

/**
 * A real commit of the readiness row: a read-only server (a standby, default_transaction_read_only),
 * a full disk, a lost connection or exhausted connection slots all fail it. The code is the
 * SQLSTATE (25006 read-only, 53100 disk full...) or the network error's (ECONNREFUSED).
 */
export async function checkPostgresWritable(sql: SqlDatabase): Promise<WriteCheck> {
  try {
    await sql.run('INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at', [Date.now()]);
    return { ok: true };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: typeof code === 'string' ? code : 'unknown', message: (error as Error).message };
  }
}
