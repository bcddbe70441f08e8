import { createHash } from 'node:crypto';
import type { Statement } from 'better-sqlite3';
import type { Db } from '../storage/db';
import { selectNewestWhere } from '../storage/newestWhere';

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
  journal(body: Buffer, receivedAt: number, parsed?: () => NewInboxEvent[]): void;
  /**
   * Moves up to `limit` journaled batches into the inbox, in arrival order, and deletes them; one
   * transaction, so a batch is either still journaled or fully in the inbox. Returns the events stored (not duplicates).
   * A batch `toEvents` cannot read (throws) is not dropped: it becomes one parked row of
   * subscription type UNREADABLE_BATCH (portal 0, the body in its payload, the reason in last_error);
   * requeueing that row puts the body back in the journal, to be read again.
   */
  expandJournal(limit: number, toEvents: (body: Buffer) => NewInboxEvent[]): { batches: number; stored: number };
  journalBacklog(): number;
  /** Stores events in one transaction; returns how many were new (not duplicates). */
  insertBatch(events: readonly NewInboxEvent[], receivedAt: number): number;
  /**
   * Pending events that are due, oldest occurrence first, leaving out every event of a deal that
   * has an event waiting for a retry (so a deal's events are applied in order). `skipPortals`:
   * accounts whose events wait (HubSpot is failing for them): none of their events is taken, so
   * they neither burn attempts nor fill the round ahead of other accounts.
   */
  due(now: number, limit: number, skipPortals?: ReadonlySet<number>): InboxEvent[];
  /** Call inside the transaction that records the event's effects. */
  markDone(id: number, at: number): void;
  markRetry(id: number, attempts: number, error: string, nextAttemptAt: number): void;
  park(id: number, attempts: number, error: string, at: number): void;
  /** Parked events go back to pending (ops, after fixing the cause); a parked unreadable batch goes back to the journal. */
  requeue(id: number, now: number): boolean;
  get(id: number): InboxEvent | undefined;
  list(filter: { status?: InboxStatus; portalId?: number; limit: number }): InboxEvent[];
  countByStatus(): Record<InboxStatus, number>;
  /** When the next pending event is due, leaving out the accounts in `skipPortals`. */
  nextDueAt(skipPortals?: ReadonlySet<number>): number | undefined;
  /** Pending events of each of these accounts (what waits for HubSpot there). */
  pendingOf(portalIds: readonly number[]): Map<number, number>;
}

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

export function sqliteInbox(db: Db): InboxRepository {
  // The ingest hot path: one multi-row statement per ROWS_PER_INSERT events (prepared once per row
  // count) instead of one statement per event, which costs about 40% less per row (the per-call
  // overhead of a statement, not the B-tree work). OR IGNORE applies row by row, to duplicates
  // within the statement too, and `changes` counts the rows stored.
  const inserts = new Map<number, Statement<unknown[]>>();
  const insertOf = (rows: number) => {
    let statement = inserts.get(rows);
    if (!statement) {
      statement = db.prepare<unknown[]>(
        `INSERT OR IGNORE INTO webhook_inbox
        (portal_id, event_key, object_id, subscription_type, property_name, property_value, change_source, source_id, occurred_at, payload, received_at)
        VALUES ${Array.from({ length: rows }, () => '(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)').join(', ')}`,
      );
      inserts.set(rows, statement);
    }
    return statement;
  };
  const insertRows = (events: readonly NewInboxEvent[], receivedAt: number) => {
    let stored = 0;
    for (let start = 0; start < events.length; start += ROWS_PER_INSERT) {
      const rows = events.slice(start, start + ROWS_PER_INSERT);
      const params: unknown[] = [];
      for (const e of rows) {
        params.push(e.portalId, e.eventKey, e.objectId, e.subscriptionType, e.propertyName, e.propertyValue, e.changeSource, e.sourceId, e.occurredAt, e.payload, receivedAt);
      }
      stored += insertOf(rows.length).run(...params).changes;
    }
    return stored;
  };
  const insertAll = db.transaction(insertRows);
  const appendBatch = db.prepare('INSERT INTO webhook_batches (received_at, body) VALUES (?, ?)');
  const parsedBatches = new Map<number, { body: Buffer; events: () => NewInboxEvent[] }>();
  const oldestBatches = db.prepare<[number], { id: number; received_at: number; body: Buffer }>(
    'SELECT id, received_at, body FROM webhook_batches ORDER BY id LIMIT ?',
  );
  const deleteBatch = db.prepare('DELETE FROM webhook_batches WHERE id = ?');
  const backlog = db.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM webhook_batches');
  const parkBatch = db.prepare(
    `INSERT OR IGNORE INTO webhook_inbox (portal_id, event_key, object_id, subscription_type, occurred_at, payload, received_at, status, last_error, processed_at)
     VALUES (0, ?, '', '${UNREADABLE_BATCH}', ?, ?, ?, 'parked', ?, ?)`,
  );
  const parkUnreadable = (batch: { id: number; received_at: number; body: Buffer }, error: unknown) => {
    const reason = (error instanceof Error ? error.message : String(error)).slice(0, 2000);
    const payload: UnreadableBatchPayload = {
      unreadableBatch: { batchId: batch.id, bytes: batch.body.length, text: batch.body.toString('utf8'), base64: batch.body.toString('base64') },
    };
    const key = `unreadable-batch:${createHash('sha256').update(batch.body).digest('hex')}`;
    parkBatch.run(key, batch.received_at, JSON.stringify(payload), batch.received_at, `parked, the stored webhook batch cannot be read (none of its events was applied): ${reason}`, batch.received_at);
  };
  const expand = db.transaction((limit: number, toEvents: (body: Buffer) => NewInboxEvent[]) => {
    const batches = oldestBatches.all(limit);
    let stored = 0;
    for (const batch of batches) {
      // Already inside the expansion's transaction: a nested one would add a savepoint per batch.
      const kept = parsedBatches.get(batch.id);
      parsedBatches.delete(batch.id);
      let events: NewInboxEvent[] | undefined;
      try {
        events = kept && kept.body.equals(batch.body) ? kept.events() : toEvents(batch.body);
      } catch (error) {
        parkUnreadable(batch, error);
      }
      if (events) stored += insertRows(events, batch.received_at);
      deleteBatch.run(batch.id);
    }
    return { batches: batches.length, stored };
  });
  const due = db.prepare<[number, number], InboxDbRow>(
    `SELECT * FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY occurred_at, id LIMIT ?`,
  );
  const dueSkipping = db.prepare<[number, string, number], InboxDbRow>(
    `SELECT * FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at <= ?
       AND portal_id NOT IN (SELECT value FROM json_each(?)) ORDER BY occurred_at, id LIMIT ?`,
  );
  const waiting = db.prepare<[number], { portal_id: number; object_id: string }>(
    `SELECT DISTINCT portal_id, object_id FROM webhook_inbox WHERE status = 'pending' AND next_attempt_at > ?`,
  );
  const done = db.prepare(`UPDATE webhook_inbox SET status = 'done', processed_at = ?, last_error = NULL WHERE id = ? AND status = 'pending'`);
  const retry = db.prepare(`UPDATE webhook_inbox SET attempts = ?, last_error = ?, next_attempt_at = ? WHERE id = ? AND status = 'pending'`);
  const park = db.prepare(
    `UPDATE webhook_inbox SET status = 'parked', attempts = ?, last_error = ?, processed_at = ? WHERE id = ? AND status = 'pending'`,
  );
  const requeue = db.prepare(
    `UPDATE webhook_inbox SET status = 'pending', attempts = 0, next_attempt_at = ?, processed_at = NULL WHERE id = ? AND status = 'parked' AND subscription_type <> '${UNREADABLE_BATCH}'`,
  );
  const parkedBatch = db.prepare<[number], { received_at: number; payload: string }>(
    `SELECT received_at, payload FROM webhook_inbox WHERE id = ? AND status = 'parked' AND subscription_type = '${UNREADABLE_BATCH}'`,
  );
  const deleteParked = db.prepare(`DELETE FROM webhook_inbox WHERE id = ? AND status = 'parked' AND subscription_type = '${UNREADABLE_BATCH}'`);
  /** An unreadable batch goes back to the journal whole (read again by the next expansion; parked again if it still cannot be). */
  const requeueBatch = db.transaction((id: number) => {
    const row = parkedBatch.get(id);
    if (!row) return false;
    const { unreadableBatch } = JSON.parse(row.payload) as UnreadableBatchPayload;
    appendBatch.run(row.received_at, Buffer.from(unreadableBatch.base64, 'base64'));
    deleteParked.run(id);
    return true;
  });
  const getOne = db.prepare<[number], InboxDbRow>('SELECT * FROM webhook_inbox WHERE id = ?');
  const counts = db.prepare<[], { status: InboxStatus; n: number }>('SELECT status, COUNT(*) AS n FROM webhook_inbox GROUP BY status');
  const nextDue = db.prepare<[], { at: number | null }>(`SELECT MIN(next_attempt_at) AS at FROM webhook_inbox WHERE status = 'pending'`);
  const nextDueSkipping = db.prepare<[string], { at: number | null }>(
    `SELECT MIN(next_attempt_at) AS at FROM webhook_inbox WHERE status = 'pending' AND portal_id NOT IN (SELECT value FROM json_each(?))`,
  );
  const pendingOf = db.prepare<[number], { n: number }>(`SELECT COUNT(*) AS n FROM webhook_inbox WHERE status = 'pending' AND portal_id = ?`);

  return {
    journal(body, receivedAt, parsed) {
      const id = Number(appendBatch.run(receivedAt, body).lastInsertRowid);
      if (parsed && parsedBatches.size < PARSED_BATCHES_KEPT) parsedBatches.set(id, { body, events: parsed });
    },
    expandJournal(limit, toEvents) {
      return expand(limit, toEvents);
    },
    journalBacklog() {
      return backlog.get()?.n ?? 0;
    },
    insertBatch(events, receivedAt) {
      return events.length === 0 ? 0 : insertAll(events, receivedAt);
    },
    due(now, limit, skipPortals) {
      const blocked = new Set(waiting.all(now).map((r) => `${r.portal_id}/${r.object_id}`));
      const rows = skipPortals && skipPortals.size > 0 ? dueSkipping.all(now, JSON.stringify([...skipPortals]), limit) : due.all(now, limit);
      return (blocked.size === 0 ? rows : rows.filter((r) => !blocked.has(`${r.portal_id}/${r.object_id}`))).map(toEvent);
    },
    markDone(id, at) {
      done.run(at, id);
    },
    markRetry(id, attempts, error, nextAttemptAt) {
      retry.run(attempts, error, nextAttemptAt, id);
    },
    park(id, attempts, error, at) {
      park.run(attempts, error, at, id);
    },
    requeue(id, now) {
      return requeue.run(now, id).changes === 1 || requeueBatch(id);
    },
    get(id) {
      const row = getOne.get(id);
      return row ? toEvent(row) : undefined;
    },
    list(filter) {
      return selectNewestWhere<InboxDbRow>(db, 'webhook_inbox', { status: filter.status, portal_id: filter.portalId }, filter.limit).map(toEvent);
    },
    countByStatus() {
      const result: Record<InboxStatus, number> = { pending: 0, done: 0, parked: 0 };
      for (const row of counts.all()) result[row.status] = row.n;
      return result;
    },
    nextDueAt(skipPortals) {
      if (skipPortals && skipPortals.size > 0) return nextDueSkipping.get(JSON.stringify([...skipPortals]))?.at ?? undefined;
      return nextDue.get()?.at ?? undefined;
    },
    pendingOf(portalIds) {
      return new Map(portalIds.map((portalId) => [portalId, pendingOf.get(portalId)?.n ?? 0]));
    },
  };
}
