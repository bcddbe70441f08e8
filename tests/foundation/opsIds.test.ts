import { join } from 'node:path';
import { createApp } from '../../src/server/http/app';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { listen, tempDir, testConfig } from '../support/env';

/**
 * Issue 12: the ops routes read their ids with z.coerce.number, so POST /ops/inbox/1e3/retry
 * requeued event 1000 and /ops/inbox/0x10/retry event 16 (and `?portalId=0x10` listed account 16).
 * An id, an account id and a limit are now plain positive decimal integers; anything else is a 400
 * that says so, and touches nothing.
 */
const TOKEN = 'ops-token-0123456789abcdef';
const auth = { authorization: `Bearer ${TOKEN}` };

describe('ids and numbers in the ops routes', () => {
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let server: Awaited<ReturnType<typeof listen>>;
  let parkedId: number;

  beforeEach(async () => {
    dir = tempDir();
    const config = testConfig({ DATABASE_PATH: join(dir.path, 'db.sqlite'), DEALGATE_OPS_TOKEN: TOKEN });
    store = createSqliteStore(createDb(config.databasePath));
    const events = Array.from({ length: 16 }, (_, i) => ({
      portalId: 16,
      eventKey: `k${i + 1}`,
      objectId: String(i + 1),
      subscriptionType: 'deal.propertyChange',
      propertyName: 'dealstage',
      propertyValue: 'closedwon',
      changeSource: 'CRM_UI',
      sourceId: null,
      occurredAt: i + 1,
      payload: '{}',
    }));
    await store.inbox.insertBatch(events, 1);
    for (const event of await store.inbox.list({ limit: 100 })) await store.inbox.park(event.id, 8, 'parked for the test', 2);
    parkedId = Math.max(...(await store.inbox.list({ limit: 100 })).map((e) => e.id));
    expect(parkedId).toBe(16);
    server = await listen(createApp({ config, store, clock: new ManualClock(), hubspot: staticHubSpotClients(config), gateway: createHubSpotGateway(staticHubSpotClients(config)), logger: silentLogger() }));
  });

  afterEach(async () => {
    await server.close();
    await store.close();
    dir.cleanup();
  });

  async function call(method: string, path: string) {
    const response = await fetch(server.url + path, { method, headers: auth });
    return { status: response.status, json: (await response.json()) as { error?: { code: string; message: string }; requeued?: number; events?: unknown[] } };
  }

  it.each(['1e1', '0x10', '0o20', '0b10000', '016', '+16', '-16', '16.0', '1.6e1', '%2016', '16%20', '0', 'Infinity', 'NaN', '99999999999999999'])(
    'refuses POST /ops/inbox/%s/retry with a 400 saying what an id is, requeuing nothing',
    async (id) => {
      const answer = await call('POST', `/ops/inbox/${id}/retry`);
      expect(answer.status).toBe(400);
      expect(answer.json.error?.code).toBe('invalid_request');
      expect(answer.json.error?.message).toMatch(/^id: (must be a positive whole number written in decimal digits only \(like 42\)|is too large)$/);
      expect(await store.inbox.countByStatus()).toEqual({ pending: 0, done: 0, parked: 16 });
    },
  );

  it('requeues a parked event named by its plain decimal id', async () => {
    expect(await call('POST', `/ops/inbox/${parkedId}/retry`)).toEqual({ status: 200, json: { requeued: parkedId } });
    expect(await store.inbox.countByStatus()).toEqual({ pending: 1, done: 0, parked: 15 });
    expect((await call('POST', '/ops/inbox/1000/retry')).status).toBe(404);
  });

  it.each([
    ['/ops/inbox?portalId=0x10', 'portalId'],
    ['/ops/inbox?portalId=1.6e1', 'portalId'],
    ['/ops/inbox?limit=1e2', 'limit'],
    ['/ops/inbox?limit=0x10', 'limit'],
    ['/ops/inbox?limit=', 'limit'],
    ['/ops/inbox?limit=1&limit=2', 'limit'],
    ['/ops/outbox?portalId=%2016', 'portalId'],
    ['/ops/outbox?limit=501', 'limit'],
    ['/ops/sweeps?portalId=16.0', 'portalId'],
  ])('refuses %s with a 400 naming %s', async (path, field) => {
    const answer = await call('GET', path);
    expect(answer.status).toBe(400);
    expect(answer.json.error?.message).toMatch(new RegExp(`^${field}: `));
  });

  it('lists with plain decimal account ids and limits', async () => {
    const listed = await call('GET', '/ops/inbox?portalId=16&limit=5');
    expect(listed.status).toBe(200);
    expect(listed.json.events).toHaveLength(5);
    expect((await call('GET', '/ops/inbox')).json.events).toHaveLength(16);
    expect((await call('GET', '/ops/outbox?portalId=16&limit=500')).status).toBe(200);
    expect((await call('GET', '/ops/sweeps?portalId=16')).status).toBe(200);
  });
});
