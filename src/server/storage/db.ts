import Database from 'better-sqlite3';
import { mkdirSync, statfsSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations as allMigrations, type Migration } from './migrations';

export type Db = Database.Database;

/**
 * Opens (creating if needed) the SQLite database and brings its schema up to date.
 * WAL lets readers proceed while the workers write; synchronous=NORMAL in WAL survives a
 * process crash at any point (only an OS crash may lose the last commits).
 */
export function createDb(path: string, migrations: Migration[] = allMigrations): Db {
  const db = openDb(path);
  migrate(db, migrations);
  // One row the readiness probe rewrites (see checkWritable); not part of the schema's data.
  db.exec('CREATE TABLE IF NOT EXISTS readiness_probe (id INTEGER PRIMARY KEY CHECK (id = 1), checked_at INTEGER NOT NULL)');
  return db;
}

/**
 * Opens (creating if needed) the SQLite database without migrating it: only the owner lease's
 * table is made sure of, so that a process can own the file (workers/sqliteOwnership.ts) before it
 * changes anything in it.
 */
export function openDb(path: string): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  db.exec(OWNER_LEASE_TABLE);
  return db;
}

/**
 * The `sqlite-owner` lease lives in worker_leases, which migration 14 made: created here too,
 * before any migration, so that the owner is settled before a process migrates the file (a new
 * version started while the old one runs must not change the schema under it). Migration 14 says
 * IF NOT EXISTS for that reason. This table's shape is what every version of Dealgate since
 * migration 14 reads the owner from: it never changes (a migration may add tables, not alter it).
 */
const OWNER_LEASE_TABLE = `CREATE TABLE IF NOT EXISTS worker_leases (
  name         TEXT    NOT NULL PRIMARY KEY,
  holder       TEXT    NOT NULL,
  acquired_at  INTEGER NOT NULL,
  renewed_at   INTEGER NOT NULL,
  expires_at   INTEGER NOT NULL
) WITHOUT ROWID`;

/** Free bytes under which the database counts as unable to write: a few webhook batches and their WAL frames. */
export const MIN_FREE_BYTES = 1024 * 1024;

export type WriteCheck = { ok: true } | { ok: false; code: string; message: string };

/**
 * Whether the database can take a write now: a real commit (the write lock, a WAL frame appended
 * and the WAL-index updated, so a read-only file or filesystem, a lock held by another process,
 * an I/O error or a full disk where the WAL must grow all fail it), then the free space of the
 * volume the database is on, since a commit into a WAL that restarted reuses space already
 * allocated and passes on a full disk that the next webhook batch would not.
 */
export function checkWritable(db: Db, minFreeBytes = MIN_FREE_BYTES): WriteCheck {
  try {
    db.prepare('INSERT INTO readiness_probe (id, checked_at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET checked_at = excluded.checked_at').run(Date.now());
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return { ok: false, code: typeof code === 'string' ? code : 'unknown', message: (error as Error).message };
  }
  if (!db.memory) {
    try {
      const fs = statfsSync(dirname(db.name));
      const free = fs.bavail * fs.bsize;
      if (free < minFreeBytes) {
        return { ok: false, code: 'SQLITE_FULL', message: `${free} bytes free on the database's volume (under ${minFreeBytes})` };
      }
    } catch {
      // A filesystem that cannot say how full it is: the commit above is the answer.
    }
  }
  return { ok: true };
}

/**
 * Applies the migrations not applied yet, each in its own IMMEDIATE transaction that first takes
 * the write lock and then checks again whether it is applied: two connections migrating one file
 * together apply each migration once, the later one finding it done, instead of failing on "table
 * already exists". (The service migrates only once it owns the file, workers/sqliteOwnership.ts;
 * tests and tools that open a file twice still rely on this.) While migrating, a lock held by the other process's migration is waited for up to a
 * minute (a migration over a large database takes seconds), then the usual 5 s again.
 */
export function migrate(db: Db, migrations: Migration[]): number[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at INTEGER NOT NULL)`);
  const applied = new Set(
    db.prepare('SELECT version FROM schema_migrations').pluck().all() as number[],
  );
  const isApplied = db.prepare<[number], number>('SELECT version FROM schema_migrations WHERE version = ?').pluck();
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  const newlyApplied: number[] = [];
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  const busyTimeout = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma('busy_timeout = 60000');
  try {
    for (const migration of sorted) {
      if (applied.has(migration.version)) continue;
      const ran = db
        .transaction(() => {
          if (isApplied.get(migration.version) !== undefined) return false;
          db.exec(migration.sql);
          record.run(migration.version, migration.name, Date.now());
          return true;
        })
        .immediate();
      if (ran) newlyApplied.push(migration.version);
    }
  } finally {
    db.pragma(`busy_timeout = ${busyTimeout}`);
  }
  return newlyApplied;
}
