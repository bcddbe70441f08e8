import { startSimulator, type Simulator } from '../../src/simulator';
import { WEBHOOK_PATH } from '../../src/server/http/webhookRoute';
import { cardRequest } from '../support/cardClient';
import { waitUntil } from '../support/process';
import { startStack, type Stack } from '../support/stack';
import { REP, seedGatedDeal } from './world';

/**
 * HUBSPOT_ACCESS_TOKEN belongs to one HubSpot account. When the same app is also installed in
 * another account (its webhooks and card requests are signed with the same client secret), that
 * account must not be served with the first account's token: its card gets 403, its events are
 * parked, and nothing is read from or written to the first account on its behalf.
 */
describe('static token: one account only', () => {
  let stack: Stack;
  let other: Simulator;
  const OTHER_PORTAL = 99_887_766;

  beforeEach(async () => {
    stack = await startStack({ defaults: { valueThreshold: 50_000 } });
    other = await startSimulator({ portalId: OTHER_PORTAL, clientSecret: stack.sim.clientSecret, webhookTargetUrl: stack.url + WEBHOOK_PATH });
  });
  afterEach(async () => {
    await other.stop();
    await stack.stop();
  });

  const gate = (portalId: number, dealId: string) =>
    cardRequest<{ error?: { code: string; message: string }; deal?: { id: string } }>(stack.url, stack.sim.clientSecret, {
      method: 'GET',
      path: `/api/v1/deals/${dealId}/gate`,
      userId: REP,
      portalId,
    });

  it('serves the token’s own account and refuses a card request from another account without touching the first', async () => {
    await stack.provision();
    const deal = seedGatedDeal(stack);

    const refused = await gate(OTHER_PORTAL, deal.id);
    expect(refused.status).toBe(403);
    expect(refused.json.error?.code).toBe('forbidden');
    expect(refused.json.error?.message).toContain(`account ${OTHER_PORTAL} has not installed Dealgate`);
    expect(refused.json.error?.message).toContain('/oauth/install');
    expect(stack.sim.requests.count(/deals\/\{dealId\}|deals\/batch/)).toBe(0);

    const served = await gate(stack.sim.portalId, deal.id);
    expect(served.status).toBe(200);
    expect(stack.sim.requests.count(/deals/)).toBeGreaterThan(0);
    // Which account the token is for is asked once, then known.
    expect(stack.sim.requests.count('GET /account-info/v3/details')).toBe(1);
    expect(await stack.store.accounts.get(OTHER_PORTAL)).toBeUndefined();
  });

  it('parks another account’s webhook events, saying it must install, and acts on neither account', async () => {
    await stack.provision();
    const callsBefore = stack.sim.requests.count();
    const deal = other.createDealAsUser(
      { dealname: 'Other account deal', dealstage: 'contractsent', pipeline: 'default', amount: '90000' },
      { userId: REP },
    );
    other.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await other.webhooks.idle();
    await waitUntil(
      async () => (await stack.store.inbox.countByStatus()).pending === 0 && await stack.store.inbox.journalBacklog() === 0,
      10_000,
      'the other account’s events to be parked',
    );
    const parked = await stack.store.inbox.list({ status: 'parked', limit: 10 });
    expect(parked.length).toBeGreaterThan(0);
    expect(parked.every((event) => event.portalId === OTHER_PORTAL)).toBe(true);
    // Waiting would not make the account installed: parked at the first attempt, not after the retries.
    expect(parked.map((event) => event.attempts)).toEqual(parked.map(() => 1));
    expect(parked[0]?.lastError).toContain(`account ${OTHER_PORTAL} has not installed Dealgate`);
    // Nothing was asked of or done to the token's account for it, and the other deal stays where its user put it.
    expect(stack.sim.requests.count() - callsBefore).toBe(0);
    expect(other.requests.count()).toBe(0);
    expect(other.getDeal(deal.id)?.properties.dealstage).toBe('closedwon');
    expect(await stack.store.accounts.get(OTHER_PORTAL)).toBeUndefined();
  });
});
