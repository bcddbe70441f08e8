import { join } from 'node:path';
import { createDb, type Db } from '../../src/server/storage/db';
import { sqliteInbox, type InboxRepository, type NewInboxEvent } from '../../src/server/webhooks/inboxStore';
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
    inbox = sqliteInbox(db);
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

  it('gives due events oldest first and holds back every event of a deal that waits for a retry', () => {
    expect(inbox.insertBatch([event('a', '1', 30), event('b', '2', 10), event('c', '1', 20), event('d', '3', 5)], 100)).toBe(4);
    expect(inbox.due(1_000, 10).map((e) => e.eventKey)).toEqual(['d', 'b', 'c', 'a']);
    const c = inbox.due(1_000, 10).find((e) => e.eventKey === 'c');
    inbox.markRetry(c?.id ?? 0, 1, 'HubSpot 503', 5_000);
    expect(inbox.due(1_000, 10).map((e) => e.eventKey)).toEqual(['d', 'b']);
    expect(inbox.nextDueAt()).toBe(0);
    const d = inbox.due(1_000, 10)[0];
    inbox.markDone(d?.id ?? 0, 1_000);
    expect(inbox.countByStatus()).toEqual({ pending: 3, done: 1, parked: 0 });
    expect(inbox.due(5_000, 10).map((e) => e.eventKey)).toEqual(['b', 'c', 'a']);
  });

  it.each([
    ['due', `SELECT * FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at <= 1 ORDER BY occurred_at, id LIMIT 10`],
    ['waiting for a retry', `SELECT DISTINCT portal_id, object_id FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at > 1`],
    ['next due', `SELECT MIN(next_attempt_at) AS at FROM webhook_inbox WHERE status = 'pending'`],
    ['counts', `SELECT status, COUNT(*) AS n FROM webhook_inbox GROUP BY status`],
  ])('answers "%s" from the pending index', (_what, sql) => {
    const plan = db.prepare<[], { detail: string }>(`EXPLAIN QUERY PLAN ${sql}`).all().map((r) => r.detail).join(' | ');
    expect(plan).toContain('INDEX inbox_pending');
  });
});
