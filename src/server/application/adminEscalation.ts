import type { Review } from '../domain/reviewLifecycle';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { peopleLabel } from '../domain/personLabel';
import { ESCALATION_ANSWER_MS } from '../domain/reminderPoints';
import { enqueueEffect } from '../storage/outboxStore';
import { actOnEach, enqueueReviewTask, withLockedReview } from './lockedReview';
import { ADMIN_ESCALATION_POINT } from '../storage/reviewReminderStore';
import { effectiveSettings } from './context';
import { escapeHtml } from './dealEffects';
import { absencesInForce } from './delegation';
import { escalationTargetsOf } from './slaEscalation';
import { askableSettings, cachedPeople } from './people';
import { routeToCover } from '../domain/absence';
import type { ReminderDeps } from './reviewReminders';

/**
 * The second level of escalation (issue 15): a review the escalation reviewer also let pass (no
 * answer ESCALATION_ANSWER_MS after the escalation, their task's due time) goes to the account's
 * admins, once: a task for each admin (their cover when away) and a note on the deal naming, by
 * name, whom the first escalation went to (slaEscalation.ts's targets) and the admins. Recorded as
 * the review's `escalation:admins` point in the transaction that enqueues them, after the deal's
 * lock, as the reminders are (reviewReminders.ts). Runs on the holder of the `sla` lease.
 */
/** "A", "A and B", "A, B and C". */
function listed(labels: readonly string[]): string {
  return labels.length <= 1 ? (labels[0] ?? '') : `${labels.slice(0, -1).join(', ')} and ${labels[labels.length - 1]}`;
}

/** `escalatedTo` and `admins`: as people read them (names). `triadOn`: the first escalation went to the Triad's decision maker. */
function adminNote(review: Review, escalatedTo: readonly string[], admins: readonly string[], triadOn: boolean): string {
  const first =
    escalatedTo.length > 0
      ? `It was escalated to ${escapeHtml(listed(escalatedTo))}${triadOn ? " (the Triad's decision maker)" : ''}, who has not answered either`
      : triadOn
        ? 'Nobody received the first escalation (the Triad names no decision maker who could take it)'
        : 'Nobody received the first escalation (no escalation reviewer is set)';
  const to = admins.length > 0 ? `It now goes to the account's admins: ${escapeHtml(listed(admins))}.` : 'The account has no admins to take it further.';
  return (
    `<p><strong>Dealgate technical review #${review.id} is still unanswered</strong>, due ${new Date(review.dueAt).toISOString()}. ${first}.</p>` +
    `<p>${to} The deal stays before the gate until a reviewer answers on the Dealgate card.</p>`
  );
}

async function escalateToAdmins(deps: ReminderDeps, portalId: number, reviewId: number): Promise<boolean> {
  const { store } = deps;
  return await withLockedReview(store, deps.clock, portalId, reviewId, async (review, now) => {
    const escalatedAt = review.escalatedAt;
    if (escalatedAt === null || (review.status !== 'pending' && review.status !== 'overdue') || now < escalatedAt + ESCALATION_ANSWER_MS) return false;
    if (!(await store.reviewReminders.record(portalId, review.id, ADMIN_ESCALATION_POINT, now))) return false;
    // Whom to ask: nobody HubSpot has deactivated since the settings named them.
    const settings = await askableSettings(store, portalId, (await effectiveSettings(deps, portalId)).settings);
    const inForce = await absencesInForce(store, portalId, now, settings);
    const admins = routeToCover(settings.admins, inForce);
    const dealName = (await store.deals.get(portalId, review.dealId))?.name ?? `deal ${review.dealId}`;
    const task = {
      subject: `Unanswered technical review #${review.id}, escalated to admins: ${dealName}`,
      body: `<p>This technical review is past its SLA and its escalation. Find a reviewer to answer it from the Dealgate card on the deal.</p><p>Commitment: ${escapeHtml(review.summary)} (${review.effortWeeks} engineer-weeks).</p>`,
      dueAt: now + ESCALATION_ANSWER_MS,
    };
    for (const admin of admins) await enqueueReviewTask(store, portalId, review, { ...task, ownerUserId: admin }, `review:${review.id}:admin_escalation:${admin}`, now);
    // Whom the first escalation went to, as slaEscalation.ts chose them (with the Triad on, its decision maker).
    const { targets, triadOn } = await escalationTargetsOf(store, portalId, review, settings, now);
    const people = await cachedPeople(store, portalId, [...targets, ...admins]);
    const note = adminNote(review, targets.map((id) => people.label(id)), admins.map((id) => people.label(id)), triadOn);
    await enqueueEffect(store.outbox, { portalId, dealId: review.dealId, effect: { kind: 'create_note', payload: { body: note } }, dedupeKey: `review:${review.id}:admin_escalation:note` }, now);
    await store.audit.append(portalId, {
      dealId: review.dealId,
      reviewId: review.id,
      action: 'review_escalated_to_admins',
      actor: SYSTEM_ACTOR,
      fromStatus: review.status,
      toStatus: review.status,
      reason: `no answer ${Math.round(ESCALATION_ANSWER_MS / 3_600_000)} hours after the escalation; escalated to ${admins.length > 0 ? peopleLabel(admins, (id) => people.label(id)) : 'nobody (no admins)'}`,
      details: { admins },
      at: now,
    });
    deps.logger.info({ portalId, reviewId, admins }, 'unanswered escalation taken to the admins');
    return true;
  });
}

/** One round over every account's escalated reviews still unanswered; returns how many went to the admins. */
export async function escalateToAdminsWhereDue(deps: ReminderDeps, keepGoing: () => Promise<boolean> = () => Promise.resolve(true)): Promise<number> {
  const due = await deps.store.reviewReminders.dueForAdminEscalation(deps.clock.now() - ESCALATION_ANSWER_MS);
  return await actOnEach(due, { logger: deps.logger, keepGoing, failure: 'escalating a review to the admins failed; trying again next pass' }, async (d) => {
    await deps.freshNames?.(d.portalId);
    return await escalateToAdmins(deps, d.portalId, d.reviewId);
  });
}
