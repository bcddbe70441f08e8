import { MISSING_DEAL_MEMO_MS } from '../../src/server/hubspot/gateway';
import { REP, startHarness, type Harness } from './harness';

/**
 * Card requests naming a deal the account does not have in HubSpot (another account's id, a made-up
 * one) are 404, and HubSpot is asked about such an id at most once a minute: card reads share the
 * account's 10-second limit with enforcement, and a burst of them used to run it into 429s (the
 * bad-input reliability suite saw a 502 from that).
 */
describe('deals HubSpot does not have', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  const reads = () => h.sim.requests.count('GET /crm/v3/objects/deals/{objectId}');

  it('are 404 every time, with one HubSpot read per id per minute', async () => {
    const before = reads();
    for (let i = 0; i < 20; i++) {
      expect((await h.call(REP, 'GET', '/deals/987654321/gate')).status).toBe(404);
      expect((await h.call(REP, 'POST', '/deals/987654321/reviews', { summary: 'SSO', effortWeeks: 1 })).status).toBe(404);
    }
    expect(reads() - before).toBe(1);
    expect(await h.store.deals.get(h.sim.portalId, '987654321')).toBeUndefined();

    h.clock.advance(MISSING_DEAL_MEMO_MS + 1);
    expect((await h.call(REP, 'GET', '/deals/987654321/gate')).status).toBe(404);
    expect(reads() - before).toBe(2);
  });

  it('a deal that exists is read as before', async () => {
    const dealId = h.seedDeal();
    const before = reads();
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).status).toBe(200);
    expect(reads() - before).toBe(1);
  });
});
