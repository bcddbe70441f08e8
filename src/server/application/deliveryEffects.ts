import type { Delivery, DeliveryChange } from '../domain/delivery';
import type { Review } from '../domain/reviewLifecycle';
import { enqueueEffect } from '../storage/outboxStore';
import type { Store } from '../storage/store';
import { escapeHtml } from './dealEffects';

/**
 * The HubSpot side of deliveries, as outbox rows in the caller's transaction: the delivery
 * properties on the deal (a projection, the latest wins, no dedupe key) and the notes and tasks
 * that tell people, each keyed by its cause (`delivery:<reviewId>:...`) so that it is written once
 * however often its cause is replayed.
 */
export function deliveryProperties(delivery: Pick<Delivery, 'status' | 'promisedDate' | 'ownerUserId'>): Record<string, string> {
  return {
    dealgate_delivery_status: delivery.status,
    // A HubSpot date property takes the calendar day as YYYY-MM-DD.
    dealgate_promised_date: delivery.promisedDate,
    dealgate_delivery_owner: delivery.ownerUserId,
  };
}

/** The deal has no delivery now (its approval was replaced): an empty string clears a HubSpot property. */
export function clearedDeliveryProperties(): Record<string, string> {
  return { dealgate_delivery_status: '', dealgate_promised_date: '', dealgate_delivery_owner: '' };
}

export async function projectDelivery(store: Store, portalId: number, dealId: string, delivery: Delivery, at: number): Promise<void> {
  // The deal's delivery properties speak for its commitment (the pre-sales review): the delivery of
  // post-sales work on the won deal is on the card and the home page only.
  if ((await store.reviews.get(portalId, delivery.reviewId))?.kind === 'post_sales') return;
  await enqueueEffect(store.outbox, { portalId, dealId, effect: { kind: 'update_deal', payload: { properties: deliveryProperties(delivery) } } }, at);
}

export async function noteOnDeal(store: Store, portalId: number, dealId: string, body: string, dedupeKey: string, at: number): Promise<void> {
  await enqueueEffect(store.outbox, { portalId, dealId, effect: { kind: 'create_note', payload: { body } }, dedupeKey }, at);
}

/**
 * A task on the deal for a HubSpot user (`ownerUserId`) or for a HubSpot owner (`ownerId`, the
 * deal's own owner). `cause`: what a later `complete_tasks` names to complete it (none: it stays).
 */
export async function taskOnDeal(
  store: Store,
  portalId: number,
  dealId: string,
  task: { subject: string; body: string; ownerUserId: string | null; ownerId: string | null; dueAt: number },
  dedupeKey: string,
  at: number,
  cause?: string,
): Promise<void> {
  await enqueueEffect(store.outbox, { portalId, dealId, effect: { kind: 'create_task', payload: task }, dedupeKey, ...(cause === undefined ? {} : { cause }) }, at);
}

/** The cause of the task a handover gave the new owner, `place` being the handover's place (1-based) in the history. */
export function ownerTaskCause(reviewId: number, place: number): string {
  return `delivery:${reviewId}:owner:${place}`;
}

type OwnerChange = Pick<DeliveryChange, 'ownerUserId' | 'by'>;

/**
 * The place (1-based) in `history` of its last change of owner, when that handover gave its new
 * owner a task (someone else made it); null when the owner never changed or took it over themselves.
 */
export function lastHandoverTaskPlace(history: readonly OwnerChange[]): number | null {
  for (let i = history.length - 1; i > 0; i -= 1) {
    const change = history[i] as OwnerChange;
    if (change.ownerUserId !== history[i - 1]?.ownerUserId) return change.by === change.ownerUserId ? null : i + 1;
  }
  return null;
}

/**
 * Completes the task the last handover in `history` gave its owner (a later handover, or the
 * delivery settled, makes it moot): done in HubSpot, or never sent if still waiting. Once each.
 */
export async function completeOwnerTask(store: Store, portalId: number, dealId: string, reviewId: number, history: readonly OwnerChange[], at: number): Promise<void> {
  const place = lastHandoverTaskPlace(history);
  if (place === null) return;
  const cause = ownerTaskCause(reviewId, place);
  await enqueueEffect(store.outbox, { portalId, dealId, effect: { kind: 'complete_tasks', payload: { cause } }, dedupeKey: `${cause}:complete_tasks`, cause }, at);
}

const DAY_MS = 24 * 60 * 60_000;
/** Tasks these notes come with are due a day later: telling a customer or chasing a miss does not wait. */
export const TASK_DUE_MS = DAY_MS;

function commitmentLine(review: Pick<Review, 'summary' | 'kind'>): string {
  return `<p>${review.kind === 'post_sales' ? 'Post-sales work' : 'Commitment'}: ${escapeHtml(review.summary)}</p>`;
}

/** "technical review #12", or "post-sales review #12" for work on a won deal (as the decision's note names it). */
function reviewName(review: Pick<Review, 'id' | 'kind'>): string {
  return `${review.kind === 'post_sales' ? 'post-sales review' : 'technical review'} #${review.id}`;
}

/** `byName`: who changed it, as people read them (PeopleBook.label). */
export function slipNote(review: Pick<Review, 'id' | 'summary' | 'kind'>, slip: { from: string; to: string; reason: string }, byName: string): string {
  return (
    `<p><strong>Dealgate: the delivery of ${reviewName(review)} slipped</strong> from ${slip.from} to ${slip.to}.</p>` +
    commitmentLine(review) +
    `<p>Why: ${escapeHtml(slip.reason)}</p><p>Changed by ${escapeHtml(byName)}. The deal owner has a task to tell the customer.</p>`
  );
}

export function slipTask(review: Pick<Review, 'id' | 'summary' | 'kind'>, dealName: string | null, slip: { to: string; reason: string }): { subject: string; body: string } {
  return {
    subject: `Tell the customer: ${dealName ?? 'the commitment'} now delivers ${slip.to}`,
    body:
      `<p>Engineering moved the delivery of ${reviewName(review)} to ${slip.to}. Tell the customer the new date and why.</p>` +
      commitmentLine(review) +
      `<p>Why: ${escapeHtml(slip.reason)}</p>`,
  };
}

export function deliveredNote(review: Pick<Review, 'id' | 'summary' | 'kind'>, delivery: Pick<Delivery, 'firstPromisedDate' | 'promisedDate'>, day: string, byName: string): string {
  const onTime = day <= delivery.firstPromisedDate;
  return (
    `<p><strong>Dealgate: the commitment of ${reviewName(review)} was delivered</strong> on ${day}, ` +
    `${onTime ? 'on time' : 'late'} (first promised for ${delivery.firstPromisedDate}${delivery.promisedDate !== delivery.firstPromisedDate ? `, last promised for ${delivery.promisedDate}` : ''}).</p>` +
    commitmentLine(review) +
    `<p>Marked delivered by ${escapeHtml(byName)}.</p>`
  );
}

/** `names`: the previous owner, the new one and who handed it over, as people read them; `takenOver`: the new owner made the change. */
export function handoverNote(review: Pick<Review, 'id' | 'summary' | 'kind'>, delivery: Pick<Delivery, 'promisedDate'>, names: { from: string; to: string; by: string }, takenOver: boolean): string {
  return (
    `<p><strong>Dealgate: the delivery of ${reviewName(review)} has a new owner</strong>: ${escapeHtml(names.to)} (before: ${escapeHtml(names.from)}).</p>` +
    commitmentLine(review) +
    `<p>Promised for ${delivery.promisedDate}. ${takenOver ? 'Taken over' : 'Handed over'} by ${escapeHtml(names.by)}.</p>`
  );
}

/** The new owner's task: what they now own and where to move it on. `byName`: who handed it over. */
export function handoverTask(review: Pick<Review, 'id' | 'summary' | 'kind'>, dealName: string | null, delivery: Pick<Delivery, 'promisedDate'>, byName: string): { subject: string; body: string } {
  return {
    subject: `You own the delivery of ${reviewName(review)}: ${dealName ?? 'a deal'}`,
    body:
      `<p>${escapeHtml(byName)} handed you the delivery of this commitment, promised for ${delivery.promisedDate}. ` +
      'Move it on from the Dealgate card on the deal: in progress, at risk, a slip with its reason, or delivered.</p>' +
      commitmentLine(review),
  };
}

/** `names.owner`, `names.escalation`: the delivery's owner and the escalation reviewer (null: none set), as people read them. */
export function overdueDeliveryNote(review: Pick<Review, 'id' | 'summary' | 'kind'>, delivery: Pick<Delivery, 'promisedDate'>, names: { owner: string; escalation: string | null }): string {
  const who = names.escalation !== null
    ? `It was escalated to ${escapeHtml(names.escalation)}.`
    : "No escalation reviewer is set in Dealgate's settings, so nobody was assigned.";
  return (
    `<p><strong>Dealgate: the delivery of ${reviewName(review)} is overdue</strong>: it was promised for ${delivery.promisedDate} and is not delivered.</p>` +
    commitmentLine(review) +
    `<p>Owner: ${escapeHtml(names.owner)}. ${who}</p>`
  );
}

export function overdueDeliveryTask(review: Pick<Review, 'id' | 'summary' | 'kind'>, dealName: string | null, delivery: Pick<Delivery, 'promisedDate'>, ownerName: string): { subject: string; body: string } {
  return {
    subject: `Overdue delivery of ${reviewName(review)}: ${dealName ?? 'a deal'}`,
    body:
      `<p>This commitment was promised for ${delivery.promisedDate} and is not delivered. Its owner is ${escapeHtml(ownerName)}: ` +
      `agree a new date (a slip, with its reason, on the Dealgate card) or get it delivered.</p>` +
      commitmentLine(review),
  };
}

export function deprioritizedDeliveryReason(forReviewId: number): string {
  return `the capacity ledger freed its weeks for review #${forReviewId}`;
}
