import type { Db } from '../../src/server/storage/db';

/**
 * The statements a piece of Dealgate runs on SQLite, and SQLite's EXPLAIN QUERY PLAN of each with
 * the parameters it ran with: for the plan tests (tests/storage/cardQueryPlans.test.ts) and the
 * data-scale bench (bench/dataScale.ts), which record the plans they rely on.
 */
export interface QueryPlan {
  sql: string;
  plan: string[];
  scans: boolean;
}

/**
 * Whether a plan reads a whole table: a SCAN not through an index, other than of a subquery the
 * plan itself produces (a CO-ROUTINE or MATERIALIZE, e.g. the 10 rows of a LIMITed one).
 */
export function scansATable(plan: readonly string[]): boolean {
  const produced = new Set(plan.flatMap((d) => /^(?:CO-ROUTINE|MATERIALIZE) (\S+)/.exec(d)?.[1] ?? []));
  return plan.some((d) => {
    const scanned = /^SCAN (\S+)/.exec(d)?.[1];
    return scanned !== undefined && scanned !== 'CONSTANT' && !produced.has(scanned) && !/USING (COVERING )?INDEX/.test(d);
  });
}

/**
 * Records every read statement prepared on `db` from now on (all, get, iterate) with its
 * parameters; `plans()` explains each distinct one, in the order first run. Call before the
 * store over `db` is made (it prepares through `db.prepare`).
 */
export function recordQueryPlans(db: Db): { plans(): QueryPlan[] } {
  const calls: { sql: string; params: unknown[] }[] = [];
  const prepare = db.prepare.bind(db);
  (db as unknown as { prepare: typeof db.prepare }).prepare = ((sql: string) => {
    const statement = prepare(sql);
    for (const method of ['all', 'get', 'iterate'] as const) {
      const original = (statement[method] as (...a: unknown[]) => unknown).bind(statement);
      (statement as unknown as Record<string, unknown>)[method] = (...params: unknown[]) => {
        calls.push({ sql, params });
        return original(...params);
      };
    }
    return statement;
  }) as typeof db.prepare;
  return {
    plans() {
      const seen = new Set<string>();
      const plans: QueryPlan[] = [];
      for (const { sql, params } of calls) {
        const oneLine = sql.replace(/\s+/g, ' ').trim();
        // Writes with RETURNING go through get(): their plans say nothing about reads.
        if (seen.has(oneLine) || !/^(SELECT|WITH)\b/i.test(oneLine)) continue;
        seen.add(oneLine);
        const plan = (prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as { detail: string }[]).map((r) => r.detail);
        plans.push({ sql: oneLine, plan, scans: scansATable(plan) });
      }
      return plans;
    },
  };
}
