import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { classifyHubSpotError, TASK_COMPLETED, type EngagementRecord, type HubSpotDeal, type HubSpotGateway, type NewEngagement, type PaceNext } from '../hubspot/gateway';
import { randomUUID } from 'node:crypto';
import { IN_DOUBT, NOT_SENT, type ClaimedOutboxRow, type OutboxClaim, type OutboxRow } from '../storage/outboxStore';
import {
  carriesRef,
  chunk,
  planDelivery,
  revertProperties,
  withRef,
  type CompleteTasksPayload,
  type CreateTaskPayload,
  type DealUpdatePlan,
  type EngagementPlan,
  type RevertStagePayload,
} from '../storage/deliveryPlan';
import { backoffDelay, describeDuration, retriesExhausted, type RetryPolicy } from '../hubspot/backoff';
import { createAccountOutages, classifyHubSpotFailure, PROBE_MAX_MS, type AccountOutage } from '../hubspot/accountOutages';
import { CallTimeout, pausableTimeout, withTimeout } from '../hubspot/callTimeout';
import type { RateGovernor } from '../hubspot/rateGovernor';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';

/**
 * Delivers the outbox to HubSpot. Each round claims the due rows, groups them per account into
 * batch calls (deal updates coalesced per deal, notes and tasks in batch creates of up to 100),
 * and records each outcome in one transaction:
 * - success: the rows are done (a row is marked done only after HubSpot confirmed it);
 * - 429: the account is paused and slowed down; the rows wait without spending an attempt;
 * - 5xx, timeouts, network errors (HubSpot out): an outage delays effects, never drops them. The
 *   account's circuit opens: its rows wait, left out of the rounds, while one probe round at a
 *   time (backoff up to a minute) tries HubSpot again, and the first answer resumes them by
 *   themselves. Each failed try spends an attempt; a row is failed only once it has made
 *   `retry.maxAttempts` attempts and is older than the retry window (72 h by default, three times
 *   HubSpot's own 24 h), with the last error (GET /ops/outbox?status=failed). None of them proves
 *   the call was not applied, so the row's outcome is unknown (IN_DOUBT);
 * - another 4xx (400 validation, 403 missing scopes, 404 of the deal): retrying cannot cure it. A
 *   batch is split so that one bad row cannot block the others; a single row fails at once, its
 *   last_error saying `retrying cannot cure it` and HubSpot's answer.
 * A stage revert sets an explicit stage, so repeating one is harmless; a note or task whose last
 * delivery has an unknown outcome is looked up by its reference before it is created again, and
 * while a call that carried it may still land (sent, and not answered: a timeout, a 504, a reset,
 * a crash or a restart; recorded durably in `in_flight_since`) it is looked for again, not
 * created, until it cannot land any more (see `lateAnswerMs`). The
 * HubSpot id of every task created (or found that way) is recorded with its cause, so that a
 * complete_tasks row, delivered after the creates of its round, completes exactly those tasks.
 */
export interface OutboxWorkerDeps {
  store: Store;
  gateway: HubSpotGateway;
  clock: Clock;
  logger: Logger;
  governor: RateGovernor;
  /** Runs before an account's first delivery (properties must exist before they are written). */
  prepareAccount?: (portalId: number) => Promise<void>;
  /**
   * Accounts whose effects are still being written (the inbox worker is applying their events): their
   * rows are left out of claims until that ends (which wakes this worker), for at most
   * HOLD_WHILE_WRITTEN_MAX_MS at a time, so that one round delivers them together (one batch call
   * for many deals) instead of a call per deal as each lands; on PostgreSQL each statement is real
   * I/O, so without it the loop claims between every two events and spends the account's budget.
   * This is this process's inbox; the accounts whose deals another instance has claimed (its inbox
   * applying them) are held the same way, read from the database at each round. Only a matter of
   * batching, not of correctness: a deal's rows are claimed one claim at a time, and a row written
   * later for a deal is read before the older ones are delivered (supersededIn).
   */
  beingWritten?: () => Iterable<number>;
  retry?: RetryPolicy;
  /** A HubSpot call that takes longer than this counts as failed, with an unknown outcome. */
  callTimeoutMs?: number;
  batchSize?: number;
  idleMs?: number;
  random?: () => number;
  /** Names this process among the instances sharing the database (config.instanceId): its claims, and the ones it recovers at start. Default a new random id. */
  instanceId?: string;
}

/**
 * How long an effect is retried while HubSpot fails before it is given up: as long as the inbox
 * keeps the event that caused it (three times HubSpot's own 24 h of webhook retries). A policy
 * without `windowMs` gets this window too.
 */
/** The longest an account's effects wait for the inbox to finish writing them (a long import must not starve them). */
export const HOLD_WHILE_WRITTEN_MAX_MS = 2_000;

export const OUTBOX_RETRY_WINDOW_MS = 72 * 60 * 60_000;

/** Retries at most a minute apart (the probe's pace), given up after 10 attempts and not before the window has passed. */
export const DEFAULT_OUTBOX_RETRY: RetryPolicy = { baseMs: 1_000, maxMs: PROBE_MAX_MS, maxAttempts: 10, windowMs: OUTBOX_RETRY_WINDOW_MS };

export interface OutboxWorker extends WorkerLoop {
  /** One round: claims and delivers what is due. Returns the number of rows it settled or put back. */
  deliverDue(): Promise<number>;
  /** Accounts whose effects wait for HubSpot right now (this process's view; a restart probes again). */
  outages(): AccountOutage[];
  /** Accounts whose claimed rows are being delivered right now (the inbox worker's bulk shares give way to them). */
  delivering(): ReadonlySet<number>;
}

/** The account's circuit is open and its probe is not due: the call is not made, the rows wait without an attempt. */
class AccountWaiting extends Error {
  constructor(readonly outage: AccountOutage) {
    super(`waiting for HubSpot, failing for this account since ${new Date(outage.since).toISOString()} (next probe ${new Date(outage.nextProbeAt).toISOString()}): ${outage.lastError}`);
  }
}

/**
 * The send time could not be recorded for every row: the lease ran out before the call went out,
 * and another instance took the rows over (it may have created them already). Nothing is sent; the
 * rows still held are put back without an attempt.
 */
class ClaimLost extends Error {
  constructor(readonly lost: number) {
    super(`the claim of ${lost} row(s) ran out before the call went out and another instance took them over; not sent`);
  }
}

function retryAfterMs(error: unknown): number | undefined {
  const headers = typeof error === 'object' && error !== null ? (error as { headers?: unknown }).headers : undefined;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = (headers as Record<string, unknown>)['retry-after'];
  const seconds = typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** The deal still sits in the stage it was moved into without sign-off, and by that move (the newest in its history). */
export function stillAsMoved(deal: HubSpotDeal | undefined, revert: RevertStagePayload): boolean {
  if (!deal || deal.stage !== revert.fromStage) return false;
  if (revert.movedAt === undefined) return true;
  const newest = deal.stageHistory[0];
  return newest === undefined || (newest.value === revert.fromStage && newest.timestamp === revert.movedAt);
}

export function createOutboxWorker(deps: OutboxWorkerDeps): OutboxWorker {
  const { store, gateway, clock, logger, governor } = deps;
  const retry = deps.retry ?? DEFAULT_OUTBOX_RETRY;
  const callTimeoutMs = deps.callTimeoutMs ?? 20_000;
  const batchSize = deps.batchSize ?? 500;
  const random = deps.random ?? Math.random;
  const windowMs = retry.windowMs ?? OUTBOX_RETRY_WINDOW_MS;
  const policy: RetryPolicy = { ...retry, windowMs };
  /** While HubSpot is out, a row's own retries are no further apart than the account's probes. */
  const outageRetry: RetryPolicy = { ...policy, maxMs: Math.min(retry.maxMs, PROBE_MAX_MS) };
  const outages = createAccountOutages({ clock, logger, retry, random, worker: 'outbox' });
  /** Claims outlive any call with its timeout; a crash leaves them to run out (SQLite, or the same instance id restarted: recoverClaims at the next start). */
  const leaseMs = callTimeoutMs * 3;
  const holder = deps.instanceId ?? randomUUID();
  /** Marks that changed no row: the lease ran out while this delivery was slow, and another claim took the row (its outcome stands). */
  const lostClaims = (rows: number) => logger.warn({ rows, worker: 'outbox' }, 'outbox: rows delivered after their lease ran out were taken over by another claim; its outcome stands');
  const ownerIds = new Map<number, { at: number; byUserId: Map<string, string> }>();

  /**
   * How long a call without an answer may still be applied by HubSpot. A note or task in doubt is
   * not created again before then (only looked for, every `lookupEveryMs`), else a lookup that
   * misses a write still in flight makes the engagement twice. Real time, like the call timeout.
   * - `openCallMs`: a call that timed out here and whose connection is still open is waited for
   *   until it is answered, at most ten call timeouts (200 s by default);
   * - `lateAnswerMs`: a call nothing here can still hear (a 504, a reset, or the process that sent
   *   it stopped or died: the send time is in the row) may land until three call timeouts after it
   *   was sent (60 s by default, a claim's lease). That HubSpot applies nothing later is an
   *   assumption (unconfirmed).
   */
  const openCallMs = callTimeoutMs * 10;
  const lateAnswerMs = callTimeoutMs * 3;
  const lookupEveryMs = callTimeoutMs;
  /** Rows whose call timed out in this process and is still open: row id -> when it was sent (Date.now()). */
  const openCalls = new Map<number, number>();

  /** Once a call of this round found HubSpot out, the account's other calls wait for the next probe instead of being made. */
  function unlessWaiting(portalId: number): void {
    const outage = outages.waitingFor(portalId, clock.now());
    if (outage) throw new AccountWaiting(outage);
  }

  /**
   * A call to HubSpot. Any failure counts against the account (recordFailure), but only a write
   * that succeeds closes its circuit: HubSpot answering the reads around a write (a lookup, the
   * owners) while it refuses the writes themselves is not HubSpot answering again.
   */
  async function call<T>(portalId: number, work: (paceNext: PaceNext) => Promise<T>, kind: 'read' | 'write'): Promise<T> {
    unlessWaiting(portalId);
    await governor.acquire(portalId);
    // The time spent waiting for the permits of the call's later requests is not HubSpot's: it does not count toward the timeout.
    const bound = pausableTimeout(callTimeoutMs);
    const result = await bound.race(work(() => bound.paused(() => paceNext(portalId))));
    if (kind === 'write') outages.answered(portalId);
    return result;
  }

  /**
   * The second and later requests of one gateway call (a lookup's pages and batch reads): each
   * draws its own permit, as HubSpot counts each request (the three-instance kill run got 429s on
   * the lookups after restarts when only the first one did).
   */
  async function paceNext(portalId: number): Promise<void> {
    unlessWaiting(portalId);
    await governor.acquire(portalId);
  }

  /** An error after which the call may still be applied: no answer (timeout, reset) or a gateway timeout. */
  function mayStillLand(error: unknown): boolean {
    if (error instanceof CallTimeout) return true;
    const { status } = classifyHubSpotError(error);
    return status === undefined || status === 504;
  }

  /**
   * A call that creates what `rows` ask for: their send time is recorded before it goes out, and
   * cleared once an answer settles it. A call that may still land keeps it (durably: a restart
   * finds it), and one still open here is tracked until it is answered. Recording the send time
   * is also the last check that the rows are still this delivery's (ClaimLost otherwise).
   */
  async function send<T>(portalId: number, rows: readonly OutboxClaim[], work: () => Promise<T>): Promise<T> {
    unlessWaiting(portalId);
    await governor.acquire(portalId);
    let sentAt = Date.now();
    const answered = async () => await store.transaction(async () => await store.outbox.markAnswered(rows, sentAt));
    const recordSending = async () => {
      const marked = await store.transaction(async () => await store.outbox.markSending(rows, sentAt));
      if (marked === rows.length) return;
      await answered();
      throw new ClaimLost(rows.length - marked);
    };
    await recordSending();
    if (governor.pauseRemainingMs(portalId) > 0) {
      // A 429 arrived while the send time was being recorded (real I/O on PostgreSQL): nothing goes
      // out before the pause is over, and the send time recorded is the real one.
      await governor.acquire(portalId);
      sentAt = Date.now();
      await recordSending();
    }
    const pending = work();
    try {
      const result = await withTimeout(pending, callTimeoutMs);
      outages.answered(portalId);
      return result;
    } catch (error) {
      if (error instanceof CallTimeout) {
        for (const { id } of rows) openCalls.set(id, sentAt);
        const late = async (lateError?: unknown) => {
          for (const { id } of rows) if (openCalls.get(id) === sentAt) openCalls.delete(id);
          try {
            if (lateError === undefined || !mayStillLand(lateError)) await answered();
          } catch {
            // The store is closed (stopped meanwhile): the next start waits out lateAnswerMs instead.
          }
        };
        pending.then(() => late(), (lateError: unknown) => late(lateError ?? new Error('rejected')));
      } else if (!mayStillLand(error)) {
        await answered();
      }
      throw error;
    }
  }

  /** Doubtful rows that must wait: their call is still open here, or may land until `lateAnswerMs` after it was sent. */
  function mustWait(row: { id: number; inFlightSince: number | null }, looked: boolean): number | undefined {
    const now = Date.now();
    const open = openCalls.get(row.id);
    if (open !== undefined && now - open < openCallMs) return Math.min(callTimeoutMs, 1_000);
    if (open !== undefined) openCalls.delete(row.id);
    if (!looked || row.inFlightSince === null) return undefined;
    const left = row.inFlightSince + lateAnswerMs - now;
    return left > 0 ? Math.min(left, lookupEveryMs) : undefined;
  }

  /** Records a failed delivery of `rows`; returns false when the caller should split the batch instead. */
  async function recordFailure(portalId: number, rows: ClaimedOutboxRow[], error: unknown, splittable: boolean, sent = false): Promise<boolean> {
    const now = clock.now();
    // Rows put back without spending the attempt keep their unknown-outcome mark: still checked before a repeat.
    const putBack = (until: number, reason: string) =>
      store.transaction(async () => {
        const [doubtful, clear] = [rows.filter((r) => r.inDoubt), rows.filter((r) => !r.inDoubt)];
        await store.outbox.release(clear, until, reason);
        await store.outbox.release(doubtful, until, IN_DOUBT + reason);
      });
    if (error instanceof AccountWaiting) {
      await putBack(error.outage.nextProbeAt, error.message);
      return true;
    }
    if (error instanceof ClaimLost) {
      lostClaims(error.lost);
      await putBack(now, error.message);
      return true;
    }
    const info = classifyHubSpotError(error);
    if (info.rateLimited) {
      const pause = await governor.rateLimited(portalId, retryAfterMs(error));
      logger.warn({ portalId, pauseMs: pause, rows: rows.length }, 'HubSpot answered 429; pausing deliveries for this account');
      await putBack(now + pause + Math.round(random() * 500), `rate limited (429): ${info.message}`);
      return true;
    }
    const failure = classifyHubSpotFailure(error);
    if (failure.kind === 'refused' && splittable) return false;
    // Only an answer that proves nothing was done (a 4xx) is a known outcome. A 5xx (HubSpot may
    // have done the work and still answered 500 or 504), no HTTP answer (timeout, connection reset)
    // or a failure after the call (recording its answer) may mean it was applied.
    const unknownOutcome = sent && (error instanceof CallTimeout || info.status === undefined || info.status >= 500);
    const doubt = (row: ClaimedOutboxRow) => (unknownOutcome || row.inDoubt ? IN_DOUBT : '');
    let failed = 0;
    if (failure.kind === 'refused') {
      await store.transaction(async () => {
        for (const row of rows) await store.outbox.markFailed(row, `${doubt(row)}given up, retrying cannot cure it: ${failure.message}`, now);
      });
      logger.error({ portalId, rows: rows.length, status: info.status, error: failure.message }, 'outbox rows given up: HubSpot refuses them (GET /ops/outbox?status=failed)');
      return true;
    }
    const outage = outages.failed(portalId, failure.message);
    const waiting = `${failure.message} (waiting for HubSpot, failing for this account since ${new Date(outage.since).toISOString()}, next probe ${new Date(outage.nextProbeAt).toISOString()})`;
    await store.transaction(async () => {
      for (const row of rows) {
        if (retriesExhausted(policy, row.attempts, row.createdAt, now)) {
          const note = `given up after retrying for ${describeDuration(now - row.createdAt)} since it was queued (the retry window is ${describeDuration(windowMs)}) and ${row.attempts} attempts`;
          await store.outbox.markFailed(row, `${doubt(row)}${note}: ${failure.message}`, now);
          failed += 1;
        } else {
          await store.outbox.markRetry(row, doubt(row) + waiting, Math.max(outage.nextProbeAt, now + backoffDelay(row.attempts, outageRetry, random)));
        }
      }
    });
    if (failed > 0) logger.error({ portalId, rows: failed, status: info.status, error: failure.message }, 'outbox rows given up after the retry window (GET /ops/outbox?status=failed)');
    else logger.warn({ portalId, rows: rows.length, status: info.status, error: failure.message }, 'HubSpot call failed; the account waits for the next probe');
    return true;
  }

  async function markDone(rows: readonly ClaimedOutboxRow[]): Promise<void> {
    const now = clock.now();
    const changed = await store.transaction(async () => await store.outbox.markDone(rows, now));
    if (changed < rows.length) lostClaims(rows.length - changed);
  }

  async function deliverDealUpdates(portalId: number, updates: DealUpdatePlan[]): Promise<void> {
    // A revert that waited (a retry, or an unknown earlier outcome) is only applied while the deal
    // still sits where it was moved without sign-off, by that same move: a later, legitimate move
    // is never undone (not even one back into the same stage after an approval).
    const recheck = updates.filter((u) => u.revert && u.rows.some((r) => r.attempts > 1 || r.inDoubt));
    if (recheck.length > 0) {
      const current = new Map<string, HubSpotDeal>();
      for (const ids of chunk(recheck.map((u) => u.dealId))) {
        const deals = await call(portalId, () => gateway.batchReadDeals(portalId, ids, { withStageHistory: true }), 'read');
        for (const deal of deals) current.set(deal.id, deal);
      }
      for (const update of recheck) {
        if (update.revert && !stillAsMoved(current.get(update.dealId), update.revert)) {
          for (const name of Object.keys(revertProperties(update.revert))) delete update.properties[name];
        }
      }
    }
    const settledWithoutCall = updates.filter((u) => Object.keys(u.properties).length === 0);
    if (settledWithoutCall.length > 0) await markDone(settledWithoutCall.flatMap((u) => u.rows));
    const toSend = updates.filter((u) => Object.keys(u.properties).length > 0);

    for (const batch of chunk(toSend)) {
      try {
        let sent: DealUpdatePlan[] = [];
        await call(
          portalId,
          async () => {
            // After the permit, right before the call: only the updates whose rows are still this delivery's go out.
            sent = await stillClaimed(batch);
            if (sent.length > 0) await gateway.batchUpdateDeals(portalId, sent.map((u) => ({ id: u.dealId, properties: u.properties })));
          },
          'write',
        );
        await markDone(sent.flatMap((u) => u.rows));
      } catch (error) {
        if (!await recordFailure(portalId, batch.flatMap((u) => u.rows), error, batch.length > 1, true)) {
          for (const single of batch) await deliverDealUpdates(portalId, [single]);
        }
      }
    }
  }

  /**
   * The updates whose rows are all still claimed by this delivery, their leases renewed. A row
   * taken over while this delivery stalled (past its lease) is another instance's now, which may
   * already have written a newer value: this older one must not land after it.
   */
  async function stillClaimed(updates: readonly DealUpdatePlan[]): Promise<DealUpdatePlan[]> {
    const until = clock.now() + leaseMs;
    const kept = await store.transaction(async () => {
      const ours: DealUpdatePlan[] = [];
      for (const update of updates) if ((await store.outbox.renewClaims(update.rows, until)) === update.rows.length) ours.push(update);
      return ours;
    });
    if (kept.length < updates.length) logger.warn({ lostClaims: updates.length - kept.length }, 'outbox: deal updates taken over by another instance while this one stalled are left to it');
    return kept;
  }

  /** HubSpot assigns tasks to owners, not users: map the reviewers' user ids (cached ten minutes). */
  async function ownersByUserId(portalId: number): Promise<Map<string, string>> {
    const cached = ownerIds.get(portalId);
    if (cached && clock.now() - cached.at < 10 * 60_000) return cached.byUserId;
    const owners = await call(portalId, (pace) => gateway.getOwners(portalId, pace), 'read');
    const byUserId = new Map<string, string>();
    for (const owner of owners) if (owner.userId !== null) byUserId.set(owner.userId, owner.id);
    ownerIds.set(portalId, { at: clock.now(), byUserId });
    return byUserId;
  }

  /**
   * Of the engagements whose earlier delivery may have landed, those HubSpot already has: row id
   * -> the ids of the engagements carrying its reference (more than one if a doubt made duplicates).
   */
  async function alreadyCreated(
    portalId: number,
    kind: 'note' | 'task',
    doubtful: readonly { row: { id: number; portalId: number }; dealId: string }[],
  ): Promise<Map<number, string[]>> {
    const found = new Map<number, string[]>();
    const dealIds = [...new Set(doubtful.map((i) => i.dealId))];
    for (const dealId of dealIds) {
      const existing = await call(portalId, (pace) => gateway.listDealEngagements(portalId, dealId, kind, pace), 'read');
      for (const item of doubtful) {
        if (item.dealId !== dealId) continue;
        const ids = existing.filter((e) => carriesRef(e.body, item.row)).map((e) => e.id);
        if (ids.length > 0) found.set(item.row.id, ids);
      }
    }
    return found;
  }

  /** How one kind of engagement is created: notes, or tasks (whose HubSpot ids are recorded). */
  interface EngagementKind<P> {
    kind: 'note' | 'task';
    toEngagement: (item: EngagementPlan<P>) => NewEngagement;
    /** Creates them; answers the created records (id and body; notes: ids only, in order). */
    create: (engagements: NewEngagement[]) => Promise<EngagementRecord[]>;
    /** Inside the transaction that marks the rows done: the HubSpot ids each row's engagement got. */
    record?: (created: { item: EngagementPlan<P>; ids: string[] }[]) => Promise<void>;
    /** Rows no longer worth creating (the reason, by row id); asked once it is known they do not exist yet. */
    unwanted?: (items: EngagementPlan<P>[]) => Promise<Map<number, string>>;
  }

  async function settleCreated<P>(spec: EngagementKind<P>, created: { item: EngagementPlan<P>; ids: string[] }[]): Promise<void> {
    const now = clock.now();
    await store.transaction(async () => {
      const changed = await store.outbox.markDone(created.map((c) => c.item.row), now);
      if (changed < created.length) lostClaims(created.length - changed);
      await spec.record?.(created.filter((c) => c.ids.length > 0));
    });
  }

  /** Which created record is whose: by the reference in its body, else (as many as asked for, none with a reference) by position. */
  function matchCreated<P>(batch: EngagementPlan<P>[], records: EngagementRecord[]): { item: EngagementPlan<P>; ids: string[] }[] {
    const positional = records.length === batch.length && records.every((r) => !(r.body ?? '').includes('dealgate-ref-'));
    return batch.map((item, i) => {
      const byBody = records.filter((r) => carriesRef(r.body, item.row)).map((r) => r.id);
      if (byBody.length > 0) return { item, ids: byBody };
      const record = positional ? records[i] : undefined;
      return { item, ids: record ? [record.id] : [] };
    });
  }

  async function deliverEngagements<P>(portalId: number, spec: EngagementKind<P>, items: EngagementPlan<P>[]): Promise<void> {
    let doubtful = items.filter((i) => i.row.inDoubt);
    const claimed = new Map(items.map((i) => [i.row.id, i.row]));
    const claimsOf = (id: number) => [claimed.get(id)].filter((c) => c !== undefined);
    const waits = new Map<number, number>();
    // An earlier attempt still open here: look for it once it has been answered, without spending an attempt.
    for (const i of doubtful) {
      const ms = mustWait(i.row, false);
      if (ms !== undefined) waits.set(i.row.id, ms);
    }
    doubtful = doubtful.filter((i) => !waits.has(i.row.id));
    if (doubtful.length > 0) {
      try {
        const existing = await alreadyCreated(portalId, spec.kind, doubtful);
        if (existing.size > 0) {
          await settleCreated(
            spec,
            doubtful.filter((i) => existing.has(i.row.id)).map((item) => ({ item, ids: existing.get(item.row.id) ?? [] })),
          );
        }
        // Not found, but a call that carried it may still land: look again later, create nothing yet.
        for (const i of doubtful) {
          if (existing.has(i.row.id)) continue;
          const ms = mustWait(i.row, true);
          if (ms !== undefined) waits.set(i.row.id, ms);
        }
        items = items.filter((i) => !existing.has(i.row.id));
      } catch (error) {
        await recordFailure(portalId, doubtful.map((i) => i.row), error, false);
        items = items.filter((i) => !i.row.inDoubt);
      }
    }
    if (waits.size > 0) {
      const now = clock.now();
      await store.transaction(async () => {
        for (const [id, ms] of waits) await store.outbox.release(claimsOf(id), now + ms, IN_DOUBT + 'an earlier attempt may still land at HubSpot; looking for it before creating again');
      });
      items = items.filter((i) => !waits.has(i.row.id));
    }
    const unwanted = spec.unwanted && items.length > 0 ? await spec.unwanted(items) : new Map<number, string>();
    if (unwanted.size > 0) {
      const now = clock.now();
      await store.transaction(async () => {
        for (const i of items) if (unwanted.has(i.row.id)) await store.outbox.skip([i.row], unwanted.get(i.row.id) ?? '', now);
      });
      items = items.filter((i) => !unwanted.has(i.row.id));
    }
    for (const batch of chunk(items)) {
      try {
        const engagements = batch.map(spec.toEngagement);
        const records = await send(portalId, batch.map((i) => i.row), () => spec.create(engagements));
        await settleCreated(spec, matchCreated(batch, records));
      } catch (error) {
        if (!await recordFailure(portalId, batch.map((i) => i.row), error, batch.length > 1, true)) {
          for (const single of batch) await deliverEngagements(portalId, spec, [single]);
        }
      }
    }
  }

  /**
   * Completes the tasks of each complete_tasks row's cause. For every create_task row of the cause:
   * - a recorded task is completed; a 404, or a 207 naming it not found, means it was deleted in
   *   HubSpot: nothing is left to complete (not retried);
   * - a create still waiting that cannot have reached HubSpot (never tried, or each try answered
   *   with a failure) is not sent at all;
   * - a create whose outcome is unknown is waited for: its own retry looks it up by reference and
   *   records the id it finds, or, not finding it, skips it now that the cause is closed;
   * - a create done without a recorded id (delivered before ids were recorded), or failed after a
   *   try that got no answer, is looked up here by its reference;
   * - a create that failed with an answer was never made.
   * A row is done only once every task of its cause is completed, gone or was never created; a row
   * that waits for a create does not spend an attempt.
   */
  async function deliverTaskCompletions(portalId: number, items: EngagementPlan<CompleteTasksPayload>[]): Promise<void> {
    interface Completion {
      item: EngagementPlan<CompleteTasksPayload>;
      taskIds: Set<string>;
      /** Set when a create of the cause has not settled: when to look again. */
      waitUntil: number | undefined;
      waitingFor: number[];
      lookups: OutboxRow[];
    }
    const now = clock.now();
    const wait = (c: Completion, rowIds: number[], at: number) => {
      c.waitingFor.push(...rowIds);
      c.waitUntil = c.waitUntil === undefined ? at : Math.min(c.waitUntil, at);
    };
    const work: Completion[] = [];
    for (const item of items) {
      const { cause } = item.payload;
      const completion: Completion = { item, taskIds: new Set(), waitUntil: undefined, waitingFor: [], lookups: [] };
      const records = await store.outbox.tasksOf(portalId, cause);
      const recorded = new Set(records.map((r) => r.outboxId));
      for (const r of records) if (r.completedAt === null && r.goneAt === null) completion.taskIds.add(r.taskId);
      for (const create of await store.outbox.byCause(portalId, cause, 'create_task')) {
        if (recorded.has(create.id)) continue;
        const lastError = create.lastError ?? '';
        if (create.status === 'pending') {
          if (await store.transaction(async () => await store.outbox.skipIfUnsent(create.id, `${cause} was closed before its task was created`, now))) continue;
          wait(completion, [create.id], Math.max(create.nextAttemptAt, now + 1_000));
        } else if (create.status === 'done' ? !lastError.startsWith(NOT_SENT) : lastError.startsWith(IN_DOUBT)) {
          completion.lookups.push(create);
        }
      }
      work.push(completion);
    }

    const failed = new Set<Completion>();
    for (const c of work) {
      // A create that timed out may still land: look for it once that call has been answered.
      const open = c.lookups.filter((row) => mustWait(row, false) !== undefined);
      if (open.length === 0) continue;
      c.lookups = c.lookups.filter((row) => !open.includes(row));
      wait(c, open.map((r) => r.id), now + Math.min(callTimeoutMs, 1_000));
    }
    for (const c of work.filter((x) => x.lookups.length > 0)) {
      try {
        const found = await alreadyCreated(portalId, 'task', c.lookups.map((row) => ({ row, dealId: row.dealId ?? c.item.dealId })));
        for (const row of c.lookups) {
          const ms = found.has(row.id) ? undefined : mustWait(row, true);
          if (ms !== undefined) wait(c, [row.id], now + ms);
        }
        const tasks = c.lookups.flatMap((row) =>
          (found.get(row.id) ?? []).map((taskId) => ({ taskId, outboxId: row.id, cause: c.item.payload.cause, dealId: row.dealId ?? c.item.dealId })),
        );
        if (tasks.length > 0) await store.transaction(async () => await store.outbox.recordTasks(portalId, tasks, clock.now()));
        for (const t of tasks) c.taskIds.add(t.taskId);
      } catch (error) {
        await recordFailure(portalId, [c.item.row], error, false);
        failed.add(c);
      }
    }

    // The tasks of every row in batch updates of up to 100.
    const byTask = new Map<string, Completion[]>();
    for (const c of work) {
      if (failed.has(c)) continue;
      for (const taskId of c.taskIds) byTask.set(taskId, [...(byTask.get(taskId) ?? []), c]);
    }
    for (const ids of chunk([...byTask.keys()])) {
      try {
        const outcome = await call(portalId, () => gateway.batchUpdateTasks(portalId, ids.map((id) => ({ id, properties: { hs_task_status: TASK_COMPLETED } }))), 'write');
        await store.transaction(async () => await store.outbox.settleTasks(portalId, { completed: outcome.updated, gone: outcome.missing }, clock.now()));
        if (outcome.missing.length > 0) logger.info({ portalId, tasks: outcome.missing }, 'tasks to complete are no longer in HubSpot (deleted); nothing left to complete');
        const answered = new Set([...outcome.updated, ...outcome.missing]);
        const unanswered = ids.filter((id) => !answered.has(id));
        if (unanswered.length > 0) throw new Error(`HubSpot's answer left out tasks ${unanswered.join(', ')}`);
      } catch (error) {
        const rows = [...new Set(ids.flatMap((id) => byTask.get(id) ?? []))].filter((c) => !failed.has(c));
        await recordFailure(portalId, rows.map((c) => c.item.row), error, false);
        for (const c of rows) failed.add(c);
      }
    }

    const settled = work.filter((c) => !failed.has(c));
    const done = settled.filter((c) => c.waitUntil === undefined);
    if (done.length > 0) await markDone(done.map((c) => c.item.row));
    const waiting = settled.filter((c) => c.waitUntil !== undefined);
    if (waiting.length > 0) {
      await store.transaction(async () => {
        for (const c of waiting) await store.outbox.release([c.item.row], c.waitUntil ?? now, `waiting for task create #${c.waitingFor.join(', #')} to settle`);
      });
    }
  }

  /** For each deal-property row, the properties later rows of its deal write (see planDelivery). */
  async function supersededIn(portalId: number, rows: readonly ClaimedOutboxRow[]): Promise<(row: ClaimedOutboxRow) => ReadonlySet<string>> {
    const firstByDeal = new Map<string, number>();
    for (const row of rows) {
      if (row.dealId === null || (row.kind !== 'update_deal' && row.kind !== 'revert_stage')) continue;
      firstByDeal.set(row.dealId, Math.min(row.id, firstByDeal.get(row.dealId) ?? row.id));
    }
    const writes = new Map<string, { id: number; properties: string[] }[]>();
    for (const [dealId, firstId] of firstByDeal) writes.set(dealId, await store.outbox.dealWritesAfter(portalId, dealId, firstId));
    return (row) => {
      const later = row.dealId === null ? undefined : writes.get(row.dealId);
      return new Set((later ?? []).filter((w) => w.id > row.id).flatMap((w) => w.properties));
    };
  }

  async function deliverAccount(portalId: number, rows: ClaimedOutboxRow[]): Promise<void> {
    try {
      await deps.prepareAccount?.(portalId);
    } catch (error) {
      await recordFailure(portalId, rows, error, false);
      return;
    }
    const plan = planDelivery(rows, await supersededIn(portalId, rows));
    if (plan.invalid.length > 0) {
      const now = clock.now();
      await store.transaction(async () => {
        for (const { row, reason } of plan.invalid) await store.outbox.markFailed(row, reason, now);
      });
      logger.error({ portalId, rows: plan.invalid.map((i) => ({ id: i.row.id, reason: i.reason })) }, 'outbox rows cannot be delivered');
    }
    const guard = async (what: string, work: () => Promise<void>, rowsOf: ClaimedOutboxRow[]) => {
      try {
        await work();
      } catch (error) {
        // A failure outside a batch call (e.g. the revert re-check read): the rows wait for a retry.
        logger.warn({ portalId, err: error, what }, 'outbox delivery step failed');
        await recordFailure(portalId, rowsOf, error, false);
      }
    };
    await guard('deal updates', () => deliverDealUpdates(portalId, plan.dealUpdates), plan.dealUpdates.flatMap((u) => u.rows));
    await guard(
      'notes',
      () =>
        deliverEngagements(
          portalId,
          {
            kind: 'note',
            toEngagement: (n) => ({ dealId: n.dealId, body: withRef(n.payload.body, n.row) }),
            create: async (notes) => (await gateway.createNotes(portalId, notes)).map((id) => ({ id, body: null })),
          },
          plan.notes,
        ),
      plan.notes.map((n) => n.row),
    );
    await guard(
      'tasks',
      async () => {
        const owners = plan.tasks.some((t) => t.payload.ownerUserId) ? await ownersByUserId(portalId) : new Map<string, string>();
        await deliverEngagements<CreateTaskPayload>(
          portalId,
          {
            kind: 'task',
            toEngagement: (t) => {
              const ownerId = t.payload.ownerId ?? (t.payload.ownerUserId ? owners.get(t.payload.ownerUserId) : undefined);
              return { dealId: t.dealId, subject: t.payload.subject, body: withRef(t.payload.body, t.row), dueAt: t.payload.dueAt, ...(ownerId ? { ownerId } : {}), ...(t.payload.reminderAt === undefined ? {} : { reminderAt: t.payload.reminderAt }) };
            },
            create: (tasks) => gateway.createTaskRecords(portalId, tasks),
            record: async (created) =>
              await store.outbox.recordTasks(
                portalId,
                created.flatMap(({ item, ids }) => ids.map((taskId) => ({ taskId, outboxId: item.row.id, cause: item.row.cause, dealId: item.dealId }))),
                clock.now(),
              ),
            // Its review was closed (a complete_tasks row exists) before the task reached HubSpot.
            unwanted: async (tasks) => {
              const closed = await store.outbox.causesWith(portalId, tasks.flatMap((t) => (t.row.cause ? [t.row.cause] : [])), 'complete_tasks');
              return new Map(tasks.filter((t) => t.row.cause !== null && closed.has(t.row.cause)).map((t) => [t.row.id, `${t.row.cause} was closed before its task was created`]));
            },
          },
          plan.tasks,
        );
      },
      plan.tasks.map((t) => t.row),
    );
    await guard('task completions', () => deliverTaskCompletions(portalId, plan.taskCompletions), plan.taskCompletions.map((t) => t.row));
  }

  /** Since when each account's effects have been held back because they are still being written. */
  const heldSince = new Map<number, number>();
  function stillBeingWritten(elsewhere: ReadonlySet<number>): number[] {
    const at = performance.now();
    const writing = new Set([...(deps.beingWritten?.() ?? []), ...elsewhere]);
    for (const portalId of heldSince.keys()) if (!writing.has(portalId)) heldSince.delete(portalId);
    const held: number[] = [];
    for (const portalId of writing) {
      const since = heldSince.get(portalId) ?? at;
      heldSince.set(portalId, since);
      if (at - since < HOLD_WHILE_WRITTEN_MAX_MS) held.push(portalId);
    }
    return held;
  }

  /** Accounts left out of a round: paused after a 429, waiting for HubSpot (their probe is not due), or their effects still being written. */
  async function skippedAccounts(now: number): Promise<Set<number>> {
    const applying = await store.inbox.accountsBeingApplied(now);
    return new Set([...governor.pausedAccounts(), ...outages.waiting(now), ...stillBeingWritten(applying)]);
  }

  /** Deliveries in flight, by account. */
  const delivering = new Map<number, number>();

  async function deliverDue(): Promise<number> {
    const now = clock.now();
    const skipped = await skippedAccounts(now);
    const rows = await store.transaction(async () => await store.outbox.claimDue(now, batchSize, leaseMs, skipped, holder));
    if (rows.length === 0) return 0;
    const byAccount = new Map<number, ClaimedOutboxRow[]>();
    for (const row of rows) byAccount.set(row.portalId, [...(byAccount.get(row.portalId) ?? []), row]);
    await Promise.all(
      [...byAccount].map(async ([portalId, accountRows]) => {
        delivering.set(portalId, (delivering.get(portalId) ?? 0) + 1);
        try {
          await deliverAccount(portalId, accountRows);
        } finally {
          const n = (delivering.get(portalId) ?? 1) - 1;
          if (n > 0) delivering.set(portalId, n);
          else delivering.delete(portalId);
        }
      }),
    );
    return rows.length;
  }

  /** The recovery of old claims that start() runs before the loop; stop() waits for it. */
  let starting: Promise<void> | undefined;
  let stopped = false;

  const loop = createWorkerLoop({
    name: 'outbox',
    logger,
    idleMs: deps.idleMs ?? 1_000,
    round: deliverDue,
    msUntilNextDue: async () => {
      const now = clock.now();
      const waiting = outages.waiting(now);
      let next = await store.outbox.nextDueAt(waiting);
      // A waiting account's probe wakes the loop when it is due.
      for (const outage of outages.list()) if (waiting.has(outage.portalId)) next = Math.min(next ?? Number.POSITIVE_INFINITY, outage.nextProbeAt);
      return next === undefined ? undefined : next - now;
    },
  });

  return {
    deliverDue,
    outages: () => outages.list(),
    delivering: () => new Set(delivering.keys()),
    get running() {
      return loop.running;
    },
    // start() answers at once (WorkerLoop's start is void): the claims a previous process left are
    // recovered first, then the loop runs, unless stop() came meanwhile. A failed recovery is logged
    // and the loop runs anyway (those rows are due again when their lease ends).
    start() {
      if (starting !== undefined || loop.running) return;
      stopped = false;
      starting = store.outbox
        .recoverClaims(clock.now(), holder)
        .catch((error: unknown) => logger.error({ err: error, worker: 'outbox' }, 'outbox: recovering the claims of a previous process failed; they are due when their lease ends'))
        .then(() => {
          if (!stopped) loop.start();
        })
        .finally(() => {
          starting = undefined;
        });
    },
    wake: loop.wake,
    async stop() {
      stopped = true;
      await starting;
      await loop.stop();
    },
  };
}
