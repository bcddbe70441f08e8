import type { Settings, GateStatus } from '../../../extensions/contract/api';
import { isApproval, openReview, requestAudit, transition, type Review } from '../domain/reviewLifecycle';
import { isWonStage } from '../domain/gatePolicy';
import { dueAt } from '../domain/sla';
import { enqueueEffect } from '../storage/outboxStore';
import type { Store } from '../storage/store';
import { completeReviewTasks, reviewTask } from './dealEffects';
import { settleReplacedDelivery } from './deliverySettlement';
import { absencesInForce, askedNow } from './delegation';
import { askableSettings } from './people';
import { remindersOf, taskReminderAt } from '../domain/reminderPoints';

/**
 * Opens a pending review of a commitment, with its audit entry and a task for each reviewer
 * (not the requester; the escalation reviewer when nobody else could answer), in the caller's
 * transaction. A rep's request from the card and a changed commitment on a won deal both open
 * reviews this way.
 */
export async function openReviewWithTasks(
  store: Store,
  settings: Settings,
  input: {
    portalId: number;
    dealId: string;
    dealName: string | null;
    /** Absent: a pre-sales review (the deal's commitment). */
    kind?: Review['kind'];
    summary: string;
    effortWeeks: number;
    neededBy: string | null;
    amount: number | null;
    requestedBy: string;
    fromStatus: GateStatus;
    at: number;
  },
): Promise<Review> {
  const { portalId, dealId, at } = input;
  const review = await store.reviews.insert(
    portalId,
    openReview({
      dealId,
      kind: input.kind ?? 'pre_sales',
      summary: input.summary,
      effortWeeks: input.effortWeeks,
      neededBy: input.neededBy,
      amount: input.amount,
      requestedBy: input.requestedBy,
      at,
      dueAt: dueAt(at, settings.slaHours),
    }),
  );
  await store.audit.append(portalId, requestAudit(review, input.fromStatus, input.requestedBy));
  // With the Triad on, its members give their views and its decision maker makes the call: the task
  // is theirs. Otherwise an absent reviewer's task goes to whoever covers for them (issue 15).
  // Nobody HubSpot has deactivated since the settings named them: their task would go out unassigned.
  const askable = await askableSettings(store, portalId, settings);
  const assignees = askedNow(askable, input.requestedBy, await absencesInForce(store, portalId, at, askable));
  const task = reviewTask(review, input.dealName);
  // HubSpot's own reminder (hs_task_reminders) at the first reminder point; Dealgate reminds again at each.
  const reminderAt = taskReminderAt(review, remindersOf(settings));
  for (const reviewer of assignees) {
    await enqueueEffect(
      store.outbox,
      {
        portalId,
        dealId,
        effect: { kind: 'create_task', payload: { subject: task.subject, body: task.body, ownerUserId: reviewer, dueAt: review.dueAt, ...(reminderAt === null ? {} : { reminderAt }) } },
        dedupeKey: `review:${review.id}:task:${reviewer}`,
      },
      at,
    );
  }
  return review;
}

/**
 * Supersedes a live review. An approval superseded while its deal sits in a won stage (and is not
 * deleted) keeps its weeks booked: the contract is signed, and only a decision on the changed commitment changes them.
 */
export async function supersede(
  ctx: { store: Store },
  portalId: number,
  review: Review,
  context: { actor: string; at: number; reason: string },
  where?: { pipeline: string | null; stage: string | null; deleted?: boolean },
): Promise<Review> {
  const { store } = ctx;
  const moved = transition(review, 'supersede', 'superseded', context);
  const deal = where ?? await store.deals.get(portalId, review.dealId);
  const pipeline = deal?.pipeline ? await store.pipelines.get(portalId, deal.pipeline) : undefined;
  // A deleted deal keeps its last stage, but no contract is carried out on it: its weeks are released.
  const deleted = deal?.deleted === true;
  const keepsBooking = isApproval(review.status) && review.deprioritizedAt === null && isWonStage(pipeline, deal?.stage ?? null) && !deleted;
  const updated = { ...moved.review, keepsBooking };
  await store.reviews.update(portalId, updated);
  // Its weeks are released (unless booked on a won deal until the changed commitment is decided): its delivery is off.
  if (isApproval(review.status) && !keepsBooking) await settleReplacedDelivery(store, portalId, review, context.reason, context.at);
  // Nobody needs to answer it any more: its reviewer and escalation tasks are done.
  if (review.status === 'pending' || review.status === 'overdue') await completeReviewTasks(store, portalId, review, context.at);
  await store.audit.append(
    portalId,
    keepsBooking ? { ...moved.audit, reason: `${moved.audit.reason}; its weeks stay booked until the changed commitment is decided (the deal is won)` } : moved.audit,
  );
  return updated;
}
