import { join } from 'node:path';
import type { Store } from '../../src/server/storage/store';
import { tempDir } from '../support/env';
import { testDatabase, type TestDatabase } from '../support/testStore';

/**
 * The worker leases (migration 14) on the run's engine: taken only when free, expired or already
 * the caller's; released only by the holder; and two instances asking at the same moment never
 * both get one.
 */
describe('worker lease repository', () => {
  let dir: ReturnType<typeof tempDir>;
  let database: TestDatabase;
  let first: Store;
  let second: Store;

  beforeEach(async () => {
    dir = tempDir();
    database = await testDatabase(join(dir.path, 'dealgate.db'));
    // Two instances: two connections (pools) on one database.
    first = await database.open();
    second = await database.open();
  });
  afterEach(async () => {
    await first.close();
    await second.close();
    await database.drop();
    dir.cleanup();
  });

  const T = Date.UTC(2026, 11, 1, 12, 0, 0);

  it('is taken when free, renewed by its holder, refused to others until it expires, then taken over', async () => {
    expect(await first.workerLeases.acquire('sla', 'a', T, T + 30_000)).toEqual({ name: 'sla', holder: 'a', acquiredAt: T, renewedAt: T, expiresAt: T + 30_000 });
    expect(await second.workerLeases.acquire('sla', 'b', T + 1_000, T + 31_000)).toBeUndefined();
    // Renewal keeps when it was first taken.
    expect(await first.workerLeases.acquire('sla', 'a', T + 10_000, T + 40_000)).toEqual({ name: 'sla', holder: 'a', acquiredAt: T, renewedAt: T + 10_000, expiresAt: T + 40_000 });
    expect(await second.workerLeases.acquire('sla', 'b', T + 39_999, T + 69_999)).toBeUndefined();
    // a stopped renewing (died): at its end b takes it, and a, back, is refused.
    expect(await second.workerLeases.acquire('sla', 'b', T + 40_000, T + 70_000)).toEqual({ name: 'sla', holder: 'b', acquiredAt: T + 40_000, renewedAt: T + 40_000, expiresAt: T + 70_000 });
    expect(await first.workerLeases.acquire('sla', 'a', T + 41_000, T + 71_000)).toBeUndefined();
    expect(await first.workerLeases.list()).toEqual([{ name: 'sla', holder: 'b', acquiredAt: T + 40_000, renewedAt: T + 40_000, expiresAt: T + 70_000 }]);
  });

  it('is released only by its holder, and is then free at once', async () => {
    await first.workerLeases.acquire('sweeps', 'a', T, T + 30_000);
    expect(await second.workerLeases.release('sweeps', 'b')).toBe(false);
    expect(await second.workerLeases.acquire('sweeps', 'b', T + 1, T + 30_001)).toBeUndefined();
    expect(await first.workerLeases.release('sweeps', 'a')).toBe(true);
    expect(await first.workerLeases.list()).toEqual([]);
    expect(await second.workerLeases.acquire('sweeps', 'b', T + 2, T + 30_002)).toEqual(expect.objectContaining({ holder: 'b', acquiredAt: T + 2 }));
    // Leases are independent of one another.
    expect(await first.workerLeases.acquire('sla', 'a', T + 3, T + 30_003)).toEqual(expect.objectContaining({ holder: 'a' }));
  });

  it('goes to exactly one of two instances asking at the same moment', async () => {
    for (let round = 0; round < 25; round += 1) {
      const name = `race-${round}`;
      const answers = await Promise.all([
        first.workerLeases.acquire(name, 'a', T, T + 30_000),
        second.workerLeases.acquire(name, 'b', T, T + 30_000),
        first.workerLeases.acquire(name, 'c', T, T + 30_000),
        second.workerLeases.acquire(name, 'd', T, T + 30_000),
      ]);
      const winners = answers.filter((lease) => lease !== undefined);
      expect(winners).toHaveLength(1);
      expect((await first.workerLeases.list()).find((lease) => lease.name === name)?.holder).toBe(winners[0]?.holder);
    }
    // An expired lease asked for by two at once: one takes it.
    const later = T + 30_000;
    const takeovers = await Promise.all([first.workerLeases.acquire('race-0', 'x', later, later + 30_000), second.workerLeases.acquire('race-0', 'y', later, later + 30_000)]);
    expect(takeovers.filter((lease) => lease !== undefined)).toHaveLength(1);
  });

  it('refuses a lease that would end before it starts', async () => {
    await expect(first.workerLeases.acquire('sla', 'a', T, T)).rejects.toThrow(/lease sla: expiresAt .* is not after now/);
  });
});
