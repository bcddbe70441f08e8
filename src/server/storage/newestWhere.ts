import type { Db } from './db';

/**
 * `SELECT * FROM <table> WHERE <column> = ? AND …` over the filters that are set, newest (highest
 * id) first, at most `limit` rows: the ops lists of the inbox and the outbox. Table and column
 * names come from code, never from a request; values are bound parameters.
 */
export function selectNewestWhere<Row>(db: Db, table: string, equals: Record<string, string | number | undefined>, limit: number): Row[] {
  const set = Object.entries(equals).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  const where = set.length > 0 ? `WHERE ${set.map(([column]) => `${column} = ?`).join(' AND ')}` : '';
  return db.prepare<(string | number)[], Row>(`SELECT * FROM ${table} ${where} ORDER BY id DESC LIMIT ?`).all(...set.map(([, value]) => value), limit);
}
