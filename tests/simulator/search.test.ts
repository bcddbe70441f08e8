import { Client } from '@hubspot/api-client';
import { FilterOperatorEnum, type PublicObjectSearchRequest } from '@hubspot/api-client/lib/codegen/crm/deals';
import { startSimulator, type Simulator } from '../../src/simulator';

/**
 * POST /crm/v3/objects/deals/search through the real @hubspot/api-client (`crm.deals.searchApi.doSearch`):
 * HubSpot's filter semantics, sorting, properties, paging with `after` and `total`, its limits
 * (groups, filters, page size, 10,000 results) and its own per-second rate limit.
 */
interface SdkError {
  code: number;
  body: { status?: string; message?: string; category?: string };
}

async function failure(call: Promise<unknown>): Promise<SdkError> {
  try {
    await call;
  } catch (error) {
    expect(error).toMatchObject({ code: expect.any(Number) });
    return error as SdkError;
  }
  throw new Error('expected the call to fail');
}

const T0 = Date.UTC(2026, 11, 1, 9, 0, 0);
let now = T0;
let sim: Simulator;
let client: Client;

type Filter = { propertyName: string; operator: FilterOperatorEnum; value?: string; highValue?: string; values?: string[] };
/** The SDK types `sorts` as strings; HubSpot documents objects, which the SDK passes through. */
type Sort = { propertyName: string; direction: 'ASCENDING' | 'DESCENDING' } | string;

function search(filterGroups: Filter[][], extra: { sorts?: Sort[]; properties?: string[]; limit?: number; after?: string; query?: string } = {}, api: Client = client) {
  const request: PublicObjectSearchRequest = {
    filterGroups: filterGroups.map((filters) => ({ filters })),
    ...(extra.sorts ? { sorts: extra.sorts as unknown as string[] } : {}),
    ...(extra.properties ? { properties: extra.properties } : {}),
    ...(extra.limit !== undefined ? { limit: extra.limit } : {}),
    ...(extra.after !== undefined ? { after: extra.after } : {}),
    ...(extra.query !== undefined ? { query: extra.query } : {}),
  };
  return api.crm.deals.searchApi.doSearch(request);
}

const names = (page: { results: { properties: Record<string, string | null> }[] }) => page.results.map((r) => r.properties.dealname);
const f = (propertyName: string, operator: FilterOperatorEnum, value?: string, more: Partial<Filter> = {}): Filter => ({
  propertyName,
  operator,
  ...(value !== undefined ? { value } : {}),
  ...more,
});

let ids: { acme: string; globex: string; initech: string; umbrella: string };

beforeAll(async () => {
  // A generous search limit here; the per-second limit has its own simulator below.
  sim = await startSimulator({ now: () => now, searchRateLimitPerSecond: 1_000, rateLimitPerTenSeconds: 10_000 });
  client = new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
  sim.seedPropertyGroup('deals', { name: 'dealgate', label: 'Dealgate' });
  sim.seedProperty('deals', { name: 'dealgate_effort_weeks', label: 'Effort', type: 'number', fieldType: 'number', groupName: 'dealgate' });
  const seed = (dealname: string, properties: Record<string, string>, at: number) => sim.seedDeal({ properties: { dealname, ...properties }, at }).id;
  ids = {
    acme: seed('Acme SSO integration', { amount: '80000', dealstage: 'contractsent', dealgate_effort_weeks: '3' }, T0 - 5_000),
    globex: seed('Globex standard plan', { amount: '9000', dealstage: 'qualifiedtobuy', dealgate_effort_weeks: '12' }, T0 - 4_000),
    initech: seed('Initech custom reporting', { amount: '150000', dealstage: 'contractsent' }, T0 - 3_000),
    umbrella: seed('umbrella renewal', { dealstage: 'closedwon', description: 'SAML single-sign-on' }, T0 - 2_000),
  };
});

afterAll(async () => {
  await sim.stop();
});

describe('filters', () => {
  it('ORs the groups and ANDs the filters inside a group', async () => {
    const page = await search([
      [f('dealstage', FilterOperatorEnum.Eq, 'contractsent'), f('amount', FilterOperatorEnum.Gte, '100000')],
      [f('dealstage', FilterOperatorEnum.Eq, 'qualifiedtobuy')],
    ]);
    expect(names(page)).toEqual(['Globex standard plan', 'Initech custom reporting']);
    expect(page.total).toBe(2);
  });

  it('compares number properties as numbers (9,000 is less than 80,000), custom ones too', async () => {
    expect(names(await search([[f('amount', FilterOperatorEnum.Lt, '80000')]]))).toEqual(['Globex standard plan']);
    expect(names(await search([[f('amount', FilterOperatorEnum.Lte, '80000')]]))).toEqual(['Acme SSO integration', 'Globex standard plan']);
    expect(names(await search([[f('amount', FilterOperatorEnum.Gt, '80000')]]))).toEqual(['Initech custom reporting']);
    expect(names(await search([[f('amount', FilterOperatorEnum.Between, '9000', { highValue: '80000' })]]))).toEqual(['Acme SSO integration', 'Globex standard plan']);
    expect(names(await search([[f('dealgate_effort_weeks', FilterOperatorEnum.Gt, '4')]]))).toEqual(['Globex standard plan']);
    // A deal without the value matches none of the comparisons.
    expect(names(await search([[f('amount', FilterOperatorEnum.Gte, '0')]]))).not.toContain('umbrella renewal');
  });

  it('compares datetimes as instants, given in milliseconds or ISO 8601', async () => {
    const sinceMs = await search([[f('hs_lastmodifieddate', FilterOperatorEnum.Gte, String(T0 - 3_000))]]);
    expect(names(sinceMs)).toEqual(['Initech custom reporting', 'umbrella renewal']);
    const sinceIso = await search([[f('hs_lastmodifieddate', FilterOperatorEnum.Gte, new Date(T0 - 3_000).toISOString())]]);
    expect(names(sinceIso)).toEqual(names(sinceMs));
    const window = await search([[f('createdate', FilterOperatorEnum.Between, String(T0 - 4_500), { highValue: String(T0 - 3_000) })]]);
    expect(names(window)).toEqual(['Globex standard plan', 'Initech custom reporting']);
  });

  it('matches IN, NOT_IN, NEQ, HAS_PROPERTY, NOT_HAS_PROPERTY and CONTAINS_TOKEN as HubSpot does', async () => {
    expect(names(await search([[f('dealstage', FilterOperatorEnum.In, undefined, { values: ['closedwon', 'qualifiedtobuy'] })]]))).toEqual([
      'Globex standard plan',
      'umbrella renewal',
    ]);
    expect(names(await search([[f('dealstage', FilterOperatorEnum.NotIn, undefined, { values: ['contractsent'] })]]))).toEqual(['Globex standard plan', 'umbrella renewal']);
    expect(names(await search([[f('dealstage', FilterOperatorEnum.Neq, 'contractsent')]]))).toEqual(['Globex standard plan', 'umbrella renewal']);
    expect(names(await search([[f('dealgate_effort_weeks', FilterOperatorEnum.HasProperty)]]))).toEqual(['Acme SSO integration', 'Globex standard plan']);
    expect(names(await search([[f('amount', FilterOperatorEnum.NotHasProperty)]]))).toEqual(['umbrella renewal']);
    expect(names(await search([[f('dealname', FilterOperatorEnum.ContainsToken, 'custom')]]))).toEqual(['Initech custom reporting']);
    expect(names(await search([[f('dealname', FilterOperatorEnum.ContainsToken, 'integ*')]]))).toEqual(['Acme SSO integration']);
    expect(names(await search([[f('description', FilterOperatorEnum.ContainsToken, 'single')]]))).toEqual(['umbrella renewal']);
    // Text: EQ ignores case on string properties.
    expect(names(await search([[f('dealname', FilterOperatorEnum.Eq, 'UMBRELLA RENEWAL')]]))).toEqual(['umbrella renewal']);
  });

  it('finds by free-text query, and leaves archived deals out', async () => {
    expect(names(await search([], { query: 'acme' }))).toEqual(['Acme SSO integration']);
    const gone = sim.seedDeal({ properties: { dealname: 'Acme archived', dealstage: 'qualifiedtobuy' } });
    await client.crm.deals.basicApi.archive(gone.id);
    expect(names(await search([], { query: 'acme' }))).toEqual(['Acme SSO integration']);
  });

  it("answers HubSpot's 400 for a property the deals do not have, an unknown operator and a missing value", async () => {
    for (const body of [
      { filterGroups: [{ filters: [{ propertyName: 'no_such_property', operator: 'EQ', value: 'x' }] }] },
      { filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'ABOUT', value: '1' }] }] },
      { filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'GT' }] }] },
      { filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'IN', value: '1' }] }] },
      { filterGroups: [{ filters: [{ propertyName: 'amount', operator: 'GT', value: 'lots' }] }] },
    ]) {
      const response = await rawSearch(sim, body);
      expect({ body, status: response.status }).toEqual({ body, status: 400 });
      expect(await response.json()).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR', correlationId: expect.any(String) });
    }
  });
});

function rawSearch(s: Simulator, body: unknown, token = s.accessToken): Promise<Response> {
  return fetch(`${s.url}/crm/v3/objects/deals/search`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

describe('limits on a query', () => {
  const eq = (n: number) => f('amount', FilterOperatorEnum.Neq, String(n));
  const group = (size: number) => Array.from({ length: size }, (_, i) => eq(i));

  it('takes up to 5 groups, 10 filters in a group and 25 in all, and refuses more with a 400', async () => {
    await expect(search([group(5), group(5), group(5), group(5), group(5)])).resolves.toMatchObject({ total: 4 });
    await expect(search([group(10), group(10), group(5)])).resolves.toMatchObject({ total: 4 });
    for (const groups of [[[eq(1)], [eq(2)], [eq(3)], [eq(4)], [eq(5)], [eq(6)]], [group(11)], [group(10), group(10), group(6)]]) {
      const error = await failure(search(groups));
      expect(error.code).toBe(400);
      expect(error.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
    }
  });

  it('takes one sorting rule, and refuses two', async () => {
    const error = await failure(search([], { sorts: [{ propertyName: 'amount', direction: 'ASCENDING' }, { propertyName: 'dealname', direction: 'ASCENDING' }] }));
    expect(error.code).toBe(400);
  });

  it('returns at most 200 per page (10 by default) and refuses a larger limit', async () => {
    expect((await search([])).results.length).toBeLessThanOrEqual(10);
    expect((await search([], { limit: 200 })).results.length).toBeGreaterThan(0);
    const error = await failure(search([], { limit: 201 }));
    expect(error.code).toBe(400);
    expect(error.body.category).toBe('VALIDATION_ERROR');
  });
});

describe('answers', () => {
  it('comes back as the SDK expects: total, results with the default properties, dates as dates', async () => {
    const page = await search([[f('hs_object_id', FilterOperatorEnum.Eq, ids.acme)]]);
    expect(page.total).toBe(1);
    const deal = page.results[0];
    expect(deal?.id).toBe(ids.acme);
    expect(deal?.createdAt).toBeInstanceOf(Date);
    expect(deal?.updatedAt.getTime()).toBe(T0 - 5_000);
    expect(Object.keys(deal?.properties ?? {}).sort()).toEqual(['amount', 'closedate', 'createdate', 'dealname', 'dealstage', 'hs_lastmodifieddate', 'hs_object_id', 'pipeline']);
    expect(deal?.properties).toMatchObject({ dealname: 'Acme SSO integration', amount: '80000', hs_lastmodifieddate: new Date(T0 - 5_000).toISOString(), createdate: new Date(T0 - 5_000).toISOString() });
    expect(page.paging).toBeUndefined();
  });

  it('returns the properties asked for (plus createdate, hs_lastmodifieddate and hs_object_id)', async () => {
    const page = await search([[f('hs_object_id', FilterOperatorEnum.Eq, ids.globex)]], { properties: ['dealgate_effort_weeks', 'amount_in_home_currency'] });
    expect(page.results[0]?.properties).toEqual({
      dealgate_effort_weeks: '12',
      amount_in_home_currency: '9000',
      createdate: new Date(T0 - 4_000).toISOString(),
      hs_lastmodifieddate: new Date(T0 - 4_000).toISOString(),
      hs_object_id: ids.globex,
    });
  });

  it('sorts by one property either way, deals without it last, ties and the default order by id', async () => {
    expect(names(await search([]))).toEqual(['Acme SSO integration', 'Globex standard plan', 'Initech custom reporting', 'umbrella renewal']);
    expect(names(await search([], { sorts: [{ propertyName: 'amount', direction: 'DESCENDING' }] }))).toEqual([
      'Initech custom reporting',
      'Acme SSO integration',
      'Globex standard plan',
      'umbrella renewal',
    ]);
    expect(names(await search([], { sorts: ['amount'] }))).toEqual(['Globex standard plan', 'Acme SSO integration', 'Initech custom reporting', 'umbrella renewal']);
    expect(names(await search([], { sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'DESCENDING' }] }))).toEqual([
      'umbrella renewal',
      'Initech custom reporting',
      'Globex standard plan',
      'Acme SSO integration',
    ]);
  });

  it('pages with after and paging.next.after until the last page, counting every match in total', async () => {
    const seen: string[] = [];
    let after: string | undefined;
    let pages = 0;
    do {
      const page = await search([], { limit: 3, ...(after !== undefined ? { after } : {}) });
      expect(page.total).toBe(4);
      seen.push(...names(page).map(String));
      after = page.paging?.next?.after;
      pages += 1;
    } while (after !== undefined);
    expect(pages).toBe(2);
    expect(seen).toEqual(['Acme SSO integration', 'Globex standard plan', 'Initech custom reporting', 'umbrella renewal']);
  });

  it('updates hs_lastmodifieddate on every change, so a search by it finds what changed', async () => {
    now = T0 + 60_000;
    await client.crm.deals.basicApi.update(ids.globex, { properties: { amount: '9500' } });
    now = T0 + 120_000;
    sim.moveDealToStage(ids.initech, 'closedwon', { userId: 1, silent: true });
    const changed = await search([[f('hs_lastmodifieddate', FilterOperatorEnum.Gt, String(T0))]], { sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }] });
    expect(names(changed)).toEqual(['Globex standard plan', 'Initech custom reporting']);
    expect(changed.results.map((r) => r.properties.hs_lastmodifieddate)).toEqual([new Date(T0 + 60_000).toISOString(), new Date(T0 + 120_000).toISOString()]);
    expect(changed.results.map((r) => r.updatedAt.getTime())).toEqual([T0 + 60_000, T0 + 120_000]);
  });
});

describe('the 10,000-result cap', () => {
  it('answers pages up to the 10,000th result, then 400 for an after of 10,000 or more', async () => {
    const big = await startSimulator({ searchRateLimitPerSecond: 1_000, rateLimitPerTenSeconds: 10_000 });
    try {
      big.createDeals({ count: 10_050, properties: { dealname: 'Bulk {n}', dealstage: 'appointmentscheduled' } });
      const api = new Client({ accessToken: big.accessToken, basePath: big.url, numberOfApiCallRetries: 0 });
      const near = await search([], { limit: 200, after: '9800' }, api);
      expect(near.total).toBe(10_050);
      expect(near.results).toHaveLength(200);
      expect(near.results[199]?.properties.dealname).toBe('Bulk 10000');
      expect(near.paging?.next?.after).toBe('10000');

      const partial = await search([], { limit: 200, after: '9900' }, api);
      expect(partial.results).toHaveLength(100);

      const beyond = await failure(search([], { limit: 10, after: near.paging?.next?.after ?? '' }, api));
      expect(beyond.code).toBe(400);
      expect(beyond.body).toMatchObject({ status: 'error', category: 'VALIDATION_ERROR' });
      // Narrowing the query (a window of hs_object_id) reaches the rest.
      const rest = await search([[f('hs_object_id', FilterOperatorEnum.Gt, String(near.results[199]?.id))]], { limit: 200 }, api);
      expect(rest.total).toBe(50);
    } finally {
      await big.stop();
    }
  });
});

describe('rate limits', () => {
  it('answers 429 SECONDLY after 5 searches in a second per account, without holding up other calls', async () => {
    let clock = T0;
    const limited = await startSimulator({ now: () => clock });
    try {
      for (let i = 0; i < 5; i++) expect((await rawSearch(limited, {})).status).toBe(200);
      const refused = await rawSearch(limited, {});
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({
        status: 'error',
        message: 'You have reached your secondly limit.',
        errorType: 'RATE_LIMIT',
        policyName: 'SECONDLY',
        correlationId: expect.any(String),
      });
      // Another token of the same account shares the search allowance; other endpoints are not affected.
      expect((await rawSearch(limited, {}, limited.issueAccessToken())).status).toBe(429);
      const pipelines = await fetch(`${limited.url}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${limited.accessToken}` } });
      expect(pipelines.status).toBe(200);
      // Through the SDK, whose retry logic keys on that message.
      const sdk = await failure(search([], {}, new Client({ accessToken: limited.accessToken, basePath: limited.url, numberOfApiCallRetries: 0 })));
      expect(sdk).toMatchObject({ code: 429, body: { message: 'You have reached your secondly limit.' } });

      clock += 1_001;
      expect((await rawSearch(limited, {})).status).toBe(200);
    } finally {
      await limited.stop();
    }
  });

  it('counts searches against the 10-second limit as well', async () => {
    let clock = T0;
    const limited = await startSimulator({ now: () => clock, rateLimitPerTenSeconds: 3 });
    try {
      for (let i = 0; i < 3; i++) {
        expect((await rawSearch(limited, {})).status).toBe(200);
        clock += 1_000;
      }
      const refused = await rawSearch(limited, {});
      expect(refused.status).toBe(429);
      expect(await refused.json()).toMatchObject({ policyName: 'TEN_SECONDLY_ROLLING' });
    } finally {
      await limited.stop();
    }
  });
});
