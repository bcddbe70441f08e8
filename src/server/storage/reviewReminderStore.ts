import type { SqlSession } from './sql';

/** A waiting review as the reminder round needs it. */
export interface WaitingReview {
  portalId: number;
  reviewId: number;
  requestedAt: number;
  dueAt: number;
}

/**
 * What Dealgate sent for a review so that it sends it once (migration 24): each reminder point
 * (`share:0.5`, `before:2h`) and the second-level escalation (`escalation:admins`). `record` is
 * called in the transaction that enqueues the reminder: a second caller, on a restart or on
 * another instance, finds the row and sends nothing (on PostgreSQL it waits for the first
 * transaction's row lock, then sees the conflict).
 */
export interface ReviewReminderRepository {
  /** Records `point` as sent for the review; false when it was already. */
  record(portalId: number, reviewId: number, point: string, at: number): Promise<boolean>;
  /** The points recorded for the review. */
  sentPoints(portalId: number, reviewId: number): Promise<string[]>;
  /** Waiting reviews (pending, not yet due at `now`) of every account, soonest due first. */
  waitingBeforeDue(now: number, limit?: number): Promise<WaitingReview[]>;
  /**
   * Waiting reviews of every account escalated at or before `escalatedBefore` whose escalation to
   * the admins is not recorded yet, oldest escalation first.
   */
  dueForAdminEscalation(escalatedBefore: number, limit?: number): Promise<Array<{ portalId: number; reviewId: number }>>;
}

export const ADMIN_ESCALATION_POINT = 'escalation:admins';

const record = 'INSERT INTO review_reminders (portal_id, review_id, point, sent_at) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING';
const sentPoints = 'SELECT point FROM review_reminders WHERE portal_id = ? AND review_id = ? ORDER BY point';
const waitingBeforeDue = `SELECT portal_id, id, requested_at, due_at FROM reviews
    WHERE status = 'pending' AND due_at > ? ORDER BY due_at, id LIMIT ?`;
const dueForAdminEscalation = `SELECT r.portal_id, r.id FROM reviews r
    WHERE r.status IN ('pending', 'overdue') AND r.escalated_at IS NOT NULL AND r.escalated_at <= ?
      AND NOT EXISTS (SELECT 1 FROM review_reminders m WHERE m.portal_id = r.portal_id AND m.review_id = r.id AND m.point = ?)
    ORDER BY r.escalated_at, r.id LIMIT ?`;

export function reviewReminderRepository(sql: SqlSession): ReviewReminderRepository {
  return {
    async record(portalId, reviewId, point, at) {
      return (await sql.run(record, [portalId, reviewId, point, at])).changes === 1;
    },
    async sentPoints(portalId, reviewId) {
      return (await sql.all<{ point: string }>(sentPoints, [portalId, reviewId])).map((row) => row.point);
    },
    async waitingBeforeDue(now, limit = 1000) {
      return (await sql.all<{ portal_id: number; id: number; requested_at: number; due_at: number }>(waitingBeforeDue, [now, limit])).map((row) => ({
        portalId: row.portal_id,
        reviewId: row.id,
        requestedAt: row.requested_at,
        dueAt: row.due_at,
      }));
    },
    async dueForAdminEscalation(escalatedBefore, limit = 500) {
      return (await sql.all<{ portal_id: number; id: number }>(dueForAdminEscalation, [escalatedBefore, ADMIN_ESCALATION_POINT, limit])).map((row) => ({
        portalId: row.portal_id,
        reviewId: row.id,
      }));
    },
  };
}
