import { createHmac } from 'node:crypto';
import express from 'express';
import {
  computeSignatureV3,
  signedHeaders,
  verifySignatureV3,
  normalizeSignedUri,
} from '../../src/server/hubspot/signature';
import { rawBody, verifyHubSpotRequest } from '../../src/server/http/signedRequest';
import { errorHandler } from '../../src/server/http/errorHandler';
import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { listen } from '../support/env';

const secret = 'app-secret';
const now = Date.UTC(2026, 10, 2, 12, 0, 0);

describe('HubSpot v3 signatures', () => {
  const request = { method: 'POST', uri: 'https://dealgate.example.com/webhooks/hubspot', body: '[{"eventId":1}]' };

  it('matches the documented construction', () => {
    const expected = createHmac('sha256', secret)
      .update(`POST${request.uri}${request.body}${now}`)
      .digest('base64');
    expect(computeSignatureV3(secret, { ...request, timestamp: String(now) })).toBe(expected);
  });

  it('accepts a fresh, correct signature', () => {
    const headers = signedHeaders(secret, request, now);
    const result = verifySignatureV3(
      secret,
      { ...request, signature: headers['x-hubspot-signature-v3'], timestamp: headers['x-hubspot-request-timestamp'] },
      now + 1000,
    );
    expect(result).toEqual({ ok: true });
  });

  it.each([
    ['a changed body', { body: '[{"eventId":2}]' }, 'bad_signature'],
    ['another URL', { uri: 'https://evil.example.com/webhooks/hubspot' }, 'bad_signature'],
    ['another method', { method: 'PUT' }, 'bad_signature'],
    ['another secret', { secret: 'wrong' }, 'bad_signature'],
    ['a truncated signature', { truncate: true }, 'bad_signature'],
    ['no signature', { signature: undefined }, 'missing_signature'],
    ['no timestamp', { timestamp: undefined }, 'missing_timestamp'],
    ['a non-numeric timestamp', { timestamp: '12abc' }, 'malformed_timestamp'],
    ['a timestamp 6 minutes old', { timestamp: String(now - 6 * 60 * 1000) }, 'stale_timestamp'],
    ['a timestamp 6 minutes ahead', { timestamp: String(now + 6 * 60 * 1000) }, 'stale_timestamp'],
  ])('refuses %s', (_label, change: Record<string, unknown>, reason) => {
    const headers = signedHeaders(typeof change.secret === 'string' ? change.secret : secret, request, Number(change.timestamp ?? now));
    let signature: string | undefined = headers['x-hubspot-signature-v3'];
    if (change.truncate && signature) signature = signature.slice(0, 10);
    if ('signature' in change) signature = undefined;
    const timestamp = 'timestamp' in change ? (change.timestamp as string | undefined) : headers['x-hubspot-request-timestamp'];
    const result = verifySignatureV3(
      secret,
      {
        method: typeof change.method === 'string' ? change.method : request.method,
        uri: typeof change.uri === 'string' ? change.uri : request.uri,
        body: typeof change.body === 'string' ? change.body : request.body,
        signature,
        timestamp,
      },
      now,
    );
    expect(result).toEqual({ ok: false, reason });
  });

  it('decodes the characters HubSpot decodes before hashing, and no others', () => {
    expect(normalizeSignedUri('https://x.example.com/a%3Ab%2Fc?d=%40e%2C%2a&f=%20%25')).toBe(
      'https://x.example.com/a:b/c?d=@e,*&f=%20%25',
    );
  });
});

describe('verifyHubSpotRequest middleware', () => {
  const publicBaseUrl = 'https://dealgate.example.com';
  const clock = new ManualClock(now);

  async function withServer(run: (url: string) => Promise<void>) {
    const app = express();
    app.post('/api/echo', rawBody, verifyHubSpotRequest({ clientSecret: secret, publicBaseUrl, clock }), (req, res) => {
      res.json({ body: req.body as unknown, portalId: req.query.portalId });
    });
    app.use(errorHandler(silentLogger()));
    const server = await listen(app);
    try {
      await run(server.url);
    } finally {
      await server.close();
    }
  }

  it('verifies over the public URL with its query string, then parses', async () => {
    await withServer(async (url) => {
      const body = JSON.stringify({ summary: 'SSO' });
      const path = '/api/echo?portalId=42&userId=7';
      const headers = signedHeaders(secret, { method: 'POST', uri: publicBaseUrl + path, body }, now);
      const response = await fetch(url + path, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ body: { summary: 'SSO' }, portalId: '42' });
    });
  });

  it('refuses with 401 before parsing when the query string was altered', async () => {
    await withServer(async (url) => {
      const body = '{not json';
      const headers = signedHeaders(secret, { method: 'POST', uri: `${publicBaseUrl}/api/echo?portalId=42`, body }, now);
      const response = await fetch(`${url}/api/echo?portalId=43`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(response.status).toBe(401);
      const json = (await response.json()) as { error: { code: string; message: string } };
      expect(json.error.code).toBe('unauthorized');
      expect(json.error.message).toMatch(/PUBLIC_BASE_URL/);
    });
  });

  it('answers 400 for a signed body that is not JSON and 415 for a non-JSON type', async () => {
    await withServer(async (url) => {
      const body = '{not json';
      const headers = signedHeaders(secret, { method: 'POST', uri: `${publicBaseUrl}/api/echo`, body }, now);
      const bad = await fetch(`${url}/api/echo`, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
      expect(bad.status).toBe(400);
      const text = await fetch(`${url}/api/echo`, { method: 'POST', headers: { ...headers, 'content-type': 'text/plain' }, body });
      expect(text.status).toBe(415);
    });
  });
});
