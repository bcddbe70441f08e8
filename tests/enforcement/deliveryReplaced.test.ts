import type { DashboardResponse, GateResponse, SettingsInput, SettingsResponse } from '../../extensions/contract/api';
import { cardRequest, type CardResponse } from '../support/cardClient';
import type { Stack } from '../support/stack';
import { ADMIN, ESCALATION, REP, REVIEWER, seedGatedDeal, stackPerTest } from './world';

/**
 * An approval that stops covering its deal (a rep changed the commitment in HubSpot) releases its
 * weeks, and the promise it made is off: its delivery is settled (deprioritized, counted neither
 * late nor delivered), no longer open on the home page, and the deal's delivery properties are
 * cleared until the changed commitment is answered. On a won deal the weeks stay booked, and the
 * delivery with them, until that answer replaces it.
 */
describe('the delivery of a replaced approval', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)], escalationReviewer: ESCALATION } });

  const card = <T>(stack: Stack, userId: string | number, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<CardResponse<T>> =>
    cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId, portalId: stack.sim.portalId, body, timestamp: stack.clock.now() });

  async function settings(stack: Stack, change: Partial<SettingsInput>): Promise<void> {
    const current = await card<SettingsResponse>(stack, ADMIN, 'GET', '/settings');
    expect((await card(stack, ADMIN, 'PUT', '/settings', { ...current.json.settings, ...change })).status).toBe(200);
  }

  async function approve(stack: Stack, dealId: string, effortWeeks: number): Promise<number> {
    const requested = await card<GateResponse>(stack, REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SAML SSO with the customer IdP', effortWeeks });
    const reviewId = requested.json.review?.id ?? 0;
    expect((await card(stack, REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    await stack.settle();
    return reviewId;
  }

  const openOnHome = async (stack: Stack) => (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json.deliveries.open.map((d) => d.reviewId);

  it('on an open deal: settled when the commitment changes, the deal’s delivery properties cleared', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack, { dealstage: 'decisionmakerboughtin' });
    const first = await approve(stack, deal.id, 3);
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_delivery_status).toBe('planned');
    expect(await openOnHome(stack)).toEqual([first]);

    stack.sim.updateDealAsUser(deal.id, { dealgate_effort_weeks: '6' }, { userId: REP });
    await stack.settle();
    const settled = await stack.store.deliveries.get(stack.sim.portalId, first);
    expect(settled?.status).toBe('deprioritized');
    expect(settled?.history.at(-1)).toMatchObject({ by: 'system', reason: expect.stringContaining('the commitment was replaced') });
    // Cleared in HubSpot (the simulator drops a property written empty).
    const properties = stack.sim.getDeal(deal.id)?.properties ?? {};
    expect([properties.dealgate_delivery_status, properties.dealgate_promised_date, properties.dealgate_delivery_owner].map((v) => v ?? '')).toEqual(['', '', '']);
    expect(await openOnHome(stack)).toEqual([]);
  });

  it('on a won deal deleted in HubSpot: its weeks are released and its delivery settled, so no overdue note follows', async () => {
    const stack = await start();
    await settings(stack, { capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.2 } });
    const deal = seedGatedDeal(stack, { dealgate_effort_weeks: '5' });
    const first = await approve(stack, deal.id, 5);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    const usedBefore = (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json.capacity?.usedWeeks;
    expect(usedBefore).toBe(5);
    expect(await openOnHome(stack)).toEqual([first]);

    stack.sim.deleteDealAsUser(deal.id, { userId: REP });
    await stack.settle();
    expect((await stack.store.reviews.get(stack.sim.portalId, first))?.keepsBooking).toBe(false);
    expect((await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json.capacity?.usedWeeks).toBe(0);
    const settled = await stack.store.deliveries.get(stack.sim.portalId, first);
    expect(settled?.status).toBe('deprioritized');
    expect(await openOnHome(stack)).toEqual([]);
    // Not due for an overdue note, however late it gets.
    expect(await stack.store.deliveries.dueForOverdueNote('2099-12-31', 100)).toEqual([]);
  });

  it('on a won deal: kept until the changed commitment is decided, then replaced by the new one', async () => {
    const stack = await start();
    await settings(stack, { afterClose: 'flag', capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.2 } });
    const deal = seedGatedDeal(stack, { dealgate_effort_weeks: '5' });
    const first = await approve(stack, deal.id, 5);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    stack.sim.updateDealAsUser(deal.id, { dealgate_effort_weeks: '7' }, { userId: REP });
    await stack.settle();
    expect((await stack.store.deliveries.get(stack.sim.portalId, first))?.status).toBe('planned');

    const second = (await card<GateResponse>(stack, REVIEWER, 'GET', `/deals/${deal.id}/gate`)).json.review?.id ?? 0;
    expect(second).not.toBe(first);
    expect((await card(stack, REVIEWER, 'POST', `/reviews/${second}/decision`, { outcome: 'yes' })).status).toBe(200);
    await stack.settle();
    expect((await stack.store.deliveries.get(stack.sim.portalId, first))?.status).toBe('deprioritized');
    expect(await openOnHome(stack)).toEqual([second]);
    // The clearing of the old delivery is older than the new one's projection: the new one wins.
    expect(stack.sim.getDeal(deal.id)?.properties).toMatchObject({ dealgate_delivery_status: 'planned', dealgate_delivery_owner: REVIEWER });
  });
});
