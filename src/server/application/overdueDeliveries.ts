import type { Clock } from '../shared/clock';
import { cachedPeople } from './people';
import type { AccountDefaults } from '../config/config';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { dayOf, isOverdue } from '../domain/delivery';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { effectiveSettings } from './context';
import { absencesInForce, escalationCover } from './delegation';
import { TASK_DUE_MS, noteOnDeal, overdueDeliveryNote, overdueDeliveryTask, taskOnDeal } from './deliveryEffects';

/**
 * A promised date passing undelivered (issue 14): the delivery is marked overdue-noted, a note on
 * the deal says so and the account's escalation reviewer (or their cover while away) gets a task, once each. The mark is set in
 * the transaction of the effects (and only if no other round set it first), so however often the
 * SLA worker's round runs, on however many instances, each delivery is noted once.
 */
export interface OverdueDeliveriesDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  defaults: AccountDefaults;
  /** Reads the account's people when stale, before the transaction whose note and task name them (the SLA worker's); without it the cached names serve. */
  freshNames?: (portalId: number) => Promise<void>;
}

/** At most this many per round; the next round takes the rest. */
const PER_ROUND = 100;

async function noteOne(deps: OverdueDeliveriesDeps, portalId: number, reviewId: number): Promise<boolean> {
  const { store, clock } = deps;
  return await store.transaction(async () => {
    const now = clock.now();
    const held = await store.deliveries.get(portalId, reviewId);
    if (!held) return false;
    // The deal's writers one at a time, as the card's update and decision take it (PostgreSQL).
    await store.deals.lockForChange(portalId, held.dealId);
    const delivery = await store.deliveries.get(portalId, reviewId);
    const review = await store.reviews.get(portalId, reviewId);
    if (!delivery || !review || delivery.overdueNotedAt !== null || !isOverdue(delivery, now)) return false;
    if (!(await store.deliveries.markOverdueNoted(portalId, reviewId, now))) return false;
    const { settings } = await effectiveSettings(deps, portalId);
    // The escalation reviewer, or whoever covers for them while they are away.
    const escalationReviewer = escalationCover(settings, await absencesInForce(store, portalId, now, settings));
    const dealName = (await store.deals.get(portalId, delivery.dealId))?.name ?? null;
    // Once per promised date: a slip to a new date that is missed too is noted again.
    const key = `delivery:${reviewId}:overdue:${delivery.promisedDate}`;
    const people = await cachedPeople(store, portalId, [delivery.ownerUserId, ...(escalationReviewer === null ? [] : [escalationReviewer])]);
    // An owner who has left the account is named as such: the escalation reviewer has a new owner to find.
    const owner = people.isDeactivated(delivery.ownerUserId) ? `${people.label(delivery.ownerUserId)} (deactivated in HubSpot: it needs a new owner)` : people.label(delivery.ownerUserId);
    const names = { owner, escalation: escalationReviewer === null ? null : people.label(escalationReviewer) };
    await noteOnDeal(store, portalId, delivery.dealId, overdueDeliveryNote(review, delivery, names), `${key}:note`, now);
    if (escalationReviewer !== null) {
      const task = overdueDeliveryTask(review, dealName, delivery, names.owner);
      await taskOnDeal(store, portalId, delivery.dealId, { ...task, ownerUserId: escalationReviewer, ownerId: null, dueAt: now + TASK_DUE_MS }, `${key}:task`, now);
    }
    await store.audit.append(portalId, {
      dealId: delivery.dealId,
      reviewId,
      action: 'delivery_overdue',
      actor: SYSTEM_ACTOR,
      fromStatus: delivery.status,
      toStatus: delivery.status,
      reason: `promised for ${delivery.promisedDate} and not delivered`,
      details: { promisedDate: delivery.promisedDate, escalationReviewer },
      at: now,
    });
    return true;
  });
}

/** One pass over every account; returns how many deliveries it noted as overdue. */
export async function noteOverdueDeliveries(deps: OverdueDeliveriesDeps): Promise<number> {
  const today = dayOf(deps.clock.now());
  let noted = 0;
  for (const due of await deps.store.deliveries.dueForOverdueNote(today, PER_ROUND)) {
    try {
      await deps.freshNames?.(due.portalId);
      if (await noteOne(deps, due.portalId, due.reviewId)) noted += 1;
    } catch (error) {
      deps.logger.error({ err: error, portalId: due.portalId, reviewId: due.reviewId }, 'noting an overdue delivery failed; trying again next round');
    }
  }
  return noted;
}
