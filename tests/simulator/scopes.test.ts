import { Client } from '@hubspot/api-client';
import { PropertyCreateFieldTypeEnum, PropertyCreateTypeEnum } from '@hubspot/api-client/lib/codegen/crm/properties';
import appMeta from '../../src/app/app-hsmeta.json';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { ENDPOINT_SCOPES, startSimulator, unmetScopes, type LoggedRequest, type Simulator } from '../../src/simulator';
import { testConfig } from '../support/env';

/**
 * Dealgate's scopes, proven against the simulator, which enforces for every endpoint the scopes
 * HubSpot documents (src/simulator/auth/scopes.ts) and gives its tokens the project's declared
 * `requiredScopes` unless told otherwise:
 * - every call of the gateway (src/server/hubspot/gateway.ts, through which Dealgate makes every
 *   HubSpot call) and the account lookup of the static-token clients succeeds with exactly the
 *   declared scopes;
 * - without any one declared scope, some of those calls is refused 403 MISSING_SCOPES naming it,
 *   so none is declared without need.
 * A gateway method this file does not drive fails the first test: add it to GATEWAY_CALLS.
 */
const DECLARED: string[] = [...appMeta.config.auth.requiredScopes];
const OWNER = { email: 'casey.cto@example.com', firstName: 'Casey', lastName: 'Chen', userId: 1002 };

type Gateway = Record<string, (...args: unknown[]) => Promise<unknown>>;

interface World {
  sim: Simulator;
  portalId: number;
  dealId: string;
  ownerId: string;
}

/** One call per gateway method, with arguments that reach HubSpot. */
const GATEWAY_CALLS: Record<string, (gateway: Gateway, w: World) => Promise<unknown>> = {
  ensureProperties: (g, w) =>
    g.ensureProperties!(w.portalId, { name: 'dealgate', label: 'Dealgate' }, [
      { name: 'dealgate_effort_weeks', label: 'Effort (weeks)', type: PropertyCreateTypeEnum.Number, fieldType: PropertyCreateFieldTypeEnum.Number, description: 'x' },
    ]),
  getPipelines: (g, w) => g.getPipelines!(w.portalId),
  getOwners: (g, w) => g.getOwners!(w.portalId),
  getDeactivatedOwners: (g, w) => g.getDeactivatedOwners!(w.portalId),
  getDeal: (g, w) => g.getDeal!(w.portalId, w.dealId, { withStageHistory: true }),
  batchReadDeals: (g, w) => g.batchReadDeals!(w.portalId, [w.dealId], { withStageHistory: true }),
  updateDeal: (g, w) => g.updateDeal!(w.portalId, w.dealId, { dealname: 'Renamed' }),
  batchUpdateDeals: (g, w) => g.batchUpdateDeals!(w.portalId, [{ id: w.dealId, properties: { dealname: 'Renamed again' } }]),
  createNotes: (g, w) => g.createNotes!(w.portalId, [{ dealId: w.dealId, body: 'note' }]),
  createTasks: (g, w) => g.createTasks!(w.portalId, [{ dealId: w.dealId, body: 'task', subject: 'Review', ownerId: w.ownerId, dueAt: Date.now() }]),
  createTaskRecords: (g, w) => g.createTaskRecords!(w.portalId, [{ dealId: w.dealId, body: 'task 2', subject: 'Review', ownerId: w.ownerId }]),
  batchUpdateTasks: (g, w) => g.batchUpdateTasks!(w.portalId, [{ id: w.sim.tasksForDeal(w.dealId)[0]?.id ?? '71000000001', properties: { hs_task_status: 'COMPLETED' } }]),
  listDealEngagementBodies: async (g, w) => [await g.listDealEngagementBodies!(w.portalId, w.dealId, 'note'), await g.listDealEngagementBodies!(w.portalId, w.dealId, 'task')],
  listDealEngagements: (g, w) => g.listDealEngagements!(w.portalId, w.dealId, 'task'),
  searchDeals: (g, w) =>
    g.searchDeals!(w.portalId, {
      filterGroups: [{ filters: [{ propertyName: 'hs_lastmodifieddate', operator: 'GTE', value: '0' }] }],
      sorts: [{ propertyName: 'hs_lastmodifieddate', direction: 'ASCENDING' }],
      limit: 100,
    }),
};

/**
 * The calls being added to the gateway (deal search for the sweeps, task updates), made the way
 * the gateway makes them, so they are proven whether or not the gateway has them yet.
 */
async function addedCalls(client: Client, w: World): Promise<void> {
  const taskId = w.sim.tasksForDeal(w.dealId)[0]?.id ?? '71000000001';
  const attempts = [
    client.crm.deals.searchApi.doSearch({ filterGroups: [{ filters: [] }], properties: ['hs_lastmodifieddate'], limit: 10 }),
    client.crm.objects.tasks.batchApi.update({ inputs: [{ id: taskId, properties: { hs_task_status: 'COMPLETED' } }] }),
    client.crm.objects.tasks.basicApi.update(taskId, { properties: { hs_task_status: 'COMPLETED' } }),
  ];
  await Promise.allSettled(attempts);
}

async function world(scopes?: string[]): Promise<World & { token: string }> {
  const sim = await startSimulator({ owners: [OWNER] });
  const deal = sim.seedDeal({ properties: { dealname: 'Acme', dealstage: 'contractsent', amount: '80000' } });
  const token = scopes ? sim.issueAccessToken({ scopes }) : sim.accessToken;
  return { sim, token, portalId: sim.portalId, dealId: deal.id, ownerId: sim.owners()[0]?.id ?? '' };
}

/** Every call Dealgate makes, each allowed to fail; what the simulator answered is in its request log. */
async function makeEveryCall(w: World & { token: string }): Promise<LoggedRequest[]> {
  const clients = staticHubSpotClients(testConfig({ HUBSPOT_ACCESS_TOKEN: w.token, HUBSPOT_API_BASE_URL: w.sim.url }));
  await clients.serves(w.portalId).catch(() => false);
  const gateway = createHubSpotGateway(clients) as unknown as Gateway;
  for (const name of Object.keys(GATEWAY_CALLS)) {
    if (typeof gateway[name] === 'function') await GATEWAY_CALLS[name]!(gateway, w).catch(() => undefined);
  }
  await addedCalls(new Client({ accessToken: w.token, basePath: w.sim.url, numberOfApiCallRetries: 0 }), w);
  return w.sim.requests.all();
}

const flat = (entry: LoggedRequest): string[] => (entry.requiredScopes ?? []).flat();

let open: Simulator[] = [];
afterEach(async () => {
  await Promise.all(open.map((s) => s.stop()));
  open = [];
});

describe("Dealgate's declared scopes", () => {
  it('are what the simulator gives its tokens by default, and every gateway method is driven by this test', async () => {
    const w = await world();
    open.push(w.sim);
    expect([...w.sim.defaultScopes].sort()).toEqual([...DECLARED].sort());
    const gateway = createHubSpotGateway(staticHubSpotClients(testConfig({ HUBSPOT_ACCESS_TOKEN: w.token, HUBSPOT_API_BASE_URL: w.sim.url })));
    const undriven = Object.keys(gateway).filter((name) => !(name in GATEWAY_CALLS));
    expect(undriven).toEqual([]);
  });

  it('let every call Dealgate makes through, and each of those endpoints is in the scope table', async () => {
    const w = await world();
    open.push(w.sim);
    const log = await makeEveryCall(w);

    const refused = log.filter((e) => e.status === 403);
    expect(refused).toEqual([]);
    const endpoints = [...new Set(log.map((e) => e.endpoint))].sort();
    for (const endpoint of endpoints) expect(ENDPOINT_SCOPES.has(endpoint) ? endpoint : `${endpoint} (not in the table)`).toBe(endpoint);
    for (const entry of log) expect({ endpoint: entry.endpoint, unmet: unmetScopes(entry.requiredScopes ?? [], DECLARED) }).toEqual({ endpoint: entry.endpoint, unmet: undefined });
    // What Dealgate calls today and what is being added to the gateway (search, task updates).
    expect(endpoints).toEqual(
      expect.arrayContaining([
        'GET /account-info/v3/details',
        'GET /crm/v3/objects/deals/{objectId}',
        'POST /crm/v3/objects/deals/batch/read',
        'PATCH /crm/v3/objects/deals/{objectId}',
        'POST /crm/v3/objects/deals/batch/update',
        'POST /crm/v3/objects/deals/search',
        'POST /crm/v3/objects/notes/batch/create',
        'POST /crm/v3/objects/tasks/batch/create',
        'POST /crm/v3/objects/tasks/batch/update',
        'PATCH /crm/v3/objects/tasks/{objectId}',
        'POST /crm/v3/objects/notes/batch/read',
        'POST /crm/v3/objects/tasks/batch/read',
        'GET /crm/v4/objects/deals/{objectId}/associations/notes',
        'GET /crm/v4/objects/deals/{objectId}/associations/tasks',
        'GET /crm/v3/pipelines/deals',
        'GET /crm/v3/owners',
        'POST /crm/v3/properties/deals/groups',
        'POST /crm/v3/properties/deals',
      ]),
    );
    // And the calls did their work, so they were not refused for some other reason either.
    expect(w.sim.getDeal(w.dealId)?.properties.dealname).toBe('Renamed again');
    expect(w.sim.notesForDeal(w.dealId)).toHaveLength(1);
    expect(w.sim.tasksForDeal(w.dealId).map((t) => t.properties.hs_task_status)).toContain('COMPLETED');
  });

  it.each(DECLARED)('are each needed: without %s some call is refused 403 MISSING_SCOPES naming it', async (scope) => {
    const w = await world(DECLARED.filter((s) => s !== scope));
    open.push(w.sim);
    const log = await makeEveryCall(w);
    const refused = log.filter((e) => e.status === 403);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.filter((e) => flat(e).includes(scope)).map((e) => e.endpoint).length).toBeGreaterThan(0);
    // Nothing is refused for a scope the token still has.
    for (const entry of refused) expect(unmetScopes(entry.requiredScopes ?? [], DECLARED.filter((s) => s !== scope))).toContain(scope);
  });
});

describe('scope enforcement', () => {
  it("answers HubSpot's 403 MISSING_SCOPES body, and logs what each call required", async () => {
    const sim = await startSimulator();
    open.push(sim);
    const deal = sim.seedDeal({ properties: { dealname: 'Scoped', dealstage: 'qualifiedtobuy' } });
    const readOnly = new Client({ accessToken: sim.issueAccessToken({ scopes: ['crm.objects.deals.read'] }), basePath: sim.url, numberOfApiCallRetries: 0 });
    await expect(readOnly.crm.deals.basicApi.getById(deal.id)).resolves.toMatchObject({ id: deal.id });

    const raw = await fetch(`${sim.url}/crm/v3/objects/deals/${deal.id}`, {
      method: 'PATCH',
      headers: { authorization: `Bearer ${sim.issueAccessToken({ scopes: ['crm.objects.deals.read'] })}`, 'content-type': 'application/json' },
      body: JSON.stringify({ properties: { dealname: 'Changed' } }),
    });
    expect(raw.status).toBe(403);
    expect(await raw.json()).toEqual({
      status: 'error',
      message: "This app hasn't been granted all required scopes to make this call. Read more about required scopes here: https://developers.hubspot.com/scopes.",
      correlationId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      errors: [{ message: 'One or more of the following scopes are required.', context: { requiredScopes: ['crm.objects.deals.write'] } }],
      links: { scopes: 'https://developers.hubspot.com/scopes' },
      category: 'MISSING_SCOPES',
    });
    expect(sim.getDeal(deal.id)?.properties.dealname).toBe('Scoped');

    // Through the SDK, as Dealgate sees it.
    const refused = await readOnly.crm.deals.basicApi.update(deal.id, { properties: { dealname: 'x' } }).catch((e: unknown) => e as { code: number; body: { category: string } });
    expect(refused).toMatchObject({ code: 403, body: { category: 'MISSING_SCOPES' } });

    // Reading a deal's notes needs the deal's read scope and the notes' (contacts) read scope.
    const associations = await fetch(`${sim.url}/crm/v4/objects/deals/${deal.id}/associations/notes`, { headers: { authorization: `Bearer ${sim.issueAccessToken({ scopes: ['crm.objects.deals.read'] })}` } });
    expect(associations.status).toBe(403);
    expect(((await associations.json()) as { errors: { context: { requiredScopes: string[] } }[] }).errors[0]?.context.requiredScopes).toEqual(['crm.objects.contacts.read']);

    const log = sim.requests.all();
    expect(log.map((e) => [e.endpoint, e.status, e.requiredScopes])).toEqual([
      ['GET /crm/v3/objects/deals/{objectId}', 200, [['crm.objects.deals.read']]],
      ['PATCH /crm/v3/objects/deals/{objectId}', 403, [['crm.objects.deals.write']]],
      ['PATCH /crm/v3/objects/deals/{objectId}', 403, [['crm.objects.deals.write']]],
      ['GET /crm/v4/objects/deals/{objectId}/associations/notes', 403, [['crm.objects.deals.read'], ['crm.objects.contacts.read']]],
    ]);
  });

  it('gives OAuth tokens the scopes granted with the code, and static tokens their own when a test says so', async () => {
    const sim = await startSimulator({ scopes: ['crm.objects.deals.read', 'oauth'] });
    open.push(sim);
    const anonymous = new Client({ basePath: sim.url, numberOfApiCallRetries: 0 });
    const redirectUri = 'https://dealgate.example.com/oauth/callback';
    const narrow = sim.issueAuthorizationCode({ redirectUri, scopes: ['crm.objects.owners.read'] });
    const tokens = await anonymous.oauth.tokensApi.create('authorization_code', narrow, redirectUri, sim.clientId, sim.clientSecret);
    expect((await anonymous.oauth.accessTokensApi.get(tokens.accessToken)).scopes).toEqual(['crm.objects.owners.read']);
    const oauthClient = new Client({ accessToken: tokens.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
    await expect(oauthClient.crm.owners.ownersApi.getPage()).resolves.toBeDefined();
    await expect(oauthClient.crm.pipelines.pipelinesApi.getAll('deals')).rejects.toMatchObject({ code: 403 });
    // The refreshed token keeps what was granted.
    const refreshed = await anonymous.oauth.tokensApi.create('refresh_token', undefined, undefined, sim.clientId, sim.clientSecret, tokens.refreshToken);
    expect((await anonymous.oauth.accessTokensApi.get(refreshed.accessToken)).scopes).toEqual(['crm.objects.owners.read']);

    // The simulator's `scopes` option sets what its own token and codes carry.
    const own = new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
    await expect(own.crm.pipelines.pipelinesApi.getAll('deals')).resolves.toBeDefined();
    await expect(own.crm.owners.ownersApi.getPage()).rejects.toMatchObject({ code: 403 });
    expect((await anonymous.oauth.accessTokensApi.get(sim.accessToken)).scopes).toEqual(['crm.objects.deals.read', 'oauth']);
  });

  it('answers 400 for an object type the simulator does not keep, before any scope check', async () => {
    const sim = await startSimulator();
    open.push(sim);
    const response = await fetch(`${sim.url}/crm/v3/objects/companies/search`, { method: 'POST', headers: { authorization: `Bearer ${sim.accessToken}`, 'content-type': 'application/json' }, body: '{}' });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ category: 'VALIDATION_ERROR', message: 'Unable to infer object type from: companies' });
  });

  it('lists only endpoints the simulator serves, each of which answers a token holding its scopes', async () => {
    const sim = await startSimulator();
    open.push(sim);
    const everything = sim.issueAccessToken({ scopes: [...new Set([...ENDPOINT_SCOPES.values()].flat(2))] });
    for (const endpoint of ENDPOINT_SCOPES.keys()) {
      const [method, template] = endpoint.split(' ') as [string, string];
      const path = template.replace(/\{(\w+)\}/g, (_m, name: string) => (name === 'pipelineId' ? 'default' : name === 'stageId' ? 'contractsent' : '1'));
      const response = await fetch(sim.url + path, {
        method,
        headers: { authorization: `Bearer ${everything}`, 'content-type': 'application/json' },
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}' }),
      });
      const body = (await response.text()) || '{}';
      // Served (not the unrouted 404), found in the table (no 500) and allowed by the token's scopes (no 403).
      expect([endpoint, body.includes('does not implement'), response.status < 500 && response.status !== 403]).toEqual([endpoint, false, true]);
    }
  });
});
