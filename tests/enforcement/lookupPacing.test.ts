import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { startSimulator, type Simulator } from '../../src/simulator';
import { testConfig } from '../support/env';

/**
 * HubSpot counts every request against the account's limit, so a gateway call made of several
 * requests (the outbox's lookup of a deal's notes before it repeats a create: the association
 * pages, then a batch read per 100 notes; the owners' pages) must let its caller draw a permit for
 * each one, not only the first. The three-instance kill run got 429s on exactly these lookups.
 */
describe('a gateway call of several HubSpot requests', () => {
  let sim: Simulator;
  afterEach(async () => {
    await sim?.stop();
  });

  it('asks its caller to pace each request after the first: every request HubSpot saw is one permit drawn', async () => {
    sim = await startSimulator();
    const gateway = createHubSpotGateway(staticHubSpotClients(testConfig({ HUBSPOT_ACCESS_TOKEN: sim.accessToken, HUBSPOT_API_BASE_URL: sim.url })));
    const deal = sim.seedDeal({ properties: { dealname: 'Acme', dealstage: 'contractsent' } });
    for (let start = 0; start < 250; start += 100) {
      await gateway.createNotes(sim.portalId, Array.from({ length: Math.min(100, 250 - start) }, (_, i) => ({ dealId: deal.id, body: `note ${start + i}` })));
    }

    sim.requests.reset();
    let paced = 0;
    const notes = await gateway.listDealEngagements(sim.portalId, deal.id, 'note', async () => {
      paced += 1;
    });

    expect(notes).toHaveLength(250);
    const requests = sim.requests.all();
    // One association page, three batch reads of up to 100 notes.
    expect(requests.map((r) => r.endpoint)).toEqual([
      'GET /crm/v4/objects/deals/{objectId}/associations/notes',
      'POST /crm/v3/objects/notes/batch/read',
      'POST /crm/v3/objects/notes/batch/read',
      'POST /crm/v3/objects/notes/batch/read',
    ]);
    // The caller drew one permit for the call itself and one for each request after the first.
    expect(1 + paced).toBe(requests.length);
  });
});
