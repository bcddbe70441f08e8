import { quarterOf } from '../domain/capacityLedger';
import type { Delivery, DeliveryChange, DeliveryStatus, OnTimeRate } from '../domain/delivery';
import type { SqlSession } from './sql';

/** A delivery as stored: the domain's record, the deal it belongs to, and when its overdue note was queued. */
export interface DeliveryRecord extends Delivery {
  dealId: string;
  /** When the promised date passing undelivered was noted on the deal (once); null before. */
  overdueNotedAt: number | null;
}

/** An open commitment on the home page: the delivery without its history, with its deal's name. */
export interface OpenDeliveryRow extends Omit<DeliveryRecord, 'history'> {
  dealName: string | null;
}

/**
 * Deliveries (migration 18): one per approved review, and each change made to it. Written only
 * inside the transaction of what changed it (a decision, an update from the card, the ledger's
 * deprioritization, the overdue round), together with its audit entry and outbox effects.
 */
export interface DeliveryRepository {
  /** Records the delivery a decision opens, with its first history entry. */
  insert(portalId: number, delivery: DeliveryRecord, at: number): Promise<void>;
  /** With its history, oldest first. */
  get(portalId: number, reviewId: number): Promise<DeliveryRecord | undefined>;
  /** Writes the delivery's mutable fields and appends `change` to its history. */
  save(portalId: number, delivery: DeliveryRecord, change: DeliveryChange): Promise<void>;
  /** Open (neither delivered nor deprioritized), by promised date: the overdue ones come first. */
  listOpen(portalId: number, limit: number): Promise<OpenDeliveryRow[]>;
  /** How many are open, and how many of those are past their promised date on `today` (YYYY-MM-DD). */
  countOpen(portalId: number, today: string): Promise<{ open: number; overdue: number }>;
  /**
   * The on-time rate per quarter of the first promised date, from `sinceQuarter` on, as one
   * aggregate in SQL over deliveries_on_time: delivered by the date first promised, over all
   * delivered or overdue on `today` (domain/delivery.ts onTimeRates, the same rule).
   */
  onTimeByQuarter(portalId: number, today: string, sinceQuarter: string): Promise<OnTimeRate[]>;
  /** Deliveries of every account past their promised date on `today`, unsettled and not yet noted, oldest promise first. */
  dueForOverdueNote(today: string, limit: number): Promise<Array<{ portalId: number; reviewId: number }>>;
  /** Marks the overdue note queued; false when it already was (another round got there first). */
  markOverdueNoted(portalId: number, reviewId: number, at: number): Promise<boolean>;
}

interface DeliveryRow {
  review_id: number;
  deal_id: string;
  owner_user_id: string;
  status: DeliveryStatus;
  promised_date: string;
  first_promised_date: string;
  work_item_url: string | null;
  delivered_at: number | null;
  overdue_noted_at: number | null;
}

interface ChangeRow {
  at: number;
  changed_by: string;
  status: DeliveryStatus;
  promised_date: string;
  owner_user_id: string;
  work_item_url: string | null;
  reason: string | null;
}

const UNSETTLED = "status NOT IN ('delivered', 'deprioritized')";

const insertDelivery = `INSERT INTO deliveries (portal_id, review_id, deal_id, owner_user_id, status, promised_date, first_promised_date,
    first_promised_quarter, work_item_url, delivered_day, delivered_at, overdue_noted_at, created_at, updated_at)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;
const updateDelivery = `UPDATE deliveries SET owner_user_id = ?, status = ?, promised_date = ?, work_item_url = ?, delivered_day = ?,
    delivered_at = ?, overdue_noted_at = ?, updated_at = ? WHERE portal_id = ? AND review_id = ?`;
const insertChange = `INSERT INTO delivery_changes (portal_id, review_id, at, changed_by, status, promised_date, owner_user_id, work_item_url, reason)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`;

const dayOfMs = (ms: number) => new Date(ms).toISOString().slice(0, 10);

function toRecord(row: DeliveryRow, history: DeliveryChange[]): DeliveryRecord {
  return {
    reviewId: row.review_id,
    dealId: row.deal_id,
    ownerUserId: row.owner_user_id,
    status: row.status,
    promisedDate: row.promised_date,
    firstPromisedDate: row.first_promised_date,
    workItemUrl: row.work_item_url,
    deliveredAt: row.delivered_at,
    overdueNotedAt: row.overdue_noted_at,
    history,
  };
}

function toChange(row: ChangeRow): DeliveryChange {
  return {
    at: row.at,
    by: row.changed_by,
    status: row.status,
    promisedDate: row.promised_date,
    ownerUserId: row.owner_user_id,
    workItemUrl: row.work_item_url,
    reason: row.reason,
  };
}

function changeParams(portalId: number, reviewId: number, c: DeliveryChange) {
  return [portalId, reviewId, c.at, c.by, c.status, c.promisedDate, c.ownerUserId, c.workItemUrl, c.reason];
}

export function deliveryRepository(sql: SqlSession): DeliveryRepository {
  return { ...deliveryRecords(sql), ...deliveryFigures(sql), ...overdueNotes(sql) };
}

/** A delivery and its history of changes. */
function deliveryRecords(sql: SqlSession): Pick<DeliveryRepository, 'insert' | 'get' | 'save'> {
  return {
    async insert(portalId, d, at) {
      await sql.run(insertDelivery, [
        portalId,
        d.reviewId,
        d.dealId,
        d.ownerUserId,
        d.status,
        d.promisedDate,
        d.firstPromisedDate,
        quarterOf(Date.parse(`${d.firstPromisedDate}T00:00:00Z`)),
        d.workItemUrl,
        d.deliveredAt === null ? null : dayOfMs(d.deliveredAt),
        d.deliveredAt,
        d.overdueNotedAt,
        at,
        at,
      ]);
      for (const change of d.history) await sql.run(insertChange, changeParams(portalId, d.reviewId, change));
    },
    async get(portalId, reviewId) {
      const row = await sql.get<DeliveryRow>('SELECT * FROM deliveries WHERE portal_id = ? AND review_id = ?', [portalId, reviewId]);
      if (!row) return undefined;
      const changes = await sql.all<ChangeRow>('SELECT * FROM delivery_changes WHERE portal_id = ? AND review_id = ? ORDER BY id', [portalId, reviewId]);
      return toRecord(row, changes.map(toChange));
    },
    async save(portalId, d, change) {
      await sql.run(updateDelivery, [
        d.ownerUserId,
        d.status,
        d.promisedDate,
        d.workItemUrl,
        d.deliveredAt === null ? null : dayOfMs(d.deliveredAt),
        d.deliveredAt,
        d.overdueNotedAt,
        change.at,
        portalId,
        d.reviewId,
      ]);
      await sql.run(insertChange, changeParams(portalId, d.reviewId, change));
    },
  };
}

/** The open deliveries and the on-time figures of the dashboard. */
function deliveryFigures(sql: SqlSession): Pick<DeliveryRepository, 'listOpen' | 'countOpen' | 'onTimeByQuarter'> {
  return {
    async listOpen(portalId, limit) {
      const rows = await sql.all<DeliveryRow & { deal_name: string | null }>(
        `SELECT d.*, s.deal_name FROM deliveries d
           LEFT JOIN deal_snapshots s ON s.portal_id = d.portal_id AND s.deal_id = d.deal_id
          WHERE d.portal_id = ? AND d.${UNSETTLED}
          ORDER BY d.promised_date, d.review_id LIMIT ?`,
        [portalId, limit],
      );
      return rows.map((row) => {
        const { history: _history, ...record } = toRecord(row, []);
        return { ...record, dealName: row.deal_name };
      });
    },
    async countOpen(portalId, today) {
      const row = await sql.get<{ open: number; overdue: number | null }>(
        // The range on promised_date (every day is after year 0) has SQLite read the open ones through
        // deliveries_open_by_promise; without it the planner walked every delivery of the account in
        // deliveries_on_time (EXPLAIN QUERY PLAN).
        `SELECT COUNT(*) AS open, SUM(CASE WHEN promised_date < ? THEN 1 ELSE 0 END) AS overdue FROM deliveries
          WHERE portal_id = ? AND ${UNSETTLED} AND promised_date >= '0000-01-01'`,
        [today, portalId],
      );
      return { open: row?.open ?? 0, overdue: row?.overdue ?? 0 };
    },
    async onTimeByQuarter(portalId, today, sinceQuarter) {
      const rows = await sql.all<{ quarter: string; on_time: number; late: number; overdue: number }>(
        `SELECT first_promised_quarter AS quarter,
                SUM(CASE WHEN status = 'delivered' AND delivered_day <= first_promised_date THEN 1 ELSE 0 END) AS on_time,
                SUM(CASE WHEN status = 'delivered' AND delivered_day > first_promised_date THEN 1 ELSE 0 END) AS late,
                SUM(CASE WHEN ${UNSETTLED} AND promised_date < ? THEN 1 ELSE 0 END) AS overdue
           FROM deliveries WHERE portal_id = ? AND first_promised_quarter >= ?
          GROUP BY first_promised_quarter ORDER BY first_promised_quarter`,
        [today, portalId, sinceQuarter],
      );
      return rows.map((r) => {
        const counted = r.on_time + r.late + r.overdue;
        return { quarter: r.quarter, onTime: r.on_time, late: r.late, overdue: r.overdue, rate: counted === 0 ? null : r.on_time / counted };
      });
    },
  };
}

/** Overdue deliveries, each noted once. */
function overdueNotes(sql: SqlSession): Pick<DeliveryRepository, 'dueForOverdueNote' | 'markOverdueNoted'> {
  return {
    async dueForOverdueNote(today, limit) {
      const rows = await sql.all<{ portal_id: number; review_id: number }>(
        `SELECT portal_id, review_id FROM deliveries WHERE overdue_noted_at IS NULL AND ${UNSETTLED} AND promised_date < ? ORDER BY promised_date LIMIT ?`,
        [today, limit],
      );
      return rows.map((r) => ({ portalId: r.portal_id, reviewId: r.review_id }));
    },
    async markOverdueNoted(portalId, reviewId, at) {
      const result = await sql.run(
        `UPDATE deliveries SET overdue_noted_at = ?, updated_at = ? WHERE portal_id = ? AND review_id = ? AND overdue_noted_at IS NULL AND ${UNSETTLED}`,
        [at, at, portalId, reviewId],
      );
      return result.changes === 1;
    },
  };
}
