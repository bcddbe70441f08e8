import { startEmbeddedPostgres, type EmbeddedPostgres } from './embeddedPostgres';
import { TEST_POSTGRES_URL_VARIABLE } from './postgres';

/**
 * jest globalSetup: one PostgreSQL for the whole run (every suite makes its own database on it
 * with freshDatabase()), or the one DATABASE_URL names. The URL reaches the test workers through
 * the environment they inherit. The server runs under a parent-death signal, so a jest killed
 * outright does not leave it behind.
 */
export default async function postgresGlobalSetup(): Promise<void> {
  if (process.env[TEST_POSTGRES_URL_VARIABLE]) return;
  if (process.env.DATABASE_URL) {
    process.env[TEST_POSTGRES_URL_VARIABLE] = process.env.DATABASE_URL;
    return;
  }
  const server = await startEmbeddedPostgres();
  process.env[TEST_POSTGRES_URL_VARIABLE] = server.url;
  (globalThis as { dealgateTestPostgres?: EmbeddedPostgres }).dealgateTestPostgres = server;
}
