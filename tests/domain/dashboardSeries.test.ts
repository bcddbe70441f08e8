import type { Settings } from '../../extensions/contract/api';
import { splitCapacity } from '../../src/server/domain/capacityShares';
import { capacityByShare, decisionsPerWeek, median, medianHoursPerWeek, onTimePerQuarter, revenueAgainstGoal, WEEK_MS, type TimedDecision } from '../../src/server/domain/dashboardSeries';
import { maintenanceShareOf } from '../../src/server/application/sharedMetrics';

const Q4 = Date.UTC(2026, 9, 1);
const HOUR = 3_600_000;
const decision = (outcome: TimedDecision['outcome'], decidedAt: number, hours: number): TimedDecision => ({ outcome, decidedAt, msToDecision: hours * HOUR });

describe('the home page’s chart series', () => {
  it('buckets decisions into weeks from the quarter’s first day, the last moment of a week in it and the next week’s first in the next', () => {
    const now = Q4 + WEEK_MS + HOUR;
    const points = decisionsPerWeek([decision('yes', Q4, 1), decision('no', Q4 + WEEK_MS - 1, 1), decision('yes_but', Q4 + WEEK_MS, 1)], Q4, now);
    expect(points).toEqual([
      { week: '2026-10-01', outcome: 'yes', count: 1 },
      { week: '2026-10-01', outcome: 'yes_but', count: 0 },
      { week: '2026-10-01', outcome: 'no', count: 1 },
      { week: '2026-10-08', outcome: 'yes', count: 0 },
      { week: '2026-10-08', outcome: 'yes_but', count: 1 },
      { week: '2026-10-08', outcome: 'no', count: 0 },
    ]);
  });

  it('takes the median hours per week (the mean of the middle two of an even count), leaving weeks without decisions out', () => {
    expect(median([])).toBeNull();
    expect(median([5, 1, 100])).toBe(5);
    expect(median([1, 2, 10, 4])).toBe(3);
    const now = Q4 + 2 * WEEK_MS + HOUR;
    expect(medianHoursPerWeek([decision('yes', Q4 + HOUR, 2), decision('no', Q4 + 2 * HOUR, 5), decision('yes', Q4 + 2 * WEEK_MS, 1.25)], Q4, now)).toEqual([
      { week: '2026-10-01', medianHours: 3.5 },
      { week: '2026-10-15', medianHours: 1.3 },
    ]);
  });

  it('draws the three shares’ allocation and the customer share’s promised weeks; nothing without capacity settings', () => {
    const split = splitCapacity({ engineerWeeksPerQuarter: 50, commitmentShare: 0.4, maintenanceShare: 0.25 });
    expect(capacityByShare(split, 7.5)).toEqual([
      { share: 'customer', measure: 'allocated', weeks: 20 },
      { share: 'customer', measure: 'promised', weeks: 7.5 },
      { share: 'maintenance', measure: 'allocated', weeks: 12.5 },
      { share: 'product', measure: 'allocated', weeks: 17.5 },
    ]);
    expect(capacityByShare(null, 3)).toEqual([]);
  });

  it('keeps the quarters with an on-time rate, in percent', () => {
    expect(onTimePerQuarter([{ quarter: '2026-Q3', onTime: 0, late: 0, overdue: 0, rate: null }, { quarter: '2026-Q4', onTime: 2, late: 1, overdue: 0, rate: 2 / 3 }])).toEqual([{ quarter: '2026-Q4', onTimePercent: 66.7 }]);
  });

  it('adds up approved and delivered wins week by week, beside a flat goal; no goal line without a goal', () => {
    const wins = [
      { dealId: 'a', dealName: null, amount: 100, wonAt: Q4 + HOUR, approved: true, delivered: true },
      { dealId: 'b', dealName: null, amount: 50, wonAt: Q4 + WEEK_MS + HOUR, approved: true, delivered: false },
      { dealId: 'x', dealName: null, amount: 900, wonAt: Q4 + HOUR, approved: false, delivered: false },
    ];
    const now = Q4 + WEEK_MS + 2 * HOUR;
    expect(revenueAgainstGoal(wins, 120, Q4, now)).toEqual([
      { week: '2026-10-01', series: 'approved', amount: 100 },
      { week: '2026-10-01', series: 'delivered', amount: 100 },
      { week: '2026-10-01', series: 'goal', amount: 120 },
      { week: '2026-10-08', series: 'approved', amount: 150 },
      { week: '2026-10-08', series: 'delivered', amount: 100 },
      { week: '2026-10-08', series: 'goal', amount: 120 },
    ]);
    expect(revenueAgainstGoal(wins, null, Q4, now).some((p) => p.series === 'goal')).toBe(false);
  });

  it("reads the capacity setting's maintenance share, 20% when absent, what a customer share above 80% leaves", () => {
    const base: Settings = { valueThreshold: 0, slaHours: 48, reviewers: [], admins: ['1'], escalationReviewer: null, gateStageLabel: 'contract', gateStages: {}, capacity: { engineerWeeksPerQuarter: 10, commitmentShare: 0.5 }, amountTolerance: 0.1, afterClose: 'revert' };
    expect(maintenanceShareOf(base)).toBe(0.2);
    const withCapacity = (capacity: NonNullable<Settings['capacity']>): Settings => ({ ...base, capacity });
    expect(maintenanceShareOf(withCapacity({ engineerWeeksPerQuarter: 10, commitmentShare: 0.5, maintenanceShare: 0.1 }))).toBe(0.1);
    expect(maintenanceShareOf(withCapacity({ engineerWeeksPerQuarter: 10, commitmentShare: 0.9 }))).toBeCloseTo(0.1);
    expect(maintenanceShareOf({ ...base, capacity: null })).toBe(0.2);
  });
});
