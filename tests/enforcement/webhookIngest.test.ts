import { join } from 'node:path';
import express from 'express';
import { testStore } from '../support/testStore';
import type { Store } from '../../src/server/storage/store';
import { systemClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { errorHandler } from '../../src/server/http/errorHandler';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { WEBHOOK_PATH, webhookRoute } from '../../src/server/http/webhookRoute';
import { inboxEventsOf } from '../../src/server/hubspot/webhookEvent';
import { listen, tempDir, TEST_CLIENT_SECRET } from '../support/env';

/** The ingest path alone: signature, validation, deduplicated storage, the answer. */
describe('POST /webhooks/hubspot', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let server: Awaited<ReturnType<typeof listen>>;
  let publicBaseUrl: string;

  beforeEach(async () => {
    dir = tempDir();
    store = await testStore(join(dir.path, 'db.sqlite'));
    const app = express();
    server = await listen(app);
    // The signature covers PUBLIC_BASE_URL, known once the server listens: mount the route then.
    publicBaseUrl = server.url;
    const config = { hubspot: { clientSecret: TEST_CLIENT_SECRET }, publicBaseUrl };
    app.use(webhookRoute({ config, store, clock: systemClock }));
    app.use(errorHandler(silentLogger()));
  });

  afterEach(async () => {
    await server.close();
    await store.close();
    dir.cleanup();
  });

  function event(overrides: Record<string, unknown> = {}) {
    return {
      eventId: 1001,
      subscriptionId: 77,
      portalId: 4242,
      appId: 9,
      occurredAt: 1_700_000_000_000,
      subscriptionType: 'deal.propertyChange',
      attemptNumber: 0,
      objectId: 555,
      propertyName: 'dealstage',
      propertyValue: 'closedwon',
      changeSource: 'CRM_UI',
      sourceId: 'userId:12',
      ...overrides,
    };
  }

  /** What the inbox worker does first: journaled batches become deduplicated inbox events. */
  async function expand() {
    return await store.inbox.expandJournal(100, inboxEventsOf);
  }

  async function nothingStored() {
    expect(await store.inbox.journalBacklog()).toBe(0);
    expect(await store.inbox.countByStatus()).toEqual({ pending: 0, done: 0, parked: 0 });
  }

  async function post(body: unknown, options: { secret?: string; url?: string; timestamp?: number } = {}) {
    const raw = JSON.stringify(body);
    const url = options.url ?? publicBaseUrl + WEBHOOK_PATH;
    const headers = signedHeaders(options.secret ?? TEST_CLIENT_SECRET, { method: 'POST', uri: url, body: raw }, options.timestamp ?? Date.now());
    const response = await fetch(server.url + WEBHOOK_PATH, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: raw });
    return { status: response.status, body: (await response.json()) as Record<string, unknown> };
  }

  it('stores a signed batch and answers 200', async () => {
    const result = await post([event(), event({ eventId: 1002, propertyName: 'amount', propertyValue: '90000' })]);
    expect(result).toEqual({ status: 200, body: { received: 2 } });
    expect(await store.inbox.journalBacklog()).toBe(1);
    expect(await expand()).toEqual({ batches: 1, stored: 2 });
    expect(await store.inbox.journalBacklog()).toBe(0);
    const stored = await store.inbox.list({ limit: 10 });
    expect(stored.map((e) => [e.objectId, e.propertyName, e.propertyValue, e.status])).toEqual([
      ['555', 'amount', '90000', 'pending'],
      ['555', 'dealstage', 'closedwon', 'pending'],
    ]);
  });

  it('stores a redelivered event once (HubSpot retries with a higher attemptNumber)', async () => {
    await post([event()]);
    expect((await expand()).stored).toBe(1);
    const retried = await post([event({ attemptNumber: 3 })]);
    expect(retried).toEqual({ status: 200, body: { received: 1 } });
    expect(await expand()).toEqual({ batches: 1, stored: 0 });
    // A duplicate inside one batch, and across two batches journaled before either is expanded.
    await post([event({ eventId: 7 }), event({ eventId: 7, attemptNumber: 1 })]);
    await post([event({ eventId: 7, attemptNumber: 2 })]);
    expect(await expand()).toEqual({ batches: 2, stored: 1 });
    expect((await store.inbox.countByStatus()).pending).toBe(2);
  });

  it('keeps two events that share an eventId but say different things', async () => {
    await post([event(), event({ objectId: 556 })]);
    expect((await expand()).stored).toBe(2);
  });

  it.each([
    ['a wrong secret', { secret: 'not-the-secret' }],
    ['another URL', { url: 'https://elsewhere.example.com' + WEBHOOK_PATH }],
    ['a stale timestamp', { timestamp: Date.now() - 6 * 60 * 1000 }],
  ])('refuses a batch signed with %s (401) and stores nothing', async (_what, options) => {
    const result = await post([event()], options);
    expect(result.status).toBe(401);
    expect(result.body).toEqual({ error: expect.objectContaining({ code: 'unauthorized' }) });
    await nothingStored();
  });

  it('refuses an unsigned batch', async () => {
    const response = await fetch(server.url + WEBHOOK_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '[]' });
    expect(response.status).toBe(401);
    await nothingStored();
  });

  it.each([
    ['not an array', { events: [] }, 'webhook batch'],
    ['a missing portalId', [{ ...event(), portalId: undefined }], '0.portalId'],
    ['a non-numeric occurredAt', [{ ...event(), occurredAt: 'yesterday' }], '0.occurredAt'],
    ['a missing objectId', [{ ...event(), objectId: undefined }], '0.objectId'],
  ])('answers 400 for %s, naming the field, and stores nothing', async (_what, body, path) => {
    const result = await post(body);
    expect(result.status).toBe(400);
    expect(String((result.body.error as { message: string }).message)).toContain(path);
    await nothingStored();
  });

  it('acknowledges an empty batch without storing anything', async () => {
    expect(await post([])).toEqual({ status: 200, body: { received: 0 } });
    await nothingStored();
  });

  it('refuses more than the batch limit', async () => {
    const batch = Array.from({ length: 201 }, (_, i) => event({ eventId: i }));
    expect((await post(batch)).status).toBe(400);
    await nothingStored();
  });

  /** Signs `raw` as given and sends it with `headers`; the route reads the bytes itself. */
  async function postRaw(raw: string | Buffer, headers: Record<string, string>) {
    const url = publicBaseUrl + WEBHOOK_PATH;
    const signed = signedHeaders(TEST_CLIENT_SECRET, { method: 'POST', uri: url, body: raw }, Date.now());
    const response = await fetch(server.url + WEBHOOK_PATH, { method: 'POST', headers: { ...signed, ...headers }, body: raw });
    return { status: response.status, body: (await response.json()) as { error?: { code: string; message: string } } };
  }

  /** Signs `raw` and sends it as JSON in `chunkSize`-byte chunks (no Content-Length: the route finds the size while reading). */
  function postChunked(raw: string, chunkSize: number): Promise<Response> {
    const url = publicBaseUrl + WEBHOOK_PATH;
    const signed = signedHeaders(TEST_CLIENT_SECRET, { method: 'POST', uri: url, body: raw }, Date.now());
    const bytes = Buffer.from(raw);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let at = 0; at < bytes.length; at += chunkSize) controller.enqueue(bytes.subarray(at, at + chunkSize));
        controller.close();
      },
    });
    return fetch(server.url + WEBHOOK_PATH, {
      method: 'POST',
      headers: { ...signed, 'content-type': 'application/json' },
      body: stream,
      duplex: 'half',
    } as RequestInit & { duplex: 'half' });
  }

  it('refuses a signed body that is not JSON (400) or not declared as JSON (415), storing nothing', async () => {
    const notJson = await postRaw('[{"eventId": 1,', { 'content-type': 'application/json' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error?.message).toContain('not valid JSON');
    const text = await postRaw(JSON.stringify([event()]), { 'content-type': 'text/plain' });
    expect(text.status).toBe(415);
    await nothingStored();
  });

  it('refuses a compressed body (415) instead of checking the signature over bytes HubSpot did not sign', async () => {
    const result = await postRaw(JSON.stringify([event()]), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
    expect(result.status).toBe(415);
    expect(result.body.error?.message).toContain('Content-Encoding: gzip');
    await nothingStored();
  });

  it('refuses a body over 1 MB (413), whether declared up front or sent in chunks', async () => {
    const huge = JSON.stringify(Array.from({ length: 200 }, (_, i) => event({ eventId: i, propertyValue: 'x'.repeat(6_000) })));
    expect(Buffer.byteLength(huge)).toBeGreaterThan(1024 * 1024);
    const declared = await postRaw(huge, { 'content-type': 'application/json' });
    expect(declared.status).toBe(413);
    expect(declared.body.error?.code).toBe('payload_too_large');
    // Chunked: no Content-Length, so the limit is found while reading.
    const chunked = await postChunked(huge, 64 * 1024);
    expect(chunked.status).toBe(413);
    await nothingStored();
  });

  it('reads a batch that arrives in several chunks whole before checking its signature', async () => {
    const raw = JSON.stringify(Array.from({ length: 100 }, (_, i) => event({ eventId: 5_000 + i })));
    const response = await postChunked(raw, 1000);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ received: 100 });
    expect(await expand()).toEqual({ batches: 1, stored: 100 });
  });

  it('accepts unknown fields and drops events about other objects', async () => {
    const result = await post([
      event({ somethingNew: { nested: true }, isSensitive: false }),
      event({ eventId: 2, subscriptionType: 'contact.propertyChange' }),
    ]);
    expect(result.body).toEqual({ received: 2 });
    expect((await expand()).stored).toBe(1);
  });
});
