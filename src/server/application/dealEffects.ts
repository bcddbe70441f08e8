import type { DealFlagKind, GateStatus } from '../../../extensions/contract/api';
import type { DealFacts } from '../domain/gatePolicy';
import { conditionsText, type Decision } from '../domain/reviewDecision';
import { isApproval, type Review } from '../domain/reviewLifecycle';
import { enqueueEffect, reviewCause } from '../storage/outboxStore';
import type { Store } from '../storage/store';
import { labelOf } from './people';

/**
 * The HubSpot side of gate changes, as outbox rows: the status projection on the deal, the
 * commitment properties a request writes, notes that explain decisions, reviewer tasks.
 */

/** A status that carries its decision (who, when, the conditions) onto the deal. */
const isDecided = (status: GateStatus, decision: Decision | undefined): decision is Decision =>
  decision !== undefined && (status === 'approved' || status === 'approved_with_conditions' || status === 'rejected');

/**
 * `deciderName`, given with a decided status: how people read the one who decided
 * (PeopleBook.label: the name, else the email, else `user <id>`), which a HubSpot view shows under
 * "Reviewed by"; the user id stays in Dealgate's database and audit.
 */
export function statusProperties(status: GateStatus, decision: Decision | undefined, deciderName: string): Record<string, string> {
  const decided = isDecided(status, decision);
  return {
    dealgate_status: status,
    dealgate_decided_by: decided ? deciderName : '',
    dealgate_decided_at: decided ? new Date(decision.decidedAt).toISOString() : '',
    dealgate_conditions: decided ? conditionsText(decision) : '',
  };
}

export async function projectStatus(
  store: Store,
  portalId: number,
  dealId: string,
  status: GateStatus,
  decision: Decision | undefined,
  at: number,
  extra: Record<string, string> = {},
): Promise<void> {
  // The name from the cached list (read by key, no HubSpot call: this runs inside transactions), only when the deal shows it.
  const deciderName = isDecided(status, decision) ? await labelOf(store, portalId, decision.decidedBy) : '';
  await enqueueEffect(store.outbox, { portalId, dealId, effect: { kind: 'update_deal', payload: { properties: { ...extra, ...statusProperties(status, decision, deciderName) } } } }, at);
}

export function commitmentProperties(summary: string, effortWeeks: number): Record<string, string> {
  return { dealgate_commitment: 'true', dealgate_commitment_summary: summary, dealgate_effort_weeks: String(effortWeeks) };
}

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);
}

const outcomeWords: Record<Decision['outcome'], string> = {
  yes: 'Yes: we can do this in the implied timeframe',
  yes_but: 'Yes, but: we can do it with the conditions below',
  no: 'No: not feasible with the current architecture or roadmap',
};

/** "A, B and C". */
function namesList(names: readonly string[]): string {
  return names.length <= 1 ? (names[0] ?? '') : `${names.slice(0, -1).join(', ')} and ${names[names.length - 1]}`;
}

/** `deciderName`: who decided, as people read them (PeopleBook.label); `coveringNames`: the absent reviewers a delegate decided for (issue 15). */
export function decisionNote(review: Review, decision: Decision, deciderName: string, coveringNames: readonly string[] = []): string {
  const lines = [
    `<p><strong>Dealgate ${review.kind === 'post_sales' ? 'post-sales review' : 'technical review'} #${review.id}: ${escapeHtml(outcomeWords[decision.outcome])}</strong></p>`,
    `<p>${review.kind === 'post_sales' ? 'Post-sales work' : 'Commitment'}: ${escapeHtml(review.summary)} (${review.effortWeeks} engineer-weeks)</p>`,
  ];
  const conditions = conditionsText(decision);
  if (conditions) lines.push(`<p>Conditions: ${escapeHtml(conditions)}</p>`);
  if (decision.note) lines.push(`<p>${decision.outcome === 'no' ? 'Reason' : 'Note'}: ${escapeHtml(decision.note)}</p>`);
  if (decision.deprioritizedReviewId !== null) lines.push(`<p>Deprioritized review #${decision.deprioritizedReviewId} to make room.</p>`);
  const covering = coveringNames.length > 0 ? `, covering for ${escapeHtml(namesList(coveringNames))},` : '';
  lines.push(`<p>Decided by ${escapeHtml(deciderName)}${covering} at ${new Date(decision.decidedAt).toISOString()}.</p>`);
  if (decision.outcome === 'no' && review.kind === 'pre_sales') lines.push('<p>The deal stays before the gate until the commitment is renegotiated (changed or removed).</p>');
  return lines.join('');
}

export function reviewTask(review: Review, dealName: string | null): { subject: string; body: string } {
  return {
    subject: `${review.kind === 'post_sales' ? 'Post-sales review' : 'Technical review'} #${review.id}: ${dealName ?? `deal ${review.dealId}`}`,
    body:
      `<p>A rep asked for a ${review.kind === 'post_sales' ? 'review of post-sales work on a won deal' : 'technical review of a customer commitment'} (answer from the Dealgate card on the deal).</p>` +
      `<p>Commitment: ${escapeHtml(review.summary)}</p>` +
      `<p>Estimated effort: ${review.effortWeeks} engineer-weeks${review.neededBy ? `; needed by ${review.neededBy}` : ''}.</p>` +
      `<p>Due ${new Date(review.dueAt).toISOString()}.</p>`,
  };
}

/**
 * The review no longer waits for an answer (decided, withdrawn, or superseded because its
 * commitment was removed or changed): its reviewer and escalation tasks are to be completed in
 * HubSpot. Enqueues one `complete_tasks` effect in the caller's transaction; calling it again for
 * the same review does nothing. The outbox completes the tasks its creates made, waits for a create
 * whose outcome is unknown, and does not send a create that has not gone out yet.
 */
export async function completeReviewTasks(store: Store, portalId: number, review: Pick<Review, 'id' | 'dealId'>, now: number): Promise<void> {
  const cause = reviewCause(review.id);
  await enqueueEffect(
    store.outbox,
    { portalId, dealId: review.dealId, effect: { kind: 'complete_tasks', payload: { cause } }, dedupeKey: `${cause}:complete_tasks`, cause },
    now,
  );
}

/** The cause of a flag's effects (the tasks it gave the deal's owner and the escalation reviewer). */
export function flagCause(flagId: number): string {
  return `flag:${flagId}`;
}

/**
 * Resolves the deal's open flags of these kinds and completes the tasks they gave people (a won
 * deal flagged without sign-off, a deal caught by tightened rules): nobody has to act on them any
 * more. Call inside the transaction that changed what the flag was about.
 */
export async function resolveFlags(store: Store, portalId: number, dealId: string, kinds: readonly DealFlagKind[], why: string, now: number): Promise<void> {
  for (const flagId of await store.dealFlags.resolveForDeal(portalId, dealId, kinds, why, now)) {
    const cause = flagCause(flagId);
    await enqueueEffect(store.outbox, { portalId, dealId, effect: { kind: 'complete_tasks', payload: { cause } }, dedupeKey: `${cause}:complete_tasks`, cause }, now);
  }
}

/** `review` as it was before it was superseded. */
export function supersededNote(review: Review, why: string, reviewRequired: boolean): string {
  const what = isApproval(review.status) ? 'its approval' : review.status === 'rejected' ? 'its answer' : 'the pending request';
  return (
    `<p><strong>Dealgate technical review #${review.id} no longer covers the deal</strong>: ${escapeHtml(why)}, so ${what} no longer applies.</p>` +
    (reviewRequired ? '<p>Review is required again before the deal can move past the gate.</p>' : '')
  );
}

export function deprioritizedNote(review: Review, forReview: Review, weeks: number, quarter: string): string {
  return (
    `<p><strong>Dealgate: the commitment of technical review #${review.id} was deprioritized</strong> to make room for review #${forReview.id} ` +
    `(deal ${escapeHtml(forReview.dealId)}); it releases ${weeks} engineer-weeks of ${escapeHtml(quarter)}.</p>` +
    `<p>Commitment: ${escapeHtml(review.summary)}</p>`
  );
}

/** The deal's commitment facts as a request leaves them. */
export function withCommitment<F extends DealFacts>(facts: F, summary: string, effortWeeks: number): F {
  return { ...facts, commitment: true, commitmentSummary: summary, effortWeeks };
}
