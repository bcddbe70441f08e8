import { startSimulator, type Simulator } from '../../src/simulator';
import { createHubSpotGateway, type HubSpotGateway } from '../../src/server/hubspot/gateway';
import { staticHubSpotClients, buildHubSpotClient } from '../../src/server/hubspot/clients';
import { advance, CURSOR_AT_START, pageRequest, type PagedQuery } from '../../src/server/hubspot/searchPaging';
import type { SweepCursor } from '../../src/server/storage/sweepStore';
import { testConfig } from '../support/env';
import { SEARCH } from './sweepWorld';

/**
 * The sweeps' paging over HubSpot's search (src/server/hubspot/searchPaging.ts), against the
 * simulator through the real gateway and @hubspot/api-client: past HubSpot's 10,000 results per
 * query, with deals that share one modification time, and with deals that change between pages.
 */
const REP = 100;
let sim: Simulator;
let gateway: HubSpotGateway;

beforeEach(async () => {
  // Pacing is the sweep's business (installBackfill.test.ts); here only the paging.
  sim = await startSimulator({ rateLimitPerTenSeconds: 1_000_000, searchRateLimitPerSecond: 1_000_000 });
  gateway = createHubSpotGateway(staticHubSpotClients(testConfig({ HUBSPOT_ACCESS_TOKEN: sim.accessToken, HUBSPOT_API_BASE_URL: sim.url })));
});
afterEach(async () => {
  await sim.stop();
});

/** Pages the query to its end; `between(page)` runs after each page, before the next. */
async function pageAll(query: PagedQuery, between?: (page: number, ids: string[]) => void): Promise<{ ids: string[]; lastModified: Map<string, number>; pages: number }> {
  let cursor: SweepCursor = CURSOR_AT_START;
  const ids: string[] = [];
  const lastModified = new Map<string, number>();
  for (let pages = 1; ; pages += 1) {
    const step = advance(cursor, await gateway.searchDeals(sim.portalId, pageRequest(query, cursor)));
    for (const deal of step.deals) {
      ids.push(deal.id);
      lastModified.set(deal.id, deal.lastModifiedAt);
    }
    cursor = step.cursor;
    if (step.done) return { ids, lastModified, pages };
    between?.(pages, ids);
  }
}

const sorted = (ids: Iterable<string>) => [...ids].sort();

describe('paging through a search', () => {
  it('finds 10,250 deals modified in the same millisecond, past the 10,000 results HubSpot answers per query', async () => {
    const at = Date.now() - 60_000;
    const created = sim.createDeals({ count: 10_250, stages: ['closedwon'], properties: { dealname: 'Deal {n}', amount: '80000' }, at });

    const { ids, lastModified, pages } = await pageAll({ filters: [{ propertyName: 'dealstage', operator: 'IN', values: ['closedwon'] }] });
    expect(ids).toHaveLength(10_250);
    expect(sorted(ids)).toEqual(sorted(created));
    expect([...lastModified.values()].every((ms) => ms === at)).toBe(true);
    expect(pages).toBe(Math.ceil(10_250 / 200));
    const calls = sim.requests.all().filter((r) => r.endpoint === SEARCH);
    expect(calls.map((c) => c.status).every((status) => status === 200)).toBe(true);

    // What the paging avoids: HubSpot refuses to page a query past its 10,000th result.
    const client = buildHubSpotClient(sim.accessToken, sim.url);
    await expect(client.crm.deals.searchApi.doSearch({ filterGroups: [], limit: 200, after: '10000' })).rejects.toMatchObject({ code: 400 });
  }, 60_000);

  it('skips no deal when deals stop matching between pages, where offset paging would skip as many', async () => {
    const created = sim.createDeals({ count: 1_000, stages: ['closedwon'], properties: { dealname: 'Deal {n}', amount: '80000' }, at: Date.now() - 60_000 });
    const query: PagedQuery = { filters: [{ propertyName: 'amount', operator: 'GTE', value: '50000' }] };
    // After the first page: 100 of its deals are deleted and 50 fall under the amount (no longer match).
    const change = (firstPage: string[]) => {
      firstPage.slice(0, 100).forEach((id) => sim.deleteDealAsUser(id, { userId: REP, silent: true }));
      firstPage.slice(100, 150).forEach((id) => sim.updateDealAsUser(id, { amount: '1000' }, { userId: REP, silent: true }));
    };
    const { ids } = await pageAll(query, (page, seen) => page === 1 && change(seen.slice(0, 200)));
    expect(new Set(ids).size).toBe(ids.length);
    expect(sorted(ids)).toEqual(sorted(created));

    // The same with HubSpot's offsets: 150 deals that never changed are never seen.
    const offsets: string[] = [];
    const restored = sim.createDeals({ count: 1_000, stages: ['closedwon'], properties: { dealname: 'Other {n}', amount: '70000' }, at: Date.now() - 60_000 });
    const offsetQuery = { filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'EQ' as const, value: '70000' }] }], sorts: [{ propertyName: 'hs_object_id', direction: 'ASCENDING' as const }], limit: 200 };
    const deleted = new Set<string>();
    let after: string | undefined;
    for (let page = 1; ; page += 1) {
      const result = await gateway.searchDeals(sim.portalId, { ...offsetQuery, ...(after !== undefined ? { after } : {}) });
      offsets.push(...result.deals.map((d) => d.id));
      if (page === 1) {
        for (const d of result.deals.slice(0, 150)) {
          sim.deleteDealAsUser(d.id, { userId: REP, silent: true });
          deleted.add(d.id);
        }
      }
      after = result.after;
      if (after === undefined) break;
    }
    const seen = new Set(offsets);
    expect(restored.filter((id) => !deleted.has(id) && !seen.has(id))).toHaveLength(150);
  }, 60_000);

  it('reads a deal modified while the list is read once, at its place, with the time it was read at', async () => {
    const created = sim.createDeals({ count: 600, stages: ['closedwon'], properties: { dealname: 'Deal {n}', amount: '80000' }, at: Date.now() - 60_000 });
    const late = created[500] as string;
    const { ids, lastModified } = await pageAll({ filters: [] }, (page) => {
      if (page === 1) sim.updateDealAsUser(late, { amount: '90000' }, { userId: REP, silent: true });
    });
    expect(ids.filter((id) => id === late)).toHaveLength(1);
    expect(sorted(ids)).toEqual(sorted(created));
    expect(lastModified.get(late)).toBe(Date.parse(sim.getDeal(late)?.properties.hs_lastmodifieddate ?? ''));
  });

  it('finds exactly the deals modified since a time (the reconciliation’s query), with their modification times in milliseconds', async () => {
    const created = sim.createDeals({ count: 300, stages: ['qualifiedtobuy'], properties: { dealname: 'Deal {n}' }, at: Date.now() - 60 * 60_000 });
    const since = Date.now() - 1_000;
    const touched = created.filter((_, i) => i % 7 === 0);
    for (const id of touched) sim.updateDealAsUser(id, { amount: '5' }, { userId: REP, silent: true });

    const { ids, lastModified } = await pageAll({ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(since) }], properties: ['amount'], limit: 10 });
    expect(sorted(ids)).toEqual(sorted(touched));
    for (const id of touched) expect(lastModified.get(id)).toBe(Date.parse(sim.getDeal(id)?.properties.hs_lastmodifieddate ?? ''));

    const page = await gateway.searchDeals(sim.portalId, pageRequest({ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: String(since) }], properties: ['amount'], limit: 10 }, CURSOR_AT_START));
    expect(page.total).toBe(touched.length);
    expect(page.after).toBeDefined();
    expect(page.deals[0]?.properties).toEqual({ hs_lastmodifieddate: expect.any(String), amount: '5' });
  });
});
