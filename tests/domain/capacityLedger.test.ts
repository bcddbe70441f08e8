import fc from 'fast-check';
import type { DealgateError } from '../../src/server/shared/errors';
import {
  allocationWeeks,
  bookingOf,
  capacityView,
  commitmentQuarter,
  consumedWeeks,
  planApproval,
  quarterOf,
  type ApprovalRequest,
  type LedgerCommitment,
} from '../../src/server/domain/capacityLedger';
import { failure } from './fixtures';

const capacity = { engineerWeeksPerQuarter: 100, commitmentShare: 0.2 }; // 20 weeks for customer commitments
const Q4 = '2026-Q4';

function commitment(reviewId: number, weeks: number, quarter = Q4): LedgerCommitment {
  return { reviewId, dealId: `d${reviewId}`, summary: `commitment ${reviewId}`, weeks, decidedAt: Date.UTC(2026, 9, reviewId), quarter };
}

/** A request as the gate service builds it from the store: the quarter's booking and the named commitment, from the account's commitments (the review itself left out). */
function request({ commitments = [], ...overrides }: Partial<ApprovalRequest> & { commitments?: LedgerCommitment[] } = {}): ApprovalRequest {
  const base = { capacity, reviewId: 99, quarter: Q4, requestedWeeks: 5, deprioritizeReviewId: undefined, ...overrides };
  const others = commitments.filter((c) => c.reviewId !== base.reviewId);
  return { ...base, booking: bookingOf(others, base.quarter), named: others.find((c) => c.reviewId === base.deprioritizeReviewId) };
}

describe('quarters', () => {
  it('names the UTC quarter of a moment', () => {
    expect(quarterOf(Date.UTC(2026, 0, 1))).toBe('2026-Q1');
    expect(quarterOf(Date.UTC(2026, 2, 31, 23, 59))).toBe('2026-Q1');
    expect(quarterOf(Date.UTC(2026, 3, 1))).toBe('2026-Q2');
    expect(quarterOf(Date.UTC(2026, 11, 31, 23, 59, 59))).toBe('2026-Q4');
  });

  it('puts a commitment in the quarter it is due in (needed-by date), else the decision quarter', () => {
    expect(commitmentQuarter('2027-02-10', Date.UTC(2026, 10, 2))).toBe('2027-Q1');
    expect(commitmentQuarter(null, Date.UTC(2026, 10, 2))).toBe('2026-Q4');
  });

  it('counts the effort plus any yes-but extra weeks', () => {
    expect(consumedWeeks(4, null)).toBe(4);
    expect(consumedWeeks(4, 2.5)).toBe(6.5);
  });
});

describe('the capacity picture', () => {
  it('shows the allocation, what the quarter uses and what remains, oldest commitment first', () => {
    const view = capacityView(capacity, bookingOf([commitment(3, 6), commitment(1, 4), commitment(2, 10, '2027-Q1')], Q4));
    expect(view).toEqual({
      quarter: Q4,
      engineerWeeksPerQuarter: 100,
      commitmentShare: 0.2,
      allocationWeeks: 20,
      usedWeeks: 10,
      remainingWeeks: 10,
      commitments: [
        { reviewId: 1, dealId: 'd1', dealName: null, summary: 'commitment 1', weeks: 4, decidedAt: new Date(Date.UTC(2026, 9, 1)).toISOString() },
        { reviewId: 3, dealId: 'd3', dealName: null, summary: 'commitment 3', weeks: 6, decidedAt: new Date(Date.UTC(2026, 9, 3)).toISOString() },
      ],
      moreCommitments: 0,
      // No maintenance share set: 20%, the rest product work.
      shares: { customer: { share: 0.2, weeks: 20 }, maintenance: { share: 0.2, weeks: 20 }, product: { share: 0.6, weeks: 60 } },
    });
  });

  it('splits the quarter by the maintenance share set, and one that leaves customers more than 80% takes only what they leave', () => {
    expect(capacityView({ ...capacity, maintenanceShare: 0.35 }, bookingOf([], Q4)).shares).toEqual({
      customer: { share: 0.2, weeks: 20 },
      maintenance: { share: 0.35, weeks: 35 },
      product: { share: 0.45, weeks: 45 },
    });
    expect(capacityView({ engineerWeeksPerQuarter: 50, commitmentShare: 0.9 }, bookingOf([], Q4)).shares).toEqual({
      customer: { share: 0.9, weeks: 45 },
      maintenance: { share: 0.1, weeks: 5 },
      product: { share: 0, weeks: 0 },
    });
  });

  it('rounds the allocation so 30% of 100 is 30, not 30.000000000000004', () => {
    expect(allocationWeeks({ engineerWeeksPerQuarter: 100, commitmentShare: 0.3 })).toBe(30);
  });
});

describe('planning an approval', () => {
  it('accepts an approval that fits, up to exactly the allocation', () => {
    expect(planApproval(request({ requestedWeeks: 20 }))).toEqual({ deprioritize: null });
    expect(planApproval(request({ requestedWeeks: 5, commitments: [commitment(1, 15)] }))).toEqual({ deprioritize: null });
  });

  it('refuses one that would exceed the allocation (409), with the numbers and the commitments that could make room', () => {
    const e = failure(() => planApproval(request({ requestedWeeks: 6, commitments: [commitment(1, 15), commitment(2, 8, '2027-Q1')] })));
    expect(e.code).toBe('conflict');
    expect(e.message).toBe(
      'approving 6 weeks exceeds the 2026-Q4 allocation: 5 of 20 weeks remain; name an approved commitment to deprioritize, or answer yes-but or no',
    );
    expect(e.details).toMatchObject({ quarter: Q4, allocationWeeks: 20, usedWeeks: 15, remainingWeeks: 5, requestedWeeks: 6 });
    expect((e.details as { candidates: { reviewId: number }[] }).candidates.map((c) => c.reviewId)).toEqual([1]);
  });

  it('counts only the quarter the approval lands in', () => {
    expect(planApproval(request({ requestedWeeks: 20, commitments: [commitment(1, 20, '2027-Q1')] }))).toEqual({ deprioritize: null });
  });

  it('accepts it when it names an approved commitment whose weeks make room, and releases them', () => {
    const existing = [commitment(1, 15), commitment(2, 4)];
    const plan = planApproval(request({ requestedWeeks: 12, commitments: existing, deprioritizeReviewId: 1 }));
    expect(plan.deprioritize).toEqual(existing[0]);
  });

  it('refuses a deprioritization that still does not make enough room', () => {
    const e = failure(() => planApproval(request({ requestedWeeks: 12, commitments: [commitment(1, 15), commitment(2, 4)], deprioritizeReviewId: 2 })));
    expect(e.code).toBe('conflict');
    expect(e.message).toContain('even after deprioritizing review 2 (4 weeks)');
  });

  it('refuses to deprioritize a review that is not a commitment consuming capacity, itself, or one of another quarter', () => {
    expect(failure(() => planApproval(request({ deprioritizeReviewId: 42 }))).code).toBe('conflict');
    expect(failure(() => planApproval(request({ commitments: [commitment(99, 3)], deprioritizeReviewId: 99 }))).code).toBe('conflict');
    const other = failure(() => planApproval(request({ requestedWeeks: 30, commitments: [commitment(1, 20, '2027-Q1')], deprioritizeReviewId: 1 })));
    expect(other.message).toBe('review 1 consumes 2027-Q1, not 2026-Q4: deprioritizing it makes no room in 2026-Q4');
  });

  it('compares the real numbers, not the rounded ones shown on the card', () => {
    // 1 x 0.0015 = 0.0015 weeks, shown as 0.002: approving 0.002 would exceed the real allocation.
    expect(failure(() => planApproval(request({ capacity: { engineerWeeksPerQuarter: 1, commitmentShare: 0.0015 }, requestedWeeks: 0.002 }))).code).toBe('conflict');
    // 9.9994 used (shown as 9.999) of 10: 0.001 more would make 10.0004.
    expect(failure(() => planApproval(request({ capacity: { engineerWeeksPerQuarter: 10, commitmentShare: 1 }, requestedWeeks: 0.001, commitments: [commitment(1, 9.9994)] }))).code).toBe('conflict');
    // Floating-point noise is not a refusal: 0.1 + 0.2 of an allocation of 0.3.
    expect(planApproval(request({ capacity: { engineerWeeksPerQuarter: 3, commitmentShare: 0.1 }, requestedWeeks: 0.2, commitments: [commitment(1, 0.1)] }))).toEqual({ deprioritize: null });
  });

  it('refuses nothing when no capacity is configured (the ledger is off)', () => {
    expect(planApproval(request({ capacity: null, requestedWeeks: 10_000, commitments: [commitment(1, 500)] }))).toEqual({ deprioritize: null });
  });

  it('never lets the approved commitments of a quarter exceed its allocation, whatever the sequence of requests (property)', () => {
    const attempt = fc.record({
      weeks: fc.double({ min: 0.001, max: 15, noNaN: true }),
      deprioritize: fc.option(fc.nat({ max: 30 }), { nil: undefined }),
    });
    fc.assert(
      fc.property(
        fc.double({ min: 1, max: 200, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        fc.array(attempt, { maxLength: 30 }),
        (engineerWeeksPerQuarter, commitmentShare, attempts) => {
          const cap = { engineerWeeksPerQuarter, commitmentShare };
          let ledger: LedgerCommitment[] = [];
          attempts.forEach((a, index) => {
            const reviewId = index + 1;
            try {
              const plan = planApproval(request({ capacity: cap, reviewId, requestedWeeks: a.weeks, commitments: ledger, deprioritizeReviewId: a.deprioritize }));
              if (plan.deprioritize) ledger = ledger.filter((c) => c.reviewId !== plan.deprioritize?.reviewId);
              ledger = [...ledger, commitment(reviewId, a.weeks)];
            } catch (error) {
              expect((error as DealgateError).code).toBe('conflict');
            }
            const used = ledger.reduce((sum, c) => sum + c.weeks, 0);
            expect(used).toBeLessThanOrEqual(engineerWeeksPerQuarter * commitmentShare + 1e-6);
          });
        },
      ),
      { numRuns: 300 },
    );
  });
});
