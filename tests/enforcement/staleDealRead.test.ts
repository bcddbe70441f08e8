import type { GateResponse } from '../../extensions/contract/api';
import { cardRequest } from '../support/cardClient';
import type { Stack } from '../support/stack';
import { REP, REVIEWER, stackPerTest } from './world';

/**
 * A read of a deal from HubSpot that was answered before Dealgate's own write of the commitment
 * arrived there, and is applied after that write was delivered (so it is no longer waiting in the
 * outbox), must not look as if the rep had removed the commitment: the review stays open.
 *
 * The interleaving is forced at the HTTP boundary: the simulator handles the read at once and holds
 * its answer (`holdNextAnswer`) while the outbox delivers the request's properties. On PostgreSQL
 * the deal-card suites hit it about one run in four (a reviewer's decision found the review
 * withdrawn); on SQLite the same order of events withdrew it as well, only rarer.
 */
describe('a deal read from HubSpot before the review request reached it', () => {
  // Workers stopped: the test says when the inbox applies and when the outbox delivers. A HubSpot
  // call may take 10 s (production: 20 s), longer than the outbox holds an account's rows for the inbox.
  const start = stackPerTest({ startWorkers: false, defaults: { valueThreshold: 50_000, reviewers: [REVIEWER] }, background: { callTimeoutMs: 10_000 } });

  const card = <T = GateResponse>(stack: Stack, userId: string | number, method: 'GET' | 'POST', path: string, body?: unknown) =>
    cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId, portalId: stack.sim.portalId, body });

  async function requestReview(stack: Stack, dealId: string): Promise<number> {
    const requested = await card(stack, REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 3 });
    expect(requested.status).toBe(201);
    return requested.json.review?.id ?? 0;
  }

  /** Outbox rounds until the request's commitment is in HubSpot (bounded: 10 s). */
  async function deliveredToHubSpot(stack: Stack, dealId: string): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (stack.sim.getDeal(dealId)?.properties.dealgate_commitment !== 'true') {
      if (Date.now() > deadline) throw new Error(`the commitment of deal ${dealId} was not delivered to HubSpot within 10 s`);
      await stack.background.outbox.deliverDue();
      await new Promise<void>((resolve) => setTimeout(resolve, 20));
    }
  }

  const reviewStatus = async (stack: Stack, reviewId: number) => (await stack.store.reviews.get(stack.sim.portalId, reviewId))?.status;

  it('the reviewer decides while the request is delivered: the decision reads the deal before the commitment reached HubSpot', async () => {
    const stack = await start();
    const dealId = stack.sim.seedDeal({ properties: { dealname: 'Initech', dealstage: 'qualifiedtobuy', amount: '80000' } }).id;
    const reviewId = await requestReview(stack, dealId);
    expect(stack.sim.getDeal(dealId)?.properties.dealgate_commitment).toBeUndefined();

    // The decision reads the deal (its owner is HubSpot's to say); HubSpot answers without the commitment...
    const read = stack.sim.faults.holdNextAnswer({ match: 'GET /crm/v3/objects/deals/{objectId}' });
    const decision = card(stack, REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' });
    await read.handled;
    // ...and the request's properties reach HubSpot before that answer reaches Dealgate.
    await deliveredToHubSpot(stack, dealId);
    read.release();

    const answered = await decision;
    expect(answered.json).toMatchObject({ gate: { status: 'approved' } });
    expect(answered.status).toBe(200);
    expect(await reviewStatus(stack, reviewId)).toBe('approved');
    expect(await stack.store.deals.get(stack.sim.portalId, dealId)).toMatchObject({ commitment: true, commitmentSummary: 'SSO with Okta', effortWeeks: 3 });
  });

  it('lays over the writes still waiting and those HubSpot was sent since the read: not one delivered before it, nor one dropped for a rep\'s later edit', async () => {
    const stack = await start();
    const { outbox } = stack.store;
    const portalId = stack.sim.portalId;
    const write = (value: string) => outbox.enqueue({ portalId, dealId: '77', kind: 'update_deal', payload: { properties: { dealgate_commitment_summary: value } } }, 1_000);
    const before = await write('delivered before the read');
    const after = await write('delivered after it');
    const dropped = await write('dropped for the rep');
    // Never claimed (claim token 0): marked as a delivery of that claim would mark them.
    await outbox.markDone([{ id: before ?? 0, claimToken: 0 }], 1_500);
    await outbox.markDone([{ id: after ?? 0, claimToken: 0 }], 2_500);
    // The rep edited the summary in HubSpot at 1,800: the waiting write of it is done unsent.
    expect(await outbox.yieldToLaterChange(portalId, '77', 'dealgate_commitment_summary', 1_800, 2_600)).toBe(1);
    expect((await outbox.get(dropped ?? 0))?.status).toBe('done');

    const waiting = await write('still waiting');
    expect((await outbox.dealWritesNotDeliveredBefore(portalId, '77', 2_000)).map((row) => row.id)).toEqual([after, waiting]);
  });

  it('the rep requests review right after creating the deal: the creation event, read before the request, is applied after it was delivered', async () => {
    const stack = await start();
    const dealId = stack.sim.createDealAsUser({ dealname: 'Globex', dealstage: 'qualifiedtobuy', pipeline: 'default', amount: '80000' }, { userId: REP }).id;
    await stack.sim.webhooks.idle();

    // The inbox reads the new deal for its creation event: no commitment yet. Its answer is slow.
    const read = stack.sim.faults.holdNextAnswer({ match: 'POST /crm/v3/objects/deals/batch/read' });
    const applying = stack.background.inbox.processDue();
    await read.handled;
    const reviewId = await requestReview(stack, dealId);
    // The outbox holds an account's rows while the inbox applies its events, HOLD_WHILE_WRITTEN_MAX_MS
    // (2 s) at most: a read slower than that (HubSpot slow, the rate limit's pause) sees them delivered.
    await deliveredToHubSpot(stack, dealId);
    read.release();
    await applying;

    expect(await reviewStatus(stack, reviewId)).toBe('pending');
    expect(await stack.store.deals.get(stack.sim.portalId, dealId)).toMatchObject({ commitment: true, commitmentSummary: 'SSO with Okta' });
    // What follows (our own writes' webhooks, the status written again) leaves the review pending in HubSpot too.
    await stack.sim.webhooks.idle();
    await stack.background.inbox.processDue();
    await stack.background.outbox.deliverDue();
    expect(await reviewStatus(stack, reviewId)).toBe('pending');
    expect(stack.sim.getDeal(dealId)?.properties.dealgate_status).toBe('pending');
  });
});
