import type { GateStatus, ReviewKind, ReviewStatus } from './vocabulary';
import { conflict } from '../shared/errors';
import type { AuditEntry } from './auditEntry';

/**
 * A review's life: pending -> approved | approved_with_conditions | rejected (a decision),
 * pending -> overdue (past its due time), pending/overdue -> withdrawn (the rep takes it back),
 * and any live review -> superseded when the commitment it was about changes or goes away.
 * Every transition yields an audit entry; a transition the table does not allow is a coded
 * conflict, never a silent no-op.
 */
export interface Review {
  id: number;
  dealId: string;
  /** pre_sales: the deal's commitment, what the gate holds it to; post_sales: work asked for on the won deal (books capacity, gates nothing). */
  kind: ReviewKind;
  status: ReviewStatus;
  summary: string;
  effortWeeks: number;
  /** The customer's needed-by date, YYYY-MM-DD. */
  neededBy: string | null;
  amountAtRequest: number | null;
  /** The deal's amount (home currency) when it was approved: the approval covers it plus the tolerance. */
  approvedAmount: number | null;
  /**
   * An approval superseded on a won deal keeps its weeks booked (the contract is signed) until a
   * decision on the changed commitment replaces it.
   */
  keepsBooking: boolean;
  requestedBy: string;
  requestedAt: number;
  dueAt: number;
  escalatedAt: number | null;
  closedAt: number | null;
  deprioritizedAt: number | null;
  /** The review whose approval this one was deprioritized for. */
  deprioritizedFor: number | null;
  updatedAt: number;
}

export type ReviewAction = 'decide' | 'mark_overdue' | 'withdraw' | 'supersede';

const allowed: Record<ReviewAction, { from: readonly ReviewStatus[]; to: readonly ReviewStatus[] }> = {
  decide: { from: ['pending', 'overdue'], to: ['approved', 'approved_with_conditions', 'rejected'] },
  mark_overdue: { from: ['pending'], to: ['overdue'] },
  withdraw: { from: ['pending', 'overdue'], to: ['withdrawn'] },
  supersede: { from: ['pending', 'overdue', 'approved', 'approved_with_conditions', 'rejected'], to: ['superseded'] },
};

const auditAction: Record<ReviewAction, string> = {
  decide: 'review_decided',
  mark_overdue: 'review_overdue',
  withdraw: 'review_withdrawn',
  supersede: 'review_superseded',
};

const openStatuses: readonly ReviewStatus[] = ['pending', 'overdue'];
const decidedStatuses: readonly ReviewStatus[] = ['approved', 'approved_with_conditions', 'rejected'];

/** Waiting for a reviewer. */
export function isOpenReview(review: Pick<Review, 'status'>): boolean {
  return openStatuses.includes(review.status);
}

/** Still speaks for the deal: waiting, or decided and not yet overtaken by a change. */
export function isActiveReview(review: Pick<Review, 'status'>): boolean {
  return isOpenReview(review) || decidedStatuses.includes(review.status);
}

export function isApproval(status: ReviewStatus): boolean {
  return status === 'approved' || status === 'approved_with_conditions';
}

/** Commitment text as compared: surrounding whitespace and line-ending style never count as a change. */
function normalizedSummary(summary: string | null): string {
  return (summary ?? '').replace(/\r\n/g, '\n').trim();
}

/** The review was about exactly the deal's current commitment (summary and effort). */
export function coversCommitment(
  review: Pick<Review, 'summary' | 'effortWeeks'>,
  facts: { commitment: boolean; commitmentSummary: string | null; effortWeeks: number | null },
): boolean {
  return (
    facts.commitment &&
    normalizedSummary(review.summary) === normalizedSummary(facts.commitmentSummary) &&
    facts.effortWeeks !== null &&
    Math.abs(review.effortWeeks - facts.effortWeeks) < 1e-9
  );
}

/** What changed between the reviewed commitment and the deal's, in words for the audit log and the note. */
export function describeCommitmentChange(
  review: Pick<Review, 'summary' | 'effortWeeks'>,
  facts: { commitment: boolean; commitmentSummary: string | null; effortWeeks: number | null },
): string {
  if (!facts.commitment) return 'the commitment was removed from the deal';
  const changes: string[] = [];
  if (normalizedSummary(review.summary) !== normalizedSummary(facts.commitmentSummary)) changes.push('the commitment summary changed');
  if (facts.effortWeeks === null || Math.abs(review.effortWeeks - facts.effortWeeks) >= 1e-9) {
    changes.push(`the effort changed from ${review.effortWeeks} to ${facts.effortWeeks ?? 'none'} engineer-weeks`);
  }
  return changes.length > 0 ? changes.join(' and ') : 'the commitment is unchanged';
}

export interface TransitionContext {
  actor: string;
  at: number;
  reason: string;
  details?: Record<string, unknown>;
}

export interface Transition {
  review: Review;
  audit: AuditEntry;
}

/** Applies `action` moving the review to `to`; throws a conflict when the lifecycle does not allow it. */
export function transition(review: Review, action: ReviewAction, to: ReviewStatus, context: TransitionContext): Transition {
  const rule = allowed[action];
  if (!rule.from.includes(review.status) || !rule.to.includes(to)) {
    throw conflict(`review ${review.id} is ${review.status}: it cannot be ${describeAction(action, to)}`, {
      reviewId: review.id,
      status: review.status,
      action,
      to,
    });
  }
  const closes = to !== 'overdue';
  const updated: Review = {
    ...review,
    status: to,
    closedAt: closes && review.closedAt === null ? context.at : review.closedAt,
    updatedAt: context.at,
  };
  return {
    review: updated,
    audit: {
      dealId: review.dealId,
      reviewId: review.id,
      action: auditAction[action],
      actor: context.actor,
      fromStatus: review.status,
      toStatus: to,
      reason: context.reason,
      details: context.details ?? null,
      at: context.at,
    },
  };
}

function describeAction(action: ReviewAction, to: ReviewStatus): string {
  switch (action) {
    case 'decide':
      return `decided (${to}); only a pending or overdue review can be`;
    case 'mark_overdue':
      return 'marked overdue; only a pending review can be';
    case 'withdraw':
      return 'withdrawn; only a pending or overdue review can be';
    case 'supersede':
      return 'superseded; it has already ended';
  }
}

/** The new review a request opens: pending until the due time. */
export function openReview(input: {
  dealId: string;
  kind?: ReviewKind;
  summary: string;
  effortWeeks: number;
  neededBy: string | null;
  amount: number | null;
  requestedBy: string;
  at: number;
  dueAt: number;
}): Omit<Review, 'id'> {
  return {
    dealId: input.dealId,
    kind: input.kind ?? 'pre_sales',
    status: 'pending',
    summary: input.summary,
    effortWeeks: input.effortWeeks,
    neededBy: input.neededBy,
    amountAtRequest: input.amount,
    approvedAmount: null,
    keepsBooking: false,
    requestedBy: input.requestedBy,
    requestedAt: input.at,
    dueAt: input.dueAt,
    escalatedAt: null,
    closedAt: null,
    deprioritizedAt: null,
    deprioritizedFor: null,
    updatedAt: input.at,
  };
}

/**
 * Whether a rep may request a review of this commitment now, given the deal's latest review.
 * Refused while one is waiting, and when the same commitment has already been answered (a "no"
 * stands until the commitment is renegotiated; an approval needs no second review).
 */
export function assertMayRequest(latest: Review | undefined, commitment: { summary: string; effortWeeks: number }): void {
  if (!latest) return;
  if (isOpenReview(latest)) {
    throw conflict(`review ${latest.id} of this deal is already ${latest.status}: withdraw it before requesting another`, {
      reviewId: latest.id,
      status: latest.status,
    });
  }
  const same = coversCommitment(latest, { commitment: true, commitmentSummary: commitment.summary, effortWeeks: commitment.effortWeeks });
  if (same && isApproval(latest.status)) {
    throw conflict(`review ${latest.id} already approved this commitment; change the summary or effort to ask for a new review`, {
      reviewId: latest.id,
      status: latest.status,
    });
  }
  if (same && latest.status === 'rejected') {
    throw conflict(`review ${latest.id} answered no to this commitment; renegotiate it (change the summary or effort) before asking again`, {
      reviewId: latest.id,
      status: latest.status,
    });
  }
}

/** The gate-level audit entry of a request: required (or whatever the gate said) -> pending. */
export function requestAudit(review: Review, fromStatus: GateStatus, actor: string): AuditEntry {
  return {
    dealId: review.dealId,
    reviewId: review.id,
    action: 'review_requested',
    actor,
    fromStatus,
    toStatus: 'pending',
    reason: `${review.kind === 'post_sales' ? 'post-sales review' : 'review'} requested: ${review.effortWeeks} engineer-weeks${review.neededBy ? `, needed by ${review.neededBy}` : ''}`,
    details: { summary: review.summary, effortWeeks: review.effortWeeks, neededBy: review.neededBy, ...(review.kind === 'post_sales' ? { kind: review.kind } : {}) },
    at: review.requestedAt,
  };
}
