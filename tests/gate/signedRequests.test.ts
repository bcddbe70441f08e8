import type { ApiErrorBody, GateResponse } from '../../extensions/contract/api';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { cardRequest, hubspotFetchPath } from '../support/cardClient';
import { TEST_CLIENT_SECRET } from '../support/env';
import { startHarness, REP, REVIEWER, type Harness } from './harness';

/** Every card API route sits behind HubSpot's v3 signature, and the caller is the verified query string's. */
describe('card API: signed requests and identity', () => {
  let h: Harness;
  let dealId: string;
  beforeEach(async () => {
    h = await startHarness();
    dealId = h.seedDeal();
  });
  afterEach(() => h.close());

  const routes: [string, string, unknown][] = [
    ['GET', '/api/v1/deals/DEAL/gate', undefined],
    ['POST', '/api/v1/deals/DEAL/reviews', { summary: 'SSO', effortWeeks: 2 }],
    ['POST', '/api/v1/reviews/1/decision', { outcome: 'yes' }],
    ['POST', '/api/v1/reviews/1/withdraw', undefined],
    ['GET', '/api/v1/settings', undefined],
    ['PUT', '/api/v1/settings', {}],
    ['GET', '/api/v1/dashboard', undefined],
    ['GET', '/api/v1/no-such-route', undefined],
  ];

  async function send(method: string, path: string, body: unknown, headers: Record<string, string>) {
    const raw = body === undefined ? undefined : JSON.stringify(body);
    const response = await fetch(h.url + path, { method, headers: { ...headers, ...(raw ? { 'content-type': 'application/json' } : {}) }, body: raw });
    return { status: response.status, json: (await response.json()) as ApiErrorBody };
  }

  function signed(method: string, path: string, body: unknown, options: { secret?: string; at?: number; signedUrl?: string } = {}) {
    const raw = body === undefined ? '' : JSON.stringify(body);
    return signedHeaders(options.secret ?? TEST_CLIENT_SECRET, { method, uri: options.signedUrl ?? h.url + path, body: raw }, options.at ?? h.clock.now());
  }

  it.each(routes)('refuses %s %s unsigned, forged, stale, or signed for another URL (401), and calls no one', async (method, template, body) => {
    const path = hubspotFetchPath({ path: template.replace('DEAL', dealId), userId: REVIEWER, portalId: h.sim.portalId });
    const attempts = [
      {},
      signed(method, path, body, { secret: 'not-the-client-secret' }),
      signed(method, path, body, { at: h.clock.now() - 5 * 60 * 1000 - 1 }),
      signed(method, path, body, { at: h.clock.now() + 5 * 60 * 1000 + 1 }),
      signed(method, path, body, { signedUrl: 'https://elsewhere.example.com' + path }),
    ];
    for (const headers of attempts) {
      const result = await send(method, path, body, headers);
      expect(result.status).toBe(401);
      expect(result.json.error.code).toBe('unauthorized');
    }
    expect(h.sim.requests.count()).toBe(0);
    expect(await h.store.reviews.listForDeal(h.sim.portalId, dealId)).toEqual([]);
  });

  it('accepts a signature exactly 5 minutes old', async () => {
    const result = await cardRequest(h.url, TEST_CLIENT_SECRET, {
      method: 'GET',
      path: `/api/v1/deals/${dealId}/gate`,
      userId: REP,
      portalId: h.sim.portalId,
      timestamp: h.clock.now() - 5 * 60 * 1000,
    });
    expect(result.status).toBe(200);
  });

  it('refuses a request whose body was changed after signing, before parsing it (401, not 400 for the bad JSON)', async () => {
    const path = hubspotFetchPath({ path: `/api/v1/deals/${dealId}/reviews`, userId: REP, portalId: h.sim.portalId });
    const headers = signed('POST', path, { summary: 'SSO', effortWeeks: 2 });
    expect((await send('POST', path, { summary: 'SSO', effortWeeks: 200 }, headers)).status).toBe(401);
    const broken = await fetch(h.url + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{not json' });
    expect(broken.status).toBe(401);
    expect(await h.store.reviews.listForDeal(h.sim.portalId, dealId)).toEqual([]);
  });

  it('refuses a request whose identity in the query was changed after signing (401)', async () => {
    const asRep = hubspotFetchPath({ path: `/api/v1/deals/${dealId}/gate`, userId: REP, portalId: h.sim.portalId });
    const headers = signed('GET', asRep, undefined);
    const asReviewer = asRep.replace(`userId=${REP}`, `userId=${REVIEWER}`);
    expect((await send('GET', asReviewer, undefined, headers)).status).toBe(401);
    const otherPortal = asRep.replace(`portalId=${h.sim.portalId}`, 'portalId=1');
    expect((await send('GET', otherPortal, undefined, headers)).status).toBe(401);
  });

  it('takes the caller from the verified query only: headers and body claiming another user change nothing', async () => {
    const path = hubspotFetchPath({ path: `/api/v1/deals/${dealId}/gate`, userId: REP, portalId: h.sim.portalId });
    const result = await fetch(h.url + path, {
      headers: { ...signed('GET', path, undefined), 'x-hubspot-user-id': REVIEWER, 'x-user-id': REVIEWER, 'x-portal-id': '1' },
    });
    const gate = (await result.json()) as GateResponse;
    expect(gate.caller).toEqual({ userId: REP, person: { userId: REP, name: 'Grace Hopper', email: 'grace.hopper@example.com' }, roles: ['rep'] });
    expect(gate.portalId).toBe(h.sim.portalId);

    const claim = await h.call<ApiErrorBody>(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO', effortWeeks: 2, userId: REVIEWER });
    expect(claim.status).toBe(400);
    expect(claim.json.error.details?.issues?.[0]?.message).toMatch(/unrecognized key/i);
  });

  it('refuses a verified request that lacks the caller, or names it twice (400 naming the parameter)', async () => {
    for (const [query, field] of [
      [`?portalId=${h.sim.portalId}`, 'userId'],
      [`?userId=${REP}`, 'portalId'],
      [`?userId=${REP}&userId=${REVIEWER}&portalId=${h.sim.portalId}`, 'userId'],
      [`?userId=abc&portalId=${h.sim.portalId}`, 'userId'],
    ]) {
      const path = `/api/v1/deals/${dealId}/gate${query}`;
      const result = await send('GET', path, undefined, signed('GET', path, undefined));
      expect(result.status).toBe(400);
      expect(result.json.error.message.startsWith(`${field}: `)).toBe(true);
    }
  });

  it('answers a signed request for an unknown route 404 in the error format', async () => {
    const result = await h.call<ApiErrorBody>(REP, 'GET', '/no-such-route');
    expect(result.status).toBe(404);
    expect(result.json.error.code).toBe('not_found');
  });
});
