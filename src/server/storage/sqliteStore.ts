import { checkWritable, type Db, type WriteCheck } from './db';
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
    writable: () => sql.exclusive((connection): WriteCheck => (connection.open ? checkWritable(connection) : { ok: false, code: 'closed', message: 'the database is closed' })),
  });
}
