import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum } from '@hubspot/api-client/lib/codegen/crm/deals';
import { startSimulator, type Simulator } from '../../src/simulator';

/**
 * The controls that change deals behind Dealgate's back: `silent` changes (a webhook HubSpot gave
 * up on, an outage, a switched-off subscription) and bulk creation for sweep tests. Both leave
 * HubSpot's own records (history, hs_lastmodifieddate) as a real change would, and send nothing.
 */
let sim: Simulator;
let now = Date.UTC(2026, 11, 1, 9, 0, 0);

beforeEach(async () => {
  sim = await startSimulator({ now: () => now, searchRateLimitPerSecond: 1_000 });
});

afterEach(async () => {
  await sim.stop();
});

function control(path: string, body: unknown): Promise<Response> {
  return fetch(sim.url + path, { method: 'POST', body: JSON.stringify(body) });
}

describe('silent changes', () => {
  it('move, edit, create and delete a deal as a user without a webhook, recording history and hs_lastmodifieddate', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Quiet', dealstage: 'qualifiedtobuy', amount: '80000' } });
    now += 60_000;
    sim.moveDealToStage(deal.id, 'closedwon', { userId: 42, silent: true });
    expect(sim.dealHistory(deal.id, 'dealstage')[0]).toMatchObject({ value: 'closedwon', sourceType: 'CRM_UI', updatedByUserId: 42, timestamp: now });
    expect(sim.getDeal(deal.id)?.properties.hs_lastmodifieddate).toBe(new Date(now).toISOString());
    now += 60_000;
    sim.updateDealAsUser(deal.id, { amount: '90000' }, { userId: 42, silent: true });
    expect(sim.getDeal(deal.id)?.properties).toMatchObject({ amount: '90000', amount_in_home_currency: '90000', hs_lastmodifieddate: new Date(now).toISOString() });
    const created = sim.createDealAsUser({ dealname: 'Quiet new', dealstage: 'contractsent' }, { userId: 42, silent: true });
    sim.deleteDealAsUser(created.id, { userId: 42, silent: true });
    expect(sim.webhooks.events()).toEqual([]);

    // The same changes, not silent, are sent.
    sim.moveDealToStage(deal.id, 'contractsent', { userId: 42 });
    expect(sim.webhooks.events().map((e) => [e.subscriptionType, e.propertyName, e.propertyValue])).toEqual([['deal.propertyChange', 'dealstage', 'contractsent']]);
  });

  it('take "silent": true on the HTTP controls that change deals', async () => {
    const deal = sim.seedDeal({ properties: { dealname: 'Remote', dealstage: 'qualifiedtobuy' } });
    now += 1_000;
    const moved = await control(`/_sim/deals/${deal.id}/stage`, { stage: 'closedwon', userId: 42, silent: true });
    expect(moved.status).toBe(200);
    expect(((await moved.json()) as { properties: Record<string, string> }).properties).toMatchObject({ dealstage: 'closedwon', hs_lastmodifieddate: new Date(now).toISOString() });
    expect((await control(`/_sim/deals/${deal.id}/properties`, { properties: { amount: '5' }, userId: 42, silent: true })).status).toBe(200);
    expect((await control('/_sim/deals', { properties: { dealname: 'Remote new', dealstage: 'qualifiedtobuy' }, userId: 42, silent: true })).status).toBe(201);
    expect(sim.webhooks.events()).toEqual([]);

    // Without it, they are sent as before.
    await control(`/_sim/deals/${deal.id}/properties`, { properties: { amount: '6' }, userId: 42 });
    expect(sim.webhooks.events().map((e) => e.propertyName)).toEqual(['amount']);
  });

  it('leave the deal for a search by hs_lastmodifieddate to find, which is how a sweep catches a missed webhook', async () => {
    const since = now;
    const deals = sim.createDeals({ count: 3, properties: { dealname: 'Sweep {n}', dealstage: 'contractsent' }, at: since - 10_000 });
    now += 5_000;
    sim.moveDealToStage(deals[1]!, 'closedwon', { userId: 42, silent: true });
    const client = new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
    const found = await client.crm.deals.searchApi.doSearch({
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: FilterOperatorEnum.Gte, value: String(since) }] }],
      properties: ['dealstage'],
    });
    expect(found.results.map((r) => [r.id, r.properties.dealstage])).toEqual([[deals[1], 'closedwon']]);
  });
});

describe('bulk creation', () => {
  it('creates 5,000 deals in well under a second, without webhooks, stages dealt out in turn', async () => {
    sim.seedPropertyGroup('deals', { name: 'dealgate', label: 'Dealgate' });
    sim.seedProperty('deals', { name: 'dealgate_commitment', label: 'Commitment', type: 'bool', fieldType: 'booleancheckbox', groupName: 'dealgate' });
    const enterprise = sim.seedPipeline({ label: 'Enterprise', stages: [{ label: 'Discovery' }, { label: 'Contract' }, { label: 'Won', isClosed: true }] });
    const contract = enterprise.stages[1]?.id ?? '';

    // The CPU time this process spent creating them (synchronous work), not the wall-clock time: on a
    // loaded machine the process waits for a core for much of a second and the clock runs on.
    const started = process.cpuUsage();
    const ids = sim.createDeals({ count: 5_000, properties: { dealname: 'Bulk {n}', amount: '60000', dealgate_commitment: 'true' }, stages: ['contractsent', contract] });
    const used = process.cpuUsage(started);
    expect((used.user + used.system) / 1_000).toBeLessThan(1_000);

    expect(ids).toHaveLength(5_000);
    expect(new Set(ids).size).toBe(5_000);
    expect(sim.getDeal(ids[0]!)?.properties).toMatchObject({ dealname: 'Bulk 1', dealstage: 'contractsent', pipeline: 'default', amount_in_home_currency: '60000', dealgate_commitment: 'true' });
    expect(sim.getDeal(ids[1]!)?.properties).toMatchObject({ dealname: 'Bulk 2', dealstage: contract, pipeline: enterprise.id });
    expect(sim.getDeal(ids[4_999]!)?.properties).toMatchObject({ dealname: 'Bulk 5000', dealstage: contract });
    expect(sim.getDeal(ids[2]!)?.createdAt).toBe(now);
    expect(sim.webhooks.events()).toEqual([]);
    expect(sim.deals()).toHaveLength(5_000);
  });

  it('is all or nothing, and has an HTTP control', async () => {
    const refused = await control('/_sim/deals/bulk', { count: 10, properties: { dealname: 'Bad {n}' }, stages: ['no_such_stage'] });
    expect(refused.status).toBe(400);
    expect(() => sim.createDeals({ count: 2, properties: { dealname: 'Bad', not_a_property: 'x' } })).toThrow('Property values were not valid');
    expect(sim.deals()).toEqual([]);

    const response = await control('/_sim/deals/bulk', { count: 2, properties: { dealname: 'Remote {n}' }, stages: ['qualifiedtobuy'], deals: [{ properties: { dealname: 'Extra', dealstage: 'closedwon' } }], userId: 42 });
    expect(response.status).toBe(201);
    const body = (await response.json()) as { count: number; ids: string[] };
    expect(body.count).toBe(3);
    expect(body.ids.map((id) => sim.getDeal(id)?.properties.dealname)).toEqual(['Remote 1', 'Remote 2', 'Extra']);
    expect(sim.dealHistory(body.ids[2]!, 'dealstage')[0]).toMatchObject({ value: 'closedwon', updatedByUserId: 42 });
    expect(sim.webhooks.events()).toEqual([]);
  });
});
