import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { outboxRepository } from '../../src/server/storage/outboxStore';
import { migratedDatabase, type FreshDatabase } from '../support/postgres';

/**
 * Two instances on one PostgreSQL claim due outbox rows at once: each row goes to one of them.
 * Without row locks taken by the read, the second claimer read the same rows while the first
 * one's claim was uncommitted, waited for it, then claimed them again: both delivered them (two
 * notes, two tasks).
 */
let database: FreshDatabase;

/**
 * Resolves once `claim` has either finished or is waiting on a lock another connection holds: the
 * moment the test may let that connection commit. Polls PostgreSQL's own view of its backends
 * instead of sleeping a fixed time and hoping the claim got there.
 */
async function settledOrBlocked(observer: ReturnType<typeof createPostgresDatabase>, claim: Promise<unknown>): Promise<void> {
  let settled = false;
  void claim.then(
    () => (settled = true),
    () => (settled = true),
  );
  for (let round = 0; round < 2_000 && !settled; round += 1) {
    const row = await observer.get<{ waiting: number }>(
      "SELECT count(*)::int AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
      [],
    );
    if ((row?.waiting ?? 0) > 0) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  if (!settled) throw new Error('the second claim neither finished nor waited on a lock within 20 s');
}

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
    await settledOrBlocked(dbA, b);
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

describe('several instances (issue 13)', () => {
  const note = (dealId: string) => ({ portalId: 7, dealId, kind: 'create_note', payload: { body: `note of ${dealId}` } });

  it("recoverClaims at start takes back only the instance's own claims, never another's live lease", async () => {
    const db = createPostgresDatabase(database.url);
    try {
      const outbox = outboxRepository(db);
      await db.run('DELETE FROM outbox');
      const [mine, theirs] = [await outbox.enqueue(note('r1'), 1), await outbox.enqueue(note('r2'), 1)];
      const [claimMine] = await outbox.claimDue(2, 1, 60_000, undefined, 'web-1');
      const [claimTheirs] = await outbox.claimDue(2, 1, 60_000, undefined, 'web-2');
      expect([claimMine?.id, claimTheirs?.id]).toEqual([mine, theirs]);

      // web-1 restarts (same instance id) while web-2 is delivering.
      expect(await outbox.recoverClaims(3, 'web-1')).toBe(1);
      expect((await outbox.get(mine!))?.nextAttemptAt).toBe(3);
      expect((await outbox.get(theirs!))?.nextAttemptAt).toBe(60_002);
      // A new instance id (the default at every start) recovers nothing: web-2's lease ends by itself.
      expect(await outbox.recoverClaims(4, 'web-3')).toBe(0);
      expect((await outbox.claimDue(5, 10, 60_000, undefined, 'web-3')).map((r) => r.id)).toEqual([mine]);
      expect(await outbox.markDone([claimTheirs!], 6)).toBe(1);
    } finally {
      await db.close();
    }
  }, 60_000);

  it("claims one at a time: a claim taken meanwhile by another instance keeps the deal's next row from this one", async () => {
    const dbA = createPostgresDatabase(database.url);
    const dbB = createPostgresDatabase(database.url);
    try {
      const outbox = outboxRepository(dbA);
      await dbA.run('DELETE FROM outbox');
      const first = await outbox.enqueue(note('X'), 1);
      const second = await outbox.enqueue(note('X'), 1);
      const other = await outbox.enqueue(note('Y'), 1);
      let release!: () => void;
      const held = new Promise<void>((resolve) => (release = resolve));
      let claimedA!: () => void;
      const aClaimed = new Promise<void>((resolve) => (claimedA = resolve));
      const a = dbA.transaction(async (tx) => {
        const rows = await outboxRepository(tx).claimDue(2, 1, 60_000, undefined, 'a');
        claimedA();
        await held;
        return rows;
      });
      await aClaimed;
      // B claims while A's claim of X's first row is not committed: it waits for it, then sees it.
      const b = dbB.transaction(async (tx) => await outboxRepository(tx).claimDue(2, 10, 60_000, undefined, 'b'));
      await settledOrBlocked(dbA, b);
      release();
      const [rowsA, rowsB] = await Promise.all([a, b]);
      expect(rowsA.map((r) => r.id)).toEqual([first]);
      expect(rowsB.map((r) => r.id)).toEqual([other]);
      expect((await outbox.get(second!))?.attempts).toBe(0);
    } finally {
      await dbA.close();
      await dbB.close();
    }
  }, 60_000);
});
