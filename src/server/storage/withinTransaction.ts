import type { SqlDatabase, SqlSession } from './sql';

function isDatabase(sql: SqlSession): sql is SqlDatabase {
  return typeof (sql as Partial<SqlDatabase>).transaction === 'function';
}

/**
 * For a repository method whose statements must land together: in a transaction of its own when
 * called on the database, on the caller's transaction when called on a transaction's session.
 */
export function withinTransaction<T>(sql: SqlSession, work: (tx: SqlSession) => Promise<T>): Promise<T> {
  return isDatabase(sql) ? sql.transaction(work) : work(sql);
}
