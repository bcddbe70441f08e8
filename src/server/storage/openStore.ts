import type { Config } from '../config/config';
import { createDb } from './db';
import { createPostgresStore } from './postgresStore';
import { createSqliteStore } from './sqliteStore';
import type { Store } from './store';
import { startWalCheckpointer } from './walCheckpointer';

export interface OpenedStore {
  store: Store;
  engine: 'sqlite' | 'postgres';
  /** Stops what runs beside the store (SQLite's WAL checkpointer), then closes it. */
  close(): Promise<void>;
}

/**
 * The store the configuration selects: PostgreSQL when DATABASE_URL is set (migrated under its
 * advisory lock), else SQLite at DATABASE_PATH with its WAL checkpointer in a thread of its own
 * (not inside a webhook's commit, see walCheckpointer.ts).
 */
export async function openStore(config: Pick<Config, 'databasePath' | 'databaseUrl'>, hooks: { onCheckpointError?: (message: string) => void; onIdleError?: (error: Error) => void } = {}): Promise<OpenedStore> {
  if (config.databaseUrl !== undefined) {
    const store = await createPostgresStore(config.databaseUrl, {
      applicationName: 'dealgate',
      ...(hooks.onIdleError ? { onIdleError: hooks.onIdleError } : {}),
    });
    return { store, engine: 'postgres', close: () => store.close() };
  }
  const db = createDb(config.databasePath);
  const store = createSqliteStore(db);
  const checkpointer = startWalCheckpointer(db, hooks.onCheckpointError ? { onError: hooks.onCheckpointError } : {});
  return {
    store,
    engine: 'sqlite',
    async close() {
      await checkpointer.stop();
      await store.close();
    },
  };
}
