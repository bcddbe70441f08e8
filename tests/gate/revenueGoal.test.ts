import type { ApiErrorBody, DashboardResponse, GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { startLiveService, users, type LiveService } from '../ui/support/liveService';

/**
 * Engineering's revenue goal (issue 14, shared metrics), end to end: an admin sets the goal in the
 * settings; deals won (moved to Closed Won in HubSpot, the webhook applied by the inbox) whose
 * commitment engineering approved move the quarter's progress, and their delivered commitments the
 * delivered amount; the deal whose win reaches the goal gets one note, however often HubSpot
 * delivers its events again; the home page's dashboard says so.
 */
describe('card API and webhooks: the revenue goal', () => {
  let live: LiveService;
  beforeEach(async () => {
    live = await startLiveService();
  });
  afterEach(() => live.close());

  const refused = (r: { json: unknown }) => (r.json as ApiErrorBody).error;
  const goalNotes = (dealId: string) => live.stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes("engineering's revenue goal"));

  async function setGoal(userId: string, revenueGoal: unknown) {
    const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
    return await live.call<SettingsResponse>(userId, 'PUT', '/api/v1/settings', { ...current.json.settings, revenueGoal });
  }

  /** A deal in Contract Sent whose commitment the rep put to review and the reviewer approved; returns its id and review. */
  async function approvedDeal(name: string, amount: number): Promise<{ dealId: string; reviewId: number }> {
    const dealId = live.seedDeal({ dealname: name, dealstage: 'contractsent', amount: String(amount) });
    const requested = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${dealId}/reviews`, { summary: `${name} integration`, effortWeeks: 2 });
    expect(requested.status).toBe(201);
    const reviewId = requested.json.review?.id ?? 0;
    expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    await live.stack.settle();
    return { dealId, reviewId };
  }

  async function win(dealId: string) {
    live.stack.sim.moveDealToStage(dealId, 'closedwon', { userId: Number(users.rep) });
    await live.stack.settle();
    expect(live.stack.sim.getDeal(dealId)?.properties.dealstage).toBe('closedwon');
  }

  async function revenue() {
    const dashboard = await live.call<DashboardResponse>(users.admin, 'GET', '/api/v1/dashboard');
    expect(dashboard.status).toBe(200);
    return dashboard.json.sharedMetrics.revenue;
  }

  it('is the admin’s setting: a positive amount, or null for none; a rep is refused, a bad amount named', async () => {
    const saved = await setGoal(users.admin, 1_000_000);
    expect(saved.status).toBe(200);
    expect(saved.json.settings.revenueGoal).toBe(1_000_000);
    expect((await live.call<SettingsResponse>(users.rep, 'GET', '/api/v1/settings')).json.settings.revenueGoal).toBe(1_000_000);

    const byRep = await setGoal(users.rep, 5);
    expect(byRep.status).toBe(403);
    const negative = await setGoal(users.admin, -10);
    expect(negative.status).toBe(400);
    expect(refused(negative).message).toContain('revenueGoal');
    expect(refused(negative).details?.issues).toEqual([{ path: 'revenueGoal', message: 'must be more than 0 (clear it for no goal)' }]);
    expect((await setGoal(users.admin, 'a lot')).status).toBe(400);

    expect((await setGoal(users.admin, null)).json.settings.revenueGoal).toBeNull();
    expect(await revenue()).toMatchObject({ goal: null, progress: null, reachedBy: null, currency: null });
  });

  it('counts approved wins toward the goal and notes the deal that reaches it once, even when HubSpot delivers its events again', async () => {
    expect((await setGoal(users.admin, 200_000)).status).toBe(200);
    const first = await approvedDeal('Globex', 120_000);
    await win(first.dealId);
    expect(await revenue()).toMatchObject({ quarter: '2026-Q4', goal: 200_000, approvedAmount: 120_000, deliveredAmount: 0, progress: 0.6, reachedBy: null });

    // A deal won without any commitment is no approved win: it moves nothing.
    const plain = live.seedDeal({ dealname: 'Plain', dealstage: 'contractsent', amount: '500000' });
    await win(plain);
    expect((await revenue()).approvedAmount).toBe(120_000);

    const second = await approvedDeal('Initech', 90_000);
    await win(second.dealId);
    const reached = await revenue();
    expect(reached).toMatchObject({ approvedAmount: 210_000, progress: 1.05, reachedBy: { dealId: second.dealId, dealName: 'Initech' } });
    expect(goalNotes(second.dealId)).toHaveLength(1);
    expect(goalNotes(second.dealId)[0]?.properties.hs_note_body).toContain('now add up to 210,000, against a goal of 200,000');
    expect(goalNotes(first.dealId)).toHaveLength(0);

    // HubSpot's retry of every batch it delivered (attemptNumber + 1), correctly signed.
    for (const delivery of live.stack.sim.webhooks.deliveries().filter((d) => d.outcome === 'delivered')) {
      const body = JSON.stringify(delivery.events.map((e) => ({ ...e, attemptNumber: e.attemptNumber + 1 })));
      expect((await live.stack.postWebhook(body)).status).toBe(200);
    }
    await live.stack.settle();
    expect(goalNotes(second.dealId)).toHaveLength(1);
    // Reopened and won again: its win counts again and takes the amount past the goal again, but
    // the quarter's goal was reached once (the crossing is recorded), so no second note.
    live.stack.sim.moveDealToStage(second.dealId, 'decisionmakerboughtin', { userId: Number(users.rep) });
    await live.stack.settle();
    expect((await revenue()).approvedAmount).toBe(120_000);
    await win(second.dealId);
    expect((await revenue()).approvedAmount).toBe(210_000);
    expect(goalNotes(second.dealId)).toHaveLength(1);

    // A third approved win passes the goal further: no new moment, no new note.
    const third = await approvedDeal('Umbrella', 60_000);
    await win(third.dealId);
    expect(await revenue()).toMatchObject({ approvedAmount: 270_000, reachedBy: { dealId: second.dealId } });
    expect(goalNotes(third.dealId)).toHaveLength(0);
    expect((await live.stack.store.audit.listForDeal(live.portalId, second.dealId)).filter((e) => e.action === 'revenue_goal_reached')).toHaveLength(1);
  });

  it('a goal raised after it was reached is not reached until a win reaches the new goal, which gets its own note', async () => {
    expect((await setGoal(users.admin, 200_000)).status).toBe(200);
    const first = await approvedDeal('Globex', 120_000);
    await win(first.dealId);
    const second = await approvedDeal('Initech', 90_000);
    await win(second.dealId);
    expect(await revenue()).toMatchObject({ approvedAmount: 210_000, reachedBy: { dealId: second.dealId } });
    expect(goalNotes(second.dealId)).toHaveLength(1);

    expect((await setGoal(users.admin, 300_000)).status).toBe(200);
    expect(await revenue()).toMatchObject({ goal: 300_000, approvedAmount: 210_000, progress: 0.7, reachedBy: null });

    const third = await approvedDeal('Umbrella', 100_000);
    await win(third.dealId);
    expect(await revenue()).toMatchObject({ goal: 300_000, approvedAmount: 310_000, reachedBy: { dealId: third.dealId, dealName: 'Umbrella' } });
    expect(goalNotes(third.dealId)).toHaveLength(1);
    expect(goalNotes(third.dealId)[0]?.properties.hs_note_body).toContain('now add up to 310,000, against a goal of 300,000');
    expect(goalNotes(second.dealId)).toHaveLength(1);
  });

  it('a reached goal is no longer reached when the crossing deal leaves the won stage', async () => {
    expect((await setGoal(users.admin, 200_000)).status).toBe(200);
    const first = await approvedDeal('Globex', 120_000);
    await win(first.dealId);
    const second = await approvedDeal('Initech', 90_000);
    await win(second.dealId);
    expect(await revenue()).toMatchObject({ reachedBy: { dealId: second.dealId } });
    live.stack.sim.moveDealToStage(second.dealId, 'decisionmakerboughtin', { userId: Number(users.rep) });
    await live.stack.settle();
    expect(await revenue()).toMatchObject({ approvedAmount: 120_000, reachedBy: null });
  });

  it('counts a delivered commitment’s deal in the delivered amount, and takes a deal off when it leaves the won stage or is deleted', async () => {
    expect((await setGoal(users.admin, 1_000_000)).status).toBe(200);
    const delivered = await approvedDeal('Globex', 120_000);
    const open = await approvedDeal('Initech', 80_000);
    await win(delivered.dealId);
    await win(open.dealId);
    // The deciding reviewer owns the delivery and marks it delivered.
    expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${delivered.reviewId}/delivery`, { status: 'delivered' })).status).toBe(200);
    expect(await revenue()).toMatchObject({ approvedAmount: 200_000, deliveredAmount: 120_000, progress: 0.2 });

    // Reopened: moved back before the gate by the rep (no violation), the win no longer counts.
    live.stack.sim.moveDealToStage(open.dealId, 'decisionmakerboughtin', { userId: Number(users.rep) });
    await live.stack.settle();
    expect(await revenue()).toMatchObject({ approvedAmount: 120_000, deliveredAmount: 120_000 });

    // Deleted in HubSpot: gone from the figures too.
    live.stack.sim.deleteDealAsUser(delivered.dealId, { userId: Number(users.rep) });
    await live.stack.settle();
    expect(await revenue()).toMatchObject({ approvedAmount: 0, deliveredAmount: 0 });
  });

  it('counts a deal left won and flagged (afterClose: flag) once engineering approves its commitment, and notes it when that reaches the goal', async () => {
    const current = await live.call<SettingsResponse>(users.admin, 'GET', '/api/v1/settings');
    expect((await live.call(users.admin, 'PUT', '/api/v1/settings', { ...current.json.settings, afterClose: 'flag', revenueGoal: 100_000 })).status).toBe(200);
    const flagged = live.seedDeal({ dealname: 'Hooli', dealstage: 'contractsent', amount: '150000' });
    const requested = await live.call<GateResponse>(users.rep, 'POST', `/api/v1/deals/${flagged}/reviews`, { summary: 'Hooli SSO', effortWeeks: 2 });
    await live.stack.settle();
    await win(flagged);
    // Won before the answer: it stays won, flagged, and is no approved win yet.
    expect(await revenue()).toMatchObject({ approvedAmount: 0, reachedBy: null });

    expect((await live.call(users.reviewer, 'POST', `/api/v1/reviews/${requested.json.review?.id ?? 0}/decision`, { outcome: 'yes' })).status).toBe(200);
    await live.stack.settle();
    expect(await revenue()).toMatchObject({ approvedAmount: 150_000, reachedBy: { dealId: flagged } });
    expect(goalNotes(flagged)).toHaveLength(1);
  });

  it('a goal set below what the quarter already won shows as reached by the earliest win that got there, without a note (no win crossed it)', async () => {
    const first = await approvedDeal('Globex', 120_000);
    await win(first.dealId);
    const second = await approvedDeal('Initech', 90_000);
    await win(second.dealId);
    expect(await revenue()).toMatchObject({ goal: null, approvedAmount: 210_000, reachedBy: null });

    expect((await setGoal(users.admin, 100_000)).status).toBe(200);
    expect(await revenue()).toMatchObject({ goal: 100_000, progress: 2.1, reachedBy: { dealId: first.dealId, dealName: 'Globex' } });
    await live.stack.settle();
    expect([...goalNotes(first.dealId), ...goalNotes(second.dealId)]).toHaveLength(0);
  });

  it('does not count a deal moved to Closed Won without sign-off (Dealgate moves it back)', async () => {
    expect((await setGoal(users.admin, 100_000)).status).toBe(200);
    const skipped = live.stack.sim.seedDeal({
      properties: { dealname: 'Stark', dealstage: 'contractsent', amount: '150000', dealgate_commitment: 'true', dealgate_commitment_summary: 'Custom API', dealgate_effort_weeks: '2' },
    }).id;
    live.stack.sim.moveDealToStage(skipped, 'closedwon', { userId: Number(users.rep) });
    await live.stack.settle();
    expect(live.stack.sim.getDeal(skipped)?.properties.dealstage).toBe('contractsent');
    expect(await revenue()).toMatchObject({ approvedAmount: 0, reachedBy: null });
    expect(goalNotes(skipped)).toHaveLength(0);
  });
});
