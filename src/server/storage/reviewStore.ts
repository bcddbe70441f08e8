import type { ReviewKind, ReviewStatus } from '../../../extensions/contract/api';
import type { LedgerCommitment, QuarterBooking } from '../domain/capacityLedger';
import type { Decision } from '../domain/reviewDecision';
import type { Review } from '../domain/reviewLifecycle';
import { fromMicroWeeks, heldBooking, largestBookings, quarterTotalOf, syncBooking, toMicroWeeks } from './capacityBookingStore';
import type { SqlSession } from './sql';
import { withinTransaction } from './withinTransaction';

/** Reviews and their decisions (one decision per review at most). */
export interface ReviewRepository {
  insert(portalId: number, review: Omit<Review, 'id'>): Promise<Review>;
  get(portalId: number, reviewId: number): Promise<Review | undefined>;
  /** Writes the review's mutable fields (status, escalation, closing, deprioritization). */
  update(portalId: number, review: Review): Promise<void>;
  /** The deal's latest pre-sales review: the one that speaks for the gate (post-sales work never does). */
  latestForDeal(portalId: number, dealId: string): Promise<Review | undefined>;
  /** The deal's pre-sales reviews, oldest first. */
  listForDeal(portalId: number, dealId: string): Promise<Review[]>;
  /** The deal's post-sales reviews (work asked for on the won deal), oldest first. */
  postSalesForDeal(portalId: number, dealId: string): Promise<Review[]>;
  /** Pending or overdue reviews of the account, oldest due first. */
  listOpen(portalId: number): Promise<Review[]>;
  insertDecision(portalId: number, decision: Decision): Promise<void>;
  decisionFor(portalId: number, reviewId: number): Promise<Decision | undefined>;
  /**
   * What the approvals that still consume capacity (approved, with or without conditions, not
   * deprioritized; or superseded but still booked) book in `quarter`: the sum of their weeks and
   * their count from the quarter's running total, and the `limit` largest by weeks from the head
   * of an index (capacityBookingStore.ts, migration 17), whatever the quarter holds.
   * `exclude`: reviews left out of all three (the approval check's released commitments).
   */
  quarterBooking(portalId: number, quarter: string, options: { limit: number; exclude?: readonly number[] }): Promise<QuarterBooking>;
  /** The review as an approval that still consumes capacity (any quarter), else undefined. */
  activeCommitment(portalId: number, reviewId: number): Promise<LedgerCommitment | undefined>;
  /** The most recent pre-sales review of every deal of the account. */
  latestPerDeal(portalId: number): Promise<Review[]>;
  /**
   * Marks a waiting review past its due time as escalated at `at`, only if nobody has (one
   * conditional update): true for the one caller that did. Inside the escalation's transaction, so
   * two instances escalating the same review at once record it once (on PostgreSQL the second
   * waits for the first's row lock, then finds escalated_at set).
   */
  claimEscalation(portalId: number, reviewId: number, at: number): Promise<boolean>;
  /** Waiting reviews (pending or overdue) of every account past their due time and not yet escalated, oldest due first. */
  dueForEscalation(now: number, limit?: number): Promise<Array<{ portalId: number; reviewId: number }>>;
  /** The review queue of the dashboard: waiting reviews with their deal's name and amount, oldest due first. */
  queue(portalId: number, limit?: number): Promise<QueueRow[]>;
  /**
   * Decisions made in [from, to): counts by outcome, how many came by their due time, the median
   * time to decision; and the reviews still waiting at `now` past their due time (all of them).
   */
  decisionFigures(portalId: number, from: number, to: number, now: number): Promise<DecisionFigures>;
}

export interface QueueRow {
  review: Review;
  dealName: string | null;
  amount: number | null;
}

export interface DecisionFigures {
  byOutcome: Record<Decision['outcome'], number>;
  total: number;
  /** Decided at or before the due time. */
  withinSla: number;
  /** Reviews waiting (pending or overdue) past their due time now: SLA misses not yet decided. */
  waitingPastDue: number;
  /** null when there were no decisions. */
  medianMsToDecision: number | null;
}

interface ReviewRow {
  id: number;
  deal_id: string;
  kind: ReviewKind;
  status: ReviewStatus;
  summary: string;
  effort_weeks: number;
  needed_by: string | null;
  amount_at_request: number | null;
  approved_amount: number | null;
  keeps_booking: number;
  requested_by: string;
  requested_at: number;
  due_at: number;
  escalated_at: number | null;
  closed_at: number | null;
  deprioritized_at: number | null;
  deprioritized_for: number | null;
  updated_at: number;
}

interface DecisionRow {
  review_id: number;
  outcome: Decision['outcome'];
  note: string;
  extra_weeks: number | null;
  tradeoff: string | null;
  deprioritized_review_id: number | null;
  quarter: string | null;
  decided_by: string;
  decided_at: number;
}

function toReview(row: ReviewRow): Review {
  return {
    id: row.id,
    dealId: row.deal_id,
    kind: row.kind,
    status: row.status,
    summary: row.summary,
    effortWeeks: row.effort_weeks,
    neededBy: row.needed_by,
    amountAtRequest: row.amount_at_request,
    approvedAmount: row.approved_amount,
    keepsBooking: row.keeps_booking === 1,
    requestedBy: row.requested_by,
    requestedAt: row.requested_at,
    dueAt: row.due_at,
    escalatedAt: row.escalated_at,
    closedAt: row.closed_at,
    deprioritizedAt: row.deprioritized_at,
    deprioritizedFor: row.deprioritized_for,
    updatedAt: row.updated_at,
  };
}

function toDecision(row: DecisionRow): Decision {
  return {
    reviewId: row.review_id,
    outcome: row.outcome,
    note: row.note,
    extraWeeks: row.extra_weeks,
    tradeoff: row.tradeoff,
    deprioritizedReviewId: row.deprioritized_review_id,
    quarter: row.quarter,
    decidedBy: row.decided_by,
    decidedAt: row.decided_at,
  };
}

const insert = `INSERT INTO reviews
    (portal_id, deal_id, status, summary, effort_weeks, needed_by, amount_at_request, requested_by, requested_at, due_at,
     escalated_at, closed_at, deprioritized_at, deprioritized_for, updated_at, kind)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;
const get = 'SELECT * FROM reviews WHERE portal_id = ? AND id = ?';
const update = `UPDATE reviews SET status = ?, escalated_at = ?, closed_at = ?, deprioritized_at = ?, deprioritized_for = ?,
    approved_amount = ?, keeps_booking = ?, updated_at = ?
    WHERE portal_id = ? AND id = ?`;
const latest = `SELECT * FROM reviews WHERE portal_id = ? AND deal_id = ? AND kind = 'pre_sales' ORDER BY id DESC LIMIT 1`;
const forDeal = 'SELECT * FROM reviews WHERE portal_id = ? AND deal_id = ? AND kind = ? ORDER BY id';
const open = `SELECT * FROM reviews WHERE portal_id = ? AND status IN ('pending', 'overdue') ORDER BY due_at, id`;
const insertDecision = `INSERT INTO decisions
    (portal_id, review_id, outcome, note, extra_weeks, tradeoff, deprioritized_review_id, quarter, decided_by, decided_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const decision = 'SELECT * FROM decisions WHERE portal_id = ? AND review_id = ?';
const latestPerDeal = `SELECT r.* FROM reviews r
     JOIN (SELECT MAX(id) AS id FROM reviews WHERE portal_id = ? AND kind = 'pre_sales' GROUP BY deal_id) latest ON latest.id = r.id
     WHERE r.portal_id = ?`;
const dueForEscalation = `SELECT portal_id, id FROM reviews
     WHERE status IN ('pending', 'overdue') AND escalated_at IS NULL AND due_at < ?
     ORDER BY due_at, id LIMIT ?`;
const claimEscalation = `UPDATE reviews SET escalated_at = ?, updated_at = ?
     WHERE portal_id = ? AND id = ? AND escalated_at IS NULL AND status IN ('pending', 'overdue') AND due_at < ?`;
const queue = `SELECT r.*, s.deal_name, s.amount AS deal_amount FROM reviews r
     LEFT JOIN deal_snapshots s ON s.portal_id = r.portal_id AND s.deal_id = r.deal_id
     WHERE r.portal_id = ? AND r.status IN ('pending', 'overdue')
     ORDER BY r.due_at, r.id LIMIT ?`;
// Decisions of a window, joined to their reviews for the request and due times (in_time as 1 or 0,
// not a bare comparison, which PostgreSQL would answer as a boolean that SUM refuses).
const decidedIn = `SELECT d.outcome, d.decided_at - r.requested_at AS ms, CASE WHEN d.decided_at <= r.due_at THEN 1 ELSE 0 END AS in_time
     FROM decisions d JOIN reviews r ON r.id = d.review_id AND r.portal_id = d.portal_id
     WHERE d.portal_id = ? AND d.decided_at >= ? AND d.decided_at < ?`;
// The derived table has an alias: PostgreSQL requires one.
const byOutcome = `SELECT outcome, COUNT(*) AS n, SUM(in_time) AS in_time FROM (${decidedIn}) decided GROUP BY outcome`;
const waitingPastDue = `SELECT COUNT(*) AS n FROM reviews WHERE portal_id = ? AND status IN ('pending', 'overdue') AND due_at < ?`;
// The median differs by dialect: SQLite has no MEDIAN nor percentile_cont, so it takes the middle
// row (odd count) or the mean of the two middle rows (even count), with a LIMIT/OFFSET computed by
// subqueries that PostgreSQL does not accept there; PostgreSQL's percentile_cont(0.5) is the same
// value (it interpolates between the two middle rows).
const medians = {
  sqlite: `WITH t AS (${decidedIn})
     SELECT AVG(ms) AS median FROM (
       SELECT ms FROM t ORDER BY ms
       LIMIT 2 - (SELECT COUNT(*) FROM t) % 2 OFFSET ((SELECT COUNT(*) FROM t) - 1) / 2) middle`,
  postgres: `SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS median FROM (${decidedIn}) decided`,
} as const;

export function reviewRepository(sql: SqlSession): ReviewRepository {
  return { ...reviewWrites(sql), ...reviewReads(sql), ...capacityReads(sql), ...escalationCalls(sql), ...dashboardReads(sql) };
}

/** A review opened, changed, decided: each change that decides the booking syncs it in the same transaction. */
function reviewWrites(sql: SqlSession): Pick<ReviewRepository, 'insert' | 'update' | 'insertDecision'> {
  return {
    async insert(portalId, r) {
      const row = await sql.get<{ id: number }>(insert, [
        portalId,
        r.dealId,
        r.status,
        r.summary,
        r.effortWeeks,
        r.neededBy,
        r.amountAtRequest,
        r.requestedBy,
        r.requestedAt,
        r.dueAt,
        r.escalatedAt,
        r.closedAt,
        r.deprioritizedAt,
        r.deprioritizedFor,
        r.updatedAt,
        r.kind,
      ]);
      return { ...r, id: row!.id };
    },
    async update(portalId, r) {
      // The status, deprioritization and keeps_booking decide whether the review books capacity.
      await withinTransaction(sql, async (tx) => {
        await tx.run(update, [r.status, r.escalatedAt, r.closedAt, r.deprioritizedAt, r.deprioritizedFor, r.approvedAmount, r.keepsBooking ? 1 : 0, r.updatedAt, portalId, r.id]);
        await syncBooking(tx, portalId, r.id);
      });
    },
    async insertDecision(portalId, d) {
      await withinTransaction(sql, async (tx) => {
        await tx.run(insertDecision, [portalId, d.reviewId, d.outcome, d.note, d.extraWeeks, d.tradeoff, d.deprioritizedReviewId, d.quarter, d.decidedBy, d.decidedAt]);
        await syncBooking(tx, portalId, d.reviewId);
      });
    },
  };
}

/** A review, a deal's reviews, the open ones, a decision. */
function reviewReads(sql: SqlSession): Pick<ReviewRepository, 'get' | 'latestForDeal' | 'listForDeal' | 'listOpen' | 'decisionFor' | 'latestPerDeal' | 'postSalesForDeal'> {
  return {
    async get(portalId, reviewId) {
      const row = await sql.get<ReviewRow>(get, [portalId, reviewId]);
      return row ? toReview(row) : undefined;
    },
    async latestForDeal(portalId, dealId) {
      const row = await sql.get<ReviewRow>(latest, [portalId, dealId]);
      return row ? toReview(row) : undefined;
    },
    async listForDeal(portalId, dealId) {
      return (await sql.all<ReviewRow>(forDeal, [portalId, dealId, 'pre_sales'])).map(toReview);
    },
    async postSalesForDeal(portalId, dealId) {
      return (await sql.all<ReviewRow>(forDeal, [portalId, dealId, 'post_sales'])).map(toReview);
    },
    async listOpen(portalId) {
      return (await sql.all<ReviewRow>(open, [portalId])).map(toReview);
    },
    async decisionFor(portalId, reviewId) {
      const row = await sql.get<DecisionRow>(decision, [portalId, reviewId]);
      return row ? toDecision(row) : undefined;
    },
    async latestPerDeal(portalId) {
      return (await sql.all<ReviewRow>(latestPerDeal, [portalId, portalId])).map(toReview);
    },
  };
}

/** What the reviews book of a quarter's capacity. */
function capacityReads(sql: SqlSession): Pick<ReviewRepository, 'quarterBooking' | 'activeCommitment'> {
  return {
    async quarterBooking(portalId, quarter, { limit, exclude = [] }) {
      let { microWeeks, count } = await quarterTotalOf(sql, portalId, quarter);
      // The few excluded (an approval's own deal's earlier reviews) are taken off one by one.
      const excluded = new Set(exclude);
      for (const reviewId of excluded) {
        const c = await heldBooking(sql, portalId, reviewId);
        if (c && c.quarter === quarter) {
          microWeeks -= toMicroWeeks(c.weeks);
          count -= 1;
        }
      }
      const usedWeeks = fromMicroWeeks(microWeeks);
      const largest = (await largestBookings(sql, portalId, quarter, limit + excluded.size)).filter((c) => !excluded.has(c.reviewId));
      // Without the excluded, more than `limit` may remain: keep the largest, oldest first.
      if (largest.length > limit) {
        const keep = new Set([...largest].sort((a, b) => b.weeks - a.weeks || a.decidedAt - b.decidedAt || a.reviewId - b.reviewId).slice(0, limit).map((c) => c.reviewId));
        return { quarter, usedWeeks, count, largest: largest.filter((c) => keep.has(c.reviewId)) };
      }
      return { quarter, usedWeeks, count, largest };
    },
    activeCommitment: (portalId, reviewId) => heldBooking(sql, portalId, reviewId),
  };
}

/** The SLA worker's reviews past due, each escalated once. */
function escalationCalls(sql: SqlSession): Pick<ReviewRepository, 'dueForEscalation' | 'claimEscalation'> {
  return {
    async dueForEscalation(now, limit = 500) {
      return (await sql.all<{ portal_id: number; id: number }>(dueForEscalation, [now, limit])).map((row) => ({ portalId: row.portal_id, reviewId: row.id }));
    },
    async claimEscalation(portalId, reviewId, at) {
      return (await sql.run(claimEscalation, [at, at, portalId, reviewId, at])).changes === 1;
    },
  };
}

/** The review queue and the decision figures of the dashboard. */
function dashboardReads(sql: SqlSession): Pick<ReviewRepository, 'queue' | 'decisionFigures'> {
  return {
    async queue(portalId, limit = 200) {
      return (await sql.all<ReviewRow & { deal_name: string | null; deal_amount: number | null }>(queue, [portalId, limit])).map((row) => ({
        review: toReview(row),
        dealName: row.deal_name,
        amount: row.deal_amount,
      }));
    },
    async decisionFigures(portalId, from, to, now) {
      const counts: Record<Decision['outcome'], number> = { yes: 0, yes_but: 0, no: 0 };
      let total = 0;
      let withinSla = 0;
      for (const row of await sql.all<{ outcome: Decision['outcome']; n: number; in_time: number }>(byOutcome, [portalId, from, to])) {
        counts[row.outcome] = row.n;
        total += row.n;
        withinSla += row.in_time;
      }
      const m = (await sql.get<{ median: number | null }>(medians[sql.dialect], [portalId, from, to]))?.median ?? null;
      const waiting = (await sql.get<{ n: number }>(waitingPastDue, [portalId, now]))?.n ?? 0;
      return { byOutcome: counts, total, withinSla, waitingPastDue: waiting, medianMsToDecision: m };
    },
  };
}
