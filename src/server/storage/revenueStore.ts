import type { WonCommitmentDeal } from '../domain/revenueGoal';
import type { SqlSession } from './sql';

/** A deal seen in a won stage (migration 21): the quarter of its win, its amount, whether an approval covered it. */
export interface RevenueWin {
  dealId: string;
  quarter: string;
  wonAt: number;
  /** In the account's currency where HubSpot converted it (gateAmount), else the deal's amount. */
  amount: number;
  /** An approval (yes or yes-but) covered the deal's facts when it was seen won. */
  approved: boolean;
  /** The approved review, when approved: its delivery says whether the commitment was delivered. */
  reviewId: number | null;
}

/** The moment a quarter's goal was reached: the deal whose win took the approved amount to it. */
export interface GoalCrossing {
  quarter: string;
  dealId: string;
  goal: number;
  /** The approved amount with that win. */
  approvedAmount: number;
  crossedAt: number;
}

/**
 * Engineering's revenue goal (issue 14, shared metrics): the won deals of each quarter and the one
 * crossing of the quarter's goal. Every read is by the account and the quarter (the wins' index),
 * or by the deal's key.
 */
export interface RevenueRepository {
  getWin(portalId: number, dealId: string): Promise<RevenueWin | undefined>;
  saveWin(portalId: number, win: RevenueWin, at: number): Promise<void>;
  /** The deal left the won stage (reopened, lost, deleted): its win no longer counts. */
  removeWin(portalId: number, dealId: string): Promise<void>;
  /** The approved amount of the quarter's wins, leaving one deal out (the one being judged). */
  approvedAmount(portalId: number, quarter: string, exceptDealId: string): Promise<number>;
  /** The quarter's approved wins with their deal's name and whether their commitment was delivered. */
  approvedWins(portalId: number, quarter: string): Promise<WonCommitmentDeal[]>;
  /**
   * Records the crossing unless the quarter has one for the same goal (a crossing of another goal,
   * before the admin changed it, is replaced): true for the one caller that recorded it.
   */
  recordCrossing(portalId: number, crossing: GoalCrossing): Promise<boolean>;
  crossing(portalId: number, quarter: string): Promise<GoalCrossing | undefined>;
  /**
   * Inside the transaction that judges a win against the quarter's total: until it ends, another
   * transaction's lock of the same quarter waits, so two deals won at once on two instances each
   * count the other (on PostgreSQL, READ COMMITTED, both would read the total without the other and
   * neither see the goal crossed). SQLite runs one transaction at a time, so nothing to do.
   */
  lockQuarter(portalId: number, quarter: string): Promise<void>;
}

interface WinRow {
  deal_id: string;
  quarter: string;
  won_at: number;
  amount: number;
  approved: number;
  review_id: number | null;
}

interface CrossingRow {
  quarter: string;
  deal_id: string;
  goal: number;
  approved_amount: number;
  crossed_at: number;
}

const getWin = 'SELECT deal_id, quarter, won_at, amount, approved, review_id FROM revenue_wins WHERE portal_id = ? AND deal_id = ?';
const saveWin = `INSERT INTO revenue_wins (portal_id, deal_id, quarter, won_at, amount, approved, review_id, recorded_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (portal_id, deal_id) DO UPDATE SET quarter = excluded.quarter, won_at = excluded.won_at, amount = excluded.amount,
      approved = excluded.approved, review_id = excluded.review_id, recorded_at = excluded.recorded_at`;
const removeWin = 'DELETE FROM revenue_wins WHERE portal_id = ? AND deal_id = ?';
const approvedAmount = 'SELECT COALESCE(SUM(amount), 0) AS total FROM revenue_wins WHERE portal_id = ? AND quarter = ? AND approved = 1 AND deal_id <> ?';
const approvedWins = `SELECT w.deal_id, w.won_at, w.amount, s.deal_name, CASE WHEN d.status = 'delivered' THEN 1 ELSE 0 END AS delivered
    FROM revenue_wins w
    LEFT JOIN deal_snapshots s ON s.portal_id = w.portal_id AND s.deal_id = w.deal_id
    LEFT JOIN deliveries d ON d.portal_id = w.portal_id AND d.review_id = w.review_id
    WHERE w.portal_id = ? AND w.quarter = ? AND w.approved = 1
    ORDER BY w.won_at, w.deal_id`;
const recordCrossing = `INSERT INTO revenue_goal_crossings (portal_id, quarter, deal_id, goal, approved_amount, crossed_at)
    VALUES (?, ?, ?, ?, ?, ?)
    ON CONFLICT (portal_id, quarter) DO UPDATE SET deal_id = excluded.deal_id, goal = excluded.goal,
      approved_amount = excluded.approved_amount, crossed_at = excluded.crossed_at
    WHERE revenue_goal_crossings.goal <> excluded.goal`;
const crossing = 'SELECT quarter, deal_id, goal, approved_amount, crossed_at FROM revenue_goal_crossings WHERE portal_id = ? AND quarter = ?';
const lockQuarter = 'SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) AS locked';

export function revenueRepository(sql: SqlSession): RevenueRepository {
  return {
    async getWin(portalId, dealId) {
      const row = await sql.get<WinRow>(getWin, [portalId, dealId]);
      return row ? { dealId: row.deal_id, quarter: row.quarter, wonAt: row.won_at, amount: row.amount, approved: row.approved === 1, reviewId: row.review_id } : undefined;
    },
    async saveWin(portalId, w, at) {
      await sql.run(saveWin, [portalId, w.dealId, w.quarter, w.wonAt, w.amount, w.approved ? 1 : 0, w.reviewId, at]);
    },
    async removeWin(portalId, dealId) {
      await sql.run(removeWin, [portalId, dealId]);
    },
    async approvedAmount(portalId, quarter, exceptDealId) {
      return (await sql.get<{ total: number }>(approvedAmount, [portalId, quarter, exceptDealId]))?.total ?? 0;
    },
    async approvedWins(portalId, quarter) {
      const rows = await sql.all<{ deal_id: string; won_at: number; amount: number; deal_name: string | null; delivered: number }>(approvedWins, [portalId, quarter]);
      return rows.map((r) => ({ dealId: r.deal_id, dealName: r.deal_name, amount: r.amount, wonAt: r.won_at, approved: true, delivered: r.delivered === 1 }));
    },
    async recordCrossing(portalId, c) {
      return (await sql.run(recordCrossing, [portalId, c.quarter, c.dealId, c.goal, c.approvedAmount, c.crossedAt])).changes === 1;
    },
    async crossing(portalId, quarter) {
      const row = await sql.get<CrossingRow>(crossing, [portalId, quarter]);
      return row ? { quarter: row.quarter, dealId: row.deal_id, goal: row.goal, approvedAmount: row.approved_amount, crossedAt: row.crossed_at } : undefined;
    },
    async lockQuarter(portalId, quarter) {
      if (sql.dialect === 'postgres') await sql.get(lockQuarter, [`dealgate.revenue:${portalId}:${quarter}`]);
    },
  };
}
