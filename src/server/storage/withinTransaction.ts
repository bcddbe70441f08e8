import type { SqlDatabase, SqlSession } from './sql';

/**
 * Marks a transaction's session that still has a `transaction` method (PostgreSQL's, which throws
 * to refuse a nested transaction): it is a session to run on, not a database to open one on.
 */
export const TRANSACTION_SESSION = Symbol('dealgate.transactionSession');

function isDatabase(sql: SqlSession): sql is SqlDatabase {
  return typeof (sql as Partial<SqlDatabase>).transaction === 'function' && !(sql as { [TRANSACTION_SESSION]?: true })[TRANSACTION_SESSION];
}

/**
 * For a repository method whose statements must land together: in a transaction of its own when
 * called on the database, on the caller's transaction when called on a transaction's session.
 */
export function withinTransaction<T>(sql: SqlSession, work: (tx: SqlSession) => Promise<T>): Promise<T> {
  return isDatabase(sql) ? sql.transaction(work) : work(sql);
}
