import { join } from 'node:path';
import { createDb, type Db } from '../../src/server/storage/db';
import { inboxRepository, type InboxRepository, type NewInboxEvent } from '../../src/server/storage/inboxStore';
import { createSqliteSql } from '../../src/server/storage/sqliteSql';
import { tempDir } from '../support/env';

/**
 * While HubSpot fails for an account, the inbox worker leaves that account's events out of its
 * rounds (`skipPortals`): they neither spend attempts nor fill a round ahead of other accounts'
 * events, however many of them wait, and the next due time ignores them (no spinning on them).
 */
describe('inbox: accounts whose events wait for HubSpot', () => {
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

  const event = (portalId: number, key: string, objectId: string, occurredAt: number): NewInboxEvent => ({
    portalId,
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

  it("takes none of a waiting account's events, even when they are older and more than a round", async () => {
    // Account 7 (down) has 50 older events, account 8 two newer ones.
    await inbox.insertBatch(Array.from({ length: 50 }, (_, i) => event(7, `a${i}`, String(i), i)), 100);
    await inbox.insertBatch([event(8, 'b1', '1', 1_000), event(8, 'b2', '2', 1_001)], 100);
    expect((await inbox.due(5_000, 10)).every((e) => e.portalId === 7)).toBe(true);
    expect((await inbox.due(5_000, 10, new Set([7]))).map((e) => e.eventKey)).toEqual(['b1', 'b2']);
    expect(await inbox.due(5_000, 10, new Set([7, 8]))).toEqual([]);
    expect((await inbox.due(5_000, 100, new Set())).length).toBe(52);
  });

  it('gives the next due time without the waiting accounts', async () => {
    await inbox.insertBatch([event(7, 'a', '1', 1)], 100);
    await inbox.insertBatch([event(8, 'b', '2', 2)], 100);
    const b = (await inbox.due(0, 10)).find((e) => e.eventKey === 'b');
    await inbox.markRetry(b?.id ?? 0, 0, 'waiting', 9_000);
    expect(await inbox.nextDueAt()).toBe(0);
    expect(await inbox.nextDueAt(new Set([7]))).toBe(9_000);
    expect(await inbox.nextDueAt(new Set([7, 8]))).toBeUndefined();
  });
});
