import { createDb } from '../../src/server/storage/db';
import { createSqliteSql, type SqliteSql } from '../../src/server/storage/sqliteSql';
import type { SqlSession } from '../../src/server/storage/sql';

/**
 * SQLite hands every transaction the same session object. A statement on it issued by the work of
 * a transaction that has ended (a branch of its work nobody awaited, still running) must be
 * refused, also while a later transaction is open: it must never land inside that one (committed
 * or rolled back with work it has nothing to do with). The same for a transaction or a database
 * statement from there: the transaction it belonged to is over, so it waits its turn like anyone.
 */
describe('sqliteSql after a transaction ended', () => {
  let sql: SqliteSql;

  beforeEach(() => {
    sql = createSqliteSql(createDb(':memory:', []));
    sql.db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  });
  afterEach(async () => {
    await sql.close();
  });

  const bodies = async () => (await sql.all<{ body: string }>('SELECT body FROM notes ORDER BY id')).map((r) => r.body);

  /** Runs a transaction whose work leaves `late` running after it returns; `late` waits for `go`. */
  async function leaveBehind(late: (tx: SqlSession) => Promise<unknown>) {
    let go!: () => void;
    const gate = new Promise<void>((resolve) => (go = resolve));
    let stray!: Promise<unknown>;
    await sql.transaction(async (tx) => {
      await tx.run('INSERT INTO notes (body) VALUES (?)', ['first']);
      stray = (async () => {
        await gate;
        return await late(tx);
      })();
    });
    return { go, stray: stray.then(() => 'ran', (error: Error) => error.message) };
  }

  it('refuses a statement of an ended transaction while another transaction is open, instead of running it inside that one', async () => {
    const { go, stray } = await leaveBehind((tx) => tx.run('INSERT INTO notes (body) VALUES (?)', ['stray']));
    await sql.transaction(async (tx) => {
      go();
      // The stray statement runs (or is refused) while this transaction is open.
      await new Promise((resolve) => setImmediate(resolve));
      await tx.run('INSERT INTO notes (body) VALUES (?)', ['second']);
    });
    expect(await stray).toMatch(/transaction has ended/);
    expect(await bodies()).toEqual(['first', 'second']);
  });

  it('lets the code an ended transaction left behind open a transaction of its own, after the one open now', async () => {
    const { go, stray } = await leaveBehind(() => sql.transaction(async (tx) => await tx.run('INSERT INTO notes (body) VALUES (?)', ['own'])));
    await sql.transaction(async (tx) => {
      go();
      await new Promise((resolve) => setImmediate(resolve));
      await tx.run('INSERT INTO notes (body) VALUES (?)', ['second']);
    });
    expect(await stray).toBe('ran');
    expect(await bodies()).toEqual(['first', 'second', 'own']);
  });
});
