import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Review } from '../domain/reviewLifecycle';
import type { CreateTaskPayload } from '../storage/deliveryPlan';
import { enqueueEffect, reviewCause } from '../storage/outboxStore';
import type { Store } from '../storage/store';

/**
 * What the SLA lease's rounds over waiting reviews share (issue 15's reminders and escalation to
 * the admins): the review read again once its deal is locked, and a task that belongs to it.
 */

/**
 * Runs `work` in one transaction on the review as it stands after its deal's lock (the lock order
 * of decisions and the escalation: deal, then review), so what a decision committed meanwhile is
 * seen, and nothing is queued after it. False when the review does not exist.
 */
export async function withLockedReview(store: Store, clock: Clock, portalId: number, reviewId: number, work: (review: Review, now: number) => Promise<boolean>): Promise<boolean> {
  return await store.transaction(async () => {
    const waiting = await store.reviews.get(portalId, reviewId);
    if (!waiting) return false;
    await store.deals.lockForChange(portalId, waiting.dealId);
    const review = await store.reviews.get(portalId, reviewId);
    return review ? await work(review, clock.now()) : false;
  });
}

/** A task on the review's deal for `task.ownerUserId`, completed with the review's other tasks (cause `review:<id>`). */
export async function enqueueReviewTask(store: Store, portalId: number, review: Pick<Review, 'id' | 'dealId'>, task: CreateTaskPayload, dedupeKey: string, now: number): Promise<void> {
  await enqueueEffect(store.outbox, { portalId, dealId: review.dealId, effect: { kind: 'create_task', payload: task }, dedupeKey, cause: reviewCause(review.id) }, now);
}

/** Acts on each due item while `keepGoing` (the lease) holds; a failure is logged and left for the next round. Returns how many acted. */
export async function actOnEach<T extends { portalId: number; reviewId: number }>(
  due: readonly T[],
  options: { logger: Logger; keepGoing: () => Promise<boolean>; failure: string },
  act: (item: T) => Promise<boolean>,
): Promise<number> {
  let acted = 0;
  for (const item of due) {
    if (!(await options.keepGoing())) break;
    try {
      if (await act(item)) acted += 1;
    } catch (error) {
      options.logger.error({ err: error, portalId: item.portalId, reviewId: item.reviewId }, options.failure);
    }
  }
  return acted;
}
