import type { Statement } from 'better-sqlite3';
import type { Db } from './db';

/**
 * Statements by SQL text, per database: a few per table (one per set of filters), prepared once.
 * The gate reads an account's pending outbox writes through this for every inbox event it
 * applies, where preparing the statement each time cost three times the query.
 */
const prepared = new WeakMap<Db, Map<string, Statement<(string | number)[]>>>();

function statementFor(db: Db, sql: string): Statement<(string | number)[]> {
  let statements = prepared.get(db);
  if (!statements) {
    statements = new Map();
    prepared.set(db, statements);
  }
  let statement = statements.get(sql);
  if (!statement) {
    statement = db.prepare<(string | number)[]>(sql);
    statements.set(sql, statement);
  }
  return statement;
}

/**
 * `SELECT * FROM <table> WHERE <column> = ? AND …` over the filters that are set, newest (highest
 * id) first, at most `limit` rows: the ops lists of the inbox and the outbox. Table and column
 * names come from code, never from a request; values are bound parameters.
 */
export function selectNewestWhere<Row>(db: Db, table: string, equals: Record<string, string | number | undefined>, limit: number): Row[] {
  const set = Object.entries(equals).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  const where = set.length > 0 ? `WHERE ${set.map(([column]) => `${column} = ?`).join(' AND ')}` : '';
  return statementFor(db, `SELECT * FROM ${table} ${where} ORDER BY id DESC LIMIT ?`).all(...set.map(([, value]) => value), limit) as Row[];
}
