import type { DealFlagKind } from '../../../extensions/contract/api';
import type { Db } from './db';

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
  record(flag: NewDealFlag, at: number): number | undefined;
  /** Open flags, newest first, optionally of one kind. */
  listOpen(portalId: number, filter: { kind?: DealFlagKind; limit: number }): DealFlag[];
  countOpen(portalId: number): Record<DealFlagKind, number>;
  openForDeal(portalId: number, dealId: string): DealFlag[];
  /** Resolves the deal's open flags of these kinds; returns the ids it resolved. */
  resolveForDeal(portalId: number, dealId: string, kinds: readonly DealFlagKind[], resolution: string, at: number): number[];
  resolve(portalId: number, id: number, resolution: string, at: number): boolean;
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

export function sqliteDealFlags(db: Db): DealFlagRepository {
  const insert = db.prepare(`INSERT OR IGNORE INTO deal_flags (portal_id, deal_id, kind, reason, settings_change_id, dedupe_key, created_at)
    VALUES (?, ?, ?, ?, ?, ?, ?)`);
  const open = db.prepare<[number, number], Row>('SELECT * FROM deal_flags WHERE portal_id = ? AND resolved_at IS NULL ORDER BY id DESC LIMIT ?');
  const openOfKind = db.prepare<[number, string, number], Row>(
    'SELECT * FROM deal_flags WHERE portal_id = ? AND resolved_at IS NULL AND kind = ? ORDER BY id DESC LIMIT ?',
  );
  const counts = db.prepare<[number], { kind: DealFlagKind; n: number }>(
    'SELECT kind, COUNT(*) AS n FROM deal_flags WHERE portal_id = ? AND resolved_at IS NULL GROUP BY kind',
  );
  const forDeal = db.prepare<[number, string], Row>('SELECT * FROM deal_flags WHERE portal_id = ? AND deal_id = ? AND resolved_at IS NULL ORDER BY id');
  const resolveOne = db.prepare('UPDATE deal_flags SET resolved_at = ?, resolution = ? WHERE portal_id = ? AND id = ? AND resolved_at IS NULL');
  return {
    record(f, at) {
      const result = insert.run(f.portalId, f.dealId, f.kind, f.reason, f.settingsChangeId, f.dedupeKey, at);
      return result.changes === 1 ? Number(result.lastInsertRowid) : undefined;
    },
    listOpen(portalId, filter) {
      const rows = filter.kind === undefined ? open.all(portalId, filter.limit) : openOfKind.all(portalId, filter.kind, filter.limit);
      return rows.map(toFlag);
    },
    countOpen(portalId) {
      const result: Record<DealFlagKind, number> = { after_close: 0, backfill: 0, rules_tightened: 0, relaxed_passage: 0 };
      for (const row of counts.all(portalId)) result[row.kind] = row.n;
      return result;
    },
    openForDeal(portalId, dealId) {
      return forDeal.all(portalId, dealId).map(toFlag);
    },
    resolveForDeal(portalId, dealId, kinds, resolution, at) {
      const resolved: number[] = [];
      for (const flag of forDeal.all(portalId, dealId)) {
        if (kinds.includes(flag.kind) && resolveOne.run(at, resolution, portalId, flag.id).changes === 1) resolved.push(flag.id);
      }
      return resolved;
    },
    resolve(portalId, id, resolution, at) {
      return resolveOne.run(at, resolution, portalId, id).changes === 1;
    },
  };
}
