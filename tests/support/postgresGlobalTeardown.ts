import type { EmbeddedPostgres } from './embeddedPostgres';
import { TEST_POSTGRES_URL_VARIABLE } from './postgres';

/** jest globalTeardown: stops the run's embedded PostgreSQL, if globalSetup started one. */
export default async function postgresGlobalTeardown(): Promise<void> {
  const holder = globalThis as { dealgateTestPostgres?: EmbeddedPostgres };
  if (!holder.dealgateTestPostgres) return;
  await holder.dealgateTestPostgres.stop();
  holder.dealgateTestPostgres = undefined;
  // A watch-mode rerun starts a new server: the stopped one's URL must not be taken for it.
  delete process.env[TEST_POSTGRES_URL_VARIABLE];
}
