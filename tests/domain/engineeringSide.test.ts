import { assertSharesFit, requestPreview, splitCapacity } from '../../src/server/domain/capacityShares';
import { crossesGoal, revenueProgress, type WonCommitmentDeal } from '../../src/server/domain/revenueGoal';
import { assertMayGiveView, assertMayMakeTheCall, assertWellFormedView, judgeCall, notWeighedIn, TRIAD_OFF, type Perspective, type TriadSettings } from '../../src/server/domain/triad';
import { failure, T0, HOUR } from './fixtures';

describe('capacity in three shares', () => {
  it('splits the quarter into customer commitments, maintenance and product work (the rest)', () => {
    expect(splitCapacity({ engineerWeeksPerQuarter: 120, commitmentShare: 0.3, maintenanceShare: 0.2 })).toEqual({
      customer: { share: 0.3, weeks: 36 },
      maintenance: { share: 0.2, weeks: 24 },
      product: { share: 0.5, weeks: 60 },
    });
    expect(splitCapacity({ engineerWeeksPerQuarter: 100, commitmentShare: 0.8, maintenanceShare: 0.2 }).product).toEqual({ share: 0, weeks: 0 });
  });

  it('refuses shares that add up to more than the whole quarter, naming both', () => {
    const e = failure(() => assertSharesFit({ commitmentShare: 0.9, maintenanceShare: 0.2 }));
    expect(e.code).toBe('invalid_request');
    expect(e.message).toBe('capacity: customer commitments (90%) and maintenance (20%) add up to 110%, more than the whole quarter; lower one of them');
    expect(failure(() => assertSharesFit({ commitmentShare: 0.5, maintenanceShare: -0.1 })).message).toBe('maintenanceShare: must be a share from 0 to 1');
  });

  it('shows a rep what the quarter has left and what the request would leave', () => {
    expect(requestPreview(36, 30, 4)).toEqual({ remainingWeeks: 6, remainingAfterWeeks: 2, fits: true });
    expect(requestPreview(36, 30, 6)).toEqual({ remainingWeeks: 6, remainingAfterWeeks: 0, fits: true });
    expect(requestPreview(36, 30, 8)).toEqual({ remainingWeeks: 6, remainingAfterWeeks: -2, fits: false });
  });
});

describe('the revenue goal', () => {
  const deal = (dealId: string, amount: number, wonAtHours: number, approved = true, delivered = false): WonCommitmentDeal => ({ dealId, dealName: `Deal ${dealId}`, amount, wonAt: T0 + wonAtHours * HOUR, approved, delivered });

  it('sums the won deals engineering approved, and of those the delivered ones, and names the win that reached the goal', () => {
    const progress = revenueProgress('2026-Q4', 1_000_000, [deal('c', 500_000, 3, true, true), deal('a', 400_000, 1), deal('x', 900_000, 2, false), deal('b', 300_000, 2)]);
    expect(progress).toEqual({ quarter: '2026-Q4', goal: 1_000_000, approvedAmount: 1_200_000, deliveredAmount: 500_000, progress: 1.2, reachedBy: { dealId: 'c', dealName: 'Deal c', wonAt: T0 + 3 * HOUR } });
  });

  it('has no moment and no progress without a goal, and none before it is reached', () => {
    expect(revenueProgress('2026-Q4', null, [deal('a', 10, 1)])).toMatchObject({ approvedAmount: 10, progress: null, reachedBy: null });
    expect(revenueProgress('2026-Q4', 100, [deal('a', 60, 1)])).toMatchObject({ progress: 0.6, reachedBy: null });
  });

  it('crosses the goal once: with the deal that takes the approved amount from short of it to it', () => {
    expect(crossesGoal(100, 60, { amount: 40, approved: true })).toBe(true);
    expect(crossesGoal(100, 100, { amount: 40, approved: true })).toBe(false);
    expect(crossesGoal(100, 60, { amount: 30, approved: true })).toBe(false);
    expect(crossesGoal(100, 60, { amount: 40, approved: false })).toBe(false);
    expect(crossesGoal(null, 60, { amount: 40, approved: true })).toBe(false);
  });
});

describe('the Triad', () => {
  const triad: TriadSettings = { enabled: true, members: { tech_lead: ['200'], product_manager: ['400'], product_marketing: ['500', '501'] }, decisionMaker: 'product_manager' };
  const view = (role: Perspective['role'], userId: string, stance: string, atHours: number, extra: Partial<Perspective> = {}): Perspective => ({ role, userId, stance, note: 'because', at: T0 + atHours * HOUR, ...extra });

  it('takes a view only from someone named for its role, and only when the Triad is on', () => {
    expect(() => assertMayGiveView('200', 'tech_lead', triad)).not.toThrow();
    expect(failure(() => assertMayGiveView('200', 'product_marketing', triad)).message).toBe('you are not named as product marketing of this account; an admin names the Triad in the settings');
    expect(failure(() => assertMayGiveView('200', 'tech_lead', TRIAD_OFF)).code).toBe('forbidden');
  });

  it('lets only the decision maker make the call', () => {
    expect(() => assertMayMakeTheCall('400', triad)).not.toThrow();
    expect(failure(() => assertMayMakeTheCall('200', triad)).message).toBe('you do not make the call: the product manager does (an admin names them in the settings)');
    expect(() => assertMayMakeTheCall('200', { ...triad, decisionMaker: 'tech_lead' })).not.toThrow();
  });

  it('checks each view against its role', () => {
    expect(() => assertWellFormedView({ role: 'tech_lead', stance: 'yes_but', weeks: 3, note: '' })).not.toThrow();
    expect(() => assertWellFormedView({ role: 'product_marketing', stance: 'can_sell', value: 250_000, note: '' })).not.toThrow();
    expect(failure(() => assertWellFormedView({ role: 'product_manager', stance: 'yes', note: '' })).message).toBe('stance: the product manager answers one of fits, does_not_fit');
    expect(failure(() => assertWellFormedView({ role: 'tech_lead', stance: 'yes_but', note: '' })).message).toBe('weeks: a yes-but says how many weeks it takes (more than 0)');
    expect(failure(() => assertWellFormedView({ role: 'tech_lead', stance: 'yes', weeks: 2, note: '' })).message).toBe("weeks: weeks belong to the tech lead's yes-but");
    expect(failure(() => assertWellFormedView({ role: 'tech_lead', stance: 'yes', value: 2, note: '' })).message).toMatch(/^value: /);
    expect(failure(() => assertWellFormedView({ role: 'tech_lead', stance: 'no', note: ' ' })).message).toBe('note: a view against the commitment says why');
  });

  it('marks a call against any view disagree-and-commit, keeping the dissent (each person’s latest view)', () => {
    const views = [view('tech_lead', '200', 'yes', 1), view('tech_lead', '200', 'no', 2), view('product_marketing', '500', 'can_sell', 1), view('product_manager', '400', 'fits', 3)];
    const call = judgeCall('yes', views, triad);
    expect(call.disagreeAndCommit).toBe(true);
    expect(call.dissent).toEqual([views[1]]);
    expect(call.notWeighedIn).toEqual([{ role: 'product_marketing', userId: '501' }]);
    const against = judgeCall('no', views, triad);
    expect(against.dissent.map((v) => `${v.role}:${v.stance}`)).toEqual(['product_marketing:can_sell', 'product_manager:fits']);
  });

  it('is no disagree-and-commit when every view agrees, or none is in yet (the call may come first)', () => {
    expect(judgeCall('yes_but', [view('tech_lead', '200', 'yes_but', 1, { weeks: 2 })], triad)).toEqual({
      disagreeAndCommit: false,
      dissent: [],
      notWeighedIn: [
        { role: 'product_marketing', userId: '500' },
        { role: 'product_marketing', userId: '501' },
      ],
    });
    expect(notWeighedIn(triad, [])).toHaveLength(3);
  });
});
