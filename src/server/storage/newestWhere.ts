import type { SqlSession } from './sql';

/**
 * `SELECT * FROM <table> WHERE <column> = ? AND …` over the filters that are set, newest (highest
 * id) first, at most `limit` rows: the ops lists of the inbox and the outbox. Table and column
 * names come from code, never from a request; values are bound parameters. The session prepares
 * each distinct text once (a few per table, one per set of filters).
 */
export function selectNewestWhere<Row>(sql: SqlSession, table: string, equals: Record<string, string | number | undefined>, limit: number): Promise<Row[]> {
  const set = Object.entries(equals).filter((entry): entry is [string, string | number] => entry[1] !== undefined);
  const where = set.length > 0 ? `WHERE ${set.map(([column]) => `${column} = ?`).join(' AND ')}` : '';
  return sql.all<Row>(`SELECT * FROM ${table} ${where} ORDER BY id DESC LIMIT ?`, [...set.map(([, value]) => value), limit]);
}
