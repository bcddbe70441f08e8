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
export function openDb(path: string, busyWaitMs = OPEN_BUSY_WAIT_MS): Db {
  if (path !== ':memory:') mkdirSync(dirname(path), { recursive: true });
  const db = new Database(path);
  try {
    // Two processes starting together on a new file: switching it to WAL, or making the lease's
    // table, can find the other one's lock for longer than one busy timeout (and switching the
    // journal mode may answer SQLITE_BUSY at once, without waiting). Retried, never taken for a
    // file that cannot be opened (CI once saw "database is locked" exit the second process).
    untilNotBusy(() => {
      db.pragma('busy_timeout = 5000');
      db.pragma('journal_mode = WAL');
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      db.exec(OWNER_LEASE_TABLE);
    }, busyWaitMs);
  } catch (error) {
    db.close();
    throw error;
  }
  return db;
}

/** How long opening a file waits out other processes' locks before it gives up (startup only). */
export const OPEN_BUSY_WAIT_MS = 60_000;

/**
 * SQLite's busy and locked codes; better-sqlite3 reports the extended ones (SQLITE_BUSY_RECOVERY:
 * the next opener recovering a crashed owner's WAL, SQLITE_BUSY_SNAPSHOT, SQLITE_LOCKED_SHAREDCACHE...).
 */
export function isBusyError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^SQLITE_(BUSY|LOCKED)(_|$)/.test(code);
}

/** Runs `work` again while it fails busy, pausing (synchronously: opening is startup work) 10 ms doubling to 250 ms, for at most `waitMs`. */
function untilNotBusy(work: () => void, waitMs: number): void {
  const deadline = Date.now() + waitMs;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  for (let ms = 10; ; ms = Math.min(ms * 2, 250)) {
    try {
      work();
      return;
    } catch (error) {
      if (!isBusyError(error) || Date.now() + ms > deadline) throw error;
      Atomics.wait(pause, 0, 0, ms);
    }
  }
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
