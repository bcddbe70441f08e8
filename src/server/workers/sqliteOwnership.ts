import { hostname } from 'node:os';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { isBusyError, openDb } from '../storage/db';
import { createSqliteSql } from '../storage/sqliteSql';
import { SQLITE_OWNER_LEASE, workerLeaseRepository, type WorkerLease, type WorkerLeaseRepository } from '../storage/workerLeaseStore';

/**
 * SQLite serves one Dealgate process: its inbox takes no per-deal claims and its outbox takes back
 * every claim at start (storage/outboxStore.ts recoverClaims), both safe only while no other
 * process works on the same file. A second process on the file (`npm start` twice, a deploy that
 * starts the new version before the old one stops) would take back the first one's in-flight
 * claims and send their notes and reverts again, and a new version would migrate the file under
 * the old one. So before it migrates the file (ownSqliteDatabase: on a connection of its own, the
 * lease's table made without migrating, storage/db.ts openDb), a process on SQLite takes the
 * `sqlite-owner` lease, and keeps renewing it until it stops:
 * - free, expired or released: taken at once;
 * - held by a process of this host that no longer runs (SIGKILL, a crash): taken over at once (the
 *   holder names its host and pid);
 * - held by a live process: this one waits, saying so, and gives up after `waitMs` with a message
 *   that names the holder (PostgreSQL, DATABASE_URL, is the engine for several instances).
 */
export interface SqliteOwnership {
  readonly holder: string;
  /**
   * Renews the lease now; when another process has taken it, tells onLost (which stops this one).
   * The start calls it after migrating: a long migration blocks the renewal timer, and the lease
   * may have run out meanwhile.
   */
  confirm(): Promise<void>;
  /** Gives the database up at a clean stop (the next process takes it without waiting). */
  release(): Promise<void>;
}

export interface SqliteOwnershipDeps {
  leases: WorkerLeaseRepository;
  clock: Clock;
  logger: Logger;
  instanceId: string;
  databasePath: string;
  ttlMs?: number;
  pollMs?: number;
  waitMs?: number;
  /** Told when a renewal finds the lease another process's (this one stalled past its time): stop. */
  onLost: (holder: string) => void;
  /** Whether a process of this host runs; tests replace it. */
  isRunning?: (pid: number) => boolean;
  sleep?: (ms: number) => Promise<void>;
}

export const SQLITE_OWNER_TTL_MS = 30_000;

export class SqliteOwnedElsewhereError extends Error {
  constructor(
    readonly owner: WorkerLease,
    databasePath: string,
  ) {
    super(
      `another Dealgate process (${owner.holder}) uses the SQLite database at ${databasePath} (DATABASE_PATH) and did not stop: ` +
        'SQLite serves one process; stop the other one, give this one its own DATABASE_PATH, or use PostgreSQL (DATABASE_URL) for several instances',
    );
    this.name = 'SqliteOwnedElsewhereError';
  }
}

const HOST = hostname();

/** The holder this process writes: host, pid and instance id, so that a dead holder of this host is recognised. */
export function ownerHolder(instanceId: string, pid = process.pid, host = HOST): string {
  return `${host}/${pid}/${instanceId}`;
}

function isRunningHere(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it runs under another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** True when `holder` names a process of this host that no longer runs. */
export function holderIsDeadHere(holder: string, isRunning: (pid: number) => boolean = isRunningHere, host = HOST): boolean {
  const [holderHost, pidText] = holder.split('/');
  const pid = Number(pidText);
  if (holderHost !== host || !Number.isInteger(pid) || pid <= 0 || pid === process.pid) return false;
  return !isRunning(pid);
}

async function tryTake(deps: SqliteOwnershipDeps, holder: string, ttlMs: number, isRunning: (pid: number) => boolean): Promise<WorkerLease> {
  const now = deps.clock.now();
  const taken = await deps.leases.acquire(SQLITE_OWNER_LEASE, holder, now, now + ttlMs);
  if (taken) return taken;
  const owner = (await deps.leases.list()).find((lease) => lease.name === SQLITE_OWNER_LEASE);
  if (owner === undefined) return tryTake(deps, holder, ttlMs, isRunning);
  if (holderIsDeadHere(owner.holder, isRunning)) {
    const takenOver = await deps.leases.takeOver(SQLITE_OWNER_LEASE, owner.holder, holder, now, now + ttlMs);
    if (takenOver) {
      deps.logger.warn({ previousOwner: owner.holder }, 'the SQLite database was owned by a process of this host that no longer runs: taken over');
      return takenOver;
    }
  }
  throw new SqliteOwnedElsewhereError(owner, deps.databasePath);
}

/** Takes the database for this process (waiting up to `waitMs` for another live owner to stop) and keeps it. */
export async function takeSqliteOwnership(deps: SqliteOwnershipDeps): Promise<SqliteOwnership> {
  const ttlMs = deps.ttlMs ?? SQLITE_OWNER_TTL_MS;
  const pollMs = deps.pollMs ?? 1_000;
  const waitMs = deps.waitMs ?? 60_000;
  const isRunning = deps.isRunning ?? isRunningHere;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const holder = ownerHolder(deps.instanceId);
  const giveUpAt = deps.clock.now() + waitMs;
  const told = { busy: false, owner: false };
  for (;;) {
    try {
      await tryTake(deps, holder, ttlMs, isRunning);
      break;
    } catch (error) {
      // The owner may hold the write lock past the busy timeout (5 s) while it migrates a large
      // file: that is waited out like the owner itself, not taken for a file that cannot be opened.
      const busy = isBusyError(error);
      if (!(error instanceof SqliteOwnedElsewhereError || busy) || deps.clock.now() >= giveUpAt) throw error;
      if (busy && !told.busy) deps.logger.warn({ waitMs }, 'the SQLite database is locked by another process (migrating it?): waiting for it');
      if (!busy && !told.owner) deps.logger.warn({ owner: (error as SqliteOwnedElsewhereError).owner.holder, waitMs }, 'another Dealgate process uses this SQLite database: waiting for it to stop');
      if (busy) told.busy = true;
      else told.owner = true;
      await sleep(pollMs);
    }
  }
  return keepOwnership(deps, holder, ttlMs);
}

function keepOwnership(deps: SqliteOwnershipDeps, holder: string, ttlMs: number): SqliteOwnership {
  let released = false;
  const renew = async () => {
    const now = deps.clock.now();
    const lease = await deps.leases.acquire(SQLITE_OWNER_LEASE, holder, now, now + ttlMs);
    if (lease || released) return;
    const owner = (await deps.leases.list()).find((l) => l.name === SQLITE_OWNER_LEASE);
    deps.logger.error({ owner: owner?.holder }, 'another process took the SQLite database while this one stalled: this one stops');
    deps.onLost(owner?.holder ?? 'unknown');
  };
  const timer = setInterval(() => {
    renew().catch((error: unknown) => deps.logger.warn({ err: error }, 'renewing the SQLite ownership failed; retried at the next renewal'));
  }, Math.max(1, Math.floor(ttlMs / 3)));
  timer.unref();
  return {
    holder,
    confirm: renew,
    async release() {
      released = true;
      clearInterval(timer);
      await deps.leases.release(SQLITE_OWNER_LEASE, holder);
    },
  };
}

/**
 * Opens the SQLite database at `databasePath` on a connection of its own, without migrating it,
 * and takes it for this process (takeSqliteOwnership); the connection renews the lease until
 * release() gives it up and closes it. Nothing in the file has changed when this throws
 * SqliteOwnedElsewhereError (but the owner lease's table on a file that had none).
 */
export async function ownSqliteDatabase(databasePath: string, deps: Omit<SqliteOwnershipDeps, 'leases' | 'databasePath'>): Promise<SqliteOwnership> {
  const sql = createSqliteSql(openDb(databasePath));
  try {
    const ownership = await takeSqliteOwnership({ ...deps, databasePath, leases: workerLeaseRepository(sql) });
    return {
      holder: ownership.holder,
      confirm: () => ownership.confirm(),
      async release() {
        try {
          await ownership.release();
        } finally {
          await sql.close();
        }
      },
    };
  } catch (error) {
    await sql.close();
    throw error;
  }
}
