import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { migratePostgres, postgresMigrations } from '../../src/server/storage/postgresSchema';
import { freshDatabase, type FreshDatabase } from '../support/postgres';

const databases: FreshDatabase[] = [];

afterAll(async () => {
  await Promise.all(databases.map((database) => database.drop()));
});

async function newDatabase(): Promise<FreshDatabase> {
  const database = await freshDatabase();
  databases.push(database);
  return database;
}

it('applies the migrations once; a second run is a no-op', async () => {
  const db = createPostgresDatabase((await newDatabase()).url);
  try {
    const versions = postgresMigrations.map((migration) => migration.version);
    expect(await migratePostgres(db)).toEqual(versions);
    expect(await migratePostgres(db)).toEqual([]);
    expect(await db.all('SELECT version, name FROM schema_migrations ORDER BY version')).toEqual(
      postgresMigrations.map(({ version, name }) => ({ version, name })),
    );
    expect(await db.run('INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at', [Date.now()])).toEqual({ changes: 1 });
  } finally {
    await db.close();
  }
});

it('migrates once when instances start together (advisory lock)', async () => {
  const { url } = await newDatabase();
  const instances = [createPostgresDatabase(url), createPostgresDatabase(url), createPostgresDatabase(url)];
  try {
    const applied = await Promise.all(instances.map((db) => migratePostgres(db)));
    expect(applied.filter((versions) => versions.length > 0)).toEqual([postgresMigrations.map((migration) => migration.version)]);
    expect(await instances[0]!.get('SELECT COUNT(*) AS n FROM schema_migrations')).toEqual({ n: postgresMigrations.length });
  } finally {
    await Promise.all(instances.map((db) => db.close()));
  }
});

it('keeps audit_log append-only, as SQLite does', async () => {
  const db = createPostgresDatabase((await newDatabase()).url);
  try {
    await migratePostgres(db);
    await db.run("INSERT INTO audit_log (portal_id, deal_id, action, actor, at) VALUES (?, ?, 'requested', 'rep', ?)", [1, 'd1', 1]);
    await expect(db.run("UPDATE audit_log SET actor = 'someone else'")).rejects.toThrow(/append-only/);
    await expect(db.run('DELETE FROM audit_log')).rejects.toThrow(/append-only/);
    await expect(db.run('TRUNCATE audit_log')).rejects.toThrow(/append-only/);
  } finally {
    await db.close();
  }
});
