import { BREAK_GLASS_MAX_HOURS, breakGlassEndAt, breakGlassRefusal, breakGlassUntil, mayBreakGlass, type BreakGlassCandidate } from '../../src/server/domain/breakGlass';
import { triggerChangeEffect, triggerSettingsIssue } from '../../src/server/domain/reviewTrigger';
import { HOUR, review, T0 } from './fixtures';

const roles = { reviewers: ['200'], admins: ['900'], escalationReviewer: '300', breakGlassUsers: ['500'] };
const user = (id: string) => `user ${id}`;

describe('who may break the glass', () => {
  it('is an admin or someone the account names for it, nobody else (a reviewer neither)', () => {
    expect(mayBreakGlass('900', roles)).toBe(true);
    expect(mayBreakGlass('500', roles)).toBe(true);
    expect(mayBreakGlass('200', roles)).toBe(false);
    expect(mayBreakGlass('300', roles)).toBe(false);
    expect(mayBreakGlass('500', { ...roles, breakGlassUsers: undefined })).toBe(false);
  });
});

describe('the time box', () => {
  it('is 72 hours by default and never more than 7 days', () => {
    expect(breakGlassUntil(T0)).toBe(T0 + 72 * HOUR);
    expect(breakGlassUntil(T0, 5)).toBe(T0 + 5 * HOUR);
    expect(breakGlassUntil(T0, 1000)).toBe(T0 + BREAK_GLASS_MAX_HOURS * HOUR);
    expect(BREAK_GLASS_MAX_HOURS).toBe(168);
  });

  it('ends as expired at its end without a decision, as decided when a reviewer answered in it, and not before', () => {
    const window = { openedAt: T0, until: T0 + 10 * HOUR, closedAt: null };
    expect(breakGlassEndAt(window, review(), T0 + 10 * HOUR - 1)).toBeNull();
    expect(breakGlassEndAt(window, review(), T0 + 10 * HOUR)).toBe('expired');
    expect(breakGlassEndAt(window, review({ status: 'approved', closedAt: T0 + HOUR }), T0 + 2 * HOUR)).toBe('decided');
    expect(breakGlassEndAt(window, review({ status: 'withdrawn', closedAt: T0 + HOUR }), T0 + 10 * HOUR)).toBe('expired');
    // A decision from before the box is not one made in it.
    expect(breakGlassEndAt(window, review({ status: 'rejected', closedAt: T0 - HOUR }), T0 + 2 * HOUR)).toBeNull();
    expect(breakGlassEndAt({ ...window, closedAt: T0 + HOUR }, review(), T0 + 20 * HOUR)).toBeNull();
  });
});

describe('when the glass cannot be broken', () => {
  const candidate: BreakGlassCandidate = { reviewRequired: true, reason: 'Commitment present and amount 80,000 is at or above the 50,000 threshold', status: 'pending', latestReviewId: 7, open: undefined };

  it('can be broken for a deal that needs a review nobody answered yet', () => {
    expect(breakGlassRefusal(candidate, user)).toBeNull();
    expect(breakGlassRefusal({ ...candidate, status: 'required', latestReviewId: null }, user)).toBeNull();
  });

  it('refuses a deal that needs no review, one with a decision, and one with a break-glass open, saying which', () => {
    expect(breakGlassRefusal({ ...candidate, reviewRequired: false, status: 'not_required', reason: 'below' }, user)).toContain('needs no review');
    expect(breakGlassRefusal({ ...candidate, status: 'approved' }, user)).toContain('already has a decision (review #7 is approved)');
    expect(breakGlassRefusal({ ...candidate, status: 'rejected' }, user)).toContain('review #7 is rejected');
    expect(breakGlassRefusal({ ...candidate, open: { openedBy: '900', until: T0 } }, user)).toBe(`the deal already has an open break-glass, by user 900 until ${new Date(T0).toISOString()}`);
  });
});

describe('the trigger settings', () => {
  it('needs an effort threshold for every mode that looks at the effort, naming the field', () => {
    expect(triggerSettingsIssue({ valueThreshold: 1 })).toBeNull();
    expect(triggerSettingsIssue({ valueThreshold: 1, triggerMode: 'amount', effortThreshold: null })).toBeNull();
    for (const mode of ['effort', 'either', 'both'] as const) {
      expect(triggerSettingsIssue({ valueThreshold: 1, triggerMode: mode, effortThreshold: null })).toEqual({ path: 'effortThreshold', message: expect.stringContaining(`triggerMode is "${mode}"`) });
      expect(triggerSettingsIssue({ valueThreshold: 1, triggerMode: mode, effortThreshold: 2 })).toBeNull();
    }
  });

  it('classifies a change of mode or effort threshold as relaxing or tightening the gate', () => {
    const t = (triggerMode: 'amount' | 'effort' | 'either' | 'both', effortThreshold: number | null = 2) => ({ valueThreshold: 1, triggerMode, effortThreshold });
    expect(triggerChangeEffect(t('amount'), t('either'))).toEqual({ relaxed: false, tightened: true });
    expect(triggerChangeEffect(t('either'), t('both'))).toEqual({ relaxed: true, tightened: false });
    expect(triggerChangeEffect(t('amount'), t('effort'))).toEqual({ relaxed: true, tightened: true });
    expect(triggerChangeEffect(t('effort', 2), t('effort', 4))).toEqual({ relaxed: true, tightened: false });
    expect(triggerChangeEffect(t('either', 4), t('either', 2))).toEqual({ relaxed: false, tightened: true });
    // Under the amount rule the effort threshold decides nothing.
    expect(triggerChangeEffect(t('amount', 2), t('amount', 4))).toEqual({ relaxed: false, tightened: false });
  });
});
