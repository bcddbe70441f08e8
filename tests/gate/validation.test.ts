import type { ApiErrorBody } from '../../extensions/contract/api';
import { cardRequest } from '../support/cardClient';
import { TEST_CLIENT_SECRET } from '../support/env';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { hubspotFetchPath } from '../support/cardClient';
import { startHarness, baseSettings, ADMIN, REP, REVIEWER, type Harness } from './harness';

/** Every invalid body or path is a 400 whose message names the field, and changes nothing. */
describe('card API: validation', () => {
  let h: Harness;
  let dealId: string;
  let reviewId: number;
  beforeAll(async () => {
    h = await startHarness();
    dealId = h.seedDeal();
    const requested = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 4 });
    expect(requested.status).toBe(201);
    reviewId = requested.json.review?.id ?? 0;
  });
  afterAll(() => h.close());

  function expectField(result: { status: number; json: ApiErrorBody }, field: string) {
    expect(result.status).toBe(400);
    expect(result.json.error.code).toBe('invalid_request');
    expect(result.json.error.message.startsWith(`${field}: `)).toBe(true);
    expect(result.json.error.details?.issues?.map((i) => i.path)).toContain(field);
  }

  it.each<[string, unknown, string]>([
    ['no body', undefined, 'request body'],
    ['a missing summary', { effortWeeks: 4 }, 'summary'],
    ['a blank summary', { summary: '   ', effortWeeks: 4 }, 'summary'],
    ['a summary over 4000 characters', { summary: 'x'.repeat(4001), effortWeeks: 4 }, 'summary'],
    ['no effort', { summary: 'SSO' }, 'effortWeeks'],
    ['0 weeks of effort', { summary: 'SSO', effortWeeks: 0 }, 'effortWeeks'],
    ['effort as a string', { summary: 'SSO', effortWeeks: '4' }, 'effortWeeks'],
    ['a needed-by date that does not exist', { summary: 'SSO', effortWeeks: 4, neededBy: '2027-02-30' }, 'neededBy'],
    ['a needed-by date in another format', { summary: 'SSO', effortWeeks: 4, neededBy: '12/01/2027' }, 'neededBy'],
    ['an unknown field', { summary: 'SSO', effortWeeks: 4, priority: 'high' }, 'request body'],
    ['an array', [], 'request body'],
  ])('POST /deals/:id/reviews refuses %s', async (_what, body, field) => {
    const other = h.seedDeal();
    expectField(await h.call<ApiErrorBody>(REP, 'POST', `/deals/${other}/reviews`, body), field);
    expect(await h.store.reviews.listForDeal(h.sim.portalId, other)).toEqual([]);
  });

  it.each<[string, unknown, string]>([
    ['no outcome', { note: 'fine' }, 'outcome'],
    ['an unknown outcome', { outcome: 'maybe' }, 'outcome'],
    ['a yes-but with neither extra weeks nor tradeoff', { outcome: 'yes_but', note: 'ok' }, 'extraWeeks'],
    ['a yes-but with a blank tradeoff', { outcome: 'yes_but', tradeoff: '  ' }, 'tradeoff'],
    ['negative extra weeks', { outcome: 'yes_but', extraWeeks: -1 }, 'extraWeeks'],
    ['a no without a reason', { outcome: 'no' }, 'note'],
    ['a no with a blank reason', { outcome: 'no', note: '   ' }, 'note'],
    ['a yes with extra weeks', { outcome: 'yes', extraWeeks: 2 }, 'outcome'],
    ['a no that deprioritizes', { outcome: 'no', note: 'no', deprioritizeReviewId: 1 }, 'deprioritizeReviewId'],
    ['a deprioritization that is not an id', { outcome: 'yes', deprioritizeReviewId: 'one' }, 'deprioritizeReviewId'],
    ['an unknown field', { outcome: 'yes', decidedBy: REVIEWER }, 'request body'],
  ])('POST /reviews/:id/decision refuses %s', async (_what, body, field) => {
    expectField(await h.call<ApiErrorBody>(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, body), field);
    expect((await h.store.reviews.get(h.sim.portalId, reviewId))?.status).toBe('pending');
  });

  it('POST /reviews/:id/withdraw refuses a body with data', async () => {
    expectField(await h.call<ApiErrorBody>(REP, 'POST', `/reviews/${reviewId}/withdraw`, { reason: 'x' }), 'request body');
    expect((await h.store.reviews.get(h.sim.portalId, reviewId))?.status).toBe('pending');
  });

  it.each<[string, string, string]>([
    ['a deal id that is not a HubSpot id', '/deals/abc/gate', 'dealId'],
    ['a review id of 0', '/reviews/0/withdraw', 'reviewId'],
    ['a review id that is not a number', '/reviews/first/withdraw', 'reviewId'],
  ])('refuses %s in the path', async (_what, path, field) => {
    const method = path.endsWith('gate') ? 'GET' : 'POST';
    expectField(await h.call<ApiErrorBody>(REP, method, path), field);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a negative threshold', { valueThreshold: -1 }, 'valueThreshold'],
    ['SLA hours of 0', { slaHours: 0 }, 'slaHours'],
    ['fractional SLA hours', { slaHours: 1.5 }, 'slaHours'],
    ['SLA hours beyond two weeks', { slaHours: 337 }, 'slaHours'],
    ['a reviewer that is not a user id', { reviewers: [REVIEWER, 'jane@example.com'] }, 'reviewers.1'],
    ['no admins', { admins: [] }, 'admins'],
    ['an escalation reviewer that is not a user id', { escalationReviewer: 'boss' }, 'escalationReviewer'],
    ['a blank gate stage label', { gateStageLabel: ' ' }, 'gateStageLabel'],
    ['a commitment share above 100%', { capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 1.5 } }, 'capacity.commitmentShare'],
    ['no engineering capacity', { capacity: { engineerWeeksPerQuarter: 0, commitmentShare: 0.2 } }, 'capacity.engineerWeeksPerQuarter'],
    ['a gate stage in a pipeline the account does not have', { gateStages: { nope: 'contractsent' } }, 'gateStages.nope'],
    ['a gate stage the pipeline does not have', { gateStages: { default: 'nope' } }, 'gateStages.default'],
    ['a closed gate stage', { gateStages: { default: 'closedwon' } }, 'gateStages.default'],
    ['an unknown field', { color: 'blue' }, 'request body'],
  ])('PUT /settings refuses %s', async (_what, change, field) => {
    expectField(await h.call<ApiErrorBody>(ADMIN, 'PUT', '/settings', { ...baseSettings, ...change }), field);
    expect(await h.store.settings.get(h.sim.portalId)).toBeUndefined();
  });

  it('refuses a body that is not JSON (400) and one that is not declared as JSON (415)', async () => {
    const path = hubspotFetchPath({ path: `/api/v1/deals/${dealId}/reviews`, userId: REP, portalId: h.sim.portalId });
    const raw = '{"summary": "SSO",';
    const headers = signedHeaders(TEST_CLIENT_SECRET, { method: 'POST', uri: h.url + path, body: raw }, h.clock.now());
    const broken = await fetch(h.url + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: raw });
    expect(broken.status).toBe(400);
    const text = await fetch(h.url + path, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body: raw });
    expect(text.status).toBe(415);
  });

  it('still answers the valid request afterwards (the refusals left the review as it was)', async () => {
    const ok = await cardRequest(h.url, TEST_CLIENT_SECRET, {
      method: 'GET',
      path: `/api/v1/deals/${dealId}/gate`,
      userId: REP,
      portalId: h.sim.portalId,
      timestamp: h.clock.now(),
    });
    expect(ok.status).toBe(200);
  });
});
