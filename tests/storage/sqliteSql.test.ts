import { createDb } from '../../src/server/storage/db';
import { createSqliteSql, type SqliteSql } from '../../src/server/storage/sqliteSql';

/**
 * The SQLite SqlDatabase has one connection: a transaction holds it across its awaits, so a
 * statement issued meanwhile by someone else must wait for the transaction to end instead of
 * landing inside it (and being rolled back with it).
 */
describe('sqliteSql', () => {
  let sql: SqliteSql;

  beforeEach(() => {
    sql = createSqliteSql(createDb(':memory:', []));
    sql.db.exec('CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  });

  afterEach(async () => {
    await sql.close();
  });

  const bodies = async () => (await sql.all<{ body: string }>('SELECT body FROM notes ORDER BY id')).map((r) => r.body);

  it('binds ? positional and @name named parameters, and reads generated ids with RETURNING', async () => {
    const first = await sql.get<{ id: number }>('INSERT INTO notes (body) VALUES (?) RETURNING id', ['one']);
    const second = await sql.get<{ id: number }>('INSERT INTO notes (body) VALUES (@body) RETURNING id', { body: 'two' });
    expect([first?.id, second?.id]).toEqual([1, 2]);
    expect((await sql.run('UPDATE notes SET body = ? WHERE id = ?', ['uno', 1])).changes).toBe(1);
    expect(await bodies()).toEqual(['uno', 'two']);
  });

  it('makes a statement issued outside an open transaction wait for it, and keeps it when the transaction rolls back', async () => {
    let release!: () => void;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    let inserted = false;
    const failing = sql.transaction(async (tx) => {
      await tx.run('INSERT INTO notes (body) VALUES (?)', ['inside']);
      await held;
      throw new Error('the work failed');
    });
    const outside = sql.run('INSERT INTO notes (body) VALUES (?)', ['outside']).then(() => {
      inserted = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(inserted).toBe(false);
    release();
    await expect(failing).rejects.toThrow('the work failed');
    await outside;
    expect(await bodies()).toEqual(['outside']);
  });

  it('rolls back every write of a transaction whose work throws', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (body) VALUES (?)', ['a']);
        await tx.run('INSERT INTO notes (body) VALUES (?)', ['b']);
        throw new Error('no');
      }),
    ).rejects.toThrow('no');
    expect(await bodies()).toEqual([]);
    expect(sql.db.inTransaction).toBe(false);
  });

  it('rolls back a transaction whose work throws before it awaits anything, and leaves the database to the next one', async () => {
    const work = (tx: Parameters<Parameters<SqliteSql['transaction']>[0]>[0]): Promise<void> => {
      void tx.run('INSERT INTO notes (body) VALUES (?)', ['thrown']);
      throw new Error('at once');
    };
    await expect(sql.transaction(work)).rejects.toThrow('at once');
    expect(sql.db.inTransaction).toBe(false);
    await sql.transaction(async (tx) => void (await tx.run('INSERT INTO notes (body) VALUES (?)', ['next'])));
    expect(await bodies()).toEqual(['next']);
  });

  it('a BEGIN that fails rolls back nothing, and the next transaction runs', async () => {
    // A transaction begun on the connection behind the door's back: BEGIN IMMEDIATE fails inside it.
    sql.db.exec('BEGIN');
    sql.db.prepare('INSERT INTO notes (body) VALUES (?)').run('outside');
    // better-sqlite3's error class comes from the first test file that loaded the addon: matched by its message.
    await expect(sql.transaction(async () => undefined)).rejects.toMatchObject({ message: expect.stringMatching(/within a transaction/) });
    expect(sql.db.inTransaction).toBe(true);
    sql.db.exec('COMMIT');
    await sql.transaction(async (tx) => void (await tx.run('INSERT INTO notes (body) VALUES (?)', ['after'])));
    expect(await bodies()).toEqual(['outside', 'after']);
  });

  it('commits a transaction whose work returns, and answers with what it returned', async () => {
    const result = await sql.transaction(async (tx) => {
      await tx.run('INSERT INTO notes (body) VALUES (?)', ['kept']);
      return 42;
    });
    expect(result).toBe(42);
    expect(await bodies()).toEqual(['kept']);
  });

  it('refuses a transaction opened inside another one, and rolls the outer one back', async () => {
    await expect(
      sql.transaction(async (tx) => {
        await tx.run('INSERT INTO notes (body) VALUES (?)', ['outer']);
        await sql.transaction(async () => undefined);
      }),
    ).rejects.toThrow(/nested transaction/);
    expect(await bodies()).toEqual([]);
  });

  it('refuses a statement on the database from inside its own transaction instead of waiting for itself', async () => {
    await expect(
      sql.transaction(async () => {
        await sql.run('INSERT INTO notes (body) VALUES (?)', ['deadlock']);
      }),
    ).rejects.toThrow(/inside its own transaction/);
    expect(await bodies()).toEqual([]);
  });

  it('runs transactions one after the other', async () => {
    const order: string[] = [];
    await Promise.all(
      ['a', 'b', 'c'].map((name) =>
        sql.transaction(async (tx) => {
          order.push(`${name}:begin`);
          await tx.run('INSERT INTO notes (body) VALUES (?)', [name]);
          await new Promise((resolve) => setImmediate(resolve));
          order.push(`${name}:end`);
        }),
      ),
    );
    expect(order).toEqual(['a:begin', 'a:end', 'b:begin', 'b:end', 'c:begin', 'c:end']);
  });

  it('refuses the session of a transaction that has ended', async () => {
    let kept: Parameters<Parameters<SqliteSql['transaction']>[0]>[0] | undefined;
    await sql.transaction(async (tx) => {
      kept = tx;
    });
    await expect(kept!.run('INSERT INTO notes (body) VALUES (?)', ['late'])).rejects.toThrow(/has ended/);
  });
});
