import type { SqlSession, SqlValue } from './sql';
import { withinTransaction } from './withinTransaction';
import { selectNewestWhere } from './newestWhere';
import { revertProperties, type RevertStagePayload, type OutboxKind, type outboxPayloads } from './deliveryPlan';
import type { z } from 'zod';

/**
 * The outbox: every effect on HubSpot (stage revert, status properties, notes, tasks) is a row
 * written in the same transaction as the state change that causes it, then delivered by the
 * outbox worker. Rows move pending -> done, or pending -> failed after the last attempt.
 *
 * A delivery "claims" a row before calling HubSpot: attempts + 1, last_error cleared, and a lease
 * in next_attempt_at. The outcome then sets done, or last_error and the next attempt. So a pending
 * row with attempts > 0 and no last_error is one whose last delivery may or may not have reached
 * HubSpot (the process stopped in between): `inDoubt` tells the worker to check before repeating
 * anything that is not idempotent; so is a row whose last_error starts with IN_DOUBT.
 *
 * Several instances (migration 15): a claim records its holder (`claimed_by`) and a token
 * (`claim_token`, counted up at every claim). Every later mark of the delivery names the claim it
 * acts for (OutboxClaim) and applies only while the row is still pending under that claim: an
 * instance whose lease ran out while it was slow cannot overwrite what the instance that took the
 * row over recorded. On PostgreSQL a deal's rows are never claimed while another row of the deal
 * is under a live claim (its writes go out in order, by one instance at a time), and claims are
 * read and taken one claimer at a time (a transaction-scoped advisory lock, rows read FOR UPDATE
 * SKIP LOCKED); SQLite's one process runs one claim at a time and settles a round's rows before
 * the next.
 *
 * `in_flight_since` (migration 10) is when the latest call carrying the row was sent, kept while no
 * answer has settled it (no answer yet, a timeout, a 504, a reset, or the process stopped): such a
 * call may still be applied by HubSpot, so the row's engagement is looked for until it cannot.
 */
export type OutboxStatus = 'pending' | 'done' | 'failed';

/** Starts the last_error of a row whose last delivery may have been applied (5xx, timeout, connection lost, crash). */
export const IN_DOUBT = 'outcome unknown: ';

/** Starts the last_error of a row settled as done without being sent (it was no longer wanted). */
export const NOT_SENT = 'not sent: ';

export interface NewOutboxEntry {
  portalId: number;
  dealId: string | null;
  kind: string;
  payload: object;
  /** Rows with the same key in one account are one effect: a second enqueue is ignored. */
  dedupeKey?: string | null;
  /** The Dealgate record the effect belongs to (`review:<id>`), when a later effect refers to it. */
  cause?: string | null;
}

export interface OutboxRow {
  id: number;
  portalId: number;
  dealId: string | null;
  kind: string;
  payload: unknown;
  dedupeKey: string | null;
  cause: string | null;
  status: OutboxStatus;
  attempts: number;
  nextAttemptAt: number;
  lastError: string | null;
  createdAt: number;
  completedAt: number | null;
  /** When the latest call carrying this row was sent, while that call may still land at HubSpot. */
  inFlightSince: number | null;
}

/** A task a create_task row made in HubSpot (outbox_tasks). */
export interface OutboxTask {
  taskId: string;
  outboxId: number;
  cause: string | null;
  dealId: string;
  recordedAt: number;
  /** HubSpot confirmed it COMPLETED. */
  completedAt: number | null;
  /** HubSpot no longer has it (deleted): nothing left to complete. */
  goneAt: number | null;
}

/** One claim of a row: what every later mark of its delivery names. */
export interface OutboxClaim {
  id: number;
  /** The row's claim_token when this claim took it. */
  claimToken: number;
}

export interface ClaimedOutboxRow extends OutboxRow, OutboxClaim {
  /** The previous delivery of this row was claimed and never answered: it may have been applied. */
  inDoubt: boolean;
}

export interface OutboxRepository {
  /** Returns the new row's id, or undefined when a row with the same dedupe key exists. */
  enqueue(entry: NewOutboxEntry, at: number): Promise<number | undefined>;
  /**
   * Due pending rows in id order, claimed by `holder` for `leaseMs`; portals in `skipPortals` are
   * left alone, and so are the deals with a row under a live claim. The marks below apply only
   * while the row is still pending under the claim they name; each returns the rows it changed
   * (fewer: the lease ran out and another claim took the row).
   */
  claimDue(now: number, limit: number, leaseMs: number, skipPortals?: ReadonlySet<number>, holder?: string): Promise<ClaimedOutboxRow[]>;
  markDone(claims: readonly OutboxClaim[], at: number): Promise<number>;
  /** Puts claimed rows back without counting the attempt (e.g. the account is paused after a 429). */
  release(claims: readonly OutboxClaim[], nextAttemptAt: number, reason: string): Promise<number>;
  markRetry(claim: OutboxClaim, error: string, nextAttemptAt: number): Promise<number>;
  markFailed(claim: OutboxClaim, error: string, at: number): Promise<number>;
  /**
   * A failed row goes back to pending, due now (ops, once the cause is fixed). Its attempts and
   * last error stay: a row whose outcome was unknown is still looked for before it is repeated.
   */
  requeue(id: number, now: number): Promise<boolean>;
  /** Durably, before the call: these rows go out to HubSpot now (`at`), in one call. */
  markSending(claims: readonly OutboxClaim[], at: number): Promise<number>;
  /** The call sent at `sentAt` was answered (or can no longer land): nothing of it is in flight. */
  markAnswered(claims: readonly OutboxClaim[], sentAt: number): Promise<number>;
  /**
   * Right before a write goes out: extends these claims' leases to `until`; returns how many are
   * still this delivery's. A claim not renewed was taken over (its lease ran out while the
   * delivery stalled): its write must not go out, or an older value could land after a newer one.
   */
  renewClaims(claims: readonly OutboxClaim[], until: number): Promise<number>;
  /**
   * At start: claims a previous run left become due now. SQLite has one owning process, so every
   * claim is its own; on PostgreSQL only `holder`'s (the same instance id, restarted): another
   * instance's claims may be live, and all of them end with their lease.
   */
  recoverClaims(now: number, holder: string): Promise<number>;
  get(id: number): Promise<OutboxRow | undefined>;
  list(filter: { status?: OutboxStatus; portalId?: number; dealId?: string; limit: number }): Promise<OutboxRow[]>;
  countByStatus(): Promise<Record<OutboxStatus, number>>;
  /** Earliest next_attempt_at among pending rows, for the worker's sleep; `skipPortals` are left out (their probe wakes it). */
  nextDueAt(skipPortals?: ReadonlySet<number>): Promise<number | undefined>;
  /** Pending rows of each of these accounts (what waits for HubSpot there). */
  pendingOf(portalIds: readonly number[]): Promise<Map<number, number>>;
  /**
   * The deal properties each later row of a deal writes (update_deal, and revert_stage as
   * `dealstage`), whatever its status: an older row must not overwrite what a newer one set.
   */
  dealWritesAfter(portalId: number, dealId: string, afterId: number): Promise<{ id: number; properties: string[] }[]>;
  /**
   * Someone changed `property` of a deal in HubSpot at `changedAt`: pending update_deal rows of the
   * deal queued before then no longer write it (a delayed write must not undo a later edit); a row
   * left with nothing to write is done. Returns the number of rows changed.
   */
  yieldToLaterChange(portalId: number, dealId: string, property: string, changedAt: number, at: number): Promise<number>;
  /**
   * update_deal rows of a deal still pending, or delivered (done and sent: no last_error) at or
   * after `since`, oldest first: Dealgate's writes a read of the deal sent at `since` may not show.
   */
  dealWritesNotDeliveredBefore(portalId: number, dealId: string, since: number): Promise<OutboxRow[]>;
  /** The most recent revert_stage for a deal created at or after `since` (own-move detection). */
  recentRevert(portalId: number, dealId: string, since: number): Promise<OutboxRow | undefined>;
  /** Rows of a cause and kind, whatever their status, oldest first. */
  byCause(portalId: number, cause: string, kind: string): Promise<OutboxRow[]>;
  /** Those of `causes` that have a row of `kind` (e.g. complete_tasks: the cause is closed). */
  causesWith(portalId: number, causes: readonly string[], kind: string): Promise<Set<string>>;
  /** Claimed rows that are no longer wanted: done without a call, last_error `not sent: <reason>`. */
  skip(claims: readonly OutboxClaim[], reason: string, at: number): Promise<number>;
  /**
   * The same for a row that is not claimed, only when no delivery of it can have reached HubSpot
   * (never tried, or every try was answered with a failure). False: it stays as it is.
   */
  skipIfUnsent(id: number, reason: string, at: number): Promise<boolean>;
  /** Records the HubSpot ids of tasks create_task rows made (recording one twice is harmless). */
  recordTasks(portalId: number, tasks: readonly { taskId: string; outboxId: number; cause: string | null; dealId: string }[], at: number): Promise<void>;
  /** The recorded tasks of a cause. */
  tasksOf(portalId: number, cause: string): Promise<OutboxTask[]>;
  /** HubSpot completed these tasks, or no longer has them. */
  settleTasks(portalId: number, outcome: { completed: readonly string[]; gone: readonly string[] }, at: number): Promise<void>;
}

interface OutboxDbRow {
  id: number;
  portal_id: number;
  deal_id: string | null;
  kind: string;
  payload: string;
  dedupe_key: string | null;
  cause: string | null;
  status: OutboxStatus;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
  created_at: number;
  completed_at: number | null;
  in_flight_since: number | null;
  claimed_by?: string | null;
  claim_token?: number;
}

function toRow(row: OutboxDbRow): OutboxRow {
  return {
    id: row.id,
    portalId: row.portal_id,
    dealId: row.deal_id,
    kind: row.kind,
    payload: JSON.parse(row.payload) as unknown,
    dedupeKey: row.dedupe_key,
    cause: row.cause ?? null,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    createdAt: row.created_at,
    completedAt: row.completed_at,
    inFlightSince: row.in_flight_since ?? null,
  };
}

// A second enqueue with the same dedupe key stores nothing and returns no row.
const insert = `INSERT INTO outbox (portal_id, deal_id, kind, payload, dedupe_key, cause, created_at, next_attempt_at)
    VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING id`;
const due = `SELECT * FROM outbox o WHERE status = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT ?`;
// PostgreSQL, several instances: a deal with a row under a live claim (claimed_by set, lease not
// over) is left alone, so its rows go out in order, by one claimer at a time (through outbox_by_deal).
// Claims run one at a time (this lock, held until the claim commits), so the next claimer's read
// sees the deals the last one took; the rows read are locked until the claim commits and rows a
// mark is changing are skipped. SQLite has one owning process that runs one claim at a time and
// settles every row of a round before the next, so it reads as before (the deal check cost its
// claims 20-30% per row in bench/claimsRoundCost.ts).
const CLAIM_LOCK_KEY = '7234307576302018662';
const claimLock = `SELECT pg_advisory_xact_lock(${CLAIM_LOCK_KEY}) AS locked`;
const dueLocked = `SELECT * FROM outbox o WHERE status = 'pending' AND next_attempt_at <= ?
    AND (deal_id IS NULL OR NOT EXISTS (SELECT 1 FROM outbox c WHERE c.portal_id = o.portal_id AND c.deal_id = o.deal_id
      AND c.status = 'pending' AND c.claimed_by IS NOT NULL AND c.next_attempt_at > ?))
    ORDER BY id LIMIT ? FOR UPDATE OF o SKIP LOCKED`;
const claim = 'UPDATE outbox SET attempts = attempts + 1, last_error = NULL, next_attempt_at = ?, claimed_by = ?, claim_token = claim_token + 1 WHERE id = ?';
// Every mark of a delivery applies only while the row is pending under the claim it names.
const claimed = `id = ? AND claim_token = ? AND status = 'pending'`;
const done = `UPDATE outbox SET status = 'done', completed_at = ?, last_error = NULL, in_flight_since = NULL, claimed_by = NULL WHERE ${claimed}`;
const sending = `UPDATE outbox SET in_flight_since = ? WHERE ${claimed}`;
const renewLease = `UPDATE outbox SET next_attempt_at = ? WHERE ${claimed}`;
const answered = `UPDATE outbox SET in_flight_since = NULL WHERE ${claimed} AND in_flight_since = ?`;
// CASE, not the two-argument MAX of SQLite (PostgreSQL's is GREATEST).
const release = `UPDATE outbox SET attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END, last_error = ?, next_attempt_at = ?, claimed_by = NULL
    WHERE ${claimed}`;
const retry = `UPDATE outbox SET last_error = ?, next_attempt_at = ?, claimed_by = NULL WHERE ${claimed}`;
const failed = `UPDATE outbox SET status = 'failed', last_error = ?, completed_at = ?, claimed_by = NULL WHERE ${claimed}`;
const recoverBase = `UPDATE outbox SET next_attempt_at = ?, claimed_by = NULL WHERE status = 'pending' AND attempts > 0 AND last_error IS NULL AND next_attempt_at > ?`;
const recoverOwn = `${recoverBase} AND claimed_by = ?`;
const getOne = 'SELECT * FROM outbox WHERE id = ?';
const counts = 'SELECT status, COUNT(*) AS n FROM outbox GROUP BY status';
const requeueFailed = `UPDATE outbox SET status = 'pending', next_attempt_at = ?, completed_at = NULL WHERE id = ? AND status = 'failed'`;
const nextDue = `SELECT MIN(next_attempt_at) AS at FROM outbox WHERE status = 'pending'`;
// `NOT IN (?, ?, …)` rather than an array parameter (json_each is SQLite's, = ANY PostgreSQL's).
const nextDueSkipping = (count: number) => `${nextDue} AND portal_id NOT IN (${Array.from({ length: count }, () => '?').join(', ')})`;
const pendingOf = `SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending' AND portal_id = ?`;
// Two parts, each on the whole of outbox_by_deal (an OR of the statuses used only its deal prefix).
const writesNotDeliveredBefore = `SELECT * FROM outbox WHERE portal_id = ? AND deal_id = ? AND status = 'pending' AND kind = 'update_deal'
    UNION ALL SELECT * FROM outbox WHERE portal_id = ? AND deal_id = ? AND status = 'done' AND kind = 'update_deal' AND completed_at >= ? AND last_error IS NULL
    ORDER BY id`;
const recentRevert = `SELECT * FROM outbox WHERE portal_id = ? AND deal_id = ? AND kind = 'revert_stage' AND created_at >= ? ORDER BY id DESC LIMIT 1`;
const writesAfter = `SELECT id, kind, payload FROM outbox WHERE portal_id = ? AND deal_id = ? AND id > ? AND kind IN ('update_deal', 'revert_stage') ORDER BY id`;
const pendingWritesBefore = `SELECT id, payload FROM outbox WHERE portal_id = ? AND deal_id = ? AND kind = 'update_deal' AND status = 'pending' AND created_at < ? ORDER BY id`;
const rewrite = `UPDATE outbox SET payload = ? WHERE id = ? AND status = 'pending'`;
const yielded = `UPDATE outbox SET status = 'done', completed_at = ?, last_error = ? WHERE id = ? AND status = 'pending'`;
const byCause = 'SELECT * FROM outbox WHERE portal_id = ? AND cause = ? AND kind = ? ORDER BY id';
const hasCause = 'SELECT 1 AS one FROM outbox WHERE portal_id = ? AND cause = ? AND kind = ? LIMIT 1';
const skipClaimed = `UPDATE outbox SET status = 'done', completed_at = ?, last_error = ?, claimed_by = NULL WHERE ${claimed}`;
// Never tried, or its last try was answered (a failure that did not apply): no call of it can land.
const skipUnsent = `UPDATE outbox SET status = 'done', completed_at = ?, last_error = ?
    WHERE id = ? AND status = 'pending' AND (attempts = 0 OR (last_error IS NOT NULL AND substr(last_error, 1, ${IN_DOUBT.length}) <> '${IN_DOUBT}'))`;
const recordTask = `INSERT INTO outbox_tasks (portal_id, task_id, outbox_id, cause, deal_id, recorded_at) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`;
const tasksOf = 'SELECT * FROM outbox_tasks WHERE portal_id = ? AND cause = ? ORDER BY outbox_id, task_id';
const taskCompleted = 'UPDATE outbox_tasks SET completed_at = COALESCE(completed_at, ?) WHERE portal_id = ? AND task_id = ?';
const taskGone = 'UPDATE outbox_tasks SET gone_at = COALESCE(gone_at, ?) WHERE portal_id = ? AND task_id = ?';

type TaskDbRow = { task_id: string; outbox_id: number; cause: string | null; deal_id: string; recorded_at: number; completed_at: number | null; gone_at: number | null };

/** A claimer that names no holder (a single process, tests). */
export const UNNAMED_HOLDER = 'unnamed';

export function outboxRepository(sql: SqlSession): OutboxRepository {
  return { ...claimCalls(sql), ...statusCalls(sql), ...dealWriteCalls(sql), ...taskCalls(sql) };
}

async function claimRows(tx: SqlSession, now: number, limit: number, leaseMs: number, skipPortals: ReadonlySet<number> | undefined, holder: string): Promise<ClaimedOutboxRow[]> {
  // Over-read a little so skipped (paused) accounts do not starve the others.
  const readLimit = skipPortals && skipPortals.size > 0 ? limit * 4 : limit;
  if (tx.dialect === 'postgres') await tx.get(claimLock);
  const candidates = await (tx.dialect === 'postgres' ? tx.all<OutboxDbRow>(dueLocked, [now, now, readLimit]) : tx.all<OutboxDbRow>(due, [now, readLimit]));
  const chosen = (skipPortals ? candidates.filter((r) => !skipPortals.has(r.portal_id)) : candidates).slice(0, limit);
  // The holder is read only on PostgreSQL (the deals under live claims, recoverClaims): SQLite's
  // one process leaves it unwritten, a row's bytes fewer at every claim.
  const claimedBy = tx.dialect === 'postgres' ? holder : null;
  for (const row of chosen) await tx.run(claim, [now + leaseMs, claimedBy, row.id]);
  return chosen.map((row) => ({
    ...toRow({ ...row, attempts: row.attempts + 1, last_error: null, next_attempt_at: now + leaseMs }),
    claimToken: Number(row.claim_token ?? 0) + 1,
    inDoubt: row.attempts > 0 && (row.last_error === null || row.last_error.startsWith(IN_DOUBT)),
  }));
}

/** Runs a fenced mark for each claim; the rows it changed. */
async function markEach(sql: SqlSession, claims: readonly OutboxClaim[], text: string, before: readonly SqlValue[], after: readonly SqlValue[] = []): Promise<number> {
  let changed = 0;
  const params: SqlValue[] = [...before, 0, 0, ...after];
  for (const c of claims) {
    params[before.length] = c.id;
    params[before.length + 1] = c.claimToken;
    changed += (await sql.run(text, params)).changes;
  }
  return changed;
}

/** Enqueueing and claiming, and the fenced marks of a claim (each changes the row only while the claim is still its holder's). */
function claimCalls(sql: SqlSession): Pick<OutboxRepository, 'enqueue' | 'claimDue' | 'markDone' | 'release' | 'markRetry' | 'markFailed' | 'requeue' | 'markSending' | 'markAnswered' | 'renewClaims' | 'recoverClaims' | 'skip' | 'skipIfUnsent'> {
  return {
    enqueue(entry, at) {
      // A `then`, not an async method: one promise fewer on every effect an event writes.
      return sql.get<{ id: number }>(insert, [
        entry.portalId,
        entry.dealId,
        entry.kind,
        JSON.stringify(entry.payload),
        entry.dedupeKey ?? null,
        entry.cause ?? null,
        at,
        at,
      ]).then((row) => row?.id);
    },
    claimDue(now, limit, leaseMs, skipPortals, holder = UNNAMED_HOLDER) {
      // Read and claim in one transaction, so no other claimer takes the same rows in between.
      return withinTransaction(sql, (tx) => claimRows(tx, now, limit, leaseMs, skipPortals, holder));
    },
    markDone(claims, at) {
      return markEach(sql, claims, done, [at]);
    },
    release(claims, nextAttemptAt, reason) {
      return markEach(sql, claims, release, [reason, nextAttemptAt]);
    },
    markRetry(claim, error, nextAttemptAt) {
      return markEach(sql, [claim], retry, [error, nextAttemptAt]);
    },
    markFailed(claim, error, at) {
      return markEach(sql, [claim], failed, [error, at]);
    },
    async requeue(id, now) {
      return (await sql.run(requeueFailed, [now, id])).changes === 1;
    },
    markSending(claims, at) {
      return markEach(sql, claims, sending, [at]);
    },
    markAnswered(claims, sentAt) {
      return markEach(sql, claims, answered, [], [sentAt]);
    },
    renewClaims(claims, until) {
      return markEach(sql, claims, renewLease, [until]);
    },
    async recoverClaims(now, holder) {
      if (sql.dialect === 'sqlite') return (await sql.run(recoverBase, [now, now])).changes;
      return (await sql.run(recoverOwn, [now, now, holder])).changes;
    },
    skip(claims, reason, at) {
      return markEach(sql, claims, skipClaimed, [at, NOT_SENT + reason]);
    },
    async skipIfUnsent(id, reason, at) {
      return (await sql.run(skipUnsent, [at, NOT_SENT + reason, id])).changes === 1;
    },
  };
}

/** Reads for the ops routes and the workers' schedules. */
function statusCalls(sql: SqlSession): Pick<OutboxRepository, 'get' | 'list' | 'countByStatus' | 'nextDueAt' | 'pendingOf'> {
  return {
    async get(id) {
      const row = await sql.get<OutboxDbRow>(getOne, [id]);
      return row ? toRow(row) : undefined;
    },
    async list(filter) {
      return (await selectNewestWhere<OutboxDbRow>(sql, 'outbox', { status: filter.status, portal_id: filter.portalId, deal_id: filter.dealId }, filter.limit)).map(toRow);
    },
    async countByStatus() {
      const result: Record<OutboxStatus, number> = { pending: 0, done: 0, failed: 0 };
      for (const row of await sql.all<{ status: OutboxStatus; n: number }>(counts)) result[row.status] = row.n;
      return result;
    },
    async nextDueAt(skipPortals) {
      if (skipPortals && skipPortals.size > 0) {
        return (await sql.get<{ at: number | null }>(nextDueSkipping(skipPortals.size), [...skipPortals]))?.at ?? undefined;
      }
      return (await sql.get<{ at: number | null }>(nextDue))?.at ?? undefined;
    },
    async pendingOf(portalIds) {
      const result = new Map<number, number>();
      for (const portalId of portalIds) result.set(portalId, (await sql.get<{ n: number }>(pendingOf, [portalId]))?.n ?? 0);
      return result;
    },
  };
}

/** A deal's pending writes: what later rows write, what yields to a change made in HubSpot. */
function dealWriteCalls(sql: SqlSession): Pick<OutboxRepository, 'dealWritesNotDeliveredBefore' | 'yieldToLaterChange' | 'dealWritesAfter' | 'recentRevert'> {
  return {
    async dealWritesNotDeliveredBefore(portalId, dealId, since) {
      return (await sql.all<OutboxDbRow>(writesNotDeliveredBefore, [portalId, dealId, portalId, dealId, since])).map(toRow);
    },
    async yieldToLaterChange(portalId, dealId, property, changedAt, at) {
      let changed = 0;
      for (const row of await sql.all<{ id: number; payload: string }>(pendingWritesBefore, [portalId, dealId, changedAt])) {
        const payload = JSON.parse(row.payload) as { properties?: Record<string, string> };
        if (!payload.properties || !(property in payload.properties)) continue;
        const { [property]: _dropped, ...rest } = payload.properties;
        if (Object.keys(rest).length > 0) await sql.run(rewrite, [JSON.stringify({ ...payload, properties: rest }), row.id]);
        else await sql.run(yielded, [at, `${NOT_SENT}${property} was changed in HubSpot after this was queued`, row.id]);
        changed += 1;
      }
      return changed;
    },
    async dealWritesAfter(portalId, dealId, afterId) {
      return (await sql.all<{ id: number; kind: string; payload: string }>(writesAfter, [portalId, dealId, afterId])).map((row) => {
        if (row.kind === 'revert_stage') return { id: row.id, properties: Object.keys(revertProperties(JSON.parse(row.payload) as RevertStagePayload)) };
        const payload = JSON.parse(row.payload) as { properties?: Record<string, unknown> };
        return { id: row.id, properties: Object.keys(payload.properties ?? {}) };
      });
    },
    async recentRevert(portalId, dealId, since) {
      const row = await sql.get<OutboxDbRow>(recentRevert, [portalId, dealId, since]);
      return row ? toRow(row) : undefined;
    },
  };
}

/** Causes, and the HubSpot tasks recorded for them. */
function taskCalls(sql: SqlSession): Pick<OutboxRepository, 'byCause' | 'causesWith' | 'recordTasks' | 'tasksOf' | 'settleTasks'> {
  return {
    async byCause(portalId, cause, kind) {
      return (await sql.all<OutboxDbRow>(byCause, [portalId, cause, kind])).map(toRow);
    },
    async causesWith(portalId, causes, kind) {
      const found = new Set<string>();
      for (const cause of new Set(causes)) {
        if ((await sql.get(hasCause, [portalId, cause, kind])) !== undefined) found.add(cause);
      }
      return found;
    },
    async recordTasks(portalId, tasks, at) {
      for (const t of tasks) await sql.run(recordTask, [portalId, t.taskId, t.outboxId, t.cause, t.dealId, at]);
    },
    async tasksOf(portalId, cause) {
      return (await sql.all<TaskDbRow>(tasksOf, [portalId, cause])).map((row) => ({
        taskId: row.task_id,
        outboxId: row.outbox_id,
        cause: row.cause,
        dealId: row.deal_id,
        recordedAt: row.recorded_at,
        completedAt: row.completed_at,
        goneAt: row.gone_at,
      }));
    },
    async settleTasks(portalId, outcome, at) {
      for (const taskId of outcome.completed) await sql.run(taskCompleted, [at, portalId, taskId]);
      for (const taskId of outcome.gone) await sql.run(taskGone, [at, portalId, taskId]);
    },
  };
}

/**
 * The effects on HubSpot that Dealgate's state changes cause, as rows of the outbox. They are
 * enqueued inside the same store transaction as the change (so a change never lands without its
 * effects, nor the other way round) and delivered later by the outbox worker, which validates each
 * payload with `outboxPayloads` (deliveryPlan.ts). Every kind targets one deal (`dealId` is set).
 *
 * - `update_deal` `{properties}`: sets deal properties. Used for the status projection
 *   (`dealgate_status`, `dealgate_decided_by`, `dealgate_decided_at` as ISO 8601,
 *   `dealgate_conditions`; an empty string clears one) and for the commitment properties a review
 *   request writes (`dealgate_commitment` "true", `dealgate_commitment_summary`,
 *   `dealgate_effort_weeks`). Later rows win property by property.
 * - `create_note` `{body}`: a note (HTML) associated with the deal, e.g. the decision.
 * - `create_task` `{subject, body, ownerUserId, dueAt}`: a task associated with the deal, assigned
 *   to the owner whose HubSpot user id is `ownerUserId` (unassigned when unknown), due at `dueAt`
 *   (ms since the epoch). A review request creates one per reviewer, due at the SLA.
 * - `revert_stage` `{toStage, fromStage}`: moves the deal back to `toStage` (enforcement).
 * - `complete_tasks` `{cause}`: sets every task the create_task rows of `cause` made to COMPLETED
 *   (a review's reviewer and escalation tasks, once it is decided, withdrawn or superseded). The
 *   worker records the HubSpot id of each task it creates (outbox_tasks); a create still waiting
 *   when its cause closes is not sent at all, one whose outcome is unknown is found by its
 *   reference first. No review gets a task after its completion was queued: tasks are created by
 *   the request and the escalation, both only while the review waits.
 *
 * Rows carry a `cause` (the Dealgate record they belong to, `review:<id>`) where a later effect
 * refers to them: create_task rows take it from `cause`, else from a `review:<id>:...` dedupe key.
 *
 * Dedupe keys make an effect happen once however often its cause is replayed: a second enqueue
 * with the same key in the same account is ignored. Status projections have no key (each is a new
 * state; the latest wins); notes and tasks are keyed by their cause (`review:<id>:...`).
 */
export type OutboxPayload<K extends OutboxKind> = z.infer<(typeof outboxPayloads)[K]>;

export type UpdateDealEffect = { kind: 'update_deal'; payload: OutboxPayload<'update_deal'> };
export type CreateNoteEffect = { kind: 'create_note'; payload: OutboxPayload<'create_note'> };
export type CreateTaskEffect = { kind: 'create_task'; payload: OutboxPayload<'create_task'> };
export type RevertStageEffect = { kind: 'revert_stage'; payload: OutboxPayload<'revert_stage'> };
export type CompleteTasksEffect = { kind: 'complete_tasks'; payload: OutboxPayload<'complete_tasks'> };

export type OutboxEffect = UpdateDealEffect | CreateNoteEffect | CreateTaskEffect | RevertStageEffect | CompleteTasksEffect;

export interface DealEffect {
  portalId: number;
  dealId: string;
  effect: OutboxEffect;
  dedupeKey?: string | null;
  /** What the effect belongs to (`reviewCause(id)`), for effects a later one refers to (tasks). */
  cause?: string | null;
}

/** The cause of a review's effects. */
export function reviewCause(reviewId: number): string {
  return `review:${reviewId}`;
}

/** `review:<id>` from a dedupe key `review:<id>:...`. */
function causeOfDedupeKey(dedupeKey: string | null | undefined): string | null {
  const match = dedupeKey ? /^review:(\d+):/.exec(dedupeKey) : null;
  return match ? reviewCause(Number(match[1])) : null;
}

function causeOf(entry: DealEffect): string | null {
  if (entry.cause) return entry.cause;
  if (entry.effect.kind === 'complete_tasks') return entry.effect.payload.cause;
  if (entry.effect.kind === 'create_task') return causeOfDedupeKey(entry.dedupeKey);
  return null;
}

/** Enqueues one effect on a deal; call inside the transaction that records its cause. Returns the row id (undefined: a duplicate). */
export function enqueueEffect(outbox: OutboxRepository, entry: DealEffect, at: number): Promise<number | undefined> {
  return outbox.enqueue(
    {
      portalId: entry.portalId,
      dealId: entry.dealId,
      kind: entry.effect.kind,
      payload: entry.effect.payload,
      dedupeKey: entry.dedupeKey ?? null,
      cause: causeOf(entry),
    },
    at,
  );
}
