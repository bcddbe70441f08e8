import { refreshPeopleIfStale } from '../application/people';
import type { HubSpotGateway } from '../hubspot/gateway';
import { permitOutsidePause, type RateGovernor } from '../hubspot/rateGovernor';
import { SLA_LEASE } from '../storage/workerLeaseStore';
import type { Clock } from '../shared/clock';
import type { AccountDefaults } from '../config/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { noteOverdueDeliveries } from '../application/overdueDeliveries';
import { escalateReview } from '../application/slaEscalation';
import { endBreakGlasses } from '../application/breakGlassExpiry';
import { remindAndEscalateToAdmins } from '../application/reviewReminders';
import { workerLeaseKeeper, type LeaseKeeper, type WorkerLeaseOptions } from './workerLease';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';

/**
 * The SLA clock: a review still waiting past its due time becomes `overdue` and is escalated,
 * once: a task for the account's escalation reviewer, a note on the deal, and the status projected
 * as overdue. `escalated_at` is claimed by a conditional update in the same transaction as those
 * effects, so a review is escalated exactly once however often, on however many restarts, or on
 * however many instances at once the worker runs. Among instances sharing one database, only the
 * holder of the `sla` lease runs its passes, the overdue deliveries' included (workerLease.ts);
 * the claim covers the moments when two believe they hold it. The escalation task belongs to the review (cause `review:<id>`): it is
 * completed with the reviewers' tasks when the review is decided or withdrawn (completeReviewTasks).
 */
export interface SlaWorkerDeps extends WorkerLeaseOptions {
  store: Store;
  /** Injected: tests move it past a due time. */
  clock: Clock;
  logger: Logger;
  defaults: AccountDefaults;
  /** How often to look for reviews past due. */
  intervalMs?: number;
  /** Escalations wrote outbox rows: the outbox worker can start now. */
  onEffects?: () => void;
  /** To read the account's people (names in the escalation notes) when stale, before an escalation's transaction, drawing a permit; without it the cached names serve. */
  people?: { gateway: HubSpotGateway; governor: Pick<RateGovernor, 'acquire' | 'pauseRemainingMs'> };
}

export interface SlaWorker extends WorkerLoop {
  /** One pass over every account, when this instance holds the `sla` lease (else nothing); returns how many reviews it escalated. */
  escalateOverdue(): Promise<number>;
  /** The loop's whole round: the escalations, then (while holding the lease) the overdue deliveries, the ended break-glasses, the reminders and the escalations to the admins. */
  runRound(): Promise<void>;
  readonly lease: LeaseKeeper;
}

/**
 * Reads an account's people when stale (outside any transaction, drawing a permit) before a
 * transaction whose notes and tasks name them; without `people` the cached names serve.
 */
function namesReader(deps: SlaWorkerDeps): ((portalId: number) => Promise<void>) | undefined {
  const people = deps.people;
  if (!people) return undefined;
  return (portalId) => refreshPeopleIfStale({ ...deps, gateway: people.gateway }, portalId, () => permitOutsidePause(people.governor, portalId));
}

export function createSlaWorker(deps: SlaWorkerDeps): SlaWorker {
  const { store, clock, logger } = deps;
  const intervalMs = deps.intervalMs ?? 60_000;
  const lease = workerLeaseKeeper(SLA_LEASE, deps, intervalMs);
  const freshNames = namesReader(deps);
  const passDeps = { store, clock, logger, defaults: deps.defaults, ...(freshNames ? { freshNames } : {}) };

  async function escalateOverdue(): Promise<number> {
    if (!(await lease.hold())) return 0;
    const now = clock.now();
    let escalated = 0;
    for (const due of await store.reviews.dueForEscalation(now)) {
      if (!(await lease.keep())) break;
      try {
        await freshNames?.(due.portalId);
        if (await escalateReview(deps, due.portalId, due.reviewId)) escalated += 1;
      } catch (error) {
        logger.error({ err: error, portalId: due.portalId, reviewId: due.reviewId }, 'escalating an overdue review failed; trying again next pass');
      }
    }
    if (escalated > 0) deps.onEffects?.();
    return escalated;
  }

  async function runRound(): Promise<void> {
    await escalateOverdue();
    // The overdue deliveries are the sla lease's work too: only its holder notes them.
    if (lease.holding && (await noteOverdueDeliveries(passDeps)) > 0) deps.onEffects?.();
    // So are the break-glasses whose box closed (issue 15): their deals go back to enforcement.
    if (lease.holding && (await endBreakGlasses({ store, clock, logger, defaults: deps.defaults })) > 0) deps.onEffects?.();
    // Reminders before the due time, and the second escalation level (issue 15): the lease's work too.
    if (lease.holding && (await remindAndEscalateToAdmins(passDeps, () => lease.keep())) > 0) deps.onEffects?.();
  }

  const loop = createWorkerLoop({
    name: 'sla',
    logger,
    idleMs: intervalMs,
    // One pass per interval: escalations are few, and a pass that found some is not repeated at once.
    round: async () => {
      await runRound();
      return 0;
    },
    // A holder wakes in time to renew; a standby asks for the lease again.
    msUntilNextDue: () => Promise.resolve(lease.sleepCapMs),
  });

  return {
    escalateOverdue,
    runRound,
    lease,
    get running() {
      return loop.running;
    },
    start: loop.start,
    wake: loop.wake,
    async stop() {
      await loop.stop();
      await lease.release();
    },
  };
}
