import { createHash } from 'node:crypto';
import type { SqlDialect, SqlSession, SqlValue } from './sql';
import { withinTransaction } from './withinTransaction';
import { selectNewestWhere } from './newestWhere';

/**
 * The webhook inbox: what HubSpot sent and we acknowledged. The webhook route appends each batch
 * to a journal (one row per request: acknowledging costs one insert, whatever the batch size); the
 * inbox worker moves journaled batches into per-event rows, deduplicated on
 * (portal_id, event_key), so a redelivered batch stores nothing new. The inbox worker marks a row
 * done in the same transaction as the effects it records, retries a failing one with backoff (or
 * lets it wait while HubSpot fails for its account) and parks it only when retrying cannot help or
 * its retry window is over (status 'parked', last_error saying which, kept for ops).
 */
export type InboxStatus = 'pending' | 'done' | 'parked';

export interface NewInboxEvent {
  portalId: number;
  eventKey: string;
  objectId: string;
  subscriptionType: string;
  propertyName: string | null;
  propertyValue: string | null;
  changeSource: string | null;
  sourceId: string | null;
  occurredAt: number;
  /** The event as HubSpot sent it (JSON), for ops and reprocessing. */
  payload: string;
}

export interface InboxEvent extends Omit<NewInboxEvent, 'payload'> {
  id: number;
  payload: string;
  receivedAt: number;
  status: InboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  processedAt: number | null;
}

export interface InboxRepository {
  /**
   * Appends a verified, validated webhook body (the JSON array as received) to the journal,
   * committed when this returns. `parsed`, from a caller that has just parsed and validated the
   * body: the batch's inbox events from that parse, kept in memory (up to PARSED_BATCHES_KEPT
   * batches) so the expansion need not parse the body again. Only a hint: the expansion uses it
   * only for the very bytes it came with, and parses the stored body otherwise (after a restart,
   * past the limit, or if another process reused the row id).
   */
  journal(body: Buffer, receivedAt: number, parsed?: () => NewInboxEvent[]): Promise<void>;
  /**
   * Moves up to `limit` journaled batches into the inbox, in arrival order, and deletes them; one
   * transaction, so a batch is either still journaled or fully in the inbox. Returns the events stored (not duplicates).
   * A batch `toEvents` cannot read (throws) is not dropped: it becomes one parked row of
   * subscription type UNREADABLE_BATCH (portal 0, the body in its payload, the reason in last_error);
   * requeueing that row puts the body back in the journal, to be read again.
   */
  expandJournal(limit: number, toEvents: (body: Buffer) => NewInboxEvent[]): Promise<{ batches: number; stored: number }>;
  journalBacklog(): Promise<number>;
  /** Stores events in one transaction; returns how many were new (not duplicates). */
  insertBatch(events: readonly NewInboxEvent[], receivedAt: number): Promise<number>;
  /**
   * Pending events that are due, oldest occurrence first, leaving out every event of a deal that
   * has an event waiting for a retry (so a deal's events are applied in order). `skipPortals`:
   * accounts whose events wait (HubSpot is failing for them): none of their events is taken, so
   * they neither burn attempts nor fill the round ahead of other accounts. `holder`: this
   * instance; the deals a live other instance holds are left out too (their events are its to apply).
   */
  due(now: number, limit: number, skipPortals?: ReadonlySet<number>, holder?: string): Promise<InboxEvent[]>;
  /**
   * Call inside the transaction that records the event's effects. False: the event is no longer
   * pending (another instance applied it, its claim on the deal having run out): the caller rolls
   * its transaction back, so the effects happen once.
   */
  markDone(id: number, at: number): Promise<boolean>;
  /**
   * Claims these deals for `holder` until `now + leaseMs`, in one statement: a deal nobody holds,
   * whose claim has expired, or that `holder` already holds (so an instance restarted with the same
   * id takes its deals back at once). Returns the deals claimed (dealClaimKey); the others are held
   * by a live other instance, which applies their events. On SQLite every deal is granted, nothing
   * written (one owning process).
   */
  claimDeals(holder: string, deals: readonly DealRef[], now: number, leaseMs: number): Promise<Set<string>>;
  /**
   * Extends `holder`'s claims on the deals of `portalIds` (the accounts whose shares run now) to
   * `now + leaseMs`; returns how many. Claims of other accounts (left by a release that failed, or
   * by a previous run under the same id) are left to run out, not kept alive.
   */
  renewDealClaims(holder: string, now: number, leaseMs: number, portalIds: readonly number[]): Promise<number>;
  /** `holder` is done with the deals of this account it holds. */
  releaseDealClaims(holder: string, portalId: number): Promise<void>;
  /** Accounts with a deal under a live claim: their events are being applied (by any instance), their effects still being written. */
  accountsBeingApplied(now: number): Promise<Set<number>>;
  markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): Promise<void>;
  park(id: number, attempts: number, error: string, at: number): Promise<void>;
  /** Parked events go back to pending (ops, after fixing the cause); a parked unreadable batch goes back to the journal. */
  requeue(id: number, now: number): Promise<boolean>;
  get(id: number): Promise<InboxEvent | undefined>;
  list(filter: { status?: InboxStatus; portalId?: number; limit: number }): Promise<InboxEvent[]>;
  countByStatus(): Promise<Record<InboxStatus, number>>;
  /** When the next pending event is due, leaving out the accounts in `skipPortals`. */
  nextDueAt(skipPortals?: ReadonlySet<number>): Promise<number | undefined>;
  /** Pending events of each of these accounts (what waits for HubSpot there). */
  pendingOf(portalIds: readonly number[]): Promise<Map<number, number>>;
}

export interface DealRef {
  portalId: number;
  objectId: string;
}

/** How claimDeals names a deal. */
export const dealClaimKey = (deal: DealRef): string => `${deal.portalId}/${deal.objectId}`;
const claimKeyOfRow = (row: { portal_id: number; object_id: string }) => dealClaimKey({ portalId: Number(row.portal_id), objectId: row.object_id });

interface InboxDbRow {
  id: number;
  portal_id: number;
  event_key: string;
  object_id: string;
  subscription_type: string;
  property_name: string | null;
  property_value: string | null;
  change_source: string | null;
  source_id: string | null;
  occurred_at: number;
  payload: string;
  received_at: number;
  status: InboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  processed_at: number | null;
}

function toEvent(row: InboxDbRow): InboxEvent {
  return {
    id: row.id,
    portalId: row.portal_id,
    eventKey: row.event_key,
    objectId: row.object_id,
    subscriptionType: row.subscription_type,
    propertyName: row.property_name,
    propertyValue: row.property_value,
    changeSource: row.change_source,
    sourceId: row.source_id,
    occurredAt: row.occurred_at,
    payload: row.payload,
    receivedAt: row.received_at,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    processedAt: row.processed_at,
  };
}

/**
 * Parsed batches kept for the expansion: about 64 × 80 KB. Enough while the expansion keeps up
 * (a few batches behind); under a backlog the older batches are parsed from the journal.
 */
export const PARSED_BATCHES_KEPT = 64;

/**
 * Journaled batches expanded per transaction, the event loop free between two (the inbox worker
 * and the ingest benchmark): about 10 ms at most, so a webhook's answer never waits behind a
 * whole backlog.
 */
export const JOURNAL_BATCHES_PER_SLICE = 16;

/**
 * The subscription type of a parked row that holds a journaled batch the worker could not read.
 * The route validates every batch before acknowledging it, so only a corrupted row (or a parser
 * changed since) gets here; what was acknowledged stays visible and can be requeued.
 */
export const UNREADABLE_BATCH = 'dealgate.unreadable_batch';

interface UnreadableBatchPayload {
  unreadableBatch: { batchId: number; bytes: number; text: string; base64: string };
}

/** Rows per INSERT statement: 1,100 parameters, far below SQLite's limit of 32,766. */
const ROWS_PER_INSERT = 100;

/** Batches parsed by the webhook route, by journal row id, for the expansion (shared by every session of one store). */
export type ParsedBatches = Map<number, { body: Buffer; events: () => NewInboxEvent[] }>;

// One multi-row statement per ROWS_PER_INSERT events (its text built once per row count) instead of
// one statement per event, which costs about 40% less per row (the per-call overhead of a
// statement, not the B-tree work). Duplicates are skipped row by row, within the statement too,
// and `changes` counts the rows stored.
// SQLite gets `INSERT OR IGNORE`, not `ON CONFLICT DO NOTHING`: a statement that writes several
// rows and may abort on a constraint (an upsert clause, or plain INSERT) runs inside a statement
// journal, so it can be undone alone, and that journal cost about 10% of a webhook batch's ingest
// (bench/storeCost.ts, issue 13). OR IGNORE never aborts, so SQLite opens none. It would also skip a
// row breaking NOT NULL, where DO NOTHING throws, but every column without a default is a required
// field of a validated event (NewInboxEvent), as in the synchronous store that used it. PostgreSQL
// has only ON CONFLICT.
const insertTexts: Record<SqlDialect, string[]> = { sqlite: [], postgres: [] };
function insertOf(dialect: SqlDialect, rows: number): string {
  let text = insertTexts[dialect][rows];
  if (text === undefined) {
    const values = Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ');
    const columns = '(portal_id, event_key, object_id, subscription_type, property_name, property_value, change_source, source_id, occurred_at, payload, received_at)';
    text = dialect === 'sqlite' ? `INSERT OR IGNORE INTO webhook_inbox ${columns} VALUES ${values}` : `INSERT INTO webhook_inbox ${columns} VALUES ${values} ON CONFLICT DO NOTHING`;
    insertTexts[dialect][rows] = text;
  }
  return text;
}

const appendBatch = 'INSERT INTO webhook_batches (received_at, body) VALUES (?, ?) RETURNING id';
const oldestBatches = 'SELECT id, received_at, body FROM webhook_batches ORDER BY id LIMIT ?';
// PostgreSQL, several instances: the batches read are locked until the expansion commits, and
// batches another instance is expanding are skipped (not waited for, not expanded twice). SQLite
// runs one transaction at a time.
const oldestBatchesLocked = `${oldestBatches} FOR UPDATE SKIP LOCKED`;
const deleteBatch = 'DELETE FROM webhook_batches WHERE id = ?';
const backlog = 'SELECT COUNT(*) AS n FROM webhook_batches';
// Through inbox_retrying (migration 26: only retried events, next_attempt_at > 0, which the
// literal term lets both engines prove), so fresh events never cost this read.
const waiting = `SELECT DISTINCT portal_id, object_id FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at > 0 AND next_attempt_at > ?`;
const done = `UPDATE webhook_inbox SET status = 'done', processed_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'`;
const retry = `UPDATE webhook_inbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'`;
const park = `UPDATE webhook_inbox SET status = 'parked', attempts = ?, last_error = ?, processed_at = ? WHERE id = ? AND status = 'pending'`;
const requeue = `UPDATE webhook_inbox SET status = 'pending', attempts = 0, next_attempt_at = ?, processed_at = NULL
    WHERE id = ? AND status = 'parked' AND subscription_type <> '${UNREADABLE_BATCH}'`;
const parkBatch = `INSERT INTO webhook_inbox (portal_id, event_key, object_id, subscription_type, occurred_at, payload, received_at, status, last_error, processed_at)
    VALUES (0, ?, '', '${UNREADABLE_BATCH}', ?, ?, ?, 'parked', ?, ?) ON CONFLICT DO NOTHING`;
const parkedBatch = `SELECT received_at, payload FROM webhook_inbox WHERE id = ? AND status = 'parked' AND subscription_type = '${UNREADABLE_BATCH}'`;
const deleteParked = `DELETE FROM webhook_inbox WHERE id = ? AND status = 'parked' AND subscription_type = '${UNREADABLE_BATCH}'`;
const pendingOf = `SELECT COUNT(*) AS n FROM webhook_inbox WHERE status = 'pending' AND portal_id = ?`;
const getOne = 'SELECT * FROM webhook_inbox WHERE id = ?';
const counts = 'SELECT status, COUNT(*) AS n FROM webhook_inbox GROUP BY status';
// Per account, through inbox_pending_by_account (status, portal_id, next_attempt_at, occurred_at):
// the accounts with pending events one index step each, an account's fresh events (next_attempt_at
// 0) in occurred order without a sort, its retried ones due by now (few), its next due time.
const nextPendingAccount = `SELECT portal_id FROM webhook_inbox WHERE status = 'pending' AND portal_id > ? ORDER BY portal_id LIMIT 1`;
const freshOfAccount = `SELECT * FROM webhook_inbox WHERE status = 'pending' AND portal_id = ? AND next_attempt_at = 0 ORDER BY occurred_at, id LIMIT ?`;
const retriedOfAccount = `SELECT * FROM webhook_inbox WHERE status = 'pending' AND portal_id = ? AND next_attempt_at > 0 AND next_attempt_at <= ? ORDER BY occurred_at, id LIMIT ?`;
// Deals sorted by (portal, deal) in every claim, so two instances claiming overlapping rounds take
// the rows' locks in one order (PostgreSQL) and never wait for each other in a cycle.
const claimTexts: string[] = [];
function claimOf(rows: number): string {
  let text = claimTexts[rows];
  if (text === undefined) {
    text = `INSERT INTO deal_claims (portal_id, object_id, holder, expires_at)
        VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?)').join(', ')}
        ON CONFLICT (portal_id, object_id) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
        WHERE deal_claims.expires_at <= ? OR deal_claims.holder = excluded.holder
        RETURNING portal_id, object_id`;
    claimTexts[rows] = text;
  }
  return text;
}
/** Deals per claim statement: 2,001 parameters. */
const DEALS_PER_CLAIM = 500;
const renewClaimsOf = (accounts: number) => `UPDATE deal_claims SET expires_at = ? WHERE holder = ? AND portal_id IN (${Array.from({ length: accounts }, () => '?').join(', ')})`;
const releaseClaims = 'DELETE FROM deal_claims WHERE holder = ? AND portal_id = ?';
const claimedElsewhere = 'SELECT portal_id, object_id FROM deal_claims WHERE holder <> ? AND expires_at > ?';
const accountsClaimed = 'SELECT DISTINCT portal_id FROM deal_claims WHERE expires_at > ?';
const nextDueOfAccount = `SELECT MIN(next_attempt_at) AS at FROM webhook_inbox WHERE status = 'pending' AND portal_id = ?`;
// With no account left out: due now if any fresh event waits (the first pending entry of the
// by-account index is one, unless only retried events are pending, which are few), else the
// earliest retry, one step of inbox_retrying.
const anyFresh = `SELECT 1 AS fresh FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at = 0 LIMIT 1`;
const nextRetry = `SELECT MIN(next_attempt_at) AS at FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at > 0`;

export function inboxRepository(sql: SqlSession, parsedBatches: ParsedBatches = new Map()): InboxRepository {
  // Deal claims are kept on PostgreSQL only: SQLite has one owning process, whose inbox worker
  // applies an account's events one share at a time, so every deal is its own. Its claims are
  // granted without a write (about 15% of a 500-event round's store work in bench/claimsRoundCost.ts).
  const claimsKept = sql.dialect === 'postgres';
  return { ...journalCalls(sql, parsedBatches), ...dueCalls(sql, claimsKept), ...claimCalls(sql, claimsKept), ...statusCalls(sql) };
}

async function insertRows(tx: SqlSession, events: readonly NewInboxEvent[], receivedAt: number): Promise<number> {
  let stored = 0;
  for (let start = 0; start < events.length; start += ROWS_PER_INSERT) {
    const end = Math.min(events.length, start + ROWS_PER_INSERT);
    const params: SqlValue[] = [];
    for (let i = start; i < end; i++) {
      const e = events[i]!;
      params.push(e.portalId, e.eventKey, e.objectId, e.subscriptionType, e.propertyName, e.propertyValue, e.changeSource, e.sourceId, e.occurredAt, e.payload, receivedAt);
    }
    stored += (await tx.run(insertOf(tx.dialect, end - start), params)).changes;
  }
  return stored;
}

async function parkUnreadable(tx: SqlSession, batch: { id: number; received_at: number; body: Buffer }, error: unknown): Promise<void> {
  const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
  const payload: UnreadableBatchPayload = {
    unreadableBatch: { batchId: batch.id, bytes: batch.body.length, text: batch.body.toString('utf8'), base64: batch.body.toString('base64') },
  };
  const key = `unreadable-batch:${createHash('sha256').update(batch.body).digest('hex')}`;
  await tx.run(parkBatch, [
    key,
    batch.received_at,
    JSON.stringify(payload),
    batch.received_at,
    `parked, the stored webhook batch cannot be read (none of its events was applied): ${reason}`,
    batch.received_at,
  ]);
}

async function expand(tx: SqlSession, parsedBatches: ParsedBatches, limit: number, toEvents: (body: Buffer) => NewInboxEvent[]): Promise<{ batches: number; stored: number }> {
  // A hint is kept only once its batch was committed, so one taken before this read whose batch
  // the read does not find (below the oldest it found, or not there at all when it found them
  // all) was expanded, or is being expanded, elsewhere (another instance) and is dropped: stale
  // hints would fill the room kept for them (should that expansion roll back, the batch is
  // parsed from the journal).
  const hinted = [...parsedBatches.keys()];
  const batches = await tx.all<{ id: number; received_at: number; body: Buffer }>(tx.dialect === 'postgres' ? oldestBatchesLocked : oldestBatches, [limit]);
  const found = new Set(batches.map((b) => b.id));
  const oldest = batches.length < limit ? Number.POSITIVE_INFINITY : (batches[0]?.id ?? Number.POSITIVE_INFINITY);
  for (const id of hinted) if (!found.has(id) && id < oldest) parsedBatches.delete(id);
  let stored = 0;
  for (const batch of batches) {
    const kept = parsedBatches.get(batch.id);
    parsedBatches.delete(batch.id);
    let events: NewInboxEvent[] | undefined;
    try {
      events = kept && kept.body.equals(batch.body) ? kept.events() : toEvents(batch.body);
    } catch (error) {
      await parkUnreadable(tx, batch, error);
    }
    if (events) stored += await insertRows(tx, events, batch.received_at);
    await tx.run(deleteBatch, [batch.id]);
  }
  return { batches: batches.length, stored };
}

/** An unreadable batch goes back to the journal whole (read again by the next expansion; parked again if it still cannot be). */
async function requeueBatch(tx: SqlSession, id: number): Promise<boolean> {
  const row = await tx.get<{ received_at: number; payload: string }>(parkedBatch, [id]);
  if (!row) return false;
  const { unreadableBatch } = JSON.parse(row.payload) as UnreadableBatchPayload;
  await tx.get<{ id: number }>(appendBatch, [row.received_at, Buffer.from(unreadableBatch.base64, 'base64')]);
  await tx.run(deleteParked, [id]);
  return true;
}

/** Accounts with pending events, in portal order, leaving out `skip` (one index step per account, however many events each holds). */
async function pendingAccounts(sql: SqlSession, skip: ReadonlySet<number>): Promise<number[]> {
  const portals: number[] = [];
  let after = -1;
  for (;;) {
    const row = await sql.get<{ portal_id: number }>(nextPendingAccount, [after]);
    if (!row) return portals;
    after = Number(row.portal_id);
    if (!skip.has(after)) portals.push(after);
  }
}

/** Deals a live instance other than `holder` holds: their events are left to it. */
async function heldElsewhere(sql: SqlSession, claimsKept: boolean, holder: string | undefined, now: number): Promise<Set<string>> {
  return holder === undefined || !claimsKept ? new Set<string>() : new Set((await sql.all<{ portal_id: number; object_id: string }>(claimedElsewhere, [holder, now])).map(claimKeyOfRow));
}

async function claimSorted(sql: SqlSession, claimsKept: boolean, holder: string, deals: readonly DealRef[], now: number, leaseMs: number): Promise<Set<string>> {
  if (!claimsKept) return new Set(deals.map(dealClaimKey));
  const sorted = [...new Map(deals.map((d) => [dealClaimKey(d), d])).values()].sort((a, b) => a.portalId - b.portalId || (a.objectId < b.objectId ? -1 : a.objectId > b.objectId ? 1 : 0));
  const claimed = new Set<string>();
  for (let start = 0; start < sorted.length; start += DEALS_PER_CLAIM) {
    const part = sorted.slice(start, start + DEALS_PER_CLAIM);
    const params: SqlValue[] = part.flatMap((d) => [d.portalId, d.objectId, holder, now + leaseMs]);
    params.push(now);
    for (const row of await sql.all<{ portal_id: number; object_id: string }>(claimOf(part.length), params)) claimed.add(claimKeyOfRow(row));
  }
  return claimed;
}

const byOccurrence = (a: InboxDbRow, b: InboxDbRow) => Number(a.occurred_at) - Number(b.occurred_at) || Number(a.id) - Number(b.id);

/** The journal of webhook batches: appended on receipt, expanded into events, a parked batch requeued. */
function journalCalls(sql: SqlSession, parsedBatches: ParsedBatches): Pick<InboxRepository, 'journal' | 'expandJournal' | 'journalBacklog' | 'insertBatch' | 'requeue'> {
  return {
    async journal(body, receivedAt, parsed) {
      const id = (await sql.get<{ id: number }>(appendBatch, [receivedAt, body]))!.id;
      if (parsed && parsedBatches.size < PARSED_BATCHES_KEPT) parsedBatches.set(id, { body, events: parsed });
    },
    expandJournal(limit, toEvents) {
      return withinTransaction(sql, (tx) => expand(tx, parsedBatches, limit, toEvents));
    },
    async journalBacklog() {
      return (await sql.get<{ n: number }>(backlog))?.n ?? 0;
    },
    async insertBatch(events, receivedAt) {
      if (events.length === 0) return 0;
      // One statement needs no transaction of its own; more must land together.
      if (events.length <= ROWS_PER_INSERT) return insertRows(sql, events, receivedAt);
      return withinTransaction(sql, (tx) => insertRows(tx, events, receivedAt));
    },
    async requeue(id, now) {
      if ((await sql.run(requeue, [now, id])).changes === 1) return true;
      // Read the parked batch and move it back in one transaction: it lands in the journal once.
      return withinTransaction(sql, (tx) => requeueBatch(tx, id));
    },
  };
}

/** What is due, and its outcome: done, retried later, parked. */
function dueCalls(sql: SqlSession, claimsKept: boolean): Pick<InboxRepository, 'due' | 'markDone' | 'markRetry' | 'park' | 'nextDueAt'> {
  return {
    async due(now, limit, skipPortals, holder) {
      const blocked = new Set((await sql.all<{ portal_id: number; object_id: string }>(waiting, [now])).map((r) => `${r.portal_id}/${r.object_id}`));
      for (const deal of await heldElsewhere(sql, claimsKept, holder, now)) blocked.add(deal);
      // Account by account, at most `limit` of each read in index order, then the oldest `limit` of
      // those: neither leaving out a busy account nor taking the oldest means reading (and sorting)
      // a whole backlog, which held the event loop 100-400 ms per round at 100,000 pending (issue 12).
      const rows: InboxDbRow[] = [];
      for (const portalId of await pendingAccounts(sql, skipPortals ?? new Set())) {
        rows.push(...(await sql.all<InboxDbRow>(freshOfAccount, [portalId, limit])), ...(await sql.all<InboxDbRow>(retriedOfAccount, [portalId, now, limit])));
      }
      const open = blocked.size === 0 ? rows : rows.filter((r) => !blocked.has(`${r.portal_id}/${r.object_id}`));
      return open.sort(byOccurrence).slice(0, limit).map(toEvent);
    },
    markDone(id, at) {
      // A `then`, not an async method: one promise fewer on every event an inbox round applies.
      return sql.run(done, [at, id]).then((result) => result.changes === 1);
    },
    async markRetry(id, attempts, error, nextAttemptAt) {
      await sql.run(retry, [attempts, error, nextAttemptAt, id]);
    },
    async park(id, attempts, error, at) {
      await sql.run(park, [attempts, error, at, id]);
    },
    async nextDueAt(skipPortals) {
      if (skipPortals === undefined || skipPortals.size === 0) {
        if (await sql.get(anyFresh)) return 0;
        const at = (await sql.get<{ at: number | string | null }>(nextRetry))?.at;
        return at === null || at === undefined ? undefined : Number(at);
      }
      // Accounts left out: the others one by one through inbox_pending_by_account (one index step each).
      let next: number | undefined;
      for (const portalId of await pendingAccounts(sql, skipPortals)) {
        const at = (await sql.get<{ at: number | string | null }>(nextDueOfAccount, [portalId]))?.at;
        if (at === null || at === undefined) continue;
        if (next === undefined || Number(at) < next) next = Number(at);
        if (next === 0) break;
      }
      return next;
    },
  };
}

/** Claims on deals (kept on PostgreSQL only, see inboxRepository). */
function claimCalls(sql: SqlSession, claimsKept: boolean): Pick<InboxRepository, 'claimDeals' | 'renewDealClaims' | 'releaseDealClaims' | 'accountsBeingApplied'> {
  return {
    claimDeals(holder, deals, now, leaseMs) {
      return claimSorted(sql, claimsKept, holder, deals, now, leaseMs);
    },
    async renewDealClaims(holder, now, leaseMs, portalIds) {
      if (!claimsKept || portalIds.length === 0) return 0;
      return (await sql.run(renewClaimsOf(portalIds.length), [now + leaseMs, holder, ...portalIds])).changes;
    },
    async releaseDealClaims(holder, portalId) {
      if (claimsKept) await sql.run(releaseClaims, [holder, portalId]);
    },
    async accountsBeingApplied(now) {
      if (!claimsKept) return new Set<number>();
      return new Set((await sql.all<{ portal_id: number }>(accountsClaimed, [now])).map((r) => Number(r.portal_id)));
    },
  };
}

/** Reads for the ops routes and the sweeps. */
function statusCalls(sql: SqlSession): Pick<InboxRepository, 'get' | 'list' | 'countByStatus' | 'pendingOf'> {
  return {
    async get(id) {
      const row = await sql.get<InboxDbRow>(getOne, [id]);
      return row ? toEvent(row) : undefined;
    },
    async list(filter) {
      return (await selectNewestWhere<InboxDbRow>(sql, 'webhook_inbox', { status: filter.status, portal_id: filter.portalId }, filter.limit)).map(toEvent);
    },
    async countByStatus() {
      const result: Record<InboxStatus, number> = { pending: 0, done: 0, parked: 0 };
      for (const row of await sql.all<{ status: InboxStatus; n: number }>(counts)) result[row.status] = row.n;
      return result;
    },
    async pendingOf(portalIds) {
      const result = new Map<number, number>();
      for (const portalId of portalIds) result.set(portalId, (await sql.get<{ n: number }>(pendingOf, [portalId]))?.n ?? 0);
      return result;
    },
  };
}
