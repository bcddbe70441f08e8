import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';

/**
 * One instance's side of a worker lease (storage/workerLeaseStore.ts): the SLA and sweep workers
 * do a round only while they hold theirs, so that among the instances sharing one database the
 * work runs once.
 *
 * Timings: the holder renews at the start of every round, and during a long round whenever a
 * third of the lease time has gone by (`keep`, between a sweep's pages and between escalations).
 * Its loop never sleeps longer than a third of the lease time, so a lease outlives the gap
 * between two renewals threefold. A clean stop releases it: a standby, which asks every
 * `standbyPollMs`, takes over at its next ask. A holder that dies without releasing (SIGKILL, a
 * lost host) is replaced once its lease has expired: within `ttlMs` plus one standby poll.
 */
export interface LeaseKeeper {
  readonly name: string;
  /** Takes the lease, or renews it; true while this instance holds it. */
  hold(): Promise<boolean>;
  /** In a long round: renews once a third of the lease time has passed; false once the lease is lost (stop the round). */
  keep(): Promise<boolean>;
  /**
   * Whether the last take or renewal succeeded (it is renewed before a third of its time has
   * passed; a round that waits longer, on HubSpot's limits say, goes on: at worst another
   * instance took over meanwhile and both store the same page, which the inbox deduplicates).
   */
  readonly holding: boolean;
  /** Gives the lease up at a clean stop, so that a standby takes over without waiting for it to expire. */
  release(): Promise<void>;
  /** How long the worker's loop may sleep: a third of the lease time while holding (so it renews in time), else the standby poll. */
  readonly sleepCapMs: number;
}

export interface LeaseKeeperDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  name: string;
  /** This instance (config.instanceId). */
  holder: string;
  ttlMs: number;
  standbyPollMs?: number;
}

/** A standby instance asks for a free lease this often (a clean stop of the holder is noticed this fast). */
export const LEASE_STANDBY_POLL_MS = 5_000;

/**
 * The shortest lease a worker gets by default (three of its intervals, but not less than this): a
 * round may wait on HubSpot's limits, or pause for a long garbage collection, for seconds.
 */
export const MIN_LEASE_TTL_MS = 30_000;

/** A worker's default lease time: three of its intervals, at least MIN_LEASE_TTL_MS. */
export function defaultLeaseTtlMs(intervalMs: number): number {
  return Math.max(MIN_LEASE_TTL_MS, 3 * intervalMs);
}

export function createLeaseKeeper(deps: LeaseKeeperDeps): LeaseKeeper {
  const { store, clock, logger, name, holder, ttlMs } = deps;
  if (!(ttlMs > 0)) throw new Error(`the ${name} lease needs a positive lease time, not ${ttlMs} ms`);
  const standbyPollMs = deps.standbyPollMs ?? LEASE_STANDBY_POLL_MS;
  let renewedAt = 0;
  let held = false;
  let renewing: Promise<boolean> | undefined;

  async function hold(): Promise<boolean> {
    const now = clock.now();
    const lease = await store.workerLeases.acquire(name, holder, now, now + ttlMs);
    const wasHeld = held;
    held = lease !== undefined;
    if (lease) {
      renewedAt = now;
      if (!wasHeld) logger.info({ lease: name, holder, until: new Date(lease.expiresAt).toISOString() }, `this instance took the ${name} lease: it runs the ${name} work`);
    } else if (wasHeld) {
      logger.warn({ lease: name, holder }, `the ${name} lease went to another instance: this one stops its ${name} work`);
    }
    return held;
  }

  return {
    name,
    hold,
    keep() {
      if (held && clock.now() - renewedAt < ttlMs / 3) return Promise.resolve(true);
      // Sweeps of several accounts ask at once: one renewal answers them all.
      renewing ??= hold()
        .catch((error: unknown) => {
          // Unconfirmed is as good as lost: the round stops, the next one asks again.
          logger.warn({ err: error, lease: name }, `could not renew the ${name} lease; stopping the round`);
          held = false;
          return false;
        })
        .finally(() => {
          renewing = undefined;
        });
      return renewing;
    },
    get holding() {
      return held;
    },
    async release() {
      if (!held) return;
      held = false;
      try {
        await store.workerLeases.release(name, holder);
      } catch (error) {
        logger.warn({ err: error, lease: name }, `could not release the ${name} lease; another instance takes it when it expires`);
      }
    },
    get sleepCapMs() {
      return held ? Math.max(1, Math.floor(ttlMs / 3)) : standbyPollMs;
    },
  };
}

/** What the SLA and sweep workers are given for their lease (BackgroundOptions.leases, config.instanceId). */
export interface WorkerLeaseOptions {
  /** This instance (config.instanceId): the holder of the worker's lease while it does the work. */
  instanceId: string;
  /** How long the lease lasts without renewal. Default defaultLeaseTtlMs(the worker's interval). */
  leaseTtlMs?: number;
  /** How often a standby instance asks for the lease. Default LEASE_STANDBY_POLL_MS. */
  leaseStandbyPollMs?: number;
}

/** The lease `name` of a worker that sleeps up to `intervalMs` between rounds. */
export function workerLeaseKeeper(name: string, deps: WorkerLeaseOptions & Pick<LeaseKeeperDeps, 'store' | 'clock' | 'logger'>, intervalMs: number): LeaseKeeper {
  return createLeaseKeeper({
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    name,
    holder: deps.instanceId,
    ttlMs: deps.leaseTtlMs ?? defaultLeaseTtlMs(intervalMs),
    ...(deps.leaseStandbyPollMs !== undefined ? { standbyPollMs: deps.leaseStandbyPollMs } : {}),
  });
}
