import { cachedPeople, labelOf, labelsOf } from '../application/people';
import type { DeliveryUpdateBody, GateResponse } from '../../../extensions/contract/api';
import { consumedWeeks } from '../domain/capacityLedger';
import { assertMayUpdateDelivery, dayOf, openDelivery, updateDelivery, type DeliveryConsequences } from '../domain/delivery';
import type { Decision } from '../domain/reviewDecision';
import type { Review } from '../domain/reviewLifecycle';
import { invalidRequest, notFound } from '../shared/errors';
import type { DealSnapshot } from '../storage/dealSnapshotStore';
import type { DeliveryRecord } from '../storage/deliveryStore';
import type { Store } from '../storage/store';
import { effectiveSettings, type Caller, type GateContext } from './context';
import { loadDeal, refreshDeal } from './dealFacts';
import {
  TASK_DUE_MS,
  completeOwnerTask,
  deliveredNote,
  handoverNote,
  handoverTask,
  noteOnDeal,
  ownerTaskCause,
  projectDelivery,
  slipNote,
  slipTask,
  taskOnDeal,
} from './deliveryEffects';
import { buildGateResponse } from './gateView';

/**
 * Engineering's side of the bargain (issue 14), as use cases: a yes or yes-but opens a delivery
 * (inside decide's transaction), and its owner, a reviewer or an admin moves it on from the card
 * (deliverySettlement.ts settles the ones the ledger releases). Each writes its history, an audit
 * entry and its HubSpot effects in the one transaction of the change.
 */

/** In decide's transaction: the approval of `review` becomes a planned delivery owned by the deciding reviewer. */
export async function openDeliveryForApproval(store: Store, portalId: number, review: Review, decision: Decision): Promise<void> {
  if (decision.outcome === 'no' || (await store.deliveries.get(portalId, review.id))) return;
  const delivery: DeliveryRecord = {
    ...openDelivery({
      reviewId: review.id,
      decidedBy: decision.decidedBy,
      decidedAt: decision.decidedAt,
      neededBy: review.neededBy,
      weeks: consumedWeeks(review.effortWeeks, decision.extraWeeks),
    }),
    dealId: review.dealId,
    overdueNotedAt: null,
  };
  await store.deliveries.insert(portalId, delivery, decision.decidedAt);
  await store.audit.append(portalId, {
    dealId: review.dealId,
    reviewId: review.id,
    action: 'delivery_opened',
    actor: decision.decidedBy,
    fromStatus: null,
    toStatus: delivery.status,
    reason: `promised for ${delivery.promisedDate}, owned by ${await labelOf(store, portalId, delivery.ownerUserId)}`,
    details: { promisedDate: delivery.promisedDate, ownerUserId: delivery.ownerUserId },
    at: decision.decidedAt,
  });
  await projectDelivery(store, portalId, review.dealId, delivery, decision.decidedAt);
}

function deliveryOrNotFound(delivery: DeliveryRecord | undefined, reviewId: number): DeliveryRecord {
  if (!delivery) throw notFound(`review ${reviewId} has no delivery: only a yes or yes-but answer opens one`);
  return delivery;
}

/** The notes and task an update causes, each once (keyed by what it is about). */
async function enqueueConsequences(
  store: Store,
  portalId: number,
  context: { review: Review; before: DeliveryRecord; after: DeliveryRecord; consequences: DeliveryConsequences; by: string; at: number; dealOwnerId: string | null; dealName: string | null },
): Promise<void> {
  const { review, after, consequences, at } = context;
  const label = await labelsOf(store, portalId, [context.by, context.before.ownerUserId, ...(consequences.reassignedTo === null ? [] : [consequences.reassignedTo])]);
  const by = label(context.by);
  const key = `delivery:${review.id}`;
  if (consequences.slipped) {
    const slip = consequences.slipped;
    // Keyed by the change (its place in the history): a second slip is told too, a replayed one is not.
    const change = `${key}:change:${after.history.length}:slip`;
    await noteOnDeal(store, portalId, review.dealId, slipNote(review, slip, by), `${change}:note`, at);
    const task = slipTask(review, context.dealName, slip);
    await taskOnDeal(store, portalId, review.dealId, { ...task, ownerId: context.dealOwnerId, ownerUserId: null, dueAt: at + TASK_DUE_MS }, `${change}:task`, at);
  }
  // The task of the last handover is moot once the delivery moves to someone else or is delivered.
  if (consequences.delivered || consequences.reassignedTo !== null) await completeOwnerTask(store, portalId, review.dealId, review.id, context.before.history, at);
  if (consequences.delivered) {
    await noteOnDeal(store, portalId, review.dealId, deliveredNote(review, after, dayOf(at), by), `${key}:delivered:note`, at);
  } else if (consequences.reassignedTo !== null) {
    await tellHandover(store, portalId, { ...context, to: consequences.reassignedTo, label });
  }
  await projectDelivery(store, portalId, review.dealId, after, at);
}

/**
 * A new owner (not in an update that delivers it): the rep reads on the deal who owns the
 * commitment now, and the new owner gets a task, unless they took it over themselves.
 */
async function tellHandover(
  store: Store,
  portalId: number,
  context: { review: Review; before: DeliveryRecord; after: DeliveryRecord; by: string; to: string; at: number; dealName: string | null; label: (userId: string) => string },
): Promise<void> {
  const { review, after, at, label } = context;
  const change = `delivery:${review.id}:change:${after.history.length}:handover`;
  const names = { from: label(context.before.ownerUserId), to: label(context.to), by: label(context.by) };
  await noteOnDeal(store, portalId, review.dealId, handoverNote(review, after, names, context.to === context.by), `${change}:note`, at);
  if (context.to === context.by) return;
  const task = handoverTask(review, context.dealName, after, names.by);
  // Its own cause, so that the next handover or the delivery's end completes it (completeOwnerTask).
  await taskOnDeal(store, portalId, review.dealId, { ...task, ownerUserId: context.to, ownerId: null, dueAt: at + TASK_DUE_MS }, `${change}:task`, at, ownerTaskCause(review.id, after.history.length));
}

/**
 * A slip gives the deal's owner a task, and HubSpot sends no webhook when a deal is reassigned: the
 * owner is read from HubSpot before the transaction. Should HubSpot not answer, the slip is still
 * recorded, with the task for the owner Dealgate last saw.
 */
async function dealWithCurrentOwner(ctx: GateContext, portalId: number, dealId: string): Promise<{ snapshot: DealSnapshot; source: 'snapshot' | 'hubspot' }> {
  try {
    return { snapshot: await refreshDeal(ctx, portalId, dealId), source: 'hubspot' };
  } catch (error) {
    ctx.logger.warn({ err: error, portalId, dealId }, "a slip's task goes to the deal owner Dealgate last saw: HubSpot did not answer the read of the deal");
    return await loadDeal(ctx, portalId, dealId);
  }
}

/** POST /reviews/:reviewId/delivery: the owner, a reviewer or an admin moves the delivery on. */
export async function updateDeliveryFromCard(ctx: GateContext, caller: Caller, reviewId: number, body: DeliveryUpdateBody): Promise<GateResponse> {
  const { store } = ctx;
  const { portalId, userId } = caller;
  const found = await store.reviews.get(portalId, reviewId);
  if (!found) throw notFound(`review ${reviewId} does not exist in this account`);
  const held = deliveryOrNotFound(await store.deliveries.get(portalId, reviewId), reviewId);
  // Refusals name the owner and a new owner as the account's cached people do.
  const namesFor = (delivery: DeliveryRecord) => labelsOf(store, portalId, [delivery.ownerUserId, ...(body.ownerUserId === undefined ? [] : [body.ownerUserId])]);
  const label = await namesFor(held);
  // Handing it to someone deactivated is refused; naming the current owner again changes nothing, and is not.
  if (body.ownerUserId !== undefined && body.ownerUserId !== held.ownerUserId && (await cachedPeople(store, portalId, [body.ownerUserId])).isDeactivated(body.ownerUserId)) {
    const message = `${label(body.ownerUserId)} has been deactivated in HubSpot; hand the delivery to an engineer who is still a user of the account`;
    throw invalidRequest(`ownerUserId: ${message}`, { issues: [{ path: 'ownerUserId', message }] });
  }
  // Refused before HubSpot is asked anything (checked again, on the delivery as it then is, in the transaction).
  const rules = { by: userId, at: ctx.clock.now(), settings: (await effectiveSettings(ctx, portalId)).settings, label };
  assertMayUpdateDelivery(held, userId, rules.settings, label);
  const slipping = updateDelivery(held, body, rules).consequences.slipped !== null;
  const { snapshot, source } = slipping ? await dealWithCurrentOwner(ctx, portalId, found.dealId) : await loadDeal(ctx, portalId, found.dealId);
  await store.transaction(async () => {
    // One writer of the deal's delivery at a time (PostgreSQL; SQLite runs one transaction at a
    // time): two slips at once took the same history place, and so one slip's note and task.
    await store.deals.lockForChange(portalId, found.dealId);
    const at = ctx.clock.now();
    const review = (await store.reviews.get(portalId, reviewId)) ?? found;
    const before = deliveryOrNotFound(await store.deliveries.get(portalId, reviewId), reviewId);
    const { settings } = await effectiveSettings(ctx, portalId);
    const labelNow = await namesFor(before);
    assertMayUpdateDelivery(before, userId, settings, labelNow);
    const { delivery, consequences } = updateDelivery(before, body, { by: userId, at, settings, label: labelNow });
    const change = delivery.history.at(-1);
    if (!change) throw new Error(`the update of review ${reviewId}'s delivery left no history entry`);
    // A new promised date may be missed in its turn: its overdue note is owed again.
    const after: DeliveryRecord = { ...before, ...delivery, ...(delivery.promisedDate !== before.promisedDate ? { overdueNotedAt: null } : {}) };
    await store.deliveries.save(portalId, after, change);
    await store.audit.append(portalId, {
      dealId: review.dealId,
      reviewId,
      action: consequences.slipped ? 'delivery_slipped' : consequences.delivered ? 'delivery_delivered' : 'delivery_updated',
      actor: userId,
      fromStatus: before.status,
      toStatus: after.status,
      reason: change.reason,
      details: { promisedDate: after.promisedDate, previousPromisedDate: before.promisedDate, ownerUserId: after.ownerUserId, workItemUrl: after.workItemUrl },
      at,
    });
    await enqueueConsequences(store, portalId, { review, before, after, consequences, by: userId, at, dealOwnerId: snapshot.ownerId, dealName: snapshot.name });
  });
  const now = await store.deals.get(portalId, found.dealId);
  return await buildGateResponse(ctx, caller, now ?? snapshot, source);
}
