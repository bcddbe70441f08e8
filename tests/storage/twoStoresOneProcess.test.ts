import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';

/**
 * A transaction belongs to the store (and the engine) that opened it. Two stores in one process
 * (the tests' second instance, the bench's baselines) must not see each other's transactions: code
 * in store A's transaction that writes through store B writes to B, at once, and A's rollback does
 * not take it back; B's own transaction opened there is B's, not a savepoint of A's.
 */
describe('two stores in one process', () => {
  let a: Store;
  let b: Store;
  beforeEach(() => {
    a = createSqliteStore(createDb(':memory:'));
    b = createSqliteStore(createDb(':memory:'));
  });
  afterEach(async () => {
    await a.close();
    await b.close();
  });

  const entry = (action: string) => ({ dealId: 'd1', reviewId: null, action, actor: 'system', fromStatus: null, toStatus: null, reason: null, details: null, at: 1 });
  const actions = async (store: Store) => (await store.audit.listForDeal(1, 'd1')).map((e) => e.action);

  it("writes through another store from inside one store's transaction land in that other store, and stay when the first rolls back", async () => {
    await expect(
      a.transaction(async (tx) => {
        await tx.audit.append(1, entry('in a'));
        await b.audit.append(1, entry('in b, outside a'));
        await b.transaction(async (btx) => btx.audit.append(1, entry('in b, its own transaction')));
        throw new Error('a rolls back');
      }),
    ).rejects.toThrow('a rolls back');
    expect(await actions(a)).toEqual([]);
    expect(await actions(b)).toEqual(['in b, outside a', 'in b, its own transaction']);
  });

  it("writes through the first store from inside the second's transaction, opened from the first's, go to the first's transaction (no wait for itself)", async () => {
    await a.transaction(async () => {
      await b.transaction(async (btx) => {
        await btx.audit.append(1, entry('in b'));
        // Store a's transaction is still open around this: its write lands there, as a savepoint does.
        await a.audit.append(1, entry('in a, from b'));
        await a.transaction(async (atx) => atx.audit.append(1, entry('in a, nested, from b')));
      });
      await a.audit.append(1, entry('in a'));
    });
    expect(await actions(a)).toEqual(['in a, from b', 'in a, nested, from b', 'in a']);
    expect(await actions(b)).toEqual(['in b']);
  }, 5_000);
});
