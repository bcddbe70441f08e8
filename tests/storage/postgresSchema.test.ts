import { createDb, type Db } from '../../src/server/storage/db';
import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { migratePostgres } from '../../src/server/storage/postgresSchema';
import type { SqlDatabase } from '../../src/server/storage/sql';
import { freshDatabase, type FreshDatabase } from '../support/postgres';

/**
 * The PostgreSQL schema (postgresSchema.ts) is written by hand beside SQLite's migrations; this
 * compares the two as the engines report them, so a migration added to one and not the other, or
 * a column typed differently, fails here.
 */
interface Column { name: string; type: string; nullable: boolean }
interface Index { name: string; columns: string[]; unique: boolean; partial: boolean }
interface Table { columns: Column[]; primaryKey: string[]; uniques: string[][]; indexes: Index[]; foreignKeys: string[] }
type Schema = Record<string, Table>;

/** SQLite's declared types and what the PostgreSQL schema uses for them. */
const POSTGRES_TYPE: Record<string, string> = { INTEGER: 'bigint', TEXT: 'text', REAL: 'double precision', BLOB: 'bytea' };

function sqliteSchema(db: Db): Schema {
  const schema: Schema = {};
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").pluck().all() as string[];
  for (const table of tables) {
    const info = db.prepare(`PRAGMA table_info(${table})`).all() as { name: string; type: string; notnull: number; pk: number }[];
    const indexList = db.prepare(`PRAGMA index_list(${table})`).all() as { name: string; unique: number; origin: string; partial: number }[];
    const columnsOf = (index: string) => (db.prepare(`PRAGMA index_info(${index})`).all() as { name: string }[]).map((c) => c.name);
    const foreignKeys = db.prepare(`PRAGMA foreign_key_list(${table})`).all() as { table: string; from: string; to: string }[];
    schema[table] = {
      // SQLite lets a PRIMARY KEY column hold NULL unless it says NOT NULL (rowid keys aside); ours never do.
      columns: info.map((c) => ({ name: c.name, type: POSTGRES_TYPE[c.type] ?? `unmapped ${c.type}`, nullable: c.notnull === 0 && c.pk === 0 })).sort(byName),
      primaryKey: info.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name),
      uniques: indexList.filter((i) => i.origin === 'u').map((i) => columnsOf(i.name)).sort(byJoined),
      indexes: indexList.filter((i) => i.origin === 'c').map((i) => ({ name: i.name, columns: columnsOf(i.name), unique: i.unique === 1, partial: i.partial === 1 })).sort(byName),
      foreignKeys: foreignKeys.map((fk) => `${fk.from} -> ${fk.table}(${fk.to})`).sort(),
    };
  }
  return schema;
}

async function postgresSchema(db: SqlDatabase): Promise<Schema> {
  const schema: Schema = {};
  const tables = await db.all<{ name: string }>("SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name");
  for (const { name } of tables) schema[name] = { columns: [], primaryKey: [], uniques: [], indexes: [], foreignKeys: [] };
  const columns = await db.all<{ table_name: string; name: string; type: string; is_nullable: string }>(
    "SELECT table_name, column_name AS name, data_type AS type, is_nullable FROM information_schema.columns WHERE table_schema = 'public'",
  );
  for (const c of columns) schema[c.table_name]!.columns.push({ name: c.name, type: c.type, nullable: c.is_nullable === 'YES' });
  const indexes = await db.all<{ table_name: string; name: string; columns: string[]; is_unique: number; is_primary: number; partial: number; constraint_type: string | null }>(`
    SELECT t.relname AS table_name, i.relname AS name,
           ARRAY(SELECT a.attname::text FROM unnest(x.indkey::int2[]) WITH ORDINALITY AS k(attnum, n)
                   JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum = k.attnum ORDER BY k.n) AS columns,
           CASE WHEN x.indisunique THEN 1 ELSE 0 END AS is_unique,
           CASE WHEN x.indisprimary THEN 1 ELSE 0 END AS is_primary,
           CASE WHEN x.indpred IS NOT NULL THEN 1 ELSE 0 END AS partial,
           con.contype::text AS constraint_type
      FROM pg_index x
      JOIN pg_class t ON t.oid = x.indrelid
      JOIN pg_class i ON i.oid = x.indexrelid
      JOIN pg_namespace ns ON ns.oid = t.relnamespace
      LEFT JOIN pg_constraint con ON con.conindid = x.indexrelid AND con.contype IN ('p', 'u')
     WHERE ns.nspname = 'public'`);
  for (const index of indexes) {
    const table = schema[index.table_name]!;
    if (index.is_primary === 1) table.primaryKey = index.columns;
    else if (index.constraint_type === 'u') table.uniques.push(index.columns);
    else table.indexes.push({ name: index.name, columns: index.columns, unique: index.is_unique === 1, partial: index.partial === 1 });
  }
  const foreignKeys = await db.all<{ table_name: string; from_column: string; to_table: string; to_column: string }>(`
    SELECT t.relname AS table_name, a.attname AS from_column, r.relname AS to_table, ra.attname AS to_column
      FROM pg_constraint con
      JOIN pg_class t ON t.oid = con.conrelid
      JOIN pg_class r ON r.oid = con.confrelid
      JOIN pg_namespace ns ON ns.oid = t.relnamespace
      JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
      JOIN pg_attribute ra ON ra.attrelid = con.confrelid AND ra.attnum = con.confkey[1]
     WHERE con.contype = 'f' AND ns.nspname = 'public'`);
  for (const fk of foreignKeys) schema[fk.table_name]!.foreignKeys.push(`${fk.from_column} -> ${fk.to_table}(${fk.to_column})`);
  for (const table of Object.values(schema)) {
    table.columns.sort(byName);
    table.uniques.sort(byJoined);
    table.indexes.sort(byName);
    table.foreignKeys.sort();
  }
  return schema;
}

function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

function byJoined(a: string[], b: string[]): number {
  return byName({ name: a.join(',') }, { name: b.join(',') });
}

let database: FreshDatabase;
let postgres: SqlDatabase;
let sqlite: Db;

beforeAll(async () => {
  database = await freshDatabase();
  postgres = createPostgresDatabase(database.url);
  await migratePostgres(postgres);
  sqlite = createDb(':memory:');
});

afterAll(async () => {
  sqlite?.close();
  await postgres?.close();
  await database?.drop();
});

it('has the same tables on both engines', async () => {
  expect(Object.keys(await postgresSchema(postgres)).sort()).toEqual(Object.keys(sqliteSchema(sqlite)).sort());
});

it('has the same columns, keys, unique constraints, indexes and foreign keys in every table', async () => {
  const expected = sqliteSchema(sqlite);
  const actual = await postgresSchema(postgres);
  for (const table of Object.keys(expected)) {
    expect({ table, ...actual[table] }).toEqual({ table, ...expected[table] });
  }
});

it('is at the same schema version', async () => {
  const sqliteVersion = sqlite.prepare('SELECT MAX(version) FROM schema_migrations').pluck().get();
  expect(await postgres.get('SELECT MAX(version) AS version FROM schema_migrations')).toEqual({ version: sqliteVersion });
});

it('has every SQLite trigger', async () => {
  const sqliteTriggers = sqlite.prepare("SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name").pluck().all() as string[];
  const postgresTriggers = (await postgres.all<{ name: string }>('SELECT DISTINCT trigger_name AS name FROM information_schema.triggers')).map((t) => t.name);
  expect(postgresTriggers).toEqual(expect.arrayContaining(sqliteTriggers));
});
