import { join } from 'node:path';
import { createDb, type Db } from '../../src/server/storage/db';
import { PARSED_BATCHES_KEPT, inboxRepository, type InboxRepository, type NewInboxEvent } from '../../src/server/storage/inboxStore';
import { inboxEventsOf } from '../../src/server/hubspot/webhookEvent';
import { createSqliteSql } from '../../src/server/storage/sqliteSql';
import { tempDir } from '../support/env';

/**
 * The inbox repository's queue queries after migration 3 (the pending index in arrival order,
 * without the deal columns): what is due, in order, and a deal with an event waiting for a retry
 * held back whole; each query still reads the index rather than the whole table.
 */
describe('inbox repository', () => {
  let dir: ReturnType<typeof tempDir>;
  let db: Db;
  let inbox: InboxRepository;

  beforeEach(() => {
    dir = tempDir();
    db = createDb(join(dir.path, 'db.sqlite'));
    inbox = inboxRepository(createSqliteSql(db));
  });
  afterEach(() => {
    db.close();
    dir.cleanup();
  });

  const event = (key: string, objectId: string, occurredAt: number): NewInboxEvent => ({
    portalId: 7,
    eventKey: key,
    objectId,
    subscriptionType: 'deal.propertyChange',
    propertyName: 'dealstage',
    propertyValue: 'closedwon',
    changeSource: null,
    sourceId: null,
    occurredAt,
    payload: '{}',
  });

  it('gives due events oldest first and holds back every event of a deal that waits for a retry', async () => {
    expect(await inbox.insertBatch([event('a', '1', 30), event('b', '2', 10), event('c', '1', 20), event('d', '3', 5)], 100)).toBe(4);
    expect((await inbox.due(1_000, 10)).map((e) => e.eventKey)).toEqual(['d', 'b', 'c', 'a']);
    const c = (await inbox.due(1_000, 10)).find((e) => e.eventKey === 'c');
    await inbox.markRetry(c?.id ?? 0, 1, 'HubSpot 503', 5_000);
    expect((await inbox.due(1_000, 10)).map((e) => e.eventKey)).toEqual(['d', 'b']);
    expect(await inbox.nextDueAt()).toBe(0);
    const d = (await inbox.due(1_000, 10))[0];
    await inbox.markDone(d?.id ?? 0, 1_000);
    expect(await inbox.countByStatus()).toEqual({ pending: 3, done: 1, parked: 0 });
    expect((await inbox.due(5_000, 10)).map((e) => e.eventKey)).toEqual(['b', 'c', 'a']);
  });

  it.each([
    // The statements of storage/inboxStore.ts, and the index each reads (by its whole name).
    ['an account\'s fresh events', `SELECT * FROM webhook_inbox WHERE status = 'pending' AND portal_id = 1 AND next_attempt_at = 0 ORDER BY occurred_at, id LIMIT 10`, 'inbox_pending_by_account'],
    ['an account\'s retried events due', `SELECT * FROM webhook_inbox WHERE status = 'pending' AND portal_id = 1 AND next_attempt_at > 0 AND next_attempt_at <= 5 ORDER BY occurred_at, id LIMIT 10`, 'inbox_pending_by_account'],
    ['waiting for a retry', `SELECT DISTINCT portal_id, object_id FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at > 0 AND next_attempt_at > 1`, 'inbox_retrying'],
    ['the next due time of an account', `SELECT MIN(next_attempt_at) AS at FROM webhook_inbox WHERE status = 'pending' AND portal_id = 1`, 'inbox_pending_by_account'],
    ['the next account with pending events', `SELECT portal_id FROM webhook_inbox WHERE status = 'pending' AND portal_id > 1 ORDER BY portal_id LIMIT 1`, 'inbox_pending_by_account'],
    ['whether a fresh event waits', `SELECT 1 AS fresh FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at = 0 LIMIT 1`, 'inbox_pending_by_account'],
    ['the earliest retry', `SELECT MIN(next_attempt_at) AS at FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at > 0`, 'inbox_retrying'],
    ['counts', `SELECT status, COUNT(*) AS n FROM webhook_inbox GROUP BY status`, 'inbox_pending_by_account'],
  ])('answers "%s" from an index, not a scan', (_what, sql, index) => {
    const plan = db.prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => r.detail).join(' | ');
    expect(plan).toMatch(new RegExp(`(COVERING )?INDEX ${index}\\b`));
    expect(plan).not.toMatch(/SCAN webhook_inbox(?! USING)/);
  });

  it('keeps fresh events out of the index of retried ones, and retried ones in it (migration 26)', async () => {
    await inbox.insertBatch([event('f1', '1', 1), event('f2', '2', 2)], 100);
    const retried = (await inbox.due(5_000, 10))[0];
    await inbox.markRetry(retried?.id ?? 0, 1, 'HubSpot 503', 9_000);
    const indexed = db.prepare<[], { n: number }>(`SELECT COUNT(*) AS n FROM webhook_inbox INDEXED BY inbox_retrying WHERE status = 'pending' AND next_attempt_at > 0`).get();
    expect(indexed?.n).toBe(1);
    expect(await inbox.nextDueAt()).toBe(0);
    expect(await inbox.nextDueAt(new Set())).toBe(0);
  });

  it('stores a batch of 200 events in multi-row statements, counting duplicates within and across them once', async () => {
    const events = Array.from({ length: 200 }, (_, i) => event(`k${i % 150}`, String(i % 7), i));
    expect(await inbox.insertBatch(events, 100)).toBe(150);
    expect(await inbox.insertBatch(events.slice(90, 110), 100)).toBe(0);
    expect((await inbox.countByStatus()).pending).toBe(150);
    expect(await inbox.get((await inbox.due(1_000, 1))[0]?.id ?? 0)).toMatchObject({ eventKey: 'k0', objectId: '0', occurredAt: 0, receivedAt: 100, payload: '{}' });
  });

  /** A journaled body as the route stores it: three deal events. */
  const body = (first: number) =>
    Buffer.from(
      JSON.stringify(
        Array.from({ length: 3 }, (_, i) => ({ eventId: first + i, portalId: 7, occurredAt: 50 + i, subscriptionType: 'deal.propertyChange', objectId: 9, propertyName: 'amount', propertyValue: String(i) })),
      ),
    );

  it('expands a journaled batch from the events the route parsed, without parsing the body again', async () => {
    const parsed = jest.fn(() => inboxEventsOf(body(1)));
    const fromBody = jest.fn(inboxEventsOf);
    await inbox.journal(body(1), 100, parsed);
    expect(await inbox.expandJournal(10, fromBody)).toEqual({ batches: 1, stored: 3 });
    expect(parsed).toHaveBeenCalledTimes(1);
    expect(fromBody).not.toHaveBeenCalled();
  });

  it('parses the stored body when the row is no longer the one the parsed events came with (row id reused by another process)', async () => {
    await inbox.journal(body(1), 100, () => inboxEventsOf(body(1)));
    // Another connection expands and deletes that row and journals a different batch under the same id.
    db.prepare('DELETE FROM webhook_batches').run();
    db.prepare('INSERT INTO webhook_batches (id, received_at, body) VALUES (1, 100, ?)').run(body(500));
    const fromBody = jest.fn(inboxEventsOf);
    expect(await inbox.expandJournal(10, fromBody)).toEqual({ batches: 1, stored: 3 });
    expect(fromBody).toHaveBeenCalledTimes(1);
    expect((await inbox.list({ limit: 10 })).map((e) => e.eventKey.split(':')[0])).toEqual(['502', '501', '500']);
  });

  it(`keeps parsed events for at most ${PARSED_BATCHES_KEPT} batches; later ones are parsed from the journal`, async () => {
    const parsed = jest.fn(() => [] as NewInboxEvent[]);
    for (let i = 0; i < PARSED_BATCHES_KEPT + 5; i++) await inbox.journal(body(i * 10), 100, parsed);
    const fromBody = jest.fn(inboxEventsOf);
    expect((await inbox.expandJournal(1_000, fromBody)).batches).toBe(PARSED_BATCHES_KEPT + 5);
    expect(parsed).toHaveBeenCalledTimes(PARSED_BATCHES_KEPT);
    expect(fromBody).toHaveBeenCalledTimes(5);
  });
});
