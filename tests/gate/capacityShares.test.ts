import type { ApiErrorBody, DashboardResponse, SettingsResponse } from '../../extensions/contract/api';
import { observedFrom, reconcileDealFacts } from '../../src/server/application/dealFacts';
import { startHarness, baseSettings, ADMIN, REP, REVIEWER, type Harness } from './harness';

/**
 * Capacity sales can see (issue 14): the quarter in three shares (customer commitments,
 * maintenance and technical debt, product work), set by an admin, and what a request would leave
 * of the customer share shown to the rep before requesting.
 */
describe('card API: capacity shares in the settings', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  it('an admin saves the customer and maintenance shares; the card and the home page show the three in weeks', async () => {
    const saved = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 120, commitmentShare: 0.3, maintenanceShare: 0.25 } });
    expect(saved.status).toBe(200);
    expect(saved.json.settings.capacity).toEqual({ engineerWeeksPerQuarter: 120, commitmentShare: 0.3, maintenanceShare: 0.25 });
    const shares = { customer: { share: 0.3, weeks: 36 }, maintenance: { share: 0.25, weeks: 30 }, product: { share: 0.45, weeks: 54 } };
    const card = (await h.call(REP, 'GET', `/deals/${h.seedDeal()}/gate`)).json;
    expect(card.capacity?.shares).toEqual(shares);
    expect(card.capacity?.allocationWeeks).toBe(36);
    expect((await h.call<DashboardResponse>(ADMIN, 'GET', '/dashboard')).json.capacity?.shares).toEqual(shares);
  });

  it('refuses shares adding up to more than 100% with a 400 naming both fields, and saves nothing', async () => {
    const refused = await h.call<ApiErrorBody>(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.7, maintenanceShare: 0.4 } });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toBe(
      'capacity.commitmentShare: customer commitments (70%) and maintenance (40%) add up to 110%, more than the whole quarter; lower one of them',
    );
    expect(refused.json.error.details?.issues?.map((i) => i.path)).toEqual(['capacity.commitmentShare', 'capacity.maintenanceShare']);
    expect(await h.store.settings.get(h.sim.portalId)).toBeUndefined();
    // Exactly the whole quarter is fine: no product work left.
    expect((await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.7, maintenanceShare: 0.3 } })).status).toBe(200);
    // A share out of range is named as such.
    const negative = await h.call<ApiErrorBody>(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.5, maintenanceShare: -0.1 } });
    expect(negative.status).toBe(400);
    expect(negative.json.error.message).toBe('capacity.maintenanceShare: must be 0 or more');
  });

  it('a reviewer cannot change the shares (403)', async () => {
    const refused = await h.call<ApiErrorBody>(REVIEWER, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.3, maintenanceShare: 0.2 } });
    expect(refused.status).toBe(403);
    expect(await h.store.settings.get(h.sim.portalId)).toBeUndefined();
  });

  it('gives settings without a maintenance share 20%, or what a customer share above 80% leaves', async () => {
    // A document saved before the field existed, as it sits in the database.
    const { maintenanceShare: _none, ...old } = { engineerWeeksPerQuarter: 100, commitmentShare: 0.3, maintenanceShare: 0 };
    await h.store.settings.put(h.sim.portalId, { ...baseSettings, capacity: old }, h.clock.now(), ADMIN);
    expect((await h.call<SettingsResponse>(REP, 'GET', '/settings')).json.settings.capacity).toEqual({ engineerWeeksPerQuarter: 100, commitmentShare: 0.3, maintenanceShare: 0.2 });
    expect((await h.call(REP, 'GET', `/deals/${h.seedDeal()}/gate`)).json.capacity?.shares.product).toEqual({ share: 0.5, weeks: 50 });

    // A save that leaves it out (an older settings page) gets the same default.
    const saved = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.9 } });
    expect(saved.status).toBe(200);
    expect(saved.json.settings.capacity?.maintenanceShare).toBe(0.1);
  });
});

describe('card API: what a request would leave of the customer share', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    // 100 engineer-weeks, 10% for customer commitments: 10 weeks.
    expect((await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.1 } })).status).toBe(200);
  });
  afterEach(() => h.close());

  const commitmentDeal = (effortWeeks: number) =>
    h.seedDeal({ dealgate_commitment: 'true', dealgate_commitment_summary: `work of ${effortWeeks} weeks`, dealgate_effort_weeks: String(effortWeeks) });

  it('shows the rep, before requesting, what is left and what the request would leave, or how far over it would be', async () => {
    const fits = (await h.call(REP, 'GET', `/deals/${commitmentDeal(4)}/gate`)).json;
    expect(fits.permissions.canRequest).toBe(true);
    expect(fits.capacityPreview).toEqual({ quarter: '2026-Q4', customerWeeks: 10, usedWeeks: 0, remainingWeeks: 10, requestedWeeks: 4, remainingAfterWeeks: 6, fits: true });

    // Approved: its weeks are used, and the next deal's preview counts them.
    const a = commitmentDeal(6);
    const requested = await h.call(REP, 'POST', `/deals/${a}/reviews`, { summary: 'work of 6 weeks', effortWeeks: 6 });
    const approved = await h.call(REVIEWER, 'POST', `/reviews/${requested.json.review?.id}/decision`, { outcome: 'yes' });
    expect(approved.status).toBe(200);
    // What the approval books is no longer a preview.
    expect(approved.json.capacityPreview).toBeNull();

    const over = (await h.call(REP, 'GET', `/deals/${commitmentDeal(7)}/gate`)).json;
    expect(over.capacityPreview).toMatchObject({ usedWeeks: 6, remainingWeeks: 4, requestedWeeks: 7, remainingAfterWeeks: -3, fits: false });
  });

  it('after the approval stops covering the deal, previews the current quarter, not the superseded approval’s', async () => {
    const dealId = commitmentDeal(4);
    // Needed in the next quarter: the approval books 2027-Q1.
    const requested = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'work of 4 weeks', effortWeeks: 4, neededBy: '2027-02-15' });
    expect(requested.status).toBe(201);
    const approved = await h.call(REVIEWER, 'POST', `/reviews/${requested.json.review?.id}/decision`, { outcome: 'yes' });
    expect(approved.json.review?.decision?.quarter).toBe('2027-Q1');
    await h.deliverOutbox();

    // The rep changes the effort in HubSpot; the webhook worker hands Dealgate what HubSpot now says.
    h.clock.advance(60 * 60 * 1000);
    h.sim.updateDealAsUser(dealId, { dealgate_effort_weeks: '6' }, { userId: Number(REP) });
    const changed = await h.ctx.gateway.getDeal(h.sim.portalId, dealId);
    if (!changed) throw new Error('deal vanished');
    await reconcileDealFacts(h.ctx, h.sim.portalId, dealId, observedFrom(changed), REP);

    const card = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(card.review).toMatchObject({ status: 'superseded' });
    expect(card.capacityPreview).toEqual({ quarter: '2026-Q4', customerWeeks: 10, usedWeeks: 0, remainingWeeks: 10, requestedWeeks: 6, remainingAfterWeeks: 4, fits: true });
  });

  it('without an effort says what is left (requested 0), nothing with capacity off; the 409 of an over-full quarter stays as it was', async () => {
    // The card previews what the rep types against what is left.
    expect((await h.call(REP, 'GET', `/deals/${h.seedDeal()}/gate`)).json.capacityPreview).toEqual({
      quarter: '2026-Q4',
      customerWeeks: 10,
      usedWeeks: 0,
      remainingWeeks: 10,
      requestedWeeks: 0,
      remainingAfterWeeks: 10,
      fits: true,
    });
    const dealId = commitmentDeal(12);
    const requested = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'work of 12 weeks', effortWeeks: 12 });
    expect(requested.json.capacityPreview).toMatchObject({ remainingAfterWeeks: -2, fits: false });
    const refused = await h.call<ApiErrorBody>(REVIEWER, 'POST', `/reviews/${requested.json.review?.id}/decision`, { outcome: 'yes' });
    expect(refused.status).toBe(409);
    expect(refused.json.error.message).toBe('approving 12 weeks exceeds the 2026-Q4 allocation: 10 of 10 weeks remain; name an approved commitment to deprioritize, or answer yes-but or no');

    await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, capacity: null });
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.capacityPreview).toBeNull();
  });
});
