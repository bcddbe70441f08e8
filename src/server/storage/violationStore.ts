import type { SqlSession } from './sql';

/**
 * What Dealgate did about a deal past the gate without sign-off: moved it back, or (a won deal
 * under afterClose=flag) left it and flagged it.
 */
export type ViolationAction = 'reverted' | 'flagged';

/**
 * What revealed it: the stage move itself, a change of another fact while the deal sat past the
 * gate (commitment ticked, summary or effort edited, amount raised), or a sweep of HubSpot.
 */
export type ViolationCause = 'stage_move' | 'fact_change' | 'reconciliation' | 'enforced_backfill';

/** An attempt to move a deal past the gate without sign-off: who, when, from which stage to which. */
export interface NewGateViolation {
  portalId: number;
  dealId: string;
  movedByUserId: string | null;
  sourceType: string | null;
  sourceId: string | null;
  fromStage: string;
  toStage: string;
  occurredAt: number;
  /** The inbox event that revealed it; unique, so one event records at most one violation. */
  inboxEventId: number | null;
  action?: ViolationAction;
  cause?: ViolationCause;
  /** The property whose change revealed it (fact changes), e.g. `dealgate_commitment_summary`. */
  changedProperty?: string | null;
}

export interface GateViolation extends NewGateViolation {
  id: number;
  recordedAt: number;
}

export interface ViolationRepository {
  /** Returns the new id, or undefined when this inbox event already recorded one. */
  record(violation: NewGateViolation, at: number): Promise<number | undefined>;
  listForDeal(portalId: number, dealId: string): Promise<GateViolation[]>;
  list(portalId: number, filter: { since?: number; limit: number }): Promise<GateViolation[]>;
  countByUser(portalId: number, since: number): Promise<{ userId: string; count: number }[]>;
}

interface ViolationDbRow {
  id: number;
  portal_id: number;
  deal_id: string;
  moved_by_user_id: string | null;
  source_type: string | null;
  source_id: string | null;
  from_stage: string;
  to_stage: string;
  occurred_at: number;
  recorded_at: number;
  inbox_event_id: number | null;
  action: ViolationAction;
  cause: ViolationCause;
  changed_property: string | null;
}

function toViolation(row: ViolationDbRow): GateViolation {
  return {
    id: row.id,
    portalId: row.portal_id,
    dealId: row.deal_id,
    movedByUserId: row.moved_by_user_id,
    sourceType: row.source_type,
    sourceId: row.source_id,
    fromStage: row.from_stage,
    toStage: row.to_stage,
    occurredAt: row.occurred_at,
    recordedAt: row.recorded_at,
    inboxEventId: row.inbox_event_id,
    action: row.action,
    cause: row.cause,
    changedProperty: row.changed_property,
  };
}

// One violation per inbox event: a second record stores nothing and returns no row.
const insert = `INSERT INTO gate_violations
    (portal_id, deal_id, moved_by_user_id, source_type, source_id, from_stage, to_stage, occurred_at, recorded_at, inbox_event_id,
     action, cause, changed_property)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`;
const forDeal = 'SELECT * FROM gate_violations WHERE portal_id = ? AND deal_id = ? ORDER BY occurred_at, id';
const recent = 'SELECT * FROM gate_violations WHERE portal_id = ? AND occurred_at >= ? ORDER BY occurred_at DESC, id DESC LIMIT ?';
// Grouped by the expression, not its alias: PostgreSQL would take `user_id` in GROUP BY for a column.
const byUser = `SELECT COALESCE(moved_by_user_id, 'unknown') AS user_id, COUNT(*) AS n FROM gate_violations
     WHERE portal_id = ? AND occurred_at >= ? GROUP BY COALESCE(moved_by_user_id, 'unknown') ORDER BY n DESC, user_id`;

export function violationRepository(sql: SqlSession): ViolationRepository {
  return {
    async record(v, at) {
      const row = await sql.get<{ id: number }>(insert, [
        v.portalId,
        v.dealId,
        v.movedByUserId,
        v.sourceType,
        v.sourceId,
        v.fromStage,
        v.toStage,
        v.occurredAt,
        at,
        v.inboxEventId,
        v.action ?? 'reverted',
        v.cause ?? 'stage_move',
        v.changedProperty ?? null,
      ]);
      return row?.id;
    },
    async listForDeal(portalId, dealId) {
      return (await sql.all<ViolationDbRow>(forDeal, [portalId, dealId])).map(toViolation);
    },
    async list(portalId, filter) {
      return (await sql.all<ViolationDbRow>(recent, [portalId, filter.since ?? 0, filter.limit])).map(toViolation);
    },
    async countByUser(portalId, since) {
      return (await sql.all<{ user_id: string; n: number }>(byUser, [portalId, since])).map((r) => ({ userId: r.user_id, count: r.n }));
    },
  };
}
