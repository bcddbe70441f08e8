import { spawn } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import { ManualClock, systemClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { SQLITE_OWNER_LEASE } from '../../src/server/storage/workerLeaseStore';
import { holderIsDeadHere, ownerHolder, ownSqliteDatabase, SqliteOwnedElsewhereError, takeSqliteOwnership, type SqliteOwnershipDeps } from '../../src/server/workers/sqliteOwnership';
import { tempDir } from '../support/env';

/**
 * SQLite serves one process: a second Dealgate process on the same file would take back the
 * first one's in-flight outbox claims (recoverClaims) and send their effects again. Before its
 * workers start, a process takes the database's owner lease; a second one waits for it, takes it
 * over at once from a dead process of this host, and otherwise refuses to start with a message
 * naming the owner and DATABASE_PATH.
 */
describe('one process per SQLite database', () => {
  let dir: ReturnType<typeof tempDir>;
  let stores: Store[];
  const clock = new ManualClock();

  beforeEach(() => {
    dir = tempDir('dealgate-owner-');
    stores = [];
  });
  afterEach(async () => {
    for (const store of stores) await store.close();
    dir.cleanup();
  });

  /** A store of its own on the shared file: what a second process opens. */
  function openProcess(): Store {
    const store = createSqliteStore(createDb(join(dir.path, 'dealgate.db')));
    stores.push(store);
    return store;
  }
  const lost: string[] = [];
  const deps = (store: Store, instanceId: string, more: Partial<SqliteOwnershipDeps> = {}): SqliteOwnershipDeps => ({
    leases: store.workerLeases,
    clock,
    logger: silentLogger(),
    instanceId,
    databasePath: '/var/lib/dealgate/dealgate.db',
    onLost: (holder) => lost.push(holder),
    // Waiting advances the clock instead of sleeping.
    sleep: async (ms) => clock.advance(ms),
    ...more,
  });
  const ownerOf = async (store: Store) => (await store.workerLeases.list()).find((l) => l.name === SQLITE_OWNER_LEASE)?.holder;

  it('a second live process waits, then refuses to start, naming the owner and the variable', async () => {
    const first = await takeSqliteOwnership(deps(openProcess(), 'web-1'));
    const second = openProcess();
    let polls = 0;
    const attempt = takeSqliteOwnership(
      deps(second, 'web-2', {
        waitMs: 5_000,
        pollMs: 1_000,
        // The first process is alive (its pid is this test's own process here).
        sleep: async (ms) => {
          polls += 1;
          clock.advance(ms);
        },
      }),
    );
    await expect(attempt).rejects.toThrow(`another Dealgate process (${first.holder}) uses the SQLite database at /var/lib/dealgate/dealgate.db (DATABASE_PATH)`);
    expect(polls).toBe(5);
    expect(await ownerOf(second)).toBe(first.holder);
    await first.release();
  });

  it('the file is owned before it is migrated: a new file gets only the lease table, and a refused process leaves it so', async () => {
    const path = join(dir.path, 'new.db');
    const tables = () => {
      const db = new Database(path, { readonly: true });
      try {
        return db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").pluck().all();
      } finally {
        db.close();
      }
    };
    const ownerDeps = { clock, logger: silentLogger(), onLost: (holder: string) => lost.push(holder) };
    const first = await ownSqliteDatabase(path, { ...ownerDeps, instanceId: 'web-1' });
    expect(tables()).toEqual(['worker_leases']);
    const refused = ownSqliteDatabase(path, { ...ownerDeps, instanceId: 'web-2', waitMs: 0 });
    await expect(refused).rejects.toBeInstanceOf(SqliteOwnedElsewhereError);
    expect(tables()).toEqual(['worker_leases']);
    await first.release();
    // Given up: the next one takes it at once, and migrating afterwards finds the lease table made.
    const next = await ownSqliteDatabase(path, { ...ownerDeps, instanceId: 'web-3', waitMs: 0 });
    const migrated = createSqliteStore(createDb(path));
    stores.push(migrated);
    expect(await ownerOf(migrated)).toBe(next.holder);
    await next.release();
  });

  /**
   * Another process runs `lockSql` on `path` and holds what it locked for 7 s, longer than the 5 s
   * busy timeout of one try; owning the file then waits it out (at least 5 s) and succeeds.
   */
  async function expectLockWaitedOut(path: string, lockSql: string, instanceId: string): Promise<void> {
    const holder = spawn(process.execPath, [
      '-e',
      `const db = new (require(${JSON.stringify(require.resolve('better-sqlite3'))}))(${JSON.stringify(path)}); ${lockSql} process.stdout.write('locked\\n'); setTimeout(() => { db.exec('COMMIT'); db.close(); }, 7000);`,
    ]);
    await new Promise<void>((resolve, reject) => {
      holder.stdout.on('data', (chunk: Buffer) => chunk.toString().includes('locked') && resolve());
      holder.on('exit', (code) => reject(new Error(`the lock holder exited first (${String(code)})`)));
    });
    const started = Date.now();
    const ownership = await ownSqliteDatabase(path, { clock: systemClock, logger: silentLogger(), instanceId, waitMs: 20_000, pollMs: 200, onLost: (h) => lost.push(h) });
    expect(Date.now() - started).toBeGreaterThanOrEqual(5_000);
    expect(ownership.holder).toContain(instanceId);
    await ownership.release();
    await new Promise((resolve) => (holder.exitCode === null ? holder.on('exit', resolve) : resolve(undefined)));
  }

  it('a write lock held past the busy timeout (an owner migrating a large file) is waited out, not taken for a file that cannot be opened', async () => {
    const path = join(dir.path, 'dealgate.db');
    openProcess();
    // Another process holds the write lock for 7 s, longer than the 5 s busy timeout of one try.
    await expectLockWaitedOut(path, "db.exec('BEGIN IMMEDIATE');", 'after-the-lock');
  }, 30_000);

  it('a new file another process holds an exclusive lock on past the busy timeout (two starting together) is waited out when it is opened', async () => {
    const path = join(dir.path, 'fresh.db');
    // Another process makes the file and holds it exclusively for 7 s: switching to WAL cannot even read it.
    await expectLockWaitedOut(path, "db.exec('BEGIN EXCLUSIVE'); db.exec('CREATE TABLE first_one (id INTEGER)');", 'second-starter');
  }, 30_000);

  it('a clean stop hands the database to the next process at once', async () => {
    const first = await takeSqliteOwnership(deps(openProcess(), 'web-1'));
    await first.release();
    const second = openProcess();
    const next = await takeSqliteOwnership(deps(second, 'web-2', { waitMs: 0 }));
    expect(await ownerOf(second)).toBe(next.holder);
    expect(next.holder).toBe(ownerHolder('web-2'));
    await next.release();
  });

  it('the next process waits while the owner is still stopping, and takes over when it released', async () => {
    const firstStore = openProcess();
    const first = await takeSqliteOwnership(deps(firstStore, 'web-1'));
    const second = openProcess();
    let waited = 0;
    const next = await takeSqliteOwnership(
      deps(second, 'web-2', {
        waitMs: 60_000,
        sleep: async (ms) => {
          waited += 1;
          clock.advance(ms);
          if (waited === 3) await first.release();
        },
      }),
    );
    expect(waited).toBe(3);
    expect(await ownerOf(second)).toBe(next.holder);
    await next.release();
  });

  it('a process of this host that no longer runs (SIGKILL) is taken over without waiting for its lease', async () => {
    const store = openProcess();
    // What a killed process left: a lease that still runs for 30 s, naming a pid that is gone.
    const deadHolder = ownerHolder('web-old', 999_999);
    await store.workerLeases.acquire(SQLITE_OWNER_LEASE, deadHolder, clock.now(), clock.now() + 30_000);
    const next = await takeSqliteOwnership(deps(openProcess(), 'web-new', { waitMs: 0, isRunning: (pid) => pid !== 999_999 }));
    expect(await ownerOf(store)).toBe(next.holder);
    await next.release();
  });

  it('an owner on another host, or named without a pid, is never taken as dead', () => {
    expect(holderIsDeadHere(ownerHolder('web-1', 999_999, 'other-host'), () => false)).toBe(false);
    expect(holderIsDeadHere('web-1', () => false)).toBe(false);
    expect(holderIsDeadHere(ownerHolder('web-1', 999_999), () => false)).toBe(true);
    expect(holderIsDeadHere(ownerHolder('web-1', 999_999), () => true)).toBe(false);
  });

  it('confirm() after a long migration: renews a lease that ran out while nobody took it, and tells a process whose lease was taken to stop', async () => {
    lost.length = 0;
    const store = openProcess();
    const first = await takeSqliteOwnership(deps(store, 'web-1', { ttlMs: 3_000 }));
    // The event loop was blocked (migrating) past the lease: nobody took it, so it is this one's again.
    clock.advance(3_001);
    await first.confirm();
    expect(lost).toEqual([]);
    expect(await ownerOf(store)).toBe(first.holder);
    // Blocked past it again, and another process took the file meanwhile: this one is told to stop.
    clock.advance(3_001);
    const next = await takeSqliteOwnership(deps(openProcess(), 'web-2', { ttlMs: 3_000, waitMs: 0 }));
    await first.confirm();
    expect(lost).toEqual([next.holder]);
    await next.release();
    await first.release();
  });

  it('an expired lease (the owner stalled past its time) is taken, and the stalled owner is told to stop at its next renewal', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      lost.length = 0;
      const firstStore = openProcess();
      const first = await takeSqliteOwnership(deps(firstStore, 'web-1', { ttlMs: 3_000 }));
      clock.advance(3_001);
      const next = await takeSqliteOwnership(deps(openProcess(), 'web-2', { ttlMs: 3_000, waitMs: 0 }));
      // The first one's renewal timer fires (a third of its lease time) and finds the lease gone.
      await jest.advanceTimersByTimeAsync(1_000);
      expect(lost).toEqual([next.holder]);
      await first.release();
      expect(await ownerOf(firstStore)).toBe(next.holder);
      await next.release();
    } finally {
      jest.useRealTimers();
    }
  });
});
