import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { inboxRepository, PARSED_BATCHES_KEPT, type NewInboxEvent, type ParsedBatches } from '../../src/server/storage/inboxStore';
import { migratedDatabase, type FreshDatabase } from '../support/postgres';

/**
 * Two instances on one PostgreSQL: a batch one of them journaled (keeping its parsed events as a
 * hint for its own expansion) may be expanded by the other. The hint must not stay behind for
 * good: the hints kept are bounded (PARSED_BATCHES_KEPT), so stale ones would fill the room and
 * every later batch of that instance would be parsed a second time.
 */
let database: FreshDatabase;

beforeAll(async () => {
  database = await migratedDatabase();
});
afterAll(async () => {
  await database.drop();
});

const event = (n: number): NewInboxEvent => ({
  portalId: 7,
  eventKey: `e${n}`,
  objectId: String(n),
  subscriptionType: 'deal.propertyChange',
  propertyName: 'dealstage',
  propertyValue: 'x',
  changeSource: null,
  sourceId: null,
  occurredAt: n,
  payload: '{}',
});

it('drops the hints of batches another instance expanded, so its own later batches still use theirs', async () => {
  const dbA = createPostgresDatabase(database.url);
  const dbB = createPostgresDatabase(database.url);
  try {
    const hintsA: ParsedBatches = new Map();
    const a = inboxRepository(dbA, hintsA);
    const b = inboxRepository(dbB, new Map());
    const eventsOf = (body: Buffer) => [event(Number(body.toString()))];
    for (let n = 0; n < PARSED_BATCHES_KEPT; n += 1) await a.journal(Buffer.from(String(n)), n, () => [event(n)]);
    // Instance B expands them all; A's worker, at its next round, finds nothing left to expand.
    while ((await b.expandJournal(16, eventsOf)).batches > 0);
    expect((await a.expandJournal(16, eventsOf)).batches).toBe(0);
    // A's next batch, then A's expansion: its hint is used, the body not parsed again.
    let hinted = 0;
    let parsed = 0;
    await a.journal(Buffer.from('1000'), 1000, () => {
      hinted += 1;
      return [event(1000)];
    });
    await a.expandJournal(16, (body) => {
      parsed += 1;
      return eventsOf(body);
    });
    expect({ hinted, parsed }).toEqual({ hinted: 1, parsed: 0 });
    expect(hintsA.size).toBe(0);
  } finally {
    await dbA.close();
    await dbB.close();
  }
}, 60_000);
