import type { SqlSession } from './sql';
import { withinTransaction } from './withinTransaction';

/**
 * Where each account's sweeps of HubSpot stand (migration 6): one row per account and kind.
 *
 * - `backfill`, the install sweep: run once per account (again only when asked), page by page;
 *   each page's cursor is written in the transaction that stores the page's inbox events, so a
 *   restart goes on from the last page stored.
 * - `reconcile`, the periodic sweep: `watermark` is the time up to which every change has been
 *   swept (a pass's start); the next pass looks from there (less an overlap) and moves it on when done.
 *
 * A row is created for every provisioned account (`enrollProvisioned`), so accounts provisioned
 * before sweeps existed get their backfill too.
 */
export type SweepKind = 'backfill' | 'reconcile';
export type SweepStatus = 'pending' | 'running' | 'finished';

/** Where a paged search stands (hubspot/searchPaging.ts): the last record id taken, null at the start. */
export interface SweepCursor {
  lastId: string | null;
  /** Reconciliation: the pass looks at deals modified from this HubSpot time (ms) on. */
  since?: number;
}

export interface SweepState {
  portalId: number;
  kind: SweepKind;
  /** Passes started so far; the pass's sweep id is `<kind>-<run>`. */
  run: number;
  status: SweepStatus;
  /** When the current (or last) pass started. */
  startedAt: number | null;
  finishedAt: number | null;
  /** Deals the current (or last) pass went through. */
  checked: number;
  /** Deals HubSpot counts for the pass (an estimate while it runs: deals change meanwhile). */
  total: number | null;
  /** Inbox events the pass stored (deals it found that no earlier sweep had at the same modification time). */
  inserted: number;
  cursor: SweepCursor | null;
  /** Reconcile: changes up to this time are swept (the start of the last pass that finished). Backfill: null. */
  watermark: number | null;
  /** Not before this time (the next pass, a retry, or a pause while the inbox catches up). */
  nextAt: number;
  /** Failed attempts in a row (for the backoff); 0 after a page that worked. */
  attempts: number;
  lastError: string | null;
  updatedAt: number;
}

export interface SweepPage {
  checked: number;
  inserted: number;
  total: number;
  cursor: SweepCursor;
  at: number;
}

export interface SweepRepository {
  /**
   * Gives every provisioned account without sweep rows a pending backfill and a reconcile row
   * whose watermark is `now` (changes before it are the backfill's) and next pass `reconcileAt`.
   * Returns the accounts enrolled.
   */
  enrollProvisioned(now: number, reconcileAt: number): Promise<number[]>;
  get(portalId: number, kind: SweepKind): Promise<SweepState | undefined>;
  /** Every row, or one account's; by account, backfill first. */
  list(portalId?: number): Promise<SweepState[]>;
  /** Rows to work on now: unfinished backfills and reconcile rows (when `reconcile`) whose time has come. */
  due(now: number, options: { reconcile: boolean }): Promise<SweepState[]>;
  nextDueAt(options: { reconcile: boolean }): Promise<number | undefined>;
  /** A new pass: counts reset, the cursor at its start. */
  start(portalId: number, kind: SweepKind, cursor: SweepCursor, at: number): Promise<SweepState | undefined>;
  /** A page went through: counts added, the cursor moved on. Call in the transaction that stores the page's events. */
  recordPage(portalId: number, kind: SweepKind, page: SweepPage): Promise<void>;
  finish(portalId: number, kind: SweepKind, at: number, next: { nextAt: number; watermark?: number }): Promise<void>;
  fail(portalId: number, kind: SweepKind, attempts: number, error: string, nextAt: number, at: number): Promise<void>;
  /** Not before `nextAt`, without counting a failure (the inbox is catching up). */
  postpone(portalId: number, kind: SweepKind, nextAt: number): Promise<void>;
  /**
   * Brings every waiting reconciliation forward to an interval after its last pass started (or
   * after enrollment) when it was planned later: the interval in force now, not the one a pass
   * finished under (DEALGATE_RECONCILE_SECONDS lowered across a restart). Returns the rows moved.
   */
  applyReconcileInterval(intervalMs: number): Promise<number>;
  /** The install sweep again from the start (an admin changed what it looks for, or asks to). False when the account has none. */
  rerunBackfill(portalId: number, now: number): Promise<boolean>;
  /** The account's inbox events of this subscription type still waiting (the sweeps' own, to pace themselves). */
  pendingInboxEvents(portalId: number, subscriptionType: string): Promise<number>;
}

interface SweepRow {
  portal_id: number;
  kind: SweepKind;
  run: number;
  status: SweepStatus;
  started_at: number | null;
  finished_at: number | null;
  checked: number;
  total: number | null;
  inserted: number;
  cursor: string | null;
  watermark: number | null;
  next_at: number;
  attempts: number;
  last_error: string | null;
  updated_at: number;
}

function toState(row: SweepRow): SweepState {
  return {
    portalId: row.portal_id,
    kind: row.kind,
    run: row.run,
    status: row.status,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    checked: row.checked,
    total: row.total,
    inserted: row.inserted,
    cursor: row.cursor === null ? null : (JSON.parse(row.cursor) as SweepCursor),
    watermark: row.watermark,
    nextAt: row.next_at,
    attempts: row.attempts,
    lastError: row.last_error,
    updatedAt: row.updated_at,
  };
}

const newAccounts = `SELECT portal_id FROM accounts WHERE provisioned_at IS NOT NULL
       AND portal_id NOT IN (SELECT portal_id FROM deal_sweeps WHERE kind = 'backfill') ORDER BY portal_id`;
const enroll = `INSERT INTO deal_sweeps (portal_id, kind, status, watermark, next_at, updated_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
const get = 'SELECT * FROM deal_sweeps WHERE portal_id = ? AND kind = ?';
const listAll = `SELECT * FROM deal_sweeps ORDER BY portal_id, kind`;
const listOne = `SELECT * FROM deal_sweeps WHERE portal_id = ? ORDER BY kind`;
const dueWith = `SELECT * FROM deal_sweeps WHERE next_at <= ? AND (kind = 'reconcile' OR status <> 'finished') ORDER BY next_at, portal_id`;
const dueBackfills = `SELECT * FROM deal_sweeps WHERE next_at <= ? AND kind = 'backfill' AND status <> 'finished' ORDER BY next_at, portal_id`;
const nextWith = `SELECT MIN(next_at) AS at FROM deal_sweeps WHERE kind = 'reconcile' OR status <> 'finished'`;
const nextBackfill = `SELECT MIN(next_at) AS at FROM deal_sweeps WHERE kind = 'backfill' AND status <> 'finished'`;
const start = `UPDATE deal_sweeps SET run = run + 1, status = 'running', started_at = ?, finished_at = NULL, checked = 0, total = NULL,
       inserted = 0, cursor = ?, attempts = 0, last_error = NULL, updated_at = ? WHERE portal_id = ? AND kind = ?`;
const page = `UPDATE deal_sweeps SET checked = checked + ?, inserted = inserted + ?, total = ?, cursor = ?, attempts = 0, last_error = NULL,
       updated_at = ? WHERE portal_id = ? AND kind = ?`;
const finish = `UPDATE deal_sweeps SET status = 'finished', finished_at = ?, cursor = NULL, next_at = ?, watermark = COALESCE(?, watermark),
       attempts = 0, last_error = NULL, updated_at = ? WHERE portal_id = ? AND kind = ?`;
const fail = `UPDATE deal_sweeps SET attempts = ?, last_error = ?, next_at = ?, updated_at = ? WHERE portal_id = ? AND kind = ?`;
const postpone = `UPDATE deal_sweeps SET next_at = ? WHERE portal_id = ? AND kind = ?`;
const reschedule = `UPDATE deal_sweeps SET next_at = COALESCE(started_at, updated_at) + @interval
       WHERE kind = 'reconcile' AND status = 'finished' AND next_at > COALESCE(started_at, updated_at) + @interval`;
const rerun = `UPDATE deal_sweeps SET status = 'pending', next_at = ?, attempts = 0, last_error = NULL, updated_at = ? WHERE portal_id = ? AND kind = 'backfill'`;
const pendingEvents = `SELECT COUNT(*) AS n FROM webhook_inbox WHERE status = 'pending' AND portal_id = ? AND subscription_type = ?`;

export function sweepRepository(sql: SqlSession): SweepRepository {
  const enrollAll = async (tx: SqlSession, now: number, reconcileAt: number) => {
    const portals = (await tx.all<{ portal_id: number }>(newAccounts)).map((r) => r.portal_id);
    for (const portalId of portals) {
      await tx.run(enroll, [portalId, 'backfill', 'pending', null, 0, now]);
      await tx.run(enroll, [portalId, 'reconcile', 'finished', now, reconcileAt, now]);
    }
    return portals;
  };

  return {
    enrollProvisioned(now, reconcileAt) {
      return withinTransaction(sql, (tx) => enrollAll(tx, now, reconcileAt));
    },
    async get(portalId, kind) {
      const row = await sql.get<SweepRow>(get, [portalId, kind]);
      return row ? toState(row) : undefined;
    },
    async list(portalId) {
      return (portalId === undefined ? await sql.all<SweepRow>(listAll) : await sql.all<SweepRow>(listOne, [portalId])).map(toState);
    },
    async due(now, options) {
      return (await sql.all<SweepRow>(options.reconcile ? dueWith : dueBackfills, [now])).map(toState);
    },
    async nextDueAt(options) {
      return (await sql.get<{ at: number | null }>(options.reconcile ? nextWith : nextBackfill))?.at ?? undefined;
    },
    async start(portalId, kind, cursor, at) {
      await sql.run(start, [at, JSON.stringify(cursor), at, portalId, kind]);
      const row = await sql.get<SweepRow>(get, [portalId, kind]);
      return row ? toState(row) : undefined;
    },
    async recordPage(portalId, kind, p) {
      await sql.run(page, [p.checked, p.inserted, p.total, JSON.stringify(p.cursor), p.at, portalId, kind]);
    },
    async finish(portalId, kind, at, next) {
      await sql.run(finish, [at, next.nextAt, next.watermark ?? null, at, portalId, kind]);
    },
    async fail(portalId, kind, attempts, error, nextAt, at) {
      await sql.run(fail, [attempts, error, nextAt, at, portalId, kind]);
    },
    async postpone(portalId, kind, nextAt) {
      await sql.run(postpone, [nextAt, portalId, kind]);
    },
    async applyReconcileInterval(intervalMs) {
      return (await sql.run(reschedule, { interval: intervalMs })).changes;
    },
    async rerunBackfill(portalId, now) {
      return (await sql.run(rerun, [now, now, portalId])).changes === 1;
    },
    async pendingInboxEvents(portalId, subscriptionType) {
      return (await sql.get<{ n: number }>(pendingEvents, [portalId, subscriptionType]))?.n ?? 0;
    },
  };
}
