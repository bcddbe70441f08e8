import type { SqlSession } from './sql';

/**
 * Leases on the work that must run on one instance at a time among those sharing the database
 * (migration 14): the SLA escalation (`sla`) and the sweeps of HubSpot (`sweeps`). One row per
 * lease, naming its holder (an instance id, DEALGATE_INSTANCE_ID) and until when it holds.
 *
 * A lease is taken only when it is free, expired, or already the caller's (then it is renewed),
 * in one statement (an upsert whose update is conditional), so two instances asking at the same
 * moment cannot both get it: on PostgreSQL the conflicting insert waits for the other's row lock
 * and then sees its holder; on SQLite writes run one at a time. Times are the instances' clocks
 * (epoch ms), which must agree within a small part of a lease's time (NTP does that).
 */
/** The leases of the work that runs on one instance at a time (workers/slaWorker.ts, workers/sweepWorker.ts). */
export const SLA_LEASE = 'sla';
export const SWEEPS_LEASE = 'sweeps';
/** Held by the one process that may use a SQLite database (workers/sqliteOwnership.ts). */
export const SQLITE_OWNER_LEASE = 'sqlite-owner';

export interface WorkerLease {
  name: string;
  holder: string;
  /** When this holder took it (renewals keep it). */
  acquiredAt: number;
  renewedAt: number;
  expiresAt: number;
}

export interface WorkerLeaseRepository {
  /**
   * Takes the lease `name` for `holder` until `expiresAt`, or renews it when `holder` has it
   * already; undefined when another holder has it and it has not expired at `now`.
   */
  acquire(name: string, holder: string, now: number, expiresAt: number): Promise<WorkerLease | undefined>;
  /** Gives the lease up (only the holder's own); true when it was held by `holder`. */
  release(name: string, holder: string): Promise<boolean>;
  /**
   * Takes the lease from `fromHolder`, whatever its expiry, for `holder` until `expiresAt`: for a
   * holder known to be dead (a process of this host that no longer runs). Undefined when the lease
   * is no longer `fromHolder`'s.
   */
  takeOver(name: string, fromHolder: string, holder: string, now: number, expiresAt: number): Promise<WorkerLease | undefined>;
  /** Every lease row (expired ones too: their holder stopped renewing and nobody took over yet), by name. */
  list(): Promise<WorkerLease[]>;
}

interface LeaseRow {
  name: string;
  holder: string;
  acquired_at: number;
  renewed_at: number;
  expires_at: number;
}

// The update of an existing row happens only when it is the caller's or has expired; otherwise
// nothing is written and RETURNING answers no row. A new holder's acquired_at is now; a renewal
// keeps the first one.
const acquire = `INSERT INTO worker_leases (name, holder, acquired_at, renewed_at, expires_at) VALUES (?, ?, ?, ?, ?)
    ON CONFLICT (name) DO UPDATE SET
      acquired_at = CASE WHEN worker_leases.holder = excluded.holder THEN worker_leases.acquired_at ELSE excluded.acquired_at END,
      holder = excluded.holder, renewed_at = excluded.renewed_at, expires_at = excluded.expires_at
    WHERE worker_leases.holder = excluded.holder OR worker_leases.expires_at <= excluded.renewed_at
    RETURNING name, holder, acquired_at, renewed_at, expires_at`;
const release = 'DELETE FROM worker_leases WHERE name = ? AND holder = ?';
const takeOver = `UPDATE worker_leases SET holder = ?, acquired_at = ?, renewed_at = ?, expires_at = ? WHERE name = ? AND holder = ?
    RETURNING name, holder, acquired_at, renewed_at, expires_at`;
const list = 'SELECT name, holder, acquired_at, renewed_at, expires_at FROM worker_leases ORDER BY name';

const toLease = (row: LeaseRow): WorkerLease => ({ name: row.name, holder: row.holder, acquiredAt: row.acquired_at, renewedAt: row.renewed_at, expiresAt: row.expires_at });

export function workerLeaseRepository(sql: SqlSession): WorkerLeaseRepository {
  return {
    async acquire(name, holder, now, expiresAt) {
      if (!(expiresAt > now)) throw new Error(`a lease must end after it is taken (lease ${name}: expiresAt ${expiresAt} is not after now ${now})`);
      const row = await sql.get<LeaseRow>(acquire, [name, holder, now, now, expiresAt]);
      return row ? toLease(row) : undefined;
    },
    async release(name, holder) {
      return (await sql.run(release, [name, holder])).changes > 0;
    },
    async takeOver(name, fromHolder, holder, now, expiresAt) {
      const row = await sql.get<LeaseRow>(takeOver, [holder, now, now, expiresAt, name, fromHolder]);
      return row ? toLease(row) : undefined;
    },
    async list() {
      return (await sql.all<LeaseRow>(list)).map(toLease);
    },
  };
}
