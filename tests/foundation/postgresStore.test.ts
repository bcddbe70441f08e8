import pg from 'pg';
import { createApp } from '../../src/server/http/app';
import { ConfigError, redactDatabaseUrl } from '../../src/server/config/config';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { createPostgresStore } from '../../src/server/storage/postgresStore';
import { openStore } from '../../src/server/storage/openStore';
import type { Store } from '../../src/server/storage/store';
import { listen, testConfig } from '../support/env';
import { freshDatabase, type FreshDatabase } from '../support/postgres';

/** DATABASE_URL selects PostgreSQL; /readyz answers on it as on SQLite (a real commit). */
async function readyz(store: Store) {
  const config = testConfig();
  const server = await listen(createApp({ config, store, clock: new ManualClock(), hubspot: staticHubSpotClients(config), gateway: createHubSpotGateway(staticHubSpotClients(config)), logger: silentLogger() }));
  try {
    const response = await fetch(`${server.url}/readyz`);
    return { status: response.status, json: (await response.json()) as { status?: string; error?: { code: string; message: string; details?: { cause: string } } } };
  } finally {
    await server.close();
  }
}

async function onDatabase(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

describe('DATABASE_URL', () => {
  it('selects PostgreSQL when set, SQLite at DATABASE_PATH otherwise', () => {
    expect(testConfig({ DATABASE_URL: 'postgres://dealgate:secret@db.internal:5432/dealgate' }).databaseUrl).toBe('postgres://dealgate:secret@db.internal:5432/dealgate');
    expect(testConfig({ DATABASE_URL: 'postgresql://db.internal/dealgate' }).databaseUrl).toBe('postgresql://db.internal/dealgate');
    expect(testConfig({ DATABASE_URL: '' }).databaseUrl).toBeUndefined();
    expect(testConfig({}).databaseUrl).toBeUndefined();
  });

  it.each(['mysql://db/dealgate', './data/dealgate.db', 'postgres://', 'sqlite:///tmp/x.db'])('refuses %s, naming DATABASE_URL and not echoing it', (value) => {
    let error: unknown;
    try {
      testConfig({ DATABASE_URL: value });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.variable)).toEqual(['DATABASE_URL']);
    expect((error as ConfigError).message).toMatch(/DATABASE_URL must be a PostgreSQL URL/);
  });

  it('is logged without its password', () => {
    expect(redactDatabaseUrl('postgres://dealgate:s3cret@db.internal:5432/dealgate')).toBe('postgres://dealgate:***@db.internal:5432/dealgate');
    expect(redactDatabaseUrl('postgres://db.internal/dealgate')).toBe('postgres://db.internal/dealgate');
  });
});

describe('the PostgreSQL store', () => {
  let database: FreshDatabase;
  beforeEach(async () => {
    database = await freshDatabase();
  });
  afterEach(async () => {
    await database.drop();
  });

  it('migrates on open (once, however many instances open it together) and answers /readyz with 200', async () => {
    const stores = await Promise.all([createPostgresStore(database.url), createPostgresStore(database.url), createPostgresStore(database.url)]);
    try {
      expect(await readyz(stores[0]!)).toEqual({ status: 200, json: { status: 'ready', database: 'ok' } });
      expect(await stores[1]!.accounts.get(1)).toBeUndefined();
    } finally {
      await Promise.all(stores.map((s) => s.close()));
    }
  });

  it('is chosen by openStore when the configuration has DATABASE_URL', async () => {
    const opened = await openStore(testConfig({ DATABASE_URL: database.url }));
    try {
      expect(opened.engine).toBe('postgres');
      expect(await opened.store.ping()).toBe(true);
    } finally {
      await opened.close();
    }
  });

  it('answers /readyz with 503 and the SQLSTATE when a commit fails (here: the disk is full)', async () => {
    const store = await createPostgresStore(database.url);
    try {
      // What PostgreSQL answers a write on a full disk (53100 disk_full), made to happen on the probe's row.
      await onDatabase(database.url, `CREATE FUNCTION full_disk() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'could not extend file: No space left on device' USING ERRCODE = '53100'; END; $$;
        CREATE TRIGGER full_disk BEFORE INSERT OR UPDATE ON readiness_probe FOR EACH ROW EXECUTE FUNCTION full_disk();`);
      const answer = await readyz(store);
      expect(answer.status).toBe(503);
      expect(answer.json.error).toMatchObject({ code: 'not_ready', details: { cause: '53100' } });
      expect(answer.json.error?.message).toMatch(/No space left on device/);
    } finally {
      await store.close();
    }
  });

  it('refuses to start on a database that refuses writes (the migration cannot run)', async () => {
    await onDatabase(database.url, `ALTER DATABASE "${database.name}" SET default_transaction_read_only = on`);
    await expect(createPostgresStore(database.url)).rejects.toMatchObject({ code: '25006' });
  });

  it('answers /readyz with 503 when the server is unreachable', async () => {
    const store = await createPostgresStore(database.url);
    await store.close();
    const answer = await readyz(store);
    expect(answer.status).toBe(503);
    expect(answer.json.error?.code).toBe('not_ready');
  });
});
