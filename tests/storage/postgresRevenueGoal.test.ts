import { join } from 'node:path';
import type { Settings } from '../../extensions/contract/api';
import { ManualClock } from '../../src/server/shared/clock';
import { openReview } from '../../src/server/domain/reviewLifecycle';
import { observeRevenueWin } from '../../src/server/application/revenueGoalWins';
import { silentLogger } from '../../src/server/shared/logger';
import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import type { SqlDatabase } from '../../src/server/storage/sql';
import type { Store } from '../../src/server/storage/store';
import { tempDir } from '../support/env';
import { waitUntil } from '../support/process';
import { testDatabase, type TestDatabase } from '../support/testStore';
import { gate } from '../support/twoInstances';

/**
 * Issue 14, the revenue goal on several instances (PostgreSQL, READ COMMITTED): two deals won at
 * the same moment on two instances, each short of the goal alone and past it together. Each
 * instance judges its win against the quarter's total; without the quarter's lock, each read the
 * total without the other's uncommitted win and neither saw the goal crossed (no moment, no note).
 * With it, the second waits for the first and crosses it: one crossing, one note.
 */
const PORTAL = 41;
const T = Date.UTC(2026, 10, 10, 12);
const settings: Settings = {
  valueThreshold: 50_000,
  slaHours: 48,
  reviewers: ['200'],
  admins: ['900'],
  escalationReviewer: null,
  gateStageLabel: 'contract',
  gateStages: {},
  capacity: null,
  amountTolerance: 0.1,
  afterClose: 'revert',
  revenueGoal: 100_000,
};

async function seedApprovedWonDeal(store: Store, dealId: string, amount: number): Promise<void> {
  const facts = { name: `Deal ${dealId}`, amount, stage: 'closedwon', pipeline: 'default', commitment: true, commitmentSummary: 'Connector', effortWeeks: 2 };
  await store.deals.upsert(PORTAL, { dealId, ...facts, ownerId: null, deleted: false, sourceUpdatedAt: T, refreshedAt: T });
  const review = await store.reviews.insert(PORTAL, openReview({ dealId, summary: 'Connector', effortWeeks: 2, neededBy: null, amount, requestedBy: '100', at: T - 1000, dueAt: T + 1000 }));
  await store.reviews.update(PORTAL, { ...review, status: 'approved', approvedAmount: amount, closedAt: T, updatedAt: T });
}

describe('revenue goal: two wins at once on two instances (PostgreSQL)', () => {
  let dir: ReturnType<typeof tempDir>;
  let database: TestDatabase;
  let a: Store;
  let b: Store;
  let raw: SqlDatabase;

  beforeEach(async () => {
    dir = tempDir('dealgate-revenue-');
    database = await testDatabase(join(dir.path, 'db.sqlite'), 'postgres');
    a = await database.open();
    b = await database.open();
    raw = createPostgresDatabase(database.env.DATABASE_URL ?? '');
    await a.settings.put(PORTAL, settings, T, '900');
    await a.pipelines.replaceAll(PORTAL, [{ id: 'default', label: 'Sales', displayOrder: 0, stages: ['contractsent', 'closedwon'].map((id, i) => ({ id, label: id, displayOrder: i, isClosed: id === 'closedwon', isLost: false })) }], T);
    await seedApprovedWonDeal(a, 'x', 60_000);
    await seedApprovedWonDeal(a, 'y', 60_000);
  });
  afterEach(async () => {
    await raw.close();
    await a.close();
    await b.close();
    await database.drop();
    dir.cleanup();
  });

  it('records one crossing and queues one note when the goal is reached by two deals won together', async () => {
    const deps = (store: Store) => ({ store, clock: new ManualClock(T), logger: silentLogger() });
    const held = gate();
    const judged = gate();
    // Instance a judges x's win and holds its transaction open; b judges y's meanwhile.
    const onA = a.transaction(async () => {
      await observeRevenueWin(deps(a), PORTAL, 'x', T);
      judged.open();
      await held.opened;
    });
    await judged.opened;
    let bDone = false;
    const onB = b.transaction(() => observeRevenueWin(deps(b), PORTAL, 'y', T)).then(() => (bDone = true));
    // b is either waiting for a's lock of the quarter, or (without the lock) done already.
    const waitingForLock = async () => ((await raw.get<{ n: number }>("SELECT COUNT(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted"))?.n ?? 0) > 0;
    await waitUntil(async () => bDone || (await waitingForLock()), 10_000, 'b to wait for the quarter or finish');
    held.open();
    await Promise.all([onA, onB]);

    expect(await a.revenue.crossing(PORTAL, '2026-Q4')).toMatchObject({ dealId: 'y', goal: 100_000, approvedAmount: 120_000 });
    const notes = [...(await a.outbox.list({ portalId: PORTAL, dealId: 'x', limit: 10 })), ...(await a.outbox.list({ portalId: PORTAL, dealId: 'y', limit: 10 }))].filter((r) => r.kind === 'create_note');
    expect(notes.map((n) => n.dealId)).toEqual(['y']);
  });
});
