import type { AuditEntry } from '../domain/auditEntry';
import type { SqlSession } from './sql';

/** The append-only audit log (triggers in the schema refuse updates and deletes). */
export interface StoredAuditEntry extends AuditEntry {
  id: number;
}

export interface AuditRepository {
  append(portalId: number, entry: AuditEntry): Promise<number>;
  listForDeal(portalId: number, dealId: string): Promise<StoredAuditEntry[]>;
}

interface AuditRow {
  id: number;
  deal_id: string;
  review_id: number | null;
  action: string;
  actor: string;
  from_status: string | null;
  to_status: string | null;
  reason: string | null;
  details: string | null;
  at: number;
}

const insert = `INSERT INTO audit_log (portal_id, deal_id, review_id, action, actor, from_status, to_status, reason, details, at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`;
const forDeal = 'SELECT * FROM audit_log WHERE portal_id = ? AND deal_id = ? ORDER BY id';

export function auditRepository(sql: SqlSession): AuditRepository {
  return {
    async append(portalId, e) {
      const row = await sql.get<{ id: number }>(insert, [
        portalId,
        e.dealId,
        e.reviewId,
        e.action,
        e.actor,
        e.fromStatus,
        e.toStatus,
        e.reason,
        e.details === null ? null : JSON.stringify(e.details),
        e.at,
      ]);
      return row!.id;
    },
    async listForDeal(portalId, dealId) {
      return (await sql.all<AuditRow>(forDeal, [portalId, dealId])).map((row) => ({
        id: row.id,
        dealId: row.deal_id,
        reviewId: row.review_id,
        action: row.action,
        actor: row.actor,
        fromStatus: row.from_status,
        toStatus: row.to_status,
        reason: row.reason,
        details: row.details === null ? null : (JSON.parse(row.details) as Record<string, unknown>),
        at: row.at,
      }));
    },
  };
}
