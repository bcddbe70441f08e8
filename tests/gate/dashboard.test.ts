import type { ApiErrorBody, DashboardResponse, Settings } from '../../extensions/contract/api';
import type { Decision } from '../../src/server/domain/reviewDecision';
import { openReview, type Review } from '../../src/server/domain/reviewLifecycle';
import { quarterOf } from '../../src/server/domain/capacityLedger';
import { startHarness, baseSettings, ADMIN, ESCALATION, REP, REVIEWER, START, type Harness } from './harness';

const HOUR = 60 * 60 * 1000;
const at = (month: number, day: number, hour = 9) => Date.UTC(2026, month - 1, day, hour);

/** The deal-desk home page, from a seeded database: every figure is checked against the seed. */
describe('card API: GET /dashboard', () => {
  let h: Harness;
  let portalId: number;
  const ids: Record<string, number> = {};

  async function seedReview(portal: number, key: string, dealId: string, requestedAt: number, status: Review['status'], extra: Partial<Review> = {}) {
    const review = await h.store.reviews.insert(portal, {
      ...openReview({ dealId, summary: `commitment ${key}`, effortWeeks: 4, neededBy: null, amount: 80000, requestedBy: REP, at: requestedAt, dueAt: requestedAt + 48 * HOUR }),
      status,
      ...extra,
    });
    ids[key] = review.id;
    return review;
  }

  async function seedDecision(portal: number, review: Review, outcome: Decision['outcome'], decidedAt: number, extraWeeks: number | null = null) {
    await h.store.reviews.insertDecision(portal, {
      reviewId: review.id,
      outcome,
      note: outcome === 'no' ? 'not feasible' : '',
      extraWeeks,
      tradeoff: null,
      deprioritizedReviewId: null,
      quarter: outcome === 'no' ? null : review.neededBy ? '2027-Q1' : '2026-Q4',
      decidedBy: REVIEWER,
      decidedAt,
    });
  }

  async function seedViolation(portal: number, dealId: string, movedByUserId: string | null, occurredAt: number) {
    await h.store.gateViolations.record(
      { portalId: portal, dealId, movedByUserId, sourceType: 'CRM_UI', sourceId: movedByUserId ? `userId:${movedByUserId}` : null, fromStage: 'contractsent', toStage: 'closedwon', occurredAt, inboxEventId: null },
      occurredAt,
    );
  }

  beforeAll(async () => {
    h = await startHarness();
    portalId = h.sim.portalId;
    const settings: Settings = {
      valueThreshold: 50000,
      slaHours: 48,
      reviewers: [REVIEWER],
      admins: [ADMIN],
      escalationReviewer: ESCALATION,
      gateStageLabel: 'contract',
      gateStages: {},
      capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.2 },
      amountTolerance: 0.1,
      afterClose: 'revert',
    };
    await h.store.settings.put(portalId, settings, START, ADMIN);
    for (const [dealId, name, amount] of [['11', 'Globex', 120000], ['12', 'Initech', 60000], ['13', 'Umbrella', 90000]] as const) {
      await h.store.deals.upsert(portalId, {
        dealId, name, amount, stage: 'contractsent', pipeline: 'default', commitment: true, commitmentSummary: 'x', effortWeeks: 4,
        ownerId: null, deleted: false, sourceUpdatedAt: START, refreshedAt: START,
      });
    }

    // Decided this quarter (Q4 2026): 24 h yes, 72 h no (late), 10 h yes-but (+2 weeks), 48 h yes (on the dot, needed in 2027-Q1).
    await seedDecision(portalId, await seedReview(portalId, 'yes24', '1', at(10, 5), 'approved'), 'yes', at(10, 6));
    await seedDecision(portalId, await seedReview(portalId, 'no72', '2', at(10, 10), 'rejected'), 'no', at(10, 13));
    await seedDecision(portalId, await seedReview(portalId, 'but10', '3', at(10, 20), 'approved_with_conditions', { effortWeeks: 3 }), 'yes_but', at(10, 20, 19), 2);
    await seedDecision(portalId, await seedReview(portalId, 'yes48', '4', at(10, 25), 'approved', { effortWeeks: 6, neededBy: '2027-01-10' }), 'yes', at(10, 27));
    // Decided last quarter: not this quarter's figures.
    await seedDecision(portalId, await seedReview(portalId, 'old', '5', at(9, 20), 'rejected'), 'no', at(9, 25));
    // Waiting: one marked overdue, one past due but not yet marked, one in time.
    await seedReview(portalId, 'pendingLate', '12', at(10, 30), 'pending');
    await seedReview(portalId, 'inTime', '13', START - HOUR, 'pending');
    await seedReview(portalId, 'markedOverdue', '11', at(10, 29), 'overdue');
    // Answered and gone: not in the queue.
    await seedReview(portalId, 'withdrawn', '6', at(10, 28), 'withdrawn');

    await seedViolation(portalId, '11', '100', at(10, 3));
    await seedViolation(portalId, '12', '100', at(11, 1));
    await seedViolation(portalId, '13', '101', at(10, 15));
    await seedViolation(portalId, '13', null, at(10, 16));
    await seedViolation(portalId, '11', '101', at(9, 28)); // last quarter

    // Another account's data never shows.
    const other = portalId + 1;
    const foreign = await seedReview(other, 'foreign', '1', at(10, 5), 'approved');
    await seedDecision(other, foreign, 'yes', at(10, 5, 10));
    await seedReview(other, 'foreignOpen', '2', at(10, 30), 'pending');
    await seedViolation(other, '1', '100', at(10, 20));
  });
  afterAll(() => h.close());

  it('answers reviewers, the escalation reviewer and admins with the figures of the quarter', async () => {
    const result = await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard');
    expect(result.status).toBe(200);
    const d = result.json;
    expect(d.quarter).toBe('2026-Q4');
    expect(d.asOf).toBe(new Date(START).toISOString());
    expect(d.decisionsThisQuarter).toEqual({ yes: 2, yes_but: 1, no: 1 });
    expect(d.decisionsTotal).toBe(4);
    // Hours to decision 10, 24, 48, 72: the median is 36.
    expect(d.medianHoursToDecision).toBe(36);
    // 72 h was late; 48 h on the dot counts as in time; the two reviews waiting past their due
    // time are misses too: 3 in time of 4 decisions + 2 overdue.
    expect(d.slaCompliance).toBe(0.5);
    // Q4 holds the yes (4 weeks) and the yes-but (3 + 2); the 2027 commitment books next year.
    expect(d.capacity).toMatchObject({ quarter: '2026-Q4', allocationWeeks: 20, usedWeeks: 9, remainingWeeks: 11 });
    expect(d.capacity?.commitments.map((c) => c.reviewId)).toEqual([ids.yes24, ids.but10]);
    expect(d.violationsByUser).toEqual([
      { userId: '100', count: 2, person: { userId: '100', name: 'Grace Hopper', email: 'grace.hopper@example.com' } },
      { userId: '101', count: 1, person: { userId: '101', name: 'Alan Turing', email: 'alan.turing@example.com' } },
      { userId: 'unknown', count: 1, person: { userId: 'unknown', name: null, email: null } },
    ]);

    // The same figures for everyone; only an admin may enforce the deals found at install.
    expect(d.canEnforceBackfill).toBe(false);
    expect((await h.call<DashboardResponse>(ESCALATION, 'GET', '/dashboard')).json).toEqual(d);
    expect((await h.call<DashboardResponse>(ADMIN, 'GET', '/dashboard')).json).toEqual({ ...d, canEnforceBackfill: true });
  });

  it('lists the waiting reviews, overdue first, with their deal and SLA clock', async () => {
    const { queue, overdueCount } = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json;
    expect(queue.map((q) => [q.reviewId, q.status, q.dealName, q.amount, q.remainingMs])).toEqual([
      [ids.markedOverdue, 'overdue', 'Globex', 120000, at(10, 31) - START],
      [ids.pendingLate, 'overdue', 'Initech', 60000, at(11, 1) - START],
      [ids.inTime, 'pending', 'Umbrella', 90000, 47 * HOUR],
    ]);
    expect(queue[0]).toMatchObject({ dealId: '11', summary: 'commitment markedOverdue', effortWeeks: 4, requestedBy: REP, dueAt: new Date(at(10, 31)).toISOString() });
    expect(overdueCount).toBe(2);
  });

  it('moves with the clock: the next quarter starts empty', async () => {
    h.clock.set(Date.UTC(2027, 0, 2));
    try {
      const d = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json;
      expect(d.quarter).toBe('2027-Q1');
      expect(d.decisionsThisQuarter).toEqual({ yes: 0, yes_but: 0, no: 0 });
      expect(d.medianHoursToDecision).toBeNull();
      // No decision yet this quarter, but three reviews still wait past their due time: 0 of 3.
      expect(d.slaCompliance).toBe(0);
      expect(d.overdueCount).toBe(3);
      expect(d.violationsByUser).toEqual([]);
      expect(d.capacity).toMatchObject({ quarter: '2027-Q1', usedWeeks: 6 });
      expect(d.queue.every((q) => q.status === 'overdue')).toBe(true);
    } finally {
      h.clock.set(START);
    }
  });

  it('counts a review still waiting past its due time as a miss, once (issue 11, B8)', async () => {
    const main = h;
    h = await startHarness();
    try {
      const fresh = h.sim.portalId;
      await h.store.settings.put(fresh, { ...baseSettings, valueThreshold: 0 }, START, ADMIN);
      // Answered in 10 hours; another requested three days ago, due yesterday, still waiting.
      await seedDecision(fresh, await seedReview(fresh, 'quick', '21', START - 20 * HOUR, 'approved'), 'yes', START - 10 * HOUR);
      const late = await seedReview(fresh, 'late', '22', START - 72 * HOUR, 'overdue');
      let d = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json;
      // Not "100%" while a review is overdue: 1 in time of 1 decision + 1 waiting past due.
      expect(d.slaCompliance).toBe(0.5);
      expect([d.decisionsTotal, d.overdueCount]).toEqual([1, 1]);

      // Answered late now: a late decision, still one miss (not two).
      await h.store.reviews.update(fresh, { ...late, status: 'approved', closedAt: START, updatedAt: START });
      await seedDecision(fresh, late, 'yes', START);
      d = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json;
      expect(d.slaCompliance).toBe(0.5);
      expect([d.decisionsTotal, d.overdueCount]).toEqual([2, 0]);

      // Waiting but not yet due: not a miss.
      await seedReview(fresh, 'fresh', '23', START - HOUR, 'pending');
      d = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json;
      expect(d.slaCompliance).toBe(0.5);
      expect(d.overdueCount).toBe(0);
    } finally {
      await h.close();
      h = main;
    }
  });

  it('takes the middle decision as the median of an odd count', async () => {
    // A fresh service and database (the seeding helpers use `h`) holding three decisions only.
    const main = h;
    h = await startHarness();
    try {
      const fresh = h.sim.portalId;
      await h.store.settings.put(fresh, { valueThreshold: 0, slaHours: 48, reviewers: [REVIEWER], admins: [ADMIN], escalationReviewer: null, gateStageLabel: 'contract', gateStages: {}, capacity: null, amountTolerance: 0.1, afterClose: 'revert' }, START, ADMIN);
      for (const [key, hours] of [['h1', 1], ['h100', 100], ['h5', 5]] as const) {
        await seedDecision(fresh, await seedReview(fresh, key, key, at(10, 1), 'approved'), 'yes', at(10, 1) + hours * HOUR);
      }
      const d = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json;
      expect(d.medianHoursToDecision).toBe(5);
      expect(d.slaCompliance).toBe(0.667);
      expect(d.capacity).toBeNull();
    } finally {
      await h.close();
      h = main;
    }
  });

  it('refuses reps (403) and makes no HubSpot call', async () => {
    const before = h.sim.requests.count();
    const result = await h.call<ApiErrorBody>(REP, 'GET', '/dashboard');
    expect(result.status).toBe(403);
    expect(result.json.error.code).toBe('forbidden');
    await h.call(REVIEWER, 'GET', '/dashboard');
    expect(h.sim.requests.count()).toBe(before);
  });

  it('returns the shared metrics and the series the home page charts, from the same seed (issue 14)', async () => {
    // The deals' owners (reps), a revenue goal, and wins: Globex (approved, Oct 3), Initech
    // (approved, Oct 16), Umbrella (won without an approval covering it), another account's, one of last quarter.
    for (const [dealId, ownerId] of [['11', '7100'], ['12', '7200']] as const) {
      const snapshot = await h.store.deals.get(portalId, dealId);
      if (snapshot) await h.store.deals.upsert(portalId, { ...snapshot, ownerId });
    }
    const stored = await h.store.settings.get(portalId);
    if (stored) await h.store.settings.put(portalId, { ...stored.settings, revenueGoal: 300_000 }, START, ADMIN);
    const won = (dealId: string, wonAt: number, amount: number, approved: boolean, portal = portalId) =>
      h.store.revenue.saveWin(portal, { dealId, quarter: quarterOf(wonAt), wonAt, amount, approved, reviewId: approved ? ids.yes24 ?? null : null }, wonAt);
    await won('11', at(10, 3), 100_000, true);
    await won('12', at(10, 16), 150_000, true);
    await won('13', at(10, 17), 999_999, false);
    await won('1', at(10, 4), 500_000, true, portalId + 1);
    // Won last quarter: not this quarter's.
    await won('5', at(9, 28), 700_000, true);

    const { sharedMetrics: m } = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json;
    expect(m.revenue).toEqual({ quarter: '2026-Q4', goal: 300_000, currency: null, approvedAmount: 250_000, deliveredAmount: 0, progress: 0.833, reachedBy: null });
    // 9 of the customer share's 20 weeks promised; violations this quarter by the deal's owner (Umbrella has none).
    expect(m.sales).toEqual({
      customerCapacityPromised: { promisedWeeks: 9, customerWeeks: 20, share: 0.45 },
      violationsByRep: [
        { rep: null, count: 2 },
        { rep: { ownerId: '7100', name: 'Grace Hopper' }, count: 1 },
        { rep: { ownerId: '7200', name: 'Ada Lovelace' }, count: 1 },
      ],
    });
    // Weeks from the quarter's first day (Oct 1) up to now (Nov 2): five of them.
    const weeks = ['2026-10-01', '2026-10-08', '2026-10-15', '2026-10-22', '2026-10-29'];
    const counts = (week: string) => m.series.decisionsPerWeek.filter((p) => p.week === week).map((p) => `${p.outcome}:${p.count}`);
    expect(weeks.map(counts)).toEqual([
      ['yes:1', 'yes_but:0', 'no:0'],
      ['yes:0', 'yes_but:0', 'no:1'],
      ['yes:0', 'yes_but:1', 'no:0'],
      ['yes:1', 'yes_but:0', 'no:0'],
      ['yes:0', 'yes_but:0', 'no:0'],
    ]);
    expect(m.series.decisionsPerWeek).toHaveLength(15);
    expect(m.series.medianHoursPerWeek).toEqual([
      { week: '2026-10-01', medianHours: 24 },
      { week: '2026-10-08', medianHours: 72 },
      { week: '2026-10-15', medianHours: 10 },
      { week: '2026-10-22', medianHours: 48 },
    ]);
    // 100 engineer-weeks: customer 20% (9 promised), maintenance 20% by default, product the rest.
    expect(m.series.capacityByShare).toEqual([
      { share: 'customer', measure: 'allocated', weeks: 20 },
      { share: 'customer', measure: 'promised', weeks: 9 },
      { share: 'maintenance', measure: 'allocated', weeks: 20 },
      { share: 'product', measure: 'allocated', weeks: 60 },
    ]);
    expect(m.series.onTimePerQuarter).toEqual([]);
    const approvedByWeek = m.series.revenueAgainstGoal.filter((p) => p.series === 'approved').map((p) => p.amount);
    expect(approvedByWeek).toEqual([100_000, 100_000, 250_000, 250_000, 250_000]);
    expect(m.series.revenueAgainstGoal.filter((p) => p.series === 'goal').map((p) => p.amount)).toEqual([300_000, 300_000, 300_000, 300_000, 300_000]);
    expect(m.series.revenueAgainstGoal.filter((p) => p.series === 'delivered').every((p) => p.amount === 0)).toBe(true);
  });
});
