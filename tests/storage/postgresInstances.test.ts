import { ManualClock } from '../../src/server/shared/clock';
import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { createPostgresStore } from '../../src/server/storage/postgresStore';
import { inboxRepository, type NewInboxEvent } from '../../src/server/storage/inboxStore';
import { effects, holdApply, inboxEvent, inboxInstance } from '../support/inboxInstances';
import { migratedDatabase, type FreshDatabase } from '../support/postgres';

/**
 * Two instances on one PostgreSQL, at the points where only PostgreSQL runs them at once (SQLite
 * runs one transaction at a time): expanding the webhook journal, and applying one event.
 */
let database: FreshDatabase;

beforeEach(async () => {
  database = await migratedDatabase();
});
afterEach(async () => {
  await database.drop();
});

/**
 * Batch k holds events 5k..5k+4; the last 16 batches also repeat an event of the first 16 (HubSpot
 * redelivering): 48 batches, 240 distinct events. (A redelivery within two slices expanded at the
 * same moment waits for the first one's commit, on the unique key: that is the deduplication.)
 */
const BATCHES = 48;
const batchBody = (k: number) => Buffer.from(JSON.stringify([...[0, 1, 2, 3, 4].map((i) => 5 * k + i), ...(k >= 32 ? [5 * (k - 32)] : [])]));
const eventsOf = (body: Buffer): NewInboxEvent[] => (JSON.parse(body.toString()) as number[]).map((n) => inboxEvent(String(n % 7), `e${n}`, n));

it('two instances expanding the journal at once: neither waits for the other, and nothing is lost or stored twice', async () => {
  const dbA = createPostgresDatabase(database.url);
  const dbB = createPostgresDatabase(database.url);
  try {
    const a = inboxRepository(dbA);
    const b = inboxRepository(dbB);
    for (let k = 0; k < BATCHES; k += 1) await a.journal(batchBody(k), k);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let expandedA!: () => void;
    const aExpanded = new Promise<void>((resolve) => (expandedA = resolve));
    // A has expanded its slice, not committed yet (its batches locked, their events not visible).
    const sliceA = dbA.transaction(async (tx) => {
      const result = await inboxRepository(tx).expandJournal(16, eventsOf);
      expandedA();
      await held;
      return result;
    });
    await aExpanded;
    // Reading A's batches, B would wait on A's uncommitted rows (its inserts, its deletes) until A commits.
    const sliceB = b.expandJournal(16, eventsOf);
    const first = await Promise.race([sliceB.then(() => 'B expanded'), new Promise((resolve) => setTimeout(() => resolve('B waits for A'), 10_000))]);
    release();
    expect(first).toBe('B expanded');
    const slices = [await sliceA, await sliceB];
    for (let turn = 0; ; turn += 1) {
      const slice = await (turn % 2 === 0 ? a : b).expandJournal(16, eventsOf);
      if (slice.batches === 0) break;
      slices.push(slice);
    }
    expect(slices.reduce((n, s) => n + s.batches, 0)).toBe(BATCHES);
    expect(slices.reduce((n, s) => n + s.stored, 0)).toBe(5 * BATCHES);
    expect(await a.journalBacklog()).toBe(0);
    expect(await a.countByStatus()).toEqual({ pending: 5 * BATCHES, done: 0, parked: 0 });
  } finally {
    await dbA.close();
    await dbB.close();
  }
}, 60_000);

it("an event applied by the instance that took the deal over while the late one's apply is open: applied once", async () => {
  const storeA = await createPostgresStore(database.url, { maxConnections: 4 });
  const storeB = await createPostgresStore(database.url, { maxConnections: 4 });
  try {
    const clock = new ManualClock();
    const a = inboxInstance('a', storeA, clock, { dealClaimLeaseMs: 1_000, dealClaimRenewMs: 3_600_000 });
    const b = inboxInstance('b', storeB, clock);
    await storeA.inbox.insertBatch([1, 2, 3].map((n) => inboxEvent('10', `x${n}`, n)), 1);
    const held = holdApply(a, 'x1');
    const roundA = a.worker.processDue();
    await held.reached.opened;

    // A's claim runs out while its apply of x1 is open (its effect written, not committed).
    clock.advance(1_001);
    await b.worker.processDue();
    expect(await effects(storeB)).toEqual(['x1 by b', 'x2 by b', 'x3 by b']);
    held.release.open();
    await roundA;
    // A's done mark of x1 changed no row: its apply rolled back (its effect with it) and A left the deal.
    await b.worker.processDue();
    expect(await effects(storeA)).toEqual(['x1 by b', 'x2 by b', 'x3 by b']);
    expect(await storeA.inbox.countByStatus()).toEqual({ pending: 0, done: 3, parked: 0 });
  } finally {
    await storeA.close();
    await storeB.close();
  }
}, 60_000);
