import type { DecisionOutcome } from '../../../extensions/contract/api';
import type { SqlSession } from './sql';

/** One decision of a window, as the home page's weekly charts need it. */
export interface DecisionPoint {
  outcome: DecisionOutcome;
  decidedAt: number;
  /** From the request to the decision. */
  msToDecision: number;
}

/**
 * The shared metrics' reads of the home page (issue 14) that are not the revenue goal's: the
 * window's decisions (decisions_by_portal: account, then time) and the quarter's violations by the
 * deal's owner (violations_by_portal, then each deal's snapshot by its key).
 */
export interface MetricsRepository {
  /** Decisions made in [from, to), oldest first. */
  decisionsIn(portalId: number, from: number, to: number): Promise<DecisionPoint[]>;
  /** Violations since `since`, counted by the owner of their deal (`null`: the deal has no owner, or Dealgate never saw it), most first, the ownerless last. */
  violationsByOwner(portalId: number, since: number): Promise<Array<{ ownerId: string | null; count: number }>>;
}

const decisionsIn = `SELECT d.outcome, d.decided_at, d.decided_at - r.requested_at AS ms
     FROM decisions d JOIN reviews r ON r.id = d.review_id AND r.portal_id = d.portal_id
     WHERE d.portal_id = ? AND d.decided_at >= ? AND d.decided_at < ?
     ORDER BY d.decided_at, d.review_id`;
const violationsByOwner = `SELECT s.owner_id, COUNT(*) AS n
     FROM gate_violations v LEFT JOIN deal_snapshots s ON s.portal_id = v.portal_id AND s.deal_id = v.deal_id
     WHERE v.portal_id = ? AND v.occurred_at >= ?
     GROUP BY s.owner_id ORDER BY n DESC, CASE WHEN s.owner_id IS NULL THEN 1 ELSE 0 END, s.owner_id`;

export function metricsRepository(sql: SqlSession): MetricsRepository {
  return {
    async decisionsIn(portalId, from, to) {
      const rows = await sql.all<{ outcome: DecisionOutcome; decided_at: number; ms: number }>(decisionsIn, [portalId, from, to]);
      return rows.map((r) => ({ outcome: r.outcome, decidedAt: r.decided_at, msToDecision: r.ms }));
    },
    async violationsByOwner(portalId, since) {
      const rows = await sql.all<{ owner_id: string | null; n: number }>(violationsByOwner, [portalId, since]);
      return rows.map((r) => ({ ownerId: r.owner_id === '' ? null : r.owner_id, count: r.n }));
    },
  };
}
