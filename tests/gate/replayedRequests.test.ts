import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ApiErrorBody, GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { ManualClock } from '../../src/server/shared/clock';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { hubspotFetchPath } from '../support/cardClient';
import { listen, TEST_CLIENT_SECRET } from '../support/env';
import { createApp } from '../../src/server/http/app';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { silentLogger } from '../../src/server/shared/logger';
import { waitUntil } from '../support/process';
import { startStack, type Stack } from '../support/stack';
import { TEST_PEOPLE } from '../support/people';
import { ADMIN, REP, baseSettings, startHarness, type Harness } from './harness';

/**
 * Issue 12, finding 5: a signed card request replayed inside its 5 minutes was carried out again.
 * A request that changes something is accepted once per signature (409 `replayed` after that),
 * durably; a 5xx releases its signature for HubSpot's retry; GETs change nothing and are not recorded.
 */
describe('card API: signed requests are single-use', () => {
  let h: Harness;
  let dealId: string;
  beforeEach(async () => {
    h = await startHarness();
    dealId = h.seedDeal();
  });
  afterEach(() => h.close());

  /** A request exactly as HubSpot signed it once: send it as often as the test likes, byte for byte. */
  function captured(method: string, template: string, userId: string, body?: unknown, secret = TEST_CLIENT_SECRET, url = h.url, at = h.clock.now()) {
    const path = hubspotFetchPath({ path: `/api/v1${template}`, userId, portalId: h.sim.portalId });
    const raw = body === undefined ? '' : JSON.stringify(body);
    const headers = { ...signedHeaders(secret, { method, uri: url + path, body: raw }, at), ...(raw ? { 'content-type': 'application/json' } : {}) };
    return async <T = ApiErrorBody>(to = url) => {
      const response = await fetch(to + path, { method, headers, ...(raw ? { body: raw } : {}) });
      return { status: response.status, json: (await response.json()) as T };
    };
  }

  const tasksOf = async (id: string) => (await h.outbox(id)).filter((row) => row.kind === 'create_task');

  it('refuses a replayed settings PUT (409 replayed): the threshold is not flipped back', async () => {
    const first = captured('PUT', '/settings', ADMIN, { ...baseSettings, valueThreshold: 100_000 });
    expect((await first<SettingsResponse>()).status).toBe(200);
    h.clock.advance(60_000);
    expect((await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, valueThreshold: 200_000 })).status).toBe(200);
    const changes = (await h.store.settingsChanges.list(h.sim.portalId, 100)).length;

    h.clock.advance(60_000);
    const replay = await first();
    expect(replay.status).toBe(409);
    expect(replay.json.error.code).toBe('replayed');
    expect(replay.json.error.message).toMatch(/already received.*reload/);
    expect((await h.call<SettingsResponse>(ADMIN, 'GET', '/settings')).json.settings.valueThreshold).toBe(200_000);
    expect(await h.store.settingsChanges.list(h.sim.portalId, 100)).toHaveLength(changes);
  });

  it('refuses a review request replayed after a withdrawal: no new review, no new tasks', async () => {
    const request = captured('POST', `/deals/${dealId}/reviews`, REP, { summary: 'SSO', effortWeeks: 2 });
    const opened = await request<GateResponse>();
    expect(opened.status).toBe(201);
    const reviewId = opened.json.review?.id ?? 0;
    expect((await h.call(REP, 'POST', `/reviews/${reviewId}/withdraw`)).status).toBe(200);
    const tasks = (await tasksOf(dealId)).length;

    const replay = await request();
    expect(replay.status).toBe(409);
    expect(replay.json.error.code).toBe('replayed');
    expect((await h.store.reviews.listForDeal(h.sim.portalId, dealId)).map((r) => r.status)).toEqual(['withdrawn']);
    expect(await tasksOf(dealId)).toHaveLength(tasks);
  });

  it('lets HubSpot’s retry of a 5xx through with the same signature, and refuses a copy after that', async () => {
    const request = captured('POST', `/deals/${dealId}/reviews`, REP, { summary: 'SSO', effortWeeks: 2 });
    // HubSpot does not answer the deal read: Dealgate answers 5xx and changes nothing.
    h.sim.faults.failNext(1_000, { status: 503, match: 'GET /crm/v3/objects/deals' });
    const failed = await request();
    expect(failed.status).toBeGreaterThanOrEqual(500);
    expect(await h.store.reviews.listForDeal(h.sim.portalId, dealId)).toEqual([]);

    h.sim.faults.clear();
    const retried = await request<GateResponse>();
    expect(retried.status).toBe(201);
    expect(await h.store.reviews.listForDeal(h.sim.portalId, dealId)).toHaveLength(1);
    expect((await request()).json.error.code).toBe('replayed');
  });

  it('refuses a copy that arrives while the first is still being carried out (at another instance on the same database)', async () => {
    // A second instance over the same database, reaching HubSpot through a gate the test opens:
    // the first request waits on its deal read until then.
    const gate = await gatedHubSpot(h.sim.url);
    const config = { ...h.config, hubspot: { ...h.config.hubspot, apiBaseUrl: gate.url } };
    const second = await listen(createApp({ config, store: h.store, clock: h.clock, hubspot: staticHubSpotClients(config), gateway: createHubSpotGateway(staticHubSpotClients(config), () => h.clock.now()), logger: silentLogger() }));
    try {
      const request = captured('POST', `/deals/${dealId}/reviews`, REP, { summary: 'SSO', effortWeeks: 2 });
      const first = request<GateResponse>(second.url);
      await waitUntil(() => gate.held() === 1, 5_000, 'the first request to wait on HubSpot');
      const copy = await request();
      expect(copy.status).toBe(409);
      expect(copy.json.error.code).toBe('replayed');
      expect(copy.json.error.message).toContain('still being carried out');

      gate.open();
      expect((await first).status).toBe(201);
      expect(await h.store.reviews.listForDeal(h.sim.portalId, dealId)).toHaveLength(1);
    } finally {
      gate.open();
      await second.close();
      await gate.close();
    }
  });

  it('answers a repeated GET every time (it changes nothing) and records no signature for it', async () => {
    const read = captured('GET', `/deals/${dealId}/gate`, REP);
    expect((await read()).status).toBe(200);
    expect((await read()).status).toBe(200);
    expect(await h.store.seenSignatures.count()).toBe(0);
  });

  it('keeps nothing it cannot be refused for anyway: a refused signature is not recorded, old ones are pruned', async () => {
    const forged = captured('PUT', '/settings', ADMIN, baseSettings, 'not-the-client-secret');
    expect((await forged()).status).toBe(401);
    expect(await h.store.seenSignatures.count()).toBe(0);

    const put = captured('PUT', '/settings', ADMIN, baseSettings);
    expect((await put()).status).toBe(200);
    expect(await h.store.seenSignatures.count()).toBe(1);
    // Out of its window the copy is stale (401), whatever the table says.
    h.clock.advance(5 * 60 * 1000 + 1);
    expect((await put()).status).toBe(401);
    // Once past the window and the margin for other instances' clocks, the row goes on the next write.
    h.clock.advance(5 * 60 * 1000);
    expect((await h.call(ADMIN, 'PUT', '/settings', baseSettings)).status).toBe(200);
    expect(await h.store.seenSignatures.count()).toBe(1);
  });
});

/** A pass-through to HubSpot that holds deal reads until `open()`. */
async function gatedHubSpot(initialTarget: string) {
  const waiting: (() => void)[] = [];
  let closed = true;
  const target = initialTarget;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const forward = async () => {
        const headers = Object.fromEntries(Object.entries(req.headers).filter(([k, v]) => typeof v === 'string' && k !== 'host' && k !== 'content-length')) as Record<string, string>;
        const body = chunks.length > 0 ? Buffer.concat(chunks) : undefined;
        const answer = await fetch(target + (req.url ?? ''), { method: req.method ?? 'GET', headers, ...(body ? { body } : {}) });
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/json' });
        res.end(Buffer.from(await answer.arrayBuffer()));
      };
      if (closed && req.method === 'GET' && (req.url ?? '').startsWith('/crm/v3/objects/deals/')) waiting.push(() => void forward());
      else void forward();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    held: () => waiting.length,
    open() {
      closed = false;
      for (const go of waiting.splice(0)) go();
    },
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('card API: a replay is refused across a restart', () => {
  let stack: Stack;
  afterEach(() => stack.stop());

  it('remembers the signatures it accepted when the service starts again on the same database', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    stack = await startStack({ clock, defaults: { admins: [ADMIN] }, simulator: { owners: [...TEST_PEOPLE] } });
    await stack.provision();
    const path = hubspotFetchPath({ path: '/api/v1/settings', userId: ADMIN, portalId: stack.sim.portalId });
    const raw = JSON.stringify({ ...baseSettings, valueThreshold: 100_000 });
    const headers = { ...signedHeaders(stack.clientSecret, { method: 'PUT', uri: stack.url + path, body: raw }, clock.now()), 'content-type': 'application/json' };
    const send = () => fetch(stack.url + path, { method: 'PUT', headers, body: raw });

    expect((await send()).status).toBe(200);
    await stack.restart();
    const replay = await send();
    expect(replay.status).toBe(409);
    expect(((await replay.json()) as ApiErrorBody).error.code).toBe('replayed');
  });
});
