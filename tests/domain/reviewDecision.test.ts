import { assertMayDecide, assertWellFormed, conditionsText, decideReview, type DecisionInput } from '../../src/server/domain/reviewDecision';
import { isAdmin, isDesignatedReviewer, rolesOf, type RoleSettings } from '../../src/server/domain/roles';
import { failure, review, T0, HOUR } from './fixtures';

const roles: RoleSettings = { reviewers: ['200', '201'], admins: ['900'], escalationReviewer: '300' };
const at = T0 + 5 * HOUR;

function decideAs(userId: string, input: DecisionInput, r = review()) {
  return decideReview(r, input, { userId, settings: roles, at, quarter: '2026-Q4' });
}

describe('roles', () => {
  it('makes everyone a rep, and adds reviewer, escalation reviewer and admin from the settings', () => {
    expect(rolesOf('100', roles)).toEqual(['rep']);
    expect(rolesOf('200', roles)).toEqual(['rep', 'reviewer']);
    expect(rolesOf('300', roles)).toEqual(['rep', 'escalation_reviewer']);
    expect(rolesOf('900', roles)).toEqual(['rep', 'admin']);
    expect(rolesOf('1', { reviewers: ['1'], admins: ['1'], escalationReviewer: '1' })).toEqual(['rep', 'reviewer', 'escalation_reviewer', 'admin']);
  });

  it('counts the escalation reviewer as a designated reviewer, but not an admin', () => {
    expect(isDesignatedReviewer('300', roles)).toBe(true);
    expect(isDesignatedReviewer('900', roles)).toBe(false);
    expect(isAdmin('900', roles)).toBe(true);
    expect(isAdmin('200', roles)).toBe(false);
  });
});

describe('who decides', () => {
  it('is a designated reviewer (or the escalation reviewer)', () => {
    expect(() => assertMayDecide(review(), '200', roles)).not.toThrow();
    expect(() => assertMayDecide(review(), '300', roles)).not.toThrow();
  });

  it('is never a rep or an admin who is not a reviewer (403)', () => {
    for (const userId of ['100', '900', '555']) {
      const e = failure(() => assertMayDecide(review(), userId, roles));
      expect(e.code).toBe('forbidden');
      expect(e.message).toBe('you are not a designated reviewer of this account; an admin adds reviewers in the settings');
    }
  });

  it('is never the reviewer who requested the review (403)', () => {
    const own = review({ requestedBy: '200' });
    const e = failure(() => decideAs('200', { outcome: 'yes', note: '' }, own));
    expect(e.code).toBe('forbidden');
    expect(e.message).toBe('you requested this review, so another reviewer must decide it');
    expect(() => decideAs('201', { outcome: 'yes', note: '' }, own)).not.toThrow();
  });
});

describe('what a decision must say', () => {
  it.each<[string, DecisionInput, string]>([
    ['a yes-but with neither extra weeks nor tradeoff', { outcome: 'yes_but', note: 'ok' }, 'extraWeeks'],
    ['a yes-but whose tradeoff is blank', { outcome: 'yes_but', note: '', tradeoff: '   ' }, 'extraWeeks'],
    ['a yes-but with 0 extra weeks', { outcome: 'yes_but', note: '', extraWeeks: 0 }, 'extraWeeks'],
    ['a no without a reason', { outcome: 'no', note: '  ' }, 'note'],
    ['a yes with extra weeks', { outcome: 'yes', note: '', extraWeeks: 2 }, 'outcome'],
    ['a no with a tradeoff', { outcome: 'no', note: 'no', tradeoff: 'x' }, 'outcome'],
    ['a no that deprioritizes', { outcome: 'no', note: 'no', deprioritizeReviewId: 3 }, 'deprioritizeReviewId'],
  ])('refuses %s (400 naming %s)', (_what, input, field) => {
    const e = failure(() => assertWellFormed(input));
    expect(e.code).toBe('invalid_request');
    expect(e.message.startsWith(`${field}: `)).toBe(true);
    expect(e.details).toEqual({ issues: [expect.objectContaining({ path: field })] });
  });

  it.each<[string, DecisionInput]>([
    ['a bare yes', { outcome: 'yes', note: '' }],
    ['a yes-but with extra weeks only', { outcome: 'yes_but', note: '', extraWeeks: 2 }],
    ['a yes-but with a tradeoff only', { outcome: 'yes_but', note: '', tradeoff: 'drop SCIM' }],
    ['a no with a reason', { outcome: 'no', note: 'needs a new auth layer' }],
  ])('accepts %s', (_what, input) => {
    expect(() => assertWellFormed(input)).not.toThrow();
  });

  it('checks who decides before what was written (a rep learns they may not decide, not how to fill the form)', () => {
    expect(failure(() => decideAs('100', { outcome: 'no', note: '' })).code).toBe('forbidden');
  });
});

describe('deciding', () => {
  it('yes: approved, consuming the quarter, with its audit entry', () => {
    const r = review();
    const result = decideAs('200', { outcome: 'yes', note: ' fits the roadmap ' }, r);
    expect(result.review.status).toBe('approved');
    expect(result.decision).toEqual({
      reviewId: r.id,
      outcome: 'yes',
      note: 'fits the roadmap',
      extraWeeks: null,
      tradeoff: null,
      deprioritizedReviewId: null,
      quarter: '2026-Q4',
      decidedBy: '200',
      decidedAt: at,
    });
    expect(result.audit).toMatchObject({ action: 'review_decided', actor: '200', fromStatus: 'pending', toStatus: 'approved', reason: 'approved: fits the roadmap' });
  });

  it('yes_but: approved with conditions, the extra weeks and tradeoff written down', () => {
    const result = decideAs('200', { outcome: 'yes_but', note: '', extraWeeks: 3, tradeoff: ' SCIM moves to Q1 ', deprioritizeReviewId: 7 });
    expect(result.review.status).toBe('approved_with_conditions');
    expect(result.decision).toMatchObject({ extraWeeks: 3, tradeoff: 'SCIM moves to Q1', deprioritizedReviewId: 7, quarter: '2026-Q4' });
    expect(result.audit.reason).toBe('approved with conditions: 3 extra engineer-weeks; tradeoff: SCIM moves to Q1');
    expect(result.audit.details).toEqual({ outcome: 'yes_but', extraWeeks: 3, tradeoff: 'SCIM moves to Q1', quarter: '2026-Q4' });
  });

  it('no: rejected with the reason, consuming nothing', () => {
    const result = decideReview(review(), { outcome: 'no', note: 'needs a new auth layer' }, { userId: '200', settings: roles, at, quarter: null });
    expect(result.review.status).toBe('rejected');
    expect(result.decision).toMatchObject({ outcome: 'no', note: 'needs a new auth layer', quarter: null, extraWeeks: null, tradeoff: null });
    expect(result.audit.reason).toBe('rejected: needs a new auth layer');
  });

  it('decides an overdue review too', () => {
    expect(decideAs('300', { outcome: 'yes', note: '' }, review({ status: 'overdue' })).audit.fromStatus).toBe('overdue');
  });

  it.each(['approved', 'rejected', 'withdrawn', 'superseded'] as const)('refuses to decide a review that is %s (409)', (status) => {
    expect(failure(() => decideAs('200', { outcome: 'yes', note: '' }, review({ status }))).code).toBe('conflict');
  });

  it('writes the conditions as the deal shows them', () => {
    expect(conditionsText({ outcome: 'yes_but', extraWeeks: 1, tradeoff: null })).toBe('1 extra engineer-week');
    expect(conditionsText({ outcome: 'yes_but', extraWeeks: null, tradeoff: 'no SCIM' })).toBe('tradeoff: no SCIM');
    expect(conditionsText({ outcome: 'yes', extraWeeks: 2, tradeoff: 'x' })).toBe('');
  });
});
