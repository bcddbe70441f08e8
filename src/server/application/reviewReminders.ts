import type { Settings } from '../../../extensions/contract/api';
import type { Clock } from '../shared/clock';
import type { AccountDefaults } from '../config/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { WaitingReview } from '../storage/reviewReminderStore';
import type { Review } from '../domain/reviewLifecycle';
import { SYSTEM_ACTOR } from '../domain/auditEntry';
import { peopleLabel } from '../domain/personLabel';
import { askableSettings, cachedPeople, type PeopleBook } from './people';
import { pointsDue, reminderPoints, remindersOf, timeLeftText, type ReminderPoint } from '../domain/reminderPoints';
import { effectiveSettings } from './context';
import { escapeHtml } from './dealEffects';
import { absencesInForce, askedNow } from './delegation';
import { escalateToAdminsWhereDue } from './adminEscalation';
import { actOnEach, enqueueReviewTask, withLockedReview } from './lockedReview';

/**
 * Dealgate's reminders before a review's SLA runs out (issue 15), on top of HubSpot's own reminder
 * on the reviewer's task: at each point the admin set (default: half the SLA elapsed, and 2 hours
 * before the due time), a task for each reviewer the review asks now (the delegate of one who is
 * away; with the Triad on, its members but the requester, as its tasks: delegation.ts askedNow). A task rather than a note: a note on the deal is addressed to nobody and HubSpot tells
 * nobody of it, while a task is assigned to its owner, who HubSpot notifies and whose task list it
 * joins; and it belongs to the review (cause `review:<id>`), so it is completed with the review's
 * other tasks once the review is decided or withdrawn.
 *
 * Each point is recorded (review_reminders) in the transaction that enqueues its tasks, after the
 * deal's lock (the lock order of decide and escalation, so no reminder follows a decision's task
 * completion): a point is sent once however often, after however many restarts, or on however
 * many instances the round runs. Points passed together (the service was down) make one reminder.
 * Runs on the holder of the `sla` lease (workers/slaWorker.ts).
 */
export interface ReminderDeps {
  store: Store;
  clock: Clock;
  logger: Logger;
  defaults: AccountDefaults;
  /** Reads the account's people when stale, before the transaction whose tasks name them (the SLA worker's); without it the cached names serve. */
  freshNames?: (portalId: number) => Promise<void>;
}

function reminderTask(review: Review, dealName: string | null, now: number, people: Pick<PeopleBook, 'label'>): { subject: string; body: string } {
  const left = timeLeftText(review.dueAt - now);
  return {
    subject: `Reminder: technical review #${review.id} is due in ${left}: ${dealName ?? `deal ${review.dealId}`}`,
    body:
      `<p>A technical review you are asked for has no answer yet; it is due ${new Date(review.dueAt).toISOString()} (in ${left}). ` +
      `Answer it from the Dealgate card on the deal; past the due time it is escalated.</p>` +
      `<p>Commitment: ${escapeHtml(review.summary)} (${review.effortWeeks} engineer-weeks). Requested by ${escapeHtml(people.label(review.requestedBy))}.</p>`,
  };
}

/** Records the points due now; the ones this call recorded (another may have got there first). */
async function claimPoints(store: Store, portalId: number, review: Review, settings: Settings, now: number): Promise<ReminderPoint[]> {
  const sent = new Set(await store.reviewReminders.sentPoints(portalId, review.id));
  const claimed: ReminderPoint[] = [];
  for (const point of pointsDue(reminderPoints(review, remindersOf(settings)), sent, now)) {
    if (await store.reviewReminders.record(portalId, review.id, point.key, now)) claimed.push(point);
  }
  return claimed;
}

/** Reminds the reviewers of one review if a point is due; true when it did. */
async function remindReview(deps: ReminderDeps, portalId: number, reviewId: number): Promise<boolean> {
  const { store } = deps;
  return await withLockedReview(store, deps.clock, portalId, reviewId, async (review, now) => {
    if (review.status !== 'pending' || now >= review.dueAt) return false;
    const { settings } = await effectiveSettings(deps, portalId);
    const claimed = await claimPoints(store, portalId, review, settings, now);
    const latest = claimed[claimed.length - 1];
    if (!latest) return false;
    const askable = await askableSettings(store, portalId, settings);
    const recipients = askedNow(askable, review.requestedBy, await absencesInForce(store, portalId, now, askable));
    if (recipients.length === 0) deps.logger.warn({ portalId, reviewId: review.id, point: latest.key }, 'a review reminder is due but nobody can be asked (every reviewer named is the requester or deactivated in HubSpot); an admin should change the settings');
    const people = await cachedPeople(store, portalId, [review.requestedBy, ...recipients]);
    const task = reminderTask(review, (await store.deals.get(portalId, review.dealId))?.name ?? null, now, people);
    for (const recipient of recipients) {
      await enqueueReviewTask(store, portalId, review, { ...task, ownerUserId: recipient, dueAt: review.dueAt }, `review:${review.id}:reminder:${latest.key}:${recipient}`, now);
    }
    await store.audit.append(portalId, {
      dealId: review.dealId,
      reviewId: review.id,
      action: 'review_reminded',
      actor: SYSTEM_ACTOR,
      fromStatus: review.status,
      toStatus: review.status,
      reason: recipients.length > 0 ? `reminded ${peopleLabel(recipients, (id) => people.label(id))}: due in ${timeLeftText(review.dueAt - now)}` : 'a reminder was due, but no reviewer is set to receive it',
      details: { points: claimed.map((p) => p.key), recipients },
      at: now,
    });
    deps.logger.info({ portalId, reviewId, points: claimed.map((p) => p.key), recipients }, 'review reminder sent');
    return true;
  });
}

/** Waiting reviews with a reminder point due and not yet sent (cheap reads outside any transaction). */
async function reviewsWithPointsDue(deps: ReminderDeps, now: number): Promise<WaitingReview[]> {
  const settingsByAccount = new Map<number, Settings>();
  const due: WaitingReview[] = [];
  for (const waiting of await deps.store.reviewReminders.waitingBeforeDue(now)) {
    let settings = settingsByAccount.get(waiting.portalId);
    if (!settings) settingsByAccount.set(waiting.portalId, (settings = (await effectiveSettings(deps, waiting.portalId)).settings));
    const points = reminderPoints(waiting, remindersOf(settings));
    // Most waiting reviews have no point reached: no further read.
    if (!points.some((p) => p.at <= now)) continue;
    const sent = new Set(await deps.store.reviewReminders.sentPoints(waiting.portalId, waiting.reviewId));
    if (pointsDue(points, sent, now).length > 0) due.push(waiting);
  }
  return due;
}

/** One round over every account's waiting reviews; returns how many were reminded. */
export async function remindWaitingReviews(deps: ReminderDeps, keepGoing: () => Promise<boolean> = () => Promise.resolve(true)): Promise<number> {
  const due = await reviewsWithPointsDue(deps, deps.clock.now());
  return await actOnEach(due, { logger: deps.logger, keepGoing, failure: 'reminding the reviewers of a review failed; trying again next pass' }, async (w) => {
    await deps.freshNames?.(w.portalId);
    return await remindReview(deps, w.portalId, w.reviewId);
  });
}

/** The SLA lease's issue-15 work in one round: reminders, then the escalations to the admins; returns how many reviews got either. */
export async function remindAndEscalateToAdmins(deps: ReminderDeps, keepGoing: () => Promise<boolean>): Promise<number> {
  const reminded = await remindWaitingReviews(deps, keepGoing);
  return reminded + (await escalateToAdminsWhereDue(deps, keepGoing));
}
