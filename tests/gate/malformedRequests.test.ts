import { signedHeaders } from '../../src/server/hubspot/signature';
import { hubspotFetchPath } from '../support/cardClient';
import { TEST_CLIENT_SECRET } from '../support/env';
import { ADMIN, REP, startHarness, type Harness } from './harness';

/**
 * Requests express itself cannot read, correctly signed so they get past the signature check: a
 * compressed body that does not decompress, and a path id that is not valid percent-encoding.
 * Both are the caller's mistake (400 with the usual error body), never a 500; nothing is stored.
 * Found by the bad-input reliability suite.
 */
describe('requests express cannot read', () => {
  let h: Harness;
  const OPS_TOKEN = 'ops-token-for-malformed-requests';
  beforeAll(async () => {
    h = await startHarness({ DEALGATE_OPS_TOKEN: OPS_TOKEN });
  });
  afterAll(async () => {
    await h.close();
  });

  async function signedCall(method: string, path: string, body: Buffer | undefined, headers: Record<string, string> = {}) {
    const response = await fetch(h.url + path, {
      method,
      headers: { ...headers, ...signedHeaders(TEST_CLIENT_SECRET, { method, uri: h.url + path, body: body ?? Buffer.alloc(0) }, h.clock.now()) },
      ...(body !== undefined ? { body } : {}),
    });
    return { status: response.status, json: (await response.json()) as { error?: { code: string; message: string } } };
  }

  it.each(['deflate', 'gzip'])('a body that says Content-Encoding: %s but does not decompress is a 400', async (encoding) => {
    const dealId = h.seedDeal();
    const path = hubspotFetchPath({ path: `/api/v1/deals/${dealId}/reviews`, userId: REP, portalId: h.sim.portalId });
    const answer = await signedCall('POST', path, Buffer.from([3, 184, 192, 176, 213, 181, 17, 12]), { 'content-type': 'application/json', 'content-encoding': encoding });
    expect(answer.status).toBe(400);
    expect(answer.json.error).toEqual({ code: 'invalid_request', message: expect.stringContaining('the request could not be read') });
    expect(await h.store.reviews.latestForDeal(h.sim.portalId, dealId)).toBeUndefined();
  });

  it.each(['/api/v1/deals/%E0%A4%A/gate', '/api/v1/reviews/%ZZ/withdraw'])('a path id that is not valid percent-encoding (%s) is a 400', async (route) => {
    const path = hubspotFetchPath({ path: route, userId: ADMIN, portalId: h.sim.portalId });
    const answer = await signedCall(route.endsWith('gate') ? 'GET' : 'POST', path, undefined);
    expect(answer.status).toBe(400);
    expect(answer.json.error?.code).toBe('invalid_request');
    expect(answer.json.error?.message).toContain('Failed to decode param');
  });

  it('an ops route with a badly encoded id is a 400 for the operator, and 401 to anyone without the token', async () => {
    const closed = await fetch(`${h.url}/ops/inbox/%E0%A4%A/retry`, { method: 'POST' });
    expect(closed.status).toBe(401);
    const response = await fetch(`${h.url}/ops/inbox/%E0%A4%A/retry`, { method: 'POST', headers: { authorization: `Bearer ${OPS_TOKEN}` } });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe('invalid_request');
  });
});
