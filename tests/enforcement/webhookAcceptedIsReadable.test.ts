import { join } from 'node:path';
import express from 'express';
import fc from 'fast-check';
import { createDb, type Db } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import { systemClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { errorHandler } from '../../src/server/http/errorHandler';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { WEBHOOK_PATH, webhookRoute } from '../../src/server/http/webhookRoute';
import { MAX_FIELD_DEPTH, MAX_PROPERTY_VALUE_LENGTH, inboxEventsOf } from '../../src/server/hubspot/webhookEvent';
import { listen, tempDir, TEST_CLIENT_SECRET } from '../support/env';

/**
 * What is acknowledged is processed: every body the route answers 200 is one the inbox worker can
 * expand (the worker drops a journaled batch it cannot read, after HubSpot was told it arrived),
 * and everything else is refused at the door with a 4xx, nothing stored. Before the depth bound a
 * field nested 6,000 levels deep was answered 200 and then overflowed the stack in the expansion.
 */
describe('POST /webhooks/hubspot: whatever is accepted, the inbox expansion can read', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let store: Store;
  let server: Awaited<ReturnType<typeof listen>>;

  beforeAll(async () => {
    dir = tempDir();
    db = createDb(join(dir.path, 'db.sqlite'));
    store = createSqliteStore(db);
    const app = express();
    server = await listen(app);
    app.use(webhookRoute({ config: { hubspot: { clientSecret: TEST_CLIENT_SECRET }, publicBaseUrl: server.url }, store, clock: systemClock }));
    app.use(errorHandler(silentLogger()));
  });

  afterAll(async () => {
    await server.close();
    await store.close();
    dir.cleanup();
  });

  async function postRaw(raw: string) {
    const url = server.url + WEBHOOK_PATH;
    const headers = signedHeaders(TEST_CLIENT_SECRET, { method: 'POST', uri: url, body: raw }, Date.now());
    const response = await fetch(url, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: raw });
    return { status: response.status, body: (await response.json()) as { received?: number; error?: { code: string; message: string } } };
  }

  /**
   * The worker's first step, both ways it reads a batch: from the events the route parsed (the hint
   * the journal keeps) and from the journaled bytes. A throw here is a batch the worker would drop.
   */
  async function expandAsTheWorkerDoes(raw: string): Promise<{ stored: number; fromBytes: number; distinct: number }> {
    const events = inboxEventsOf(Buffer.from(raw));
    const fromBytes = events.length;
    const distinct = new Set(events.map((e) => `${e.portalId}/${e.eventKey}`)).size;
    const { stored } = await store.inbox.expandJournal(100, inboxEventsOf);
    for (const event of await store.inbox.list({ limit: 500 })) JSON.parse(event.payload);
    return { stored, fromBytes, distinct };
  }

  function clear() {
    db.prepare('DELETE FROM webhook_batches').run();
    db.prepare('DELETE FROM webhook_inbox').run();
  }

  /** JSON text of `levels` objects and arrays, alternating, around a scalar (as text: JSON.stringify would overflow too). */
  function nested(levels: number): string {
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < levels; i++) {
      open.push(i % 2 === 0 ? '[' : '{"k":');
      close.push(i % 2 === 0 ? ']' : '}');
    }
    return `${open.join('')}"leaf"${close.reverse().join('')}`;
  }

  /** JSON text of a field HubSpot might add one day. */
  const unknownValue = fc.oneof(
    { weight: 20, arbitrary: fc.jsonValue({ maxDepth: 5 }).map((v) => JSON.stringify(v)) },
    { weight: 4, arbitrary: fc.integer({ min: 0, max: MAX_FIELD_DEPTH }).map(nested) },
    { weight: 1, arbitrary: fc.integer({ min: MAX_FIELD_DEPTH + 1, max: MAX_FIELD_DEPTH + 3 }).map(nested) },
    { weight: 1, arbitrary: fc.integer({ min: 1_000, max: 8_000 }).map(nested) },
    // Wide but shallow (past the 1,000 brackets that make the route look at the bytes first).
    { weight: 1, arbitrary: fc.integer({ min: 900, max: 2_500 }).map((n) => `[${Array.from({ length: n }, (_, i) => (i % 2 ? '{"a":[]}' : '[1]')).join(',')}]`) },
  );
  const oddValue = fc.oneof(
    fc.jsonValue({ maxDepth: 2 }),
    fc.constantFrom(-1, 1.5, 2 ** 53, '', '12x', 'x'.repeat(201), 'x'.repeat(MAX_PROPERTY_VALUE_LENGTH + 1), null),
  );
  const knownFields = ['eventId', 'portalId', 'occurredAt', 'subscriptionType', 'objectId', 'propertyName', 'propertyValue', 'changeSource', 'sourceId'];
  const event = fc
    .record({
      subscriptionType: fc.constantFrom('deal.propertyChange', 'deal.creation', 'contact.propertyChange'),
      objectId: fc.oneof(fc.nat(), fc.stringMatching(/^\d{1,20}$/)),
      propertyValue: fc.oneof(
        fc.string(),
        fc.string({ unit: 'binary', maxLength: 20 }),
        fc.constantFrom('\ud800', 'x\udfff', '\u0000', '\u2028'),
        fc.constant('v'.repeat(MAX_PROPERTY_VALUE_LENGTH)),
        fc.constant(null),
        // Brackets and escaped quotes inside a string are not structure.
        fc.integer({ min: 500, max: 3_000 }).map((n) => '[{"\\'.repeat(n)),
      ),
      unknown: fc.dictionary(fc.oneof(fc.string({ maxLength: 8 }), fc.string({ unit: 'binary', maxLength: 4 })), unknownValue, { maxKeys: 2 }),
      broken: fc.oneof({ weight: 1, arbitrary: fc.tuple(fc.constantFrom(...knownFields), oddValue) }, { weight: 12, arbitrary: fc.constant(null) }),
      protoKey: fc.boolean(),
    })
    .map(({ subscriptionType, objectId, propertyValue, unknown, broken, protoKey }) => (eventId: number) => {
      const e: Record<string, unknown> = {
        eventId, subscriptionId: 7, portalId: 4242, appId: 9, occurredAt: 1_700_000_000_000, attemptNumber: 0,
        subscriptionType, objectId, propertyName: 'dealstage', propertyValue, changeSource: 'CRM_UI', sourceId: 'userId:1',
      };
      if (broken) e[broken[0]] = broken[1];
      const extra = Object.entries(unknown).filter(([k]) => !knownFields.includes(k) && k !== '__proto__').map(([k, text]) => `,${JSON.stringify(k)}:${text}`);
      const json = `${JSON.stringify(e).slice(0, -1)}${extra.join('')}}`;
      return protoKey ? `{"__proto__":{"polluted":true},${json.slice(1)}` : json;
    });
  const body = fc.oneof(
    { weight: 8, arbitrary: fc.array(event, { maxLength: 5 }).map((events) => `[${events.map((toJson, i) => toJson(1_000 + i)).join(',')}]`) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)) },
    { weight: 1, arbitrary: fc.constantFrom('[', '{}', 'null', '[[[[]]]]', `[${'['.repeat(7_000)}${']'.repeat(7_000)}]`) },
  );

  it('expands every batch it answered 200, event for event; refuses the rest with a 4xx, storing nothing', async () => {
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(body, async (raw) => {
        clear();
        const answer = await postRaw(raw);
        if (answer.status === 200) {
          const { stored, fromBytes, distinct } = await expandAsTheWorkerDoes(raw);
          expect(stored).toBe(distinct);
          const dealEvents = (JSON.parse(raw) as { subscriptionType: string }[]).filter((e) => e.subscriptionType.startsWith('deal.')).length;
          expect(fromBytes).toBe(dealEvents);
          accepted += 1;
          expect(answer.body.received).toBe((JSON.parse(raw) as unknown[]).length);
        } else {
          expect(answer.status).toBeGreaterThanOrEqual(400);
          expect(answer.status).toBeLessThan(500);
          expect(answer.body.error?.message).toEqual(expect.any(String));
          expect(await store.inbox.journalBacklog()).toBe(0);
        }
      }),
      { numRuns: 300 },
    );
    // The generator is not all refusals: many batches are HubSpot-shaped and go through.
    expect(accepted).toBeGreaterThan(100);
    expect(accepted).toBeLessThan(280);
  });

  it('refuses a valid move next to an event with a field nested 6,000 levels deep (400 naming the field), so HubSpot redelivers rather than the worker dropping it', async () => {
    clear();
    const move = { eventId: 1, portalId: 4242, occurredAt: 1_700_000_000_000, subscriptionType: 'deal.propertyChange', objectId: 5, propertyName: 'dealstage', propertyValue: 'closedwon' };
    const raw = `[${JSON.stringify(move)},${JSON.stringify({ ...move, eventId: 2 }).slice(0, -1)},"futureField":${'['.repeat(6_000)}${']'.repeat(6_000)}}]`;
    const answer = await postRaw(raw);
    expect(answer.status).toBe(400);
    expect(answer.body.error).toEqual({
      code: 'invalid_request',
      message: `1.futureField: is nested deeper than ${MAX_FIELD_DEPTH} levels of objects and arrays (HubSpot's event fields are flat)`,
      details: expect.anything(),
    });
    expect(await store.inbox.journalBacklog()).toBe(0);
  });

  it('looks past brackets inside strings and accepts a wide, shallow unknown field; refuses more than 10,000 objects and arrays in all', async () => {
    clear();
    const move = { eventId: 1, portalId: 4242, occurredAt: 1_700_000_000_000, subscriptionType: 'deal.propertyChange', objectId: 5, propertyName: 'dealstage' };
    const brackets = JSON.stringify([{ ...move, propertyValue: '[{"\\'.repeat(5_000) }, { ...move, eventId: 2, wide: Array.from({ length: 4_000 }, () => ({ a: [] })) }]);
    expect(await postRaw(brackets)).toEqual({ status: 200, body: { received: 2 } });
    expect((await expandAsTheWorkerDoes(brackets)).stored).toBe(2);
    clear();
    const tooMany = JSON.stringify([{ ...move, wide: Array.from({ length: 10_000 }, () => []) }]);
    const answer = await postRaw(tooMany);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toBe("webhook batch: more than 10000 objects and arrays in one request (HubSpot's events are flat: one object each)");
    expect(await store.inbox.journalBacklog()).toBe(0);
  });

  it('refuses a 10,000-event batch on its count (400 saying HubSpot sends at most 100), storing nothing', async () => {
    clear();
    const one = '{"portalId":4242,"occurredAt":1700000000000,"subscriptionType":"deal.propertyChange","objectId":5}';
    const answer = await postRaw(`[${Array.from({ length: 10_000 }, () => one).join(',')}]`);
    expect(answer.status).toBe(400);
    expect(answer.body.error?.message).toBe('webhook batch: more than 200 events; HubSpot sends at most 100 a request, and at most 200 are accepted');
    expect(await store.inbox.journalBacklog()).toBe(0);
  });
});
