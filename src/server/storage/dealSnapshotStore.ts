import type { DealFacts } from '../domain/gatePolicy';
import type { SqlSession } from './sql';

/** Dealgate's copy of the deal facts the gate needs, kept current from webhooks and card reads. */
export interface DealSnapshot extends DealFacts {
  dealId: string;
  ownerId: string | null;
  deleted: boolean;
  /** HubSpot's last-modified time of the facts (or when Dealgate wrote them itself). */
  sourceUpdatedAt: number;
  refreshedAt: number;
}

export interface DealSnapshotRepository {
  get(portalId: number, dealId: string): Promise<DealSnapshot | undefined>;
  upsert(portalId: number, snapshot: DealSnapshot): Promise<void>;
  /** Every live deal of the account (recomputing statuses after a settings change). */
  list(portalId: number): Promise<DealSnapshot[]>;
  /**
   * Inside a transaction that reads a deal's facts or review to write on them: until it ends,
   * another transaction's lockForChange of the deal waits, so each reads what the one before it
   * wrote. Without it, on PostgreSQL (READ COMMITTED), the inbox storing a deal read from HubSpot
   * and a rep's request on the same deal ran side by side, and the one committing last wrote the
   * snapshot from what it read before the other committed (the request's commitment undone).
   * PostgreSQL: a transaction-scoped advisory lock (the deal may have no row yet); SQLite runs
   * one transaction at a time, so nothing to do.
   */
  lockForChange(portalId: number, dealId: string): Promise<void>;
}

interface SnapshotRow {
  deal_id: string;
  deal_name: string | null;
  amount: number | null;
  amount_home: number | null;
  stage: string | null;
  pipeline: string | null;
  commitment: number;
  commitment_summary: string | null;
  effort_weeks: number | null;
  owner_id: string | null;
  deleted: number;
  source_updated_at: number;
  refreshed_at: number;
}

function toSnapshot(row: SnapshotRow): DealSnapshot {
  return {
    dealId: row.deal_id,
    name: row.deal_name,
    amount: row.amount,
    amountInHomeCurrency: row.amount_home,
    stage: row.stage,
    pipeline: row.pipeline,
    commitment: row.commitment === 1,
    commitmentSummary: row.commitment_summary,
    effortWeeks: row.effort_weeks,
    ownerId: row.owner_id,
    deleted: row.deleted === 1,
    sourceUpdatedAt: row.source_updated_at,
    refreshedAt: row.refreshed_at,
  };
}

const get = 'SELECT * FROM deal_snapshots WHERE portal_id = ? AND deal_id = ?';
const list = 'SELECT * FROM deal_snapshots WHERE portal_id = ? AND deleted = 0 ORDER BY deal_id';
const lockForChange = 'SELECT pg_advisory_xact_lock(hashtextextended(?, 0)) AS locked';
const upsert = `INSERT INTO deal_snapshots
    (portal_id, deal_id, deal_name, amount, amount_home, stage, pipeline, commitment, commitment_summary, effort_weeks, owner_id, deleted, source_updated_at, refreshed_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
    ON CONFLICT (portal_id, deal_id) DO UPDATE SET
      deal_name = excluded.deal_name, amount = excluded.amount, amount_home = excluded.amount_home, stage = excluded.stage, pipeline = excluded.pipeline,
      commitment = excluded.commitment, commitment_summary = excluded.commitment_summary, effort_weeks = excluded.effort_weeks,
      owner_id = excluded.owner_id, deleted = excluded.deleted, source_updated_at = excluded.source_updated_at,
      refreshed_at = excluded.refreshed_at`;

export function dealSnapshotRepository(sql: SqlSession): DealSnapshotRepository {
  return {
    async get(portalId, dealId) {
      const row = await sql.get<SnapshotRow>(get, [portalId, dealId]);
      return row ? toSnapshot(row) : undefined;
    },
    async upsert(portalId, s) {
      await sql.run(upsert, [
        portalId,
        s.dealId,
        s.name,
        s.amount,
        s.amountInHomeCurrency ?? null,
        s.stage,
        s.pipeline,
        s.commitment ? 1 : 0,
        s.commitmentSummary,
        s.effortWeeks,
        s.ownerId,
        s.deleted ? 1 : 0,
        s.sourceUpdatedAt,
        s.refreshedAt,
      ]);
    },
    async list(portalId) {
      return (await sql.all<SnapshotRow>(list, [portalId])).map(toSnapshot);
    },
    async lockForChange(portalId, dealId) {
      if (sql.dialect === 'postgres') await sql.get(lockForChange, [`dealgate.deal:${portalId}:${dealId}`]);
    },
  };
}
