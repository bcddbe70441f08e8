import { cachedPeople, refreshPeopleIfStale } from '../application/people';
import type { HubSpotGateway } from '../hubspot/gateway';
import type { RateGovernor } from './rateGovernor';
import type { Clock } from '../clock';
import type { AccountDefaults } from '../config/config';
import type { Logger } from '../logger';
import type { Store } from '../storage/store';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { transition, type Review } from '../domain/reviewLifecycle';
import { isPastDue } from '../domain/sla';
import { effectiveSettings } from '../gate/context';
import { escapeHtml, projectStatus } from '../gate/dealEffects';
import { enqueueEffect, reviewCause } from '../outbox/effects';
import { noteOverdueDeliveries } from '../gate/overdueDeliveries';
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
  people?: { gateway: HubSpotGateway; governor: Pick<RateGovernor, 'acquire'> };
}

export interface SlaWorker extends WorkerLoop {
  /** One pass over every account, when this instance holds the `sla` lease (else nothing); returns how many reviews it escalated. */
  escalateOverdue(): Promise<number>;
  readonly lease: LeaseKeeper;
}

export const SLA_LEASE = 'sla';

/** `escalationName`: the escalation reviewer as people read them (null: none set). */
function overdueNote(review: Review, escalationName: string | null): string {
  const who = escalationName !== null ? `It was escalated to ${escapeHtml(escalationName)}.` : 'No escalation reviewer is set in Dealgate\'s settings, so nobody was assigned.';
  return (
    `<p><strong>Dealgate technical review #${review.id} is overdue</strong>: it was due ${new Date(review.dueAt).toISOString()} and has no answer yet.</p>` +
    `<p>${who} The deal stays before the gate until a reviewer answers on the Dealgate card.</p>`
  );
}

/** Escalates one review if it is still due for it; true when it did. */
async function escalateReview(deps: Pick<SlaWorkerDeps, 'store' | 'clock' | 'logger' | 'defaults'>, portalId: number, reviewId: number): Promise<boolean> {
  const { store, clock, logger } = deps;
  const ctx = { store, clock, defaults: deps.defaults };
  return await store.transaction(async () => {
    const now = clock.now();
    // The deal first, as the card's decision and enforcement lock it (deals.lockForChange): on
    // PostgreSQL a decision committing meanwhile would otherwise write its earlier copy of the
    // review over the escalation (its escalated_at lost), or the escalation over the decision.
    const waiting = await store.reviews.get(portalId, reviewId);
    if (!waiting) return false;
    await store.deals.lockForChange(portalId, waiting.dealId);
    // The claim is the transaction's first write, a conditional update: when two instances
    // escalate at once (leases overlap at their edges), one of them records the escalation and
    // the other finds it done, on PostgreSQL after waiting for the first one's row lock.
    if (!(await store.reviews.claimEscalation(portalId, reviewId, now))) return false;
    const review = await store.reviews.get(portalId, reviewId);
    if (!review || !isPastDue(review, now)) throw new Error(`review ${reviewId} of account ${portalId} was claimed for escalation but is not waiting past its due time`);
    let updated = review;
    const reason = `no answer within the SLA (due ${new Date(review.dueAt).toISOString()})`;
    if (review.status === 'pending') {
      const moved = transition(review, 'mark_overdue', 'overdue', { actor: SYSTEM_ACTOR, at: now, reason });
      await store.audit.append(portalId, moved.audit);
      updated = moved.review;
    }
    updated = { ...updated, escalatedAt: now, updatedAt: now };
    await store.reviews.update(portalId, updated);

    const { settings } = await effectiveSettings(ctx, portalId);
    const escalationReviewer = settings.escalationReviewer;
    const dealName = (await store.deals.get(portalId, review.dealId))?.name ?? null;
    const key = `review:${review.id}:escalation`;
    const people = await cachedPeople(store, portalId, [review.requestedBy, ...(escalationReviewer ? [escalationReviewer] : [])]);
    if (escalationReviewer) {
      await enqueueEffect(
        store.outbox,
        {
          portalId,
          dealId: review.dealId,
          effect: {
            kind: 'create_task',
            payload: {
              subject: `Overdue technical review #${review.id}: ${dealName ?? `deal ${review.dealId}`}`,
              body:
                `<p>This technical review is past its SLA and was escalated to you. Answer it from the Dealgate card on the deal.</p>` +
                `<p>Commitment: ${escapeHtml(review.summary)} (${review.effortWeeks} engineer-weeks). Requested by ${escapeHtml(people.label(review.requestedBy))}.</p>`,
              ownerUserId: escalationReviewer,
              dueAt: now + 24 * 60 * 60 * 1000,
            },
          },
          dedupeKey: `${key}:task`,
          // Completed with the review's other tasks when it is answered or withdrawn.
          cause: reviewCause(review.id),
        },
        now,
      );
    }
    await enqueueEffect(
      store.outbox,
      { portalId, dealId: review.dealId, effect: { kind: 'create_note', payload: { body: overdueNote(review, escalationReviewer ? people.label(escalationReviewer) : null) } }, dedupeKey: `${key}:note` },
      now,
    );
    await projectStatus(store, portalId, review.dealId, 'overdue', undefined, now);
    await store.audit.append(portalId, {
      dealId: review.dealId,
      reviewId: review.id,
      action: 'review_escalated',
      actor: SYSTEM_ACTOR,
      fromStatus: review.status,
      toStatus: 'overdue',
      reason,
      details: { escalationReviewer },
      at: now,
    });
    logger.info({ portalId, reviewId: review.id, dealId: review.dealId, escalationReviewer }, 'overdue review escalated');
    return true;
  });
}

export function createSlaWorker(deps: SlaWorkerDeps): SlaWorker {
  const { store, clock, logger } = deps;
  const intervalMs = deps.intervalMs ?? 60_000;
  const lease = workerLeaseKeeper(SLA_LEASE, deps, intervalMs);

  async function escalateOverdue(): Promise<number> {
    if (!(await lease.hold())) return 0;
    const now = clock.now();
    let escalated = 0;
    for (const due of await store.reviews.dueForEscalation(now)) {
      if (!(await lease.keep())) break;
      try {
        const people = deps.people;
        if (people) await refreshPeopleIfStale({ ...deps, gateway: people.gateway }, due.portalId, async () => void (await people.governor.acquire(due.portalId)));
        if (await escalateReview(deps, due.portalId, due.reviewId)) escalated += 1;
      } catch (error) {
        logger.error({ err: error, portalId: due.portalId, reviewId: due.reviewId }, 'escalating an overdue review failed; trying again next pass');
      }
    }
    if (escalated > 0) deps.onEffects?.();
    return escalated;
  }

  const loop = createWorkerLoop({
    name: 'sla',
    logger,
    idleMs: intervalMs,
    // One pass per interval: escalations are few, and a pass that found some is not repeated at once.
    round: async () => {
      await escalateOverdue();
      // The overdue deliveries are the sla lease's work too: only its holder notes them.
      if (lease.holding && (await noteOverdueDeliveries({ store, clock, logger, defaults: deps.defaults })) > 0) deps.onEffects?.();
      return 0;
    },
    // A holder wakes in time to renew; a standby asks for the lease again.
    msUntilNextDue: () => Promise.resolve(lease.sleepCapMs),
  });

  return {
    escalateOverdue,
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
