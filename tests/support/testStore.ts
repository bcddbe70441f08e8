import { createDb } from '../../src/server/storage/db';
import { createPostgresStore } from '../../src/server/storage/postgresStore';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import { freshDatabase, type FreshDatabase } from './postgres';

/**
 * Which engine the integration suites' stores run on: DEALGATE_TEST_STORE=postgres (the jest
 * project "postgres" sets it) gives each stack or harness a database of its own on the run's
 * PostgreSQL; anything else (the default) SQLite in a temp directory.
 */
export const TEST_STORE_VARIABLE = 'DEALGATE_TEST_STORE';

export type TestStoreEngine = 'sqlite' | 'postgres';

export function testStoreEngine(): TestStoreEngine {
  const value = process.env[TEST_STORE_VARIABLE];
  if (value === undefined || value === '' || value === 'sqlite') return 'sqlite';
  if (value === 'postgres') return 'postgres';
  throw new Error(`${TEST_STORE_VARIABLE} must be sqlite or postgres, not "${value}"`);
}

/** The database behind one stack or harness, reopened by each (re)start of its service. */
export interface TestDatabase {
  readonly engine: TestStoreEngine;
  /** SQLite's file, or PostgreSQL's URL (the environment the service would read: DATABASE_PATH or DATABASE_URL). */
  readonly env: Record<string, string>;
  open(): Promise<Store>;
  /** Drops the PostgreSQL database (SQLite's file goes with its temp directory). */
  drop(): Promise<void>;
}

export async function testDatabase(sqlitePath: string, engine: TestStoreEngine = testStoreEngine()): Promise<TestDatabase> {
  if (engine === 'sqlite') {
    return { engine, env: { DATABASE_PATH: sqlitePath }, open: async () => createSqliteStore(createDb(sqlitePath)), drop: async () => undefined };
  }
  const database: FreshDatabase = await freshDatabase();
  return {
    engine,
    env: { DATABASE_PATH: sqlitePath, DATABASE_URL: database.url },
    // A small pool per service: a run has many stacks at once on one server (max_connections).
    open: () => createPostgresStore(database.url, { maxConnections: 5 }),
    drop: () => database.drop(),
  };
}

/**
 * A store on the run's engine for a suite that builds its own (no stack): SQLite at `sqlitePath`,
 * or a fresh PostgreSQL database; its close() also drops that database.
 */
export async function testStore(sqlitePath: string): Promise<Store> {
  const database = await testDatabase(sqlitePath);
  const store = await database.open();
  const close = store.close.bind(store);
  return Object.assign(Object.create(store) as Store, {
    async close() {
      await close();
      await database.drop();
    },
  });
}
