import type { AccountDefaults } from '../config/config';
import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { Settings } from '../../../extensions/contract/api';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { transition, type Review } from '../domain/reviewLifecycle';
import { isPastDue } from '../domain/sla';
import { escalationTargets, triadOf } from '../domain/triad';
import { ESCALATION_ANSWER_MS } from '../domain/reminderPoints';
import { effectiveSettings } from './context';
import { escapeHtml, projectStatus } from './dealEffects';
import { enqueueEffect, reviewCause } from '../storage/outboxStore';
import { absencesInForce, escalationCover } from './delegation';
import { askableSettings, cachedPeople } from './people';

/**
 * SLA escalation, the use case the SLA worker's loop runs (workers/slaWorker.ts): a review still
 * waiting past its due time becomes `overdue` and is escalated once: a task for whoever takes it
 * (the escalation reviewer or their cover; with the Triad on, the decision maker), a note on the
 * deal, the status projected as overdue. `escalated_at` is claimed by a conditional update in the
 * same transaction as those effects, so a review is escalated exactly once however often, on
 * however many restarts, or on however many instances at once the worker runs.
 */
export interface SlaEscalationDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  defaults: AccountDefaults;
}

/** `targetNames`: whom it was escalated to, as people read them. */
function overdueNote(review: Review, targetNames: readonly string[], triadOn: boolean): string {
  const who =
    targetNames.length > 0
      ? `It was escalated to ${targetNames.map((t) => escapeHtml(t)).join(', ')}${triadOn ? ', who makes the Triad\'s call' : ''}.`
      : triadOn
        ? 'The Triad names no decision maker who could take it, so nobody was assigned.'
        : 'No escalation reviewer is set in Dealgate\'s settings, so nobody was assigned.';
  return (
    `<p><strong>Dealgate ${review.kind === 'post_sales' ? 'post-sales review' : 'technical review'} #${review.id} is overdue</strong>: it was due ${new Date(review.dueAt).toISOString()} and has no answer yet.</p>` +
    `<p>${who} ${review.kind === 'post_sales' ? 'The post-sales work waits' : 'The deal stays before the gate'} until a reviewer answers on the Dealgate card.</p>`
  );
}

/**
 * Claims the review's escalation and marks it overdue: undefined when it is not this call's to
 * escalate (gone, or escalated already, here or by another instance).
 */
async function claimOverdue(store: Store, portalId: number, reviewId: number, now: number): Promise<{ review: Review; reason: string } | undefined> {
  // The deal first, as the card's decision and enforcement lock it (deals.lockForChange): on
  // PostgreSQL a decision committing meanwhile would otherwise write its earlier copy of the
  // review over the escalation (its escalated_at lost), or the escalation over the decision.
  const waiting = await store.reviews.get(portalId, reviewId);
  if (!waiting) return undefined;
  await store.deals.lockForChange(portalId, waiting.dealId);
  // The claim is the transaction's first write, a conditional update: when two instances
  // escalate at once (leases overlap at their edges), one of them records the escalation and
  // the other finds it done, on PostgreSQL after waiting for the first one's row lock.
  if (!(await store.reviews.claimEscalation(portalId, reviewId, now))) return undefined;
  const review = await store.reviews.get(portalId, reviewId);
  if (!review || !isPastDue(review, now)) throw new Error(`review ${reviewId} of account ${portalId} was claimed for escalation but is not waiting past its due time`);
  let updated = review;
  const reason = `no answer within the SLA (due ${new Date(review.dueAt).toISOString()})`;
  if (review.status === 'pending') {
    const moved = transition(review, 'mark_overdue', 'overdue', { actor: SYSTEM_ACTOR, at: now, reason });
    await store.audit.append(portalId, moved.audit);
    updated = moved.review;
  }
  await store.reviews.update(portalId, { ...updated, escalatedAt: now, updatedAt: now });
  return { review, reason };
}

/** Who the escalation goes to: the Triad's decision maker when it is on, else the escalation reviewer or whoever covers for them. */
export async function escalationTargetsOf(store: Store, portalId: number, review: Review, settings: Settings, now: number): Promise<{ targets: string[]; escalationReviewer: string | null; triadOn: boolean }> {
  const triad = triadOf(settings);
  const escalationReviewer = triad.enabled ? null : escalationCover(settings, await absencesInForce(store, portalId, now, settings));
  const targets = triad.enabled ? escalationTargets(settings, triad, review.requestedBy) : escalationReviewer === null ? [] : [escalationReviewer];
  return { targets, escalationReviewer, triadOn: triad.enabled };
}

async function enqueueEscalationTasks(store: Store, portalId: number, review: Review, targets: readonly string[], triadOn: boolean, now: number): Promise<void> {
  const dealName = (await store.deals.get(portalId, review.dealId))?.name ?? null;
  const requester = (await cachedPeople(store, portalId, [review.requestedBy])).label(review.requestedBy);
  const key = `review:${review.id}:escalation`;
  for (const target of targets) {
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
              `<p>Commitment: ${escapeHtml(review.summary)} (${review.effortWeeks} engineer-weeks). Requested by ${escapeHtml(requester)}.</p>`,
            ownerUserId: target,
            dueAt: now + ESCALATION_ANSWER_MS,
          },
        },
        dedupeKey: triadOn ? `${key}:task:${target}` : `${key}:task`,
        // Completed with the review's other tasks when it is answered or withdrawn.
        cause: reviewCause(review.id),
      },
      now,
    );
  }
}

async function namesOf(store: Store, portalId: number, userIds: readonly string[]): Promise<string[]> {
  const people = await cachedPeople(store, portalId, userIds);
  return userIds.map((id) => people.label(id));
}

/** Escalates one review if it is still due for it; true when it did. */
export async function escalateReview(deps: SlaEscalationDeps, portalId: number, reviewId: number): Promise<boolean> {
  const { store, clock, logger } = deps;
  return await store.transaction(async () => {
    const now = clock.now();
    const claimed = await claimOverdue(store, portalId, reviewId, now);
    if (!claimed) return false;
    const { review, reason } = claimed;
    const { settings } = await effectiveSettings({ store, clock, defaults: deps.defaults }, portalId);
    const { targets, escalationReviewer, triadOn } = await escalationTargetsOf(store, portalId, review, await askableSettings(store, portalId, settings), now);
    await enqueueEscalationTasks(store, portalId, review, targets, triadOn, now);
    await enqueueEffect(
      store.outbox,
      { portalId, dealId: review.dealId, effect: { kind: 'create_note', payload: { body: overdueNote(review, await namesOf(store, portalId, targets), triadOn) } }, dedupeKey: `review:${review.id}:escalation:note` },
      now,
    );
    // A post-sales review is not the deal's gate: dealgate_status stays the commitment's.
    if (review.kind === 'pre_sales') await projectStatus(store, portalId, review.dealId, 'overdue', undefined, now);
    await store.audit.append(portalId, {
      dealId: review.dealId,
      reviewId: review.id,
      action: 'review_escalated',
      actor: SYSTEM_ACTOR,
      fromStatus: review.status,
      toStatus: 'overdue',
      reason,
      details: { escalationReviewer, ...(triadOn ? { decisionMakers: targets } : {}) },
      at: now,
    });
    logger.info({ portalId, reviewId: review.id, dealId: review.dealId, escalationReviewer, escalatedTo: targets }, 'overdue review escalated');
    return true;
  });
}
