import { freshDatabase } from './postgres';
import { testStoreEngine } from './testStore';

/**
 * The database a reliability world's service process runs on (bench/lib/world.ts), on the run's
 * engine as stacks get theirs (DEALGATE_TEST_STORE, testStore.ts): SQLite, the world's own file
 * (nothing to add), or a fresh PostgreSQL database on the run's server, its DATABASE_URL handed to
 * the service's environment; drop it when the world has stopped.
 */
export async function worldDatabase(): Promise<{ env: Record<string, string>; drop(): Promise<void> }> {
  if (testStoreEngine() === 'sqlite') return { env: {}, drop: async () => undefined };
  const database = await freshDatabase();
  return { env: { DATABASE_URL: database.url }, drop: () => database.drop() };
}
