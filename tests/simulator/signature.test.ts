import { createHash } from 'node:crypto';
import { verifySignatureV3 } from '../../src/server/hubspot/signature';
import { startSimulator, type Simulator } from '../../src/simulator';
import { startReceiver, type ReceivedRequest, type Receiver } from './receiver';

/**
 * The simulator signs webhooks with its own signer; the service verifies with its own verifier.
 * Checking one with the other is a real cross-check of HubSpot's v3 scheme (and of v1).
 */
const SECRET = 'sim-signature-secret-0123456789';

function verify(secret: string, request: ReceivedRequest, overrides: { body?: Buffer; uri?: string } = {}) {
  return verifySignatureV3(
    secret,
    {
      method: 'POST',
      uri: overrides.uri ?? request.url,
      body: overrides.body ?? request.rawBody,
      timestamp: request.headers['x-hubspot-request-timestamp'] as string | undefined,
      signature: request.headers['x-hubspot-signature-v3'] as string | undefined,
    },
    Date.now(),
  );
}

describe('webhook signatures', () => {
  let receiver: Receiver;
  let sim: Simulator;

  beforeAll(async () => {
    // A query string with characters HubSpot decodes before hashing (%3A, %2C) exercises the URI rule too.
    receiver = await startReceiver(() => 204, '/webhooks/hubspot');
    sim = await startSimulator({ clientSecret: SECRET, webhookTargetUrl: `${receiver.url}?tenant=acme%3Aeu&tags=a%2Cb` });
    const deal = sim.seedDeal({ properties: { dealname: 'Signed', dealstage: 'qualifiedtobuy', amount: '1000' } });
    sim.updateDealAsUser(deal.id, { dealstage: 'contractsent', amount: '90000', dealname: 'Signed (renamed)' }, { userId: 7 });
    await sim.webhooks.idle();
  });

  afterAll(async () => {
    await sim.stop();
    await receiver.close();
  });

  it("verifies with the service's verifier over the exact URL called", () => {
    expect(receiver.requests).toHaveLength(1);
    const [request] = receiver.requests;
    if (!request) throw new Error('no webhook received');
    expect(request.url).toContain('?tenant=acme%3Aeu&tags=a%2Cb');
    expect(verify(SECRET, request)).toEqual({ ok: true });
    // Only the subscribed properties produced events (dealname is not subscribed).
    expect(request.events.map((e) => e.propertyName).sort()).toEqual(['amount', 'dealstage']);
  });

  it('fails with a wrong secret, a changed body or another URL', () => {
    const [request] = receiver.requests;
    if (!request) throw new Error('no webhook received');
    expect(verify('another-secret', request)).toEqual({ ok: false, reason: 'bad_signature' });
    const tampered = Buffer.from(request.rawBody.toString('utf8').replace('contractsent', 'closedwon'));
    expect(verify(SECRET, request, { body: tampered })).toEqual({ ok: false, reason: 'bad_signature' });
    expect(verify(SECRET, request, { uri: request.url.replace('/webhooks/hubspot', '/webhooks/other') })).toEqual({ ok: false, reason: 'bad_signature' });
  });

  it('sends a fresh millisecond timestamp and the v1 signature beside v3', () => {
    const [request] = receiver.requests;
    if (!request) throw new Error('no webhook received');
    const timestamp = Number(request.headers['x-hubspot-request-timestamp']);
    expect(Math.abs(Date.now() - timestamp)).toBeLessThan(60_000);
    expect(request.headers['content-type']).toBe('application/json');
    expect(request.headers['x-hubspot-signature-version']).toBe('v1');
    const v1 = createHash('sha256').update(SECRET + request.rawBody.toString('utf8')).digest('hex');
    expect(request.headers['x-hubspot-signature']).toBe(v1);
  });
});
