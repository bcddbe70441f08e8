import { Client } from '@hubspot/api-client';
import { verifySignatureV3 } from '../../src/server/hubspot/signature';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';
import { delay, startReceiver, type Answer, type ReceivedRequest, type Receiver } from './receiver';

/**
 * Webhook delivery as HubSpot does it: subscriptions from the app's webhooks-hsmeta.json, batches
 * of at most 100, v3 signatures over the exact URL, retries with attemptNumber on any non-2xx,
 * timeout or connection error, a concurrency limit, and optional duplicates and reordering.
 */
const SECRET = 'sim-webhook-secret-0123456789';
const FAST_RETRIES = { retryDelaysMs: [20], batchWindowMs: 10 };

let sim: Simulator | undefined;
let receiver: Receiver | undefined;

async function setUp(answer: Answer, webhooks: SimulatorOptions['webhooks'] = {}): Promise<{ sim: Simulator; receiver: Receiver }> {
  receiver = await startReceiver(answer);
  sim = await startSimulator({ clientSecret: SECRET, webhookTargetUrl: receiver.url, webhooks: { ...FAST_RETRIES, ...webhooks } });
  return { sim, receiver };
}

afterEach(async () => {
  await sim?.stop();
  await receiver?.close();
  sim = undefined;
  receiver = undefined;
});

function signatureValid(request: ReceivedRequest): boolean {
  const result = verifySignatureV3(
    SECRET,
    {
      method: 'POST',
      uri: request.url,
      body: request.rawBody,
      timestamp: request.headers['x-hubspot-request-timestamp'] as string | undefined,
      signature: request.headers['x-hubspot-signature-v3'] as string | undefined,
    },
    Date.now(),
  );
  return result.ok;
}

function allEvents(r: Receiver) {
  return r.requests.flatMap((request) => request.events);
}

describe('simulator webhooks', () => {
  it('delivers a user stage move to a plain Express receiver as a signed batch, retrying after a 500', async () => {
    const { sim, receiver } = await setUp((_request, index) => (index === 0 ? 500 : 204));
    const deal = sim.seedDeal({ properties: { dealname: 'Acme', dealstage: 'qualifiedtobuy', amount: '60000' } });
    sim.moveDealToStage(deal.id, 'contractsent', { userId: 42 });
    await sim.webhooks.idle();

    expect(receiver.requests).toHaveLength(2);
    const [first, retry] = receiver.requests as [ReceivedRequest, ReceivedRequest];
    expect(first.events.map((e) => e.attemptNumber)).toEqual([0]);
    expect(retry.events.map((e) => e.attemptNumber)).toEqual([1]);
    expect(retry.events[0]!.eventId).toBe(first.events[0]!.eventId);
    for (const request of receiver.requests) expect(signatureValid(request)).toBe(true);
    expect(retry.events[0]).toMatchObject({
      subscriptionType: 'deal.propertyChange',
      objectId: Number(deal.id),
      propertyName: 'dealstage',
      propertyValue: 'contractsent',
      changeSource: 'CRM_UI',
      sourceId: 'userId:42',
      portalId: sim.portalId,
    });
    expect(sim.webhooks.deliveries().map((d) => d.outcome)).toEqual(['retrying', 'delivered']);
  });

  it('sends only subscribed properties, and creation and deletion events', async () => {
    const { sim, receiver } = await setUp(() => 200);
    const deal = sim.createDealAsUser({ dealname: 'New', dealstage: 'appointmentscheduled', amount: '1000' }, { userId: 7 });
    await sim.webhooks.idle();
    sim.updateDealAsUser(deal.id, { dealname: 'Renamed', description: 'not subscribed' }, { userId: 7 });
    sim.updateDealAsUser(deal.id, { amount: '2000' }, { userId: 7 });
    sim.deleteDealAsUser(deal.id, { userId: 7 });
    await sim.webhooks.idle();

    const kinds = allEvents(receiver).map((e) => `${String(e.subscriptionType)}${e.propertyName ? `:${String(e.propertyName)}` : ''}`);
    expect(kinds).toContain('deal.creation');
    expect(kinds).toContain('deal.propertyChange:amount');
    expect(kinds).toContain('deal.deletion');
    expect(kinds.some((k) => k.endsWith(':dealname') || k.endsWith(':description'))).toBe(false);
  });

  it('batches at most 100 events per request', async () => {
    const { sim, receiver } = await setUp(() => 200, { batchWindowMs: 50 });
    const ids = Array.from({ length: 250 }, (_, i) => sim.seedDeal({ properties: { dealname: `D${i}`, dealstage: 'qualifiedtobuy' } }).id);
    sim.moveDealsToStage(ids, 'closedwon', { userId: 9 });
    await sim.webhooks.idle();

    const sizes = receiver.requests.map((r) => r.events.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(100);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(250);
    expect(new Set(allEvents(receiver).map((e) => e.objectId)).size).toBe(250);
  });

  it('retries a request the receiver does not answer within the timeout', async () => {
    const { sim } = await setUp((_request, index) => (index === 0 ? 'hang' : 200), { timeoutMs: 200 });
    const deal = sim.seedDeal({ properties: { dealname: 'Slow', dealstage: 'qualifiedtobuy' } });
    sim.moveDealToStage(deal.id, 'closedwon', { userId: 1 });
    await sim.webhooks.idle();

    const attempts = sim.webhooks.deliveries();
    expect(attempts[0]).toMatchObject({ error: 'timeout', outcome: 'retrying' });
    expect(attempts.at(-1)).toMatchObject({ status: 200, outcome: 'delivered', attemptNumber: 1 });
  });

  it('retries after a connection error and gives up after the retry limit', async () => {
    const { sim } = await setUp(() => 200, { maxRetries: 2 });
    sim.webhooks.setTargetUrl('http://127.0.0.1:9/webhooks/hubspot'); // nothing listens on the discard port
    const deal = sim.seedDeal({ properties: { dealname: 'Nowhere', dealstage: 'qualifiedtobuy' } });
    sim.moveDealToStage(deal.id, 'closedwon', { userId: 1 });
    await sim.webhooks.idle();

    const attempts = sim.webhooks.deliveries();
    expect(attempts.map((a) => a.attemptNumber)).toEqual([0, 1, 2]);
    expect(attempts.map((a) => a.outcome)).toEqual(['retrying', 'retrying', 'failed']);
    expect(attempts.every((a) => a.error !== undefined && a.status === undefined)).toBe(true);
  });

  it('keeps to the concurrency limit', async () => {
    const { sim, receiver } = await setUp(
      async () => {
        await delay(30);
        return 200;
      },
      { maxConcurrentRequests: 2, maxBatchSize: 1, batchWindowMs: 1 },
    );
    const ids = Array.from({ length: 8 }, (_, i) => sim.seedDeal({ properties: { dealname: `C${i}`, dealstage: 'qualifiedtobuy' } }).id);
    sim.moveDealsToStage(ids, 'closedwon', { userId: 3 });
    await sim.webhooks.idle();

    expect(receiver.requests).toHaveLength(8);
    expect(receiver.concurrency.max).toBeLessThanOrEqual(2);
    expect(receiver.concurrency.max).toBe(2);
  });

  it('can deliver every event twice, so receivers must be idempotent', async () => {
    const { sim, receiver } = await setUp(() => 200, { duplicateRate: 1 });
    const ids = Array.from({ length: 5 }, (_, i) => sim.seedDeal({ properties: { dealname: `P${i}`, dealstage: 'qualifiedtobuy' } }).id);
    sim.moveDealsToStage(ids, 'closedwon', { userId: 3 });
    await sim.webhooks.idle();

    const eventIds = allEvents(receiver).map((e) => e.eventId);
    expect(eventIds).toHaveLength(10);
    expect(new Set(eventIds).size).toBe(5);
  });

  it('can reorder events, with occurredAt still telling the true order', async () => {
    const { sim, receiver } = await setUp(() => 200, { reorder: true, seed: 7 });
    const ids = Array.from({ length: 40 }, (_, i) => sim.seedDeal({ properties: { dealname: `R${i}`, dealstage: 'qualifiedtobuy' } }).id);
    for (const id of ids) sim.moveDealToStage(id, 'closedwon', { userId: 3 });
    await sim.webhooks.idle();

    const received = allEvents(receiver).map((e) => e.objectId);
    expect([...received].sort((a, b) => Number(a) - Number(b))).toEqual(ids.map(Number));
    expect(received).not.toEqual(ids.map(Number));
  });

  it("delivers changes made with the app's own token, told apart by changeSource", async () => {
    const { sim, receiver } = await setUp(() => 200);
    const deal = sim.seedDeal({ properties: { dealname: 'Own', dealstage: 'qualifiedtobuy' } });
    const client = new Client({ accessToken: sim.accessToken, basePath: sim.url, numberOfApiCallRetries: 0 });
    await client.crm.deals.basicApi.update(deal.id, { properties: { dealstage: 'closedwon' } });
    sim.moveDealToStage(deal.id, 'contractsent', { userId: 5 });
    await sim.webhooks.idle();

    const sources = allEvents(receiver).map((e) => [e.propertyValue, e.changeSource]);
    expect(sources).toEqual([
      ['closedwon', 'INTEGRATION'],
      ['contractsent', 'CRM_UI'],
    ]);
    const own = allEvents(receiver)[0]!;
    expect(own.sourceId).toBe(String(sim.appId));
  });
});
