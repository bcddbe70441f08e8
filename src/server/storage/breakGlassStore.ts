import type { BreakGlass, BreakGlassEnd } from '../domain/breakGlass';
import type { SqlSession } from './sql';

/**
 * Break-glasses (issue 15, migration 25): one deal let past the gate without review, by whom, why
 * and until when, and how it ended. At most one open per deal (a partial unique index): a second
 * open of the same deal stores nothing. Closing is a conditional update, so the expiry round closes
 * each once however many instances run it.
 */
/** A break-glass as opened: everything but its id and its end. */
export type NewBreakGlass = Omit<BreakGlass, 'id' | 'closedAt' | 'closedAs'>;

export interface BreakGlassRepository {
  /** Returns the new id, or undefined when the deal has an open break-glass already. */
  open(glass: NewBreakGlass): Promise<number | undefined>;
  openForDeal(portalId: number, dealId: string): Promise<BreakGlass | undefined>;
  /** The deal's break-glasses, oldest first. */
  listForDeal(portalId: number, dealId: string): Promise<BreakGlass[]>;
  /** The account's open ones, soonest to end first. */
  listOpen(portalId: number, limit: number): Promise<BreakGlass[]>;
  /** Open ones of every account, soonest to end first (the expiry round). */
  listOpenEverywhere(limit: number): Promise<BreakGlass[]>;
  /** How many each person opened since `since`, most first. */
  countByOpener(portalId: number, since: number): Promise<{ userId: string; count: number }[]>;
  /** Closes it if still open; false when it was closed already. */
  close(portalId: number, id: number, as: BreakGlassEnd, at: number): Promise<boolean>;
}

interface Row {
  id: number;
  portal_id: number;
  deal_id: string;
  opened_by: string;
  reason: string;
  opened_at: number;
  until_at: number;
  closed_at: number | null;
  closed_as: BreakGlassEnd | null;
}

function toBreakGlass(row: Row): BreakGlass {
  return {
    id: Number(row.id),
    portalId: Number(row.portal_id),
    dealId: row.deal_id,
    openedBy: row.opened_by,
    reason: row.reason,
    openedAt: Number(row.opened_at),
    until: Number(row.until_at),
    closedAt: row.closed_at === null ? null : Number(row.closed_at),
    closedAs: row.closed_as,
  };
}

const insert = `INSERT INTO break_glasses (portal_id, deal_id, opened_by, reason, opened_at, until_at)
    VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`;
const openOfDeal = 'SELECT * FROM break_glasses WHERE portal_id = ? AND deal_id = ? AND closed_at IS NULL';
const ofDeal = 'SELECT * FROM break_glasses WHERE portal_id = ? AND deal_id = ? ORDER BY id';
const openOfAccount = 'SELECT * FROM break_glasses WHERE portal_id = ? AND closed_at IS NULL ORDER BY until_at, id LIMIT ?';
const openEverywhere = 'SELECT * FROM break_glasses WHERE closed_at IS NULL ORDER BY until_at, id LIMIT ?';
const byOpener = `SELECT opened_by, COUNT(*) AS n FROM break_glasses WHERE portal_id = ? AND opened_at >= ?
    GROUP BY opened_by ORDER BY n DESC, opened_by`;
const closeOne = 'UPDATE break_glasses SET closed_at = ?, closed_as = ? WHERE portal_id = ? AND id = ? AND closed_at IS NULL';

export function breakGlassRepository(sql: SqlSession): BreakGlassRepository {
  return {
    async open(g) {
      const row = await sql.get<{ id: number }>(insert, [g.portalId, g.dealId, g.openedBy, g.reason, g.openedAt, g.until]);
      return row === undefined ? undefined : Number(row.id);
    },
    async openForDeal(portalId, dealId) {
      const row = await sql.get<Row>(openOfDeal, [portalId, dealId]);
      return row === undefined ? undefined : toBreakGlass(row);
    },
    async listForDeal(portalId, dealId) {
      return (await sql.all<Row>(ofDeal, [portalId, dealId])).map(toBreakGlass);
    },
    async listOpen(portalId, limit) {
      return (await sql.all<Row>(openOfAccount, [portalId, limit])).map(toBreakGlass);
    },
    async listOpenEverywhere(limit) {
      return (await sql.all<Row>(openEverywhere, [limit])).map(toBreakGlass);
    },
    async countByOpener(portalId, since) {
      return (await sql.all<{ opened_by: string; n: number }>(byOpener, [portalId, since])).map((r) => ({ userId: r.opened_by, count: Number(r.n) }));
    },
    async close(portalId, id, as, at) {
      return (await sql.run(closeOne, [at, as, portalId, id])).changes === 1;
    },
  };
}
