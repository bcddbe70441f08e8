import { createDb } from '../../src/server/storage/db';
import { createStore } from '../../src/server/storage/repositories';
import type { SqlDatabase, SqlSession } from '../../src/server/storage/sql';
import { createSqliteSql } from '../../src/server/storage/sqliteSql';
import type { Store } from '../../src/server/storage/store';

/**
 * A nested Store.transaction is a savepoint: when its work throws, the savepoint is rolled back
 * and the caller may catch the error and go on. If rolling the savepoint back fails as well, the
 * inner writes may still be in the transaction; the outer one must then refuse to commit (else a
 * caller that caught the inner error commits writes it believes undone), and the error the caller
 * sees must stay the work's own, not the undo's.
 */
describe('a nested transaction whose undo fails', () => {
  let store: Store;
  let failUndo = false;

  /** SQLite's SqlDatabase, whose transaction sessions fail `ROLLBACK TO SAVEPOINT` while `failUndo` is set. */
  function withFailingUndo(database: SqlDatabase): SqlDatabase {
    const failing = (session: SqlSession): SqlSession => ({
      dialect: session.dialect,
      all: (text, params) => session.all(text, params),
      get: (text, params) => session.get(text, params),
      run: (text, params) => (failUndo && text.startsWith('ROLLBACK TO SAVEPOINT') ? Promise.reject(new Error('connection lost')) : session.run(text, params)),
    });
    return Object.assign(Object.create(database) as SqlDatabase, {
      transaction: <T>(work: (tx: SqlSession) => Promise<T>) => database.transaction((tx) => work(failing(tx))),
    });
  }

  beforeEach(() => {
    failUndo = false;
    store = createStore(withFailingUndo(createSqliteSql(createDb(':memory:'))), { ping: async () => true, writable: async () => ({ ok: true }) });
  });
  afterEach(() => store.close());

  const entry = (action: string) => ({ dealId: 'd1', reviewId: null, action, actor: 'system', fromStatus: null, toStatus: null, reason: null, details: null, at: 1 });
  const actions = async () => (await store.audit.listForDeal(1, 'd1')).map((e) => e.action);

  /**
   * The outer work appends `outer`, runs a nested transaction that appends `inner` and throws,
   * catches that (handing it to `caught`), and returns what it caught.
   */
  const outerCatchingInner = (caught: (error: Error) => void = () => undefined) =>
    store.transaction(async (tx) => {
      await tx.audit.append(1, entry('outer'));
      try {
        await store.transaction(async (inner) => {
          await inner.audit.append(1, entry('inner'));
          throw new Error('the inner work failed');
        });
      } catch (error) {
        caught(error as Error);
        return error as Error;
      }
      return undefined;
    });

  it('undoes only the inner work when the savepoint rolls back, and the outer commits', async () => {
    const caught = await outerCatchingInner();
    expect(caught?.message).toBe('the inner work failed');
    expect(await actions()).toEqual(['outer']);
  });

  it('refuses to commit the outer transaction when the savepoint cannot be rolled back, and keeps the work’s error for its caller', async () => {
    failUndo = true;
    let caught: Error | undefined;
    await expect(
      outerCatchingInner((error) => {
        caught = error;
      }),
    ).rejects.toThrow(/a nested transaction failed and could not be undone.*connection lost/);
    expect(caught?.message).toBe('the inner work failed');
    expect((caught?.cause as Error | undefined)?.message).toBe('connection lost');
    failUndo = false;
    expect(await actions()).toEqual([]);
  });

  it('commits the next transaction on the same session normally once one was refused', async () => {
    failUndo = true;
    await expect(outerCatchingInner()).rejects.toThrow(/could not be undone/);
    failUndo = false;
    await store.transaction(async (tx) => {
      await tx.audit.append(1, entry('later'));
    });
    expect(await actions()).toEqual(['later']);
  });
});
