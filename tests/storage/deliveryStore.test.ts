import { join } from 'node:path';
import { DELIVERY_STATUSES, isOverdue, onTimeRates, type DeliveryStatus } from '../../src/server/domain/delivery';
import type { DeliveryRecord } from '../../src/server/storage/deliveryStore';
import type { Store } from '../../src/server/storage/store';
import { tempDir } from '../support/env';
import { testDatabase, type TestStoreEngine } from '../support/testStore';

/**
 * The delivery figures the home page shows are computed in SQL (deliveryStore.ts), never by reading
 * every delivery into the process; here they must agree with the domain's rules (domain/delivery.ts
 * onTimeRates, isOverdue) over a few hundred deliveries of every status, on both engines, and leave
 * the other account's deliveries out.
 */
const DAY = 24 * 60 * 60 * 1000;
const NOW = Date.UTC(2026, 10, 20, 12);
const TODAY = '2026-11-20';

/** A small deterministic generator, so that a failure can be replayed. */
function generator(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 1_103_515_245 + 12_345) % 2 ** 31;
    return state / 2 ** 31;
  };
}

function deliveries(count: number, random: () => number): DeliveryRecord[] {
  return Array.from({ length: count }, (_, i) => {
    const first = Date.UTC(2026, 0, 1) + Math.floor(random() * 500) * DAY;
    const slipDays = random() < 0.3 ? Math.floor(random() * 40) : 0;
    const status: DeliveryStatus = DELIVERY_STATUSES[Math.floor(random() * DELIVERY_STATUSES.length)] ?? 'planned';
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const deliveredAt = status === 'delivered' ? first + Math.floor(random() * 30 - 15) * DAY + 3_600_000 : null;
    return {
      reviewId: i + 1,
      dealId: String(1000 + i),
      ownerUserId: '200',
      status,
      promisedDate: day(first + slipDays * DAY),
      firstPromisedDate: day(first),
      workItemUrl: null,
      deliveredAt,
      overdueNotedAt: null,
      history: [{ at: first - 30 * DAY, by: '200', status: 'planned', promisedDate: day(first), ownerUserId: '200', workItemUrl: null, reason: null }],
    };
  });
}

describe.each<TestStoreEngine>(['sqlite', 'postgres'])('delivery figures in SQL (%s)', (engine) => {
  let store: Store;
  let drop: () => Promise<void>;
  const dir = tempDir('dealgate-deliveries-');
  const all = deliveries(300, generator(14));
  beforeAll(async () => {
    const database = await testDatabase(join(dir.path, 'db.sqlite'), engine);
    store = await database.open();
    drop = database.drop;
    for (const d of all) await store.deliveries.insert(1, d, 0);
    // Another account's, all overdue: never counted for account 1.
    for (const d of deliveries(20, generator(7))) await store.deliveries.insert(2, { ...d, status: 'planned', promisedDate: '2026-01-02' }, 0);
  }, 60_000);
  afterAll(async () => {
    await store.close();
    await drop();
    dir.cleanup();
  });

  it('gives the on-time rate per quarter of the first promise as the domain computes it', async () => {
    const since = '2026-Q2';
    const expected = onTimeRates(all, NOW).filter((r) => r.quarter >= since);
    expect(expected.length).toBeGreaterThan(3);
    expect(expected.some((r) => r.onTime > 0 && r.late > 0 && r.overdue > 0)).toBe(true);
    const got = await store.deliveries.onTimeByQuarter(1, TODAY, since);
    expect(got.map((r) => ({ ...r, rate: r.rate === null ? null : Math.round(r.rate * 1e9) }))).toEqual(
      expected.map((r) => ({ ...r, rate: r.rate === null ? null : Math.round(r.rate * 1e9) })),
    );
  });

  it('lists the open ones by promised date and counts the overdue as the domain judges them', async () => {
    const open = all.filter((d) => d.status !== 'delivered' && d.status !== 'deprioritized');
    const byPromise = [...open].sort((a, b) => a.promisedDate.localeCompare(b.promisedDate) || a.reviewId - b.reviewId);
    const listed = await store.deliveries.listOpen(1, 50);
    expect(listed.map((d) => d.reviewId)).toEqual(byPromise.slice(0, 50).map((d) => d.reviewId));
    expect(await store.deliveries.countOpen(1, TODAY)).toEqual({ open: open.length, overdue: open.filter((d) => isOverdue(d, NOW)).length });
  });

  it('finds the overdue ones not yet noted, across accounts, and marks each once', async () => {
    const due = await store.deliveries.dueForOverdueNote(TODAY, 1000);
    const expected = all.filter((d) => isOverdue(d, NOW)).length + 20;
    expect(due).toHaveLength(expected);
    const first = due[0];
    if (!first) throw new Error('nothing due');
    expect(await store.deliveries.markOverdueNoted(first.portalId, first.reviewId, NOW)).toBe(true);
    expect(await store.deliveries.markOverdueNoted(first.portalId, first.reviewId, NOW)).toBe(false);
    expect(await store.deliveries.dueForOverdueNote(TODAY, 1000)).toHaveLength(expected - 1);
  });
});
