import { deprioritizeDelivery } from '../domain/delivery';
import type { Review } from '../domain/reviewLifecycle';
import { enqueueEffect } from '../storage/outboxStore';
import type { Store } from '../storage/store';
import { clearedDeliveryProperties, completeOwnerTask, deprioritizedDeliveryReason, projectDelivery } from './deliveryEffects';

/**
 * A delivery the capacity ledger no longer books is settled as `deprioritized` (counted neither as
 * late nor as delivered), in the transaction that released its weeks: a reviewer deprioritized it
 * for another approval, or the approval stopped covering its deal (the commitment changed, the
 * amount outgrew it) and its booking was released. History by `system`, with the reason.
 */
async function settle(store: Store, portalId: number, review: Pick<Review, 'id' | 'dealId'>, reason: string, at: number): Promise<boolean> {
  const current = await store.deliveries.get(portalId, review.id);
  if (!current) return false;
  const settled = deprioritizeDelivery(current, { at, reason });
  const change = settled.history.at(-1);
  if (settled === current || !change) return false;
  await store.deliveries.save(portalId, { ...current, ...settled }, change);
  // Settled: the task a handover gave its owner is moot.
  await completeOwnerTask(store, portalId, review.dealId, review.id, current.history, at);
  return true;
}

/** In decide's transaction: the ledger freed `target`'s weeks for `forReviewId`; its deal says so. */
export async function deprioritizeDeliveryOf(store: Store, portalId: number, target: Review, forReviewId: number, at: number): Promise<void> {
  if (!(await settle(store, portalId, target, deprioritizedDeliveryReason(forReviewId), at))) return;
  const settled = await store.deliveries.get(portalId, target.id);
  if (settled) await projectDelivery(store, portalId, target.dealId, settled, at);
}

/**
 * The approval of `review` no longer covers its deal and its weeks are released: the promise it made
 * is off. The deal's delivery properties are cleared (the new review's answer writes them again);
 * nothing tells the customer yet, as the rep is renegotiating the commitment itself.
 */
export async function settleReplacedDelivery(store: Store, portalId: number, review: Pick<Review, 'id' | 'dealId'>, why: string, at: number): Promise<void> {
  if (!(await settle(store, portalId, review, `the commitment was replaced: ${why}`, at))) return;
  await enqueueEffect(store.outbox, { portalId, dealId: review.dealId, effect: { kind: 'update_deal', payload: { properties: clearedDeliveryProperties() } } }, at);
}
