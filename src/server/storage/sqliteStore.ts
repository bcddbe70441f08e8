import { checkWritable, type Db } from './db';
import type { Store } from './store';
import { createStore } from './repositories';
import { createSqliteSql } from './sqliteSql';

export function createSqliteStore(db: Db): Store {
  const sql = createSqliteSql(db);
  return createStore(sql, {
    ping: async () => {
      try {
        return (await sql.get<{ one: number }>('SELECT 1 AS one'))?.one === 1;
      } catch {
        return false;
      }
    },
    // checkWritable commits on the connection itself: after the open transaction, never inside it.
    writable: async () => {
      if (!db.open) return { ok: false, code: 'closed', message: 'the database is closed' };
      await sql.get('SELECT 1 AS one');
      return db.open ? checkWritable(db) : { ok: false, code: 'closed', message: 'the database is closed' };
    },
  });
}
