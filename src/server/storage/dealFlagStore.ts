import type { DealFlagKind } from '../../../extensions/contract/api';
import type { SqlSession } from './sql';

/**
 * Deals past the gate that Dealgate flagged instead of moving (a won deal under afterClose=flag,
 * a deal found by the install sweep, a deal caught by tightened rules), and passages under a
 * relaxed rule. A flag is open until the deal no longer needs it (covered by a decision, no
 * longer requiring review, back before the gate) or an admin's action enforces it.
 */
export interface NewDealFlag {
  portalId: number;
  dealId: string;
  kind: DealFlagKind;
  reason: string;
  settingsChangeId: number | null;
  /** One flag per cause: a second record with the same key is ignored. */
  dedupeKey: string;
}

export interface DealFlag extends NewDealFlag {
  id: number;
  createdAt: number;
  resolvedAt: number | null;
  resolution: string | null;
}

export interface DealFlagRepository {
  /** Returns the new id, or undefined when a flag with this key exists. */
  record(flag: NewDealFlag, at: number): Promise<number | undefined>;
  /** Open flags, newest first, optionally of one kind. */
  listOpen(portalId: number, filter: { kind?: DealFlagKind; limit: number }): Promise<DealFlag[]>;
  countOpen(portalId: number): Promise<Record<DealFlagKind, number>>;
  openForDeal(portalId: number, dealId: string): Promise<DealFlag[]>;
  /** Resolves the deal's open flags of these kinds; returns the ids it resolved. */
  resolveForDeal(portalId: number, dealId: string, kinds: readonly DealFlagKind[], resolution: string, at: number): Promise<number[]>;
  resolve(portalId: number, id: number, resolution: string, at: number): Promise<boolean>;
}

interface Row {
  id: number;
  portal_id: number;
  deal_id: string;
  kind: DealFlagKind;
  reason: string;
  settings_change_id: number | null;
  dedupe_key: string;
  created_at: number;
  resolved_at: number | null;
  resolution: string | null;
}

function toFlag(row: Row): DealFlag {
  return {
    id: row.id,
    portalId: row.portal_id,
    dealId: row.deal_id,
    kind: row.kind,
    reason: row.reason,
    settingsChangeId: row.settings_change_id,
    dedupeKey: row.dedupe_key,
    createdAt: row.created_at,
    resolvedAt: row.resolved_at,
    resolution: row.resolution,
  };
}

// A second flag with the same dedupe key stores nothing and returns no row.
const insert = `INSERT INTO deal_flags (portal_id, deal_id, kind, reason, settings_change_id, dedupe_key, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`;
const open = 'SELECT * FROM deal_flags WHERE portal_id = ? AND resolved_at IS NULL ORDER BY id DESC LIMIT ?';
const openOfKind = 'SELECT * FROM deal_flags WHERE portal_id = ? AND resolved_at IS NULL AND kind = ? ORDER BY id DESC LIMIT ?';
const counts = 'SELECT kind, COUNT(*) AS n FROM deal_flags WHERE portal_id = ? AND resolved_at IS NULL GROUP BY kind';
const forDeal = 'SELECT * FROM deal_flags WHERE portal_id = ? AND deal_id = ? AND resolved_at IS NULL ORDER BY id';
const resolveOne = 'UPDATE deal_flags SET resolved_at = ?, resolution = ? WHERE portal_id = ? AND id = ? AND resolved_at IS NULL';

export function dealFlagRepository(sql: SqlSession): DealFlagRepository {
  return {
    async record(f, at) {
      const row = await sql.get<{ id: number }>(insert, [f.portalId, f.dealId, f.kind, f.reason, f.settingsChangeId, f.dedupeKey, at]);
      return row?.id;
    },
    async listOpen(portalId, filter) {
      const rows =
        filter.kind === undefined
          ? await sql.all<Row>(open, [portalId, filter.limit])
          : await sql.all<Row>(openOfKind, [portalId, filter.kind, filter.limit]);
      return rows.map(toFlag);
    },
    async countOpen(portalId) {
      const result: Record<DealFlagKind, number> = { after_close: 0, backfill: 0, rules_tightened: 0, relaxed_passage: 0 };
      for (const row of await sql.all<{ kind: DealFlagKind; n: number }>(counts, [portalId])) result[row.kind] = row.n;
      return result;
    },
    async openForDeal(portalId, dealId) {
      return (await sql.all<Row>(forDeal, [portalId, dealId])).map(toFlag);
    },
    async resolveForDeal(portalId, dealId, kinds, resolution, at) {
      const resolved: number[] = [];
      for (const flag of await sql.all<Row>(forDeal, [portalId, dealId])) {
        if (kinds.includes(flag.kind) && (await sql.run(resolveOne, [at, resolution, portalId, flag.id])).changes === 1) resolved.push(flag.id);
      }
      return resolved;
    },
    async resolve(portalId, id, resolution, at) {
      return (await sql.run(resolveOne, [at, resolution, portalId, id])).changes === 1;
    },
  };
}
