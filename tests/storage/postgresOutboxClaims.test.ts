import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { outboxRepository } from '../../src/server/outbox/outboxStore';
import { migratedDatabase, type FreshDatabase } from '../support/postgres';

/**
 * Two instances on one PostgreSQL claim due outbox rows at once: each row goes to one of them.
 * Without row locks taken by the read, the second claimer read the same rows while the first
 * one's claim was uncommitted, waited for it, then claimed them again: both delivered them (two
 * notes, two tasks).
 */
let database: FreshDatabase;

beforeAll(async () => {
  database = await migratedDatabase();
});
afterAll(async () => {
  await database.drop();
});

it('never hands one due row to two claimers at once', async () => {
  const dbA = createPostgresDatabase(database.url);
  const dbB = createPostgresDatabase(database.url);
  try {
    const outbox = outboxRepository(dbA);
    for (let n = 0; n < 10; n += 1) await outbox.enqueue({ portalId: 7, dealId: String(n), kind: 'create_note', payload: { body: `note ${n}` } }, 1);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let claimedA!: () => void;
    const aClaimed = new Promise<void>((resolve) => (claimedA = resolve));
    // A claims and, before its transaction commits, B claims too.
    const a = dbA.transaction(async (tx) => {
      const rows = await outboxRepository(tx).claimDue(2, 10, 60_000);
      claimedA();
      await held;
      return rows;
    });
    await aClaimed;
    const b = dbB.transaction(async (tx) => await outboxRepository(tx).claimDue(2, 10, 60_000));
    await new Promise((resolve) => setTimeout(resolve, 300));
    release();
    const [rowsA, rowsB] = await Promise.all([a, b]);
    const idsA = new Set(rowsA.map((r) => r.id));
    expect(rowsA).toHaveLength(10);
    expect(rowsB.filter((r) => idsA.has(r.id)).map((r) => r.id)).toEqual([]);
    // Each row was claimed once: one attempt.
    expect((await outbox.list({ limit: 20 })).map((r) => r.attempts)).toEqual(Array.from({ length: 10 }, () => 1));
  } finally {
    await dbA.close();
    await dbB.close();
  }
}, 60_000);
