import fc from 'fast-check';
import { reviewStatuses, type ReviewStatus } from '../../extensions/contract/api';
import { DealgateError } from '../../src/server/shared/errors';
import {
  assertMayRequest,
  coversCommitment,
  describeCommitmentChange,
  isActiveReview,
  isOpenReview,
  openReview,
  requestAudit,
  transition,
  type ReviewAction,
} from '../../src/server/domain/reviewLifecycle';
import { review, T0, HOUR } from './fixtures';

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
  } catch (error) {
    if (error instanceof DealgateError) return error.code;
    throw error;
  }
  return undefined;
}

const ctx = { actor: '200', at: T0 + HOUR, reason: 'because' };

/** The lifecycle table as the issue and DESIGN.md state it. */
const legal: Record<ReviewAction, { from: ReviewStatus[]; to: ReviewStatus[] }> = {
  decide: { from: ['pending', 'overdue'], to: ['approved', 'approved_with_conditions', 'rejected'] },
  mark_overdue: { from: ['pending'], to: ['overdue'] },
  withdraw: { from: ['pending', 'overdue'], to: ['withdrawn'] },
  supersede: { from: ['pending', 'overdue', 'approved', 'approved_with_conditions', 'rejected'], to: ['superseded'] },
};

describe('review lifecycle', () => {
  it('opens a request as pending with its due time and nothing closed', () => {
    const opened = openReview({ dealId: 'd9', summary: 's', effortWeeks: 2, neededBy: '2026-12-01', amount: 70_000, requestedBy: '7', at: T0, dueAt: T0 + 24 * HOUR });
    expect(opened).toEqual({
      dealId: 'd9',
      // Not said otherwise: the deal's commitment, the review the gate holds the deal to.
      kind: 'pre_sales',
      status: 'pending',
      summary: 's',
      effortWeeks: 2,
      neededBy: '2026-12-01',
      amountAtRequest: 70_000,
      approvedAmount: null,
      keepsBooking: false,
      requestedBy: '7',
      requestedAt: T0,
      dueAt: T0 + 24 * HOUR,
      escalatedAt: null,
      closedAt: null,
      deprioritizedAt: null,
      deprioritizedFor: null,
      updatedAt: T0,
    });
  });

  it('moves pending to a decision with an audit entry saying who, when, from, to and why', () => {
    const r = review();
    const moved = transition(r, 'decide', 'approved', { ...ctx, details: { outcome: 'yes' } });
    expect(moved.review).toMatchObject({ status: 'approved', closedAt: ctx.at, updatedAt: ctx.at });
    expect(moved.audit).toEqual({
      dealId: 'd1',
      reviewId: r.id,
      action: 'review_decided',
      actor: '200',
      fromStatus: 'pending',
      toStatus: 'approved',
      reason: 'because',
      details: { outcome: 'yes' },
      at: ctx.at,
    });
    // The input is not mutated: the store writes the returned review.
    expect(r.status).toBe('pending');
  });

  it('keeps an overdue review open (no closedAt) and closes it when decided', () => {
    const overdue = transition(review(), 'mark_overdue', 'overdue', ctx).review;
    expect(overdue.closedAt).toBeNull();
    expect(isOpenReview(overdue)).toBe(true);
    const decided = transition(overdue, 'decide', 'rejected', { ...ctx, at: ctx.at + HOUR }).review;
    expect(decided.closedAt).toBe(ctx.at + HOUR);
  });

  it('supersedes an answered review without moving its closing time', () => {
    const decided = transition(review(), 'decide', 'approved', ctx).review;
    const superseded = transition(decided, 'supersede', 'superseded', { ...ctx, at: ctx.at + 5 * HOUR });
    expect(superseded.review.status).toBe('superseded');
    expect(superseded.review.closedAt).toBe(ctx.at);
    expect(superseded.audit.action).toBe('review_superseded');
    expect(isActiveReview(superseded.review)).toBe(false);
  });

  it('allows exactly the transitions of the lifecycle table; every other one is a coded conflict (exhaustive)', () => {
    const actions = Object.keys(legal) as ReviewAction[];
    for (const action of actions) {
      for (const from of reviewStatuses) {
        for (const to of reviewStatuses) {
          const ok = legal[action].from.includes(from) && legal[action].to.includes(to);
          const code = codeOf(() => transition(review({ status: from }), action, to, ctx));
          expect([action, from, to, code]).toEqual([action, from, to, ok ? undefined : 'conflict']);
        }
      }
    }
  });

  it('names the review, its status and the attempted action in an illegal transition', () => {
    const r = review({ status: 'withdrawn' });
    try {
      transition(r, 'decide', 'approved', ctx);
      throw new Error('expected a conflict');
    } catch (error) {
      expect(error).toBeInstanceOf(DealgateError);
      const e = error as DealgateError;
      expect(e.code).toBe('conflict');
      expect(e.message).toBe(`review ${r.id} is withdrawn: it cannot be decided (approved); only a pending or overdue review can be`);
      expect(e.details).toEqual({ reviewId: r.id, status: 'withdrawn', action: 'decide', to: 'approved' });
    }
  });

  it('ends every sequence of actions in a state reachable by the table, with one audit entry per accepted step (property)', () => {
    const step = fc.record({ action: fc.constantFrom<ReviewAction>('decide', 'mark_overdue', 'withdraw', 'supersede'), to: fc.constantFrom(...reviewStatuses) });
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        let current = review();
        let audits = 0;
        for (const s of steps) {
          const before = current.status;
          try {
            const moved = transition(current, s.action, s.to, ctx);
            expect(moved.audit.fromStatus).toBe(before);
            expect(moved.audit.toStatus).toBe(s.to);
            current = moved.review;
            audits += 1;
          } catch (error) {
            expect((error as DealgateError).code).toBe('conflict');
            expect(current.status).toBe(before);
          }
        }
        // Ended reviews never come back to life.
        if (current.status === 'withdrawn' || current.status === 'superseded') expect(isActiveReview(current)).toBe(false);
        expect(audits).toBeLessThanOrEqual(3);
      }),
    );
  });
});

describe('commitment coverage', () => {
  const r = review({ summary: 'SSO', effortWeeks: 4 });

  it('covers the same summary and effort only', () => {
    expect(coversCommitment(r, { commitment: true, commitmentSummary: 'SSO', effortWeeks: 4 })).toBe(true);
    expect(coversCommitment(r, { commitment: true, commitmentSummary: 'SSO', effortWeeks: 4.5 })).toBe(false);
    expect(coversCommitment(r, { commitment: true, commitmentSummary: 'SAML', effortWeeks: 4 })).toBe(false);
    expect(coversCommitment(r, { commitment: true, commitmentSummary: 'SSO', effortWeeks: null })).toBe(false);
    expect(coversCommitment(r, { commitment: false, commitmentSummary: 'SSO', effortWeeks: 4 })).toBe(false);
  });

  it('describes what changed, for the audit log and the note', () => {
    expect(describeCommitmentChange(r, { commitment: false, commitmentSummary: null, effortWeeks: null })).toBe('the commitment was removed from the deal');
    expect(describeCommitmentChange(r, { commitment: true, commitmentSummary: 'SAML', effortWeeks: 6 })).toBe(
      'the commitment summary changed and the effort changed from 4 to 6 engineer-weeks',
    );
    expect(describeCommitmentChange(r, { commitment: true, commitmentSummary: 'SSO', effortWeeks: null })).toBe(
      'the effort changed from 4 to none engineer-weeks',
    );
  });
});

describe('requesting a review', () => {
  const commitment = { summary: 'SSO with Okta', effortWeeks: 4 };

  it('is allowed with no earlier review, or after a withdrawn or superseded one', () => {
    expect(() => assertMayRequest(undefined, commitment)).not.toThrow();
    expect(() => assertMayRequest(review({ status: 'withdrawn' }), commitment)).not.toThrow();
    expect(() => assertMayRequest(review({ status: 'superseded' }), commitment)).not.toThrow();
  });

  it.each(['pending', 'overdue'] as const)('is refused while a review is %s', (status) => {
    expect(codeOf(() => assertMayRequest(review({ status }), { summary: 'other', effortWeeks: 1 }))).toBe('conflict');
  });

  it.each(['approved', 'approved_with_conditions', 'rejected'] as const)('is refused for the same commitment already %s', (status) => {
    expect(codeOf(() => assertMayRequest(review({ status }), commitment))).toBe('conflict');
  });

  it.each(['approved', 'approved_with_conditions', 'rejected'] as const)('is allowed for a renegotiated commitment after %s', (status) => {
    expect(() => assertMayRequest(review({ status }), { ...commitment, effortWeeks: 5 })).not.toThrow();
    expect(() => assertMayRequest(review({ status }), { ...commitment, summary: 'SSO with Okta, no SCIM' })).not.toThrow();
  });

  it('audits the request as a gate transition to pending', () => {
    const r = review({ neededBy: '2027-01-15' });
    expect(requestAudit(r, 'required', '100')).toEqual({
      dealId: 'd1',
      reviewId: r.id,
      action: 'review_requested',
      actor: '100',
      fromStatus: 'required',
      toStatus: 'pending',
      reason: 'review requested: 4 engineer-weeks, needed by 2027-01-15',
      details: { summary: 'SSO with Okta', effortWeeks: 4, neededBy: '2027-01-15' },
      at: T0,
    });
  });

  it('says when the request is for post-sales work on a won deal', () => {
    const opened = openReview({ dealId: 'd1', kind: 'post_sales', summary: 'Data migration', effortWeeks: 3, neededBy: null, amount: 80_000, requestedBy: '100', at: T0, dueAt: T0 + HOUR });
    const audit = requestAudit({ ...opened, id: 7 }, 'approved', '100');
    expect(audit).toMatchObject({ reason: 'post-sales review requested: 3 engineer-weeks', details: { kind: 'post_sales' }, fromStatus: 'approved' });
  });
});
