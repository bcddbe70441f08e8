import { SWEEPS_LEASE } from '../storage/workerLeaseStore';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { SweepState } from '../storage/sweepStore';
import type { DealSweeps } from '../application/dealSweeps';
import { workerLeaseKeeper, type LeaseKeeper, type WorkerLeaseOptions } from './workerLease';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';

/**
 * Runs the sweeps (application/dealSweeps.ts). Each round enrolls the accounts provisioned since the
 * last one (their install backfill, and a reconciliation watermark from now), then works on every
 * sweep that is due: accounts side by side, one account's sweeps one after the other (its backfill
 * first). It sleeps until the next sweep is due, or until an account is ready for the first time.
 * `stop` lets each sweep finish the page in flight; every stored page is durable.
 *
 * Among instances sharing one database, only the holder of the `sweeps` lease sweeps
 * (workerLease.ts): it renews the lease between pages, and a sweep stops at the next page once the
 * lease is lost; the instance that takes over goes on from the stored cursor.
 */
export interface SweepWorkerDeps extends WorkerLeaseOptions {
  store: Store;
  clock: Clock;
  logger: Logger;
  sweeps: DealSweeps;
  /** 0: no periodic reconciliation (the backfill still runs). */
  reconcileIntervalMs: number;
  idleMs?: number;
}

export interface SweepWorker extends WorkerLoop {
  /** One round, when this instance holds the `sweeps` lease (else nothing); returns the pages it stored. */
  sweepDue(): Promise<number>;
  readonly lease: LeaseKeeper;
  /** The account is provisioned (first contact, or the first since a restart): enroll it now. */
  accountReady(portalId: number): void;
}

export function createSweepWorker(deps: SweepWorkerDeps): SweepWorker {
  const { store, clock, logger, sweeps } = deps;
  const reconcile = deps.reconcileIntervalMs > 0;
  const known = new Set<number>();
  let stopping = false;
  let scheduled = false;
  const idleMs = deps.idleMs ?? 60_000;
  const lease = workerLeaseKeeper(SWEEPS_LEASE, deps, idleMs);

  async function sweepDue(): Promise<number> {
    if (!(await lease.hold())) return 0;
    const now = clock.now();
    if (!scheduled && reconcile) {
      // A pass finished under a longer interval (before a restart) planned the next one by it.
      const moved = await store.sweeps.applyReconcileInterval(deps.reconcileIntervalMs);
      if (moved > 0) logger.info({ accounts: moved, reconcileIntervalMs: deps.reconcileIntervalMs }, 'reconciliations planned under a longer interval brought forward');
    }
    scheduled = true;
    for (const portalId of await store.sweeps.enrollProvisioned(now, now + deps.reconcileIntervalMs)) {
      logger.info({ portalId }, 'account enrolled for sweeps: the install backfill starts');
    }
    const byAccount = new Map<number, SweepState[]>();
    for (const state of await store.sweeps.due(now, { reconcile })) {
      const list = byAccount.get(state.portalId);
      if (list) list.push(state);
      else byAccount.set(state.portalId, [state]);
    }
    const shouldStop = () => stopping || !lease.holding;
    const pages = await Promise.all(
      [...byAccount.values()].map(async (states) => {
        let n = 0;
        for (const state of states.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'backfill' ? -1 : 1))) {
          if (shouldStop()) break;
          n += await sweeps.sweep(state, shouldStop, lease.keep);
        }
        return n;
      }),
    );
    return pages.reduce((a, b) => a + b, 0);
  }

  const loop = createWorkerLoop({
    name: 'sweeps',
    logger,
    idleMs,
    round: sweepDue,
    // A holder wakes in time to renew; a standby asks for the lease again.
    msUntilNextDue: async () => {
      if (!lease.holding) return lease.sleepCapMs;
      const next = await store.sweeps.nextDueAt({ reconcile });
      return next === undefined ? lease.sleepCapMs : Math.min(lease.sleepCapMs, next - clock.now());
    },
  });

  return {
    sweepDue,
    lease,
    accountReady(portalId) {
      if (known.has(portalId)) return;
      known.add(portalId);
      loop.wake();
    },
    get running() {
      return loop.running;
    },
    start() {
      stopping = false;
      loop.start();
    },
    wake: loop.wake,
    async stop() {
      stopping = true;
      await loop.stop();
      await lease.release();
    },
  };
}
