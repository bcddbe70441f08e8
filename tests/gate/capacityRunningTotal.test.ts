import type { ApiErrorBody } from '../../extensions/contract/api';
import { CAPACITY_LIST_LIMIT } from '../../src/server/domain/capacityLedger';
import { refreshDeal } from '../../src/server/application/dealFacts';
import { ADMIN, REP, REVIEWER, baseSettings, startHarness, type Harness } from './harness';

/**
 * The capacity ledger's running total per quarter (migration 17, storage/capacityBookingStore.ts)
 * is kept in the transactions that book and release weeks, not summed at each load. Whatever
 * happens to the reviews (approvals, yes-buts with extra weeks, no, deprioritizations, changed
 * commitments that supersede an approval, the won deal whose superseded approval keeps its weeks
 * until the changed commitment is decided, withdrawals), the quarter's total and count equal the
 * sum over the approvals that consume capacity as the review and decision rows say, and the listed
 * commitments are the largest of them.
 */
const QUARTERS = ['2026-Q4', '2027-Q1'] as const;
const WEEKS = [0.1, 0.2, 0.3, 1, 1.5, 2.25, 3, 7];

/** A small deterministic generator (mulberry32): the same sequence of actions on every run. */
function randomFrom(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Booked {
  reviewId: number;
  weeks: number;
  decidedAt: number;
}

/** What the rows say consumes each quarter, read review by review through the repository. */
async function bookedFromRows(h: Harness, dealIds: readonly string[]): Promise<Map<string, Booked[]>> {
  const byQuarter = new Map<string, Booked[]>(QUARTERS.map((q) => [q, []]));
  for (const dealId of dealIds) {
    for (const review of await h.store.reviews.listForDeal(h.sim.portalId, dealId)) {
      const decision = await h.store.reviews.decisionFor(h.sim.portalId, review.id);
      const booked =
        decision !== undefined &&
        decision.outcome !== 'no' &&
        decision.quarter !== null &&
        review.deprioritizedAt === null &&
        (review.status === 'approved' || review.status === 'approved_with_conditions' || (review.status === 'superseded' && review.keepsBooking));
      if (booked) byQuarter.get(decision.quarter ?? '')?.push({ reviewId: review.id, weeks: review.effortWeeks + (decision.extraWeeks ?? 0), decidedAt: decision.decidedAt });
    }
  }
  return byQuarter;
}

describe('capacity ledger: the running total per quarter', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    expect((await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100_000, commitmentShare: 1 } })).status).toBe(200);
  });
  afterEach(() => h.close());

  async function expectTotalsEqualTheRows(dealIds: readonly string[], step: string): Promise<void> {
    const expected = await bookedFromRows(h, dealIds);
    for (const quarter of QUARTERS) {
      const rows = expected.get(quarter) ?? [];
      const booking = await h.store.reviews.quarterBooking(h.sim.portalId, quarter, { limit: CAPACITY_LIST_LIMIT });
      const sum = rows.reduce((total, c) => total + c.weeks, 0);
      const largest = [...rows].sort((a, b) => b.weeks - a.weeks || a.decidedAt - b.decidedAt || a.reviewId - b.reviewId).slice(0, CAPACITY_LIST_LIMIT);
      expect({ step, quarter, count: booking.count, usedWeeks: Math.round(booking.usedWeeks * 1e6) }).toEqual({ step, quarter, count: rows.length, usedWeeks: Math.round(sum * 1e6) });
      expect(booking.largest.map((c) => c.reviewId).sort((a, b) => a - b)).toEqual(largest.map((c) => c.reviewId).sort((a, b) => a - b));
    }
  }

  async function changeInHubSpot(dealId: string, properties: Record<string, string>): Promise<void> {
    // Dealgate's own commitment writes first, as HubSpot would hold them by now.
    await h.deliverOutbox();
    h.sim.updateDealAsUser(dealId, properties, { userId: Number(REP), silent: true });
    await refreshDeal(h.ctx, h.sim.portalId, dealId);
  }

  it('equals the sum over the booked approvals after every step of 80 mixed actions', async () => {
    const random = randomFrom(12);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
    const dealIds: string[] = [];
    let changes = 0;
    for (let step = 0; step < 80; step++) {
      // HubSpot's 10-second limit is measured on the harness's clock.
      h.clock.advance(60_000);
      const roll = random();
      const deal = dealIds.length > 0 ? pick(dealIds) : undefined;
      const latest = deal === undefined ? undefined : await h.store.reviews.latestForDeal(h.sim.portalId, deal);
      let action: string;
      if (deal === undefined || roll < 0.3) {
        const dealId = h.seedDeal();
        dealIds.push(dealId);
        const neededBy = random() < 0.3 ? '2027-02-01' : undefined;
        const requested = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: `commitment ${step}`, effortWeeks: pick(WEEKS), ...(neededBy ? { neededBy } : {}) });
        expect(requested.status).toBe(201);
        action = 'request';
      } else if (latest && (latest.status === 'pending' || latest.status === 'overdue') && roll < 0.75) {
        const outcome = pick(['yes', 'yes', 'yes_but', 'no'] as const);
        const booked = (await bookedFromRows(h, dealIds)).get('2026-Q4') ?? [];
        const deprioritize = outcome !== 'no' && booked.length > 0 && random() < 0.25 ? pick(booked).reviewId : undefined;
        const body = { outcome, ...(outcome === 'no' ? { note: 'no room' } : {}), ...(outcome === 'yes_but' ? { extraWeeks: pick(WEEKS) } : {}), ...(deprioritize !== undefined ? { deprioritizeReviewId: deprioritize } : {}) };
        const decided = await h.call<ApiErrorBody>(REVIEWER, 'POST', `/reviews/${latest.id}/decision`, body);
        // A named commitment of the other quarter is refused (409) and changes nothing.
        expect([200, 409]).toContain(decided.status);
        action = `decide ${outcome}${deprioritize !== undefined ? ` deprioritizing #${deprioritize}` : ''} (${decided.status})`;
      } else if (latest && (latest.status === 'pending' || latest.status === 'overdue')) {
        // An admin may withdraw any request (the one a won deal's changed commitment opened by itself too).
        expect((await h.call(ADMIN, 'POST', `/reviews/${latest.id}/withdraw`)).status).toBe(200);
        action = 'withdraw';
      } else if (roll < 0.85) {
        await changeInHubSpot(deal, { dealstage: 'closedwon' });
        action = 'win';
      } else {
        changes += 1;
        await changeInHubSpot(deal, { dealgate_commitment_summary: `changed ${changes}`, dealgate_effort_weeks: String(pick(WEEKS)) });
        action = 'change the commitment';
      }
      await expectTotalsEqualTheRows(dealIds, `step ${step}: ${action}`);
    }
    // The run went through every way of booking and releasing.
    const reviews = (await Promise.all(dealIds.map((d) => h.store.reviews.listForDeal(h.sim.portalId, d)))).flat();
    expect(reviews.some((r) => r.deprioritizedAt !== null)).toBe(true);
    expect(reviews.some((r) => r.status === 'superseded' && r.keepsBooking)).toBe(true);
    expect(reviews.some((r) => r.status === 'superseded' && !r.keepsBooking)).toBe(true);
    expect(reviews.some((r) => r.status === 'approved_with_conditions')).toBe(true);
    expect((await bookedFromRows(h, dealIds)).get('2027-Q1')?.length).toBeGreaterThan(0);
  });
});
