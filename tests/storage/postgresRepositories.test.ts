import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { migratePostgres } from '../../src/server/storage/postgresSchema';
import { repositoriesOf } from '../../src/server/storage/repositories';
import { freshDatabase } from '../support/postgres';

/**
 * The repository methods main added against the synchronous store (outbox requeue, nextDueAt
 * leaving accounts out, pendingOf; parking and requeueing an unreadable journaled batch; the
 * commitments of one quarter), run on PostgreSQL, the batch expansion inside a transaction: a
 * repository method that must land together runs on the transaction's session there, not in a
 * nested transaction (which PostgreSQL's session refuses).
 */
it('the outage, parking and capacity queries run on PostgreSQL, inside a transaction too', async () => {
  const fresh = await freshDatabase();
  const db = createPostgresDatabase(fresh.url);
  try {
    await migratePostgres(db);
    const r = repositoriesOf(db);
    await r.outbox.enqueue({ portalId: 7, dealId: '1', kind: 'update_deal', payload: { properties: { a: 'b' } }, dedupeKey: 'k', cause: null } as never, 1);
    expect(await r.outbox.nextDueAt(new Set([7, 8]))).toBeUndefined();
    expect(await r.outbox.nextDueAt(new Set([8]))).toBe(1);
    expect([...(await r.outbox.pendingOf([7, 8]))]).toEqual([[7, 1], [8, 0]]);
    const [row] = await r.outbox.claimDue(2, 10, 1000);
    await r.outbox.markFailed(row!, 'x', 3);
    expect(await r.outbox.requeue(row!.id, 4)).toBe(true);
    expect((await r.outbox.get(row!.id))?.status).toBe('pending');
    await r.inbox.journal(Buffer.from('not json'), 5);
    await db.transaction(async (tx) => repositoriesOf(tx).inbox.expandJournal(10, () => { throw new Error('bad JSON'); }));
    const [parked] = await r.inbox.list({ status: 'parked', limit: 10 });
    expect(parked?.portalId).toBe(0);
    expect(await r.inbox.requeue(parked!.id, 6)).toBe(true);
    expect(await r.inbox.journalBacklog()).toBe(1);
    expect([...(await r.inbox.pendingOf([0]))]).toEqual([[0, 0]]);
    expect(await r.reviews.quarterBooking(7, '2026-Q4', { limit: 10 })).toEqual({ quarter: '2026-Q4', usedWeeks: 0, count: 0, largest: [] });
    expect(await r.reviews.activeCommitment(7, 1)).toBeUndefined();
  } finally {
    await db.close();
    await fresh.drop?.();
  }
}, 60_000);
