import type { DecisionOutcome, ReviewStatus } from './vocabulary';
import { forbidden, invalidRequest } from '../shared/errors';
import type { AuditEntry } from './auditEntry';
import { transition, type Review } from './reviewLifecycle';
import { isDesignatedReviewer, type RoleSettings } from './roles';

/**
 * A reviewer's answer. yes: the deal may advance. yes_but: it may advance with the extra weeks
 * and/or tradeoff written down. no: it stays blocked until the commitment is renegotiated.
 * Only a designated reviewer decides, and never on a review they requested themselves.
 */
export interface DecisionInput {
  outcome: DecisionOutcome;
  note: string;
  extraWeeks?: number | undefined;
  tradeoff?: string | undefined;
  deprioritizeReviewId?: number | undefined;
}

export interface Decision {
  reviewId: number;
  outcome: DecisionOutcome;
  note: string;
  extraWeeks: number | null;
  tradeoff: string | null;
  deprioritizedReviewId: number | null;
  /** The quarter whose capacity the approval consumes (null for a no). */
  quarter: string | null;
  decidedBy: string;
  decidedAt: number;
}

export const outcomeStatus: Record<DecisionOutcome, ReviewStatus> = {
  yes: 'approved',
  yes_but: 'approved_with_conditions',
  no: 'rejected',
};

/** 403 unless the caller (`userId`) is a designated reviewer who did not request this review; the refusal speaks to the caller. */
export function assertMayDecide(review: Pick<Review, 'id' | 'requestedBy'>, userId: string, settings: RoleSettings): void {
  if (!isDesignatedReviewer(userId, settings)) {
    throw forbidden('you are not a designated reviewer of this account; an admin adds reviewers in the settings');
  }
  if (review.requestedBy === userId) {
    throw forbidden('you requested this review, so another reviewer must decide it');
  }
}

/** The written-down rules of each outcome (the API schema checks them too; the domain does not rely on it). */
export function assertWellFormed(input: DecisionInput): void {
  const tradeoff = input.tradeoff?.trim() ?? '';
  if (input.outcome === 'yes_but' && input.extraWeeks === undefined && tradeoff === '') {
    throw invalidRequest('extraWeeks: a yes-but needs extra weeks and/or a tradeoff, written down', {
      issues: [{ path: 'extraWeeks', message: 'a yes-but needs extra weeks and/or a tradeoff, written down' }],
    });
  }
  if (input.extraWeeks !== undefined && !(input.extraWeeks > 0)) {
    throw invalidRequest('extraWeeks: must be more than 0 weeks', { issues: [{ path: 'extraWeeks', message: 'must be more than 0 weeks' }] });
  }
  if (input.outcome === 'no' && input.note.trim() === '') {
    throw invalidRequest('note: a no needs a reason', { issues: [{ path: 'note', message: 'a no needs a reason' }] });
  }
  if (input.outcome !== 'yes_but' && (input.extraWeeks !== undefined || tradeoff !== '')) {
    throw invalidRequest('outcome: extra weeks and tradeoff belong to a yes_but', {
      issues: [{ path: 'outcome', message: 'extra weeks and tradeoff belong to a yes_but' }],
    });
  }
  if (input.outcome === 'no' && input.deprioritizeReviewId !== undefined) {
    throw invalidRequest('deprioritizeReviewId: a no consumes no capacity, so it deprioritizes nothing', {
      issues: [{ path: 'deprioritizeReviewId', message: 'a no consumes no capacity, so it deprioritizes nothing' }],
    });
  }
}

/** The conditions of an approval, as shown on the deal (`dealgate_conditions`). */
export function conditionsText(decision: Pick<Decision, 'outcome' | 'extraWeeks' | 'tradeoff'>): string {
  if (decision.outcome !== 'yes_but') return '';
  const parts: string[] = [];
  if (decision.extraWeeks !== null) parts.push(`${decision.extraWeeks} extra engineer-week${decision.extraWeeks === 1 ? '' : 's'}`);
  if (decision.tradeoff !== null) parts.push(`tradeoff: ${decision.tradeoff}`);
  return parts.join('; ');
}

export interface DecideResult {
  review: Review;
  decision: Decision;
  audit: AuditEntry;
}

/** Decides the review: checks who decides and what was written down, then moves it to its outcome's status. */
export function decideReview(
  review: Review,
  input: DecisionInput,
  context: { userId: string; settings: RoleSettings; at: number; quarter: string | null },
): DecideResult {
  assertMayDecide(review, context.userId, context.settings);
  assertWellFormed(input);
  const tradeoff = input.tradeoff?.trim() ? input.tradeoff.trim() : null;
  const decision: Decision = {
    reviewId: review.id,
    outcome: input.outcome,
    note: input.note.trim(),
    extraWeeks: input.outcome === 'yes_but' ? input.extraWeeks ?? null : null,
    tradeoff: input.outcome === 'yes_but' ? tradeoff : null,
    deprioritizedReviewId: input.outcome === 'no' ? null : input.deprioritizeReviewId ?? null,
    quarter: input.outcome === 'no' ? null : context.quarter,
    decidedBy: context.userId,
    decidedAt: context.at,
  };
  const to = outcomeStatus[input.outcome];
  const reason =
    input.outcome === 'yes'
      ? 'approved' + (decision.note ? `: ${decision.note}` : '')
      : input.outcome === 'yes_but'
        ? `approved with conditions: ${conditionsText(decision)}` + (decision.note ? `; ${decision.note}` : '')
        : `rejected: ${decision.note}`;
  const moved = transition(review, 'decide', to, {
    actor: context.userId,
    at: context.at,
    reason,
    details: { outcome: input.outcome, extraWeeks: decision.extraWeeks, tradeoff: decision.tradeoff, quarter: decision.quarter },
  });
  return { review: moved.review, decision, audit: moved.audit };
}
