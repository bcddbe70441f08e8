import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { startEmbeddedPostgres, type EmbeddedPostgres } from './embeddedPostgres';
import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { migratePostgres } from '../../src/server/storage/postgresSchema';

/**
 * The PostgreSQL the tests use. jest's global setup (postgresGlobalSetup.ts) starts one
 * embedded server per run, or takes DATABASE_URL when it is set, and passes its URL to the suites
 * in DEALGATE_TEST_POSTGRES_URL (not DATABASE_URL itself, which selects the service's store: a
 * suite building a config from the environment must not switch engines because the run has a
 * PostgreSQL). Outside jest (a script, a bench) the first call starts a server for the process.
 */
export const TEST_POSTGRES_URL_VARIABLE = 'DEALGATE_TEST_POSTGRES_URL';

let ownServer: Promise<EmbeddedPostgres> | undefined;

export async function postgresServerUrl(): Promise<string> {
  const fromRun = process.env[TEST_POSTGRES_URL_VARIABLE] ?? process.env.DATABASE_URL;
  if (fromRun) return fromRun;
  ownServer ??= startEmbeddedPostgres();
  return (await ownServer).url;
}

export interface FreshDatabase {
  name: string;
  url: string;
  /** Drops the database, closing whatever connections are still on it. */
  drop(): Promise<void>;
}

async function onServer<T>(serverUrl: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: serverUrl });
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/**
 * A new, empty database with a random name on the run's server, for one test file: suites
 * running at once never see each other's rows. Drop it in afterAll.
 */
export async function freshDatabase(): Promise<FreshDatabase> {
  const serverUrl = await postgresServerUrl();
  const name = `dealgate_test_${randomBytes(6).toString('hex')}`;
  await onServer(serverUrl, (client) => client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`));
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    drop: () => onServer(serverUrl, (client) => client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`)).then(() => undefined),
  };
}

/** A fresh database (as freshDatabase) with Dealgate's schema already in it, for suites that test the repositories. */
export async function migratedDatabase(): Promise<FreshDatabase> {
  const database = await freshDatabase();
  const db = createPostgresDatabase(database.url);
  try {
    await migratePostgres(db);
  } finally {
    await db.close();
  }
  return database;
}
