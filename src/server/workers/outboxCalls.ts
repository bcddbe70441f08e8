import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { classifyHubSpotError, type HubSpotGateway, type PaceNext, type EngagementRecord, type NewEngagement } from '../hubspot/gateway';
import { type OutboxClaim, IN_DOUBT, type ClaimedOutboxRow } from '../storage/outboxStore';
import { type RetryPolicy, backoffDelay, describeDuration, retriesExhausted } from '../hubspot/backoff';
import { type AccountOutage, type AccountOutages, classifyHubSpotFailure, type HubSpotFailure } from '../hubspot/accountOutages';
import { CallTimeout, pausableTimeout, withTimeout } from '../hubspot/callTimeout';
import { permitOutsidePause, type RateGovernor } from '../hubspot/rateGovernor';
import type { OutboxWorkerDeps } from './outboxWorker';
import { carriesRef, chunk, withRef, type CreateTaskPayload, type EngagementPlan } from '../storage/deliveryPlan';

/*
 * A delivery round's calls to HubSpot and what follows them: each call with its timeout, pacing and
 * outage circuit (call, send), the marks that record an outcome (markDone, recordFailure), and the
 * notes and tasks, created in batches and found again when an outcome is in doubt
 * (deliverEngagements). The worker (outboxWorker.ts) claims the rows and plans the round; the task
 * completions (outboxTaskCompletions.ts) build on these calls.
 */

/**
 * What one outbox worker's deliveries share: its dependencies, its settings (see
 * createOutboxWorker) and the state its rounds keep between calls.
 */
export interface OutboxContext {
  deps: OutboxWorkerDeps;
  store: Store;
  gateway: HubSpotGateway;
  clock: Clock;
  logger: Logger;
  governor: RateGovernor;
  retry: RetryPolicy;
  callTimeoutMs: number;
  batchSize: number;
  random: () => number;
  windowMs: number;
  policy: RetryPolicy;
  /** While HubSpot is out, a row's own retries are no further apart than the account's probes. */
  outageRetry: RetryPolicy;
  outages: AccountOutages;
  /** Claims outlive any call with its timeout; a crash leaves them to run out (SQLite, or the same instance id restarted: recoverClaims at the next start). */
  leaseMs: number;
  holder: string;
  /** Marks that changed no row: the lease ran out while this delivery was slow, and another claim took the row (its outcome stands). */
  lostClaims: (rows: number) => void;
  ownerIds: Map<number, { at: number; byUserId: Map<string, string> }>;
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
  openCallMs: number;
  lateAnswerMs: number;
  lookupEveryMs: number;
  /** Rows whose call timed out in this process and is still open: row id -> when it was sent (Date.now()). */
  openCalls: Map<number, number>;
  /** Since when each account's effects have been held back because they are still being written. */
  heldSince: Map<number, number>;
  /** Deliveries in flight, by account. */
  delivering: Map<number, number>;
}

/** The account's circuit is open and its probe is not due: the call is not made, the rows wait without an attempt. */
export class AccountWaiting extends Error {
  constructor(readonly outage: AccountOutage) {
    super(`waiting for HubSpot, failing for this account since ${new Date(outage.since).toISOString()} (next probe ${new Date(outage.nextProbeAt).toISOString()}): ${outage.lastError}`);
  }
}

/**
 * The send time could not be recorded for every row: the lease ran out before the call went out,
 * and another instance took the rows over (it may have created them already). Nothing is sent; the
 * rows still held are put back without an attempt.
 */
export class ClaimLost extends Error {
  constructor(readonly lost: number) {
    super(`the claim of ${lost} row(s) ran out before the call went out and another instance took them over; not sent`);
  }
}

/** Once a call of this round found HubSpot out, the account's other calls wait for the next probe instead of being made. */
function unlessWaiting(ctx: OutboxContext, portalId: number): void {
  const outage = ctx.outages.waitingFor(portalId, ctx.clock.now());
  if (outage) throw new AccountWaiting(outage);
}

/**
 * A call to HubSpot. Any failure counts against the account (recordFailure), but only a write
 * that succeeds closes its circuit: HubSpot answering the reads around a write (a lookup, the
 * owners) while it refuses the writes themselves is not HubSpot answering again.
 */
export async function call<T>(ctx: OutboxContext, portalId: number, work: (paceNext: PaceNext) => Promise<T>, kind: 'read' | 'write'): Promise<T> {
  unlessWaiting(ctx, portalId);
  await permitOutsidePause(ctx.governor, portalId);
  // The time spent waiting for the permits of the call's later requests is not HubSpot's: it does not count toward the timeout.
  const bound = pausableTimeout(ctx.callTimeoutMs);
  const result = await bound.race(work(() => bound.paused(() => paceNext(ctx, portalId))));
  if (kind === 'write') ctx.outages.answered(portalId);
  return result;
}

/**
 * The second and later requests of one gateway call (a lookup's pages and batch reads): each
 * draws its own permit, as HubSpot counts each request (the three-instance kill run got 429s on
 * the lookups after restarts when only the first one did).
 */
async function paceNext(ctx: OutboxContext, portalId: number): Promise<void> {
  unlessWaiting(ctx, portalId);
  await permitOutsidePause(ctx.governor, portalId);
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
export async function send<T>(ctx: OutboxContext, portalId: number, rows: readonly OutboxClaim[], work: () => Promise<T>): Promise<T> {
  const { store, governor } = ctx;
  unlessWaiting(ctx, portalId);
  await permitOutsidePause(governor, portalId);
  let sentAt = Date.now();
  const answered = async () => await store.transaction(async () => await store.outbox.markAnswered(rows, sentAt));
  const recordSending = async () => {
    const marked = await store.transaction(async () => await store.outbox.markSending(rows, sentAt));
    if (marked === rows.length) return;
    await answered();
    throw new ClaimLost(rows.length - marked);
  };
  await recordSending();
  while (governor.pauseRemainingMs(portalId) > 0) {
    // A 429 arrived while the send time was being recorded (real I/O on PostgreSQL): nothing goes
    // out before the pause is over, and the send time recorded is the real one.
    await permitOutsidePause(governor, portalId);
    sentAt = Date.now();
    await recordSending();
  }
  const pending = work();
  try {
    const result = await withTimeout(pending, ctx.callTimeoutMs);
    ctx.outages.answered(portalId);
    return result;
  } catch (error) {
    if (error instanceof CallTimeout) {
      for (const { id } of rows) ctx.openCalls.set(id, sentAt);
      const late = async (lateError?: unknown) => {
        for (const { id } of rows) if (ctx.openCalls.get(id) === sentAt) ctx.openCalls.delete(id);
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
export function mustWait(ctx: OutboxContext, row: { id: number; inFlightSince: number | null }, looked: boolean): number | undefined {
  const now = Date.now();
  const open = ctx.openCalls.get(row.id);
  if (open !== undefined && now - open < ctx.openCallMs) return Math.min(ctx.callTimeoutMs, 1_000);
  if (open !== undefined) ctx.openCalls.delete(row.id);
  if (!looked || row.inFlightSince === null) return undefined;
  const left = row.inFlightSince + ctx.lateAnswerMs - now;
  return left > 0 ? Math.min(left, ctx.lookupEveryMs) : undefined;
}

function retryAfterMs(error: unknown): number | undefined {
  const headers = typeof error === 'object' && error !== null ? (error as { headers?: unknown }).headers : undefined;
  if (typeof headers !== 'object' || headers === null) return undefined;
  const value = (headers as Record<string, unknown>)['retry-after'];
  const seconds = typeof value === 'string' ? Number(value) : NaN;
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : undefined;
}

/** Records a failed delivery of `rows`; returns false when the caller should split the batch instead. */
export async function recordFailure(ctx: OutboxContext, portalId: number, rows: ClaimedOutboxRow[], error: unknown, splittable: boolean, sent = false): Promise<boolean> {
  const { store, logger, governor } = ctx;
  const now = ctx.clock.now();
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
    ctx.lostClaims(error.lost);
    await putBack(now, error.message);
    return true;
  }
  const info = classifyHubSpotError(error);
  if (info.rateLimited) {
    const pause = await governor.rateLimited(portalId, retryAfterMs(error));
    logger.warn({ portalId, pauseMs: pause, rows: rows.length }, 'HubSpot answered 429; pausing deliveries for this account');
    await putBack(now + pause + Math.round(ctx.random() * 500), `rate limited (429): ${info.message}`);
    return true;
  }
  const failure = classifyHubSpotFailure(error);
  if (failure.kind === 'refused' && splittable) return false;
  // Only an answer that proves nothing was done (a 4xx) is a known outcome. A 5xx (HubSpot may
  // have done the work and still answered 500 or 504), no HTTP answer (timeout, connection reset)
  // or a failure after the call (recording its answer) may mean it was applied.
  const unknownOutcome = sent && (error instanceof CallTimeout || info.status === undefined || info.status >= 500);
  const doubt = (row: ClaimedOutboxRow) => (unknownOutcome || row.inDoubt ? IN_DOUBT : '');
  if (failure.kind === 'refused') {
    await store.transaction(async () => {
      for (const row of rows) await store.outbox.markFailed(row, `${doubt(row)}given up, retrying cannot cure it: ${failure.message}`, now);
    });
    logger.error({ portalId, rows: rows.length, status: info.status, error: failure.message }, 'outbox rows given up: HubSpot refuses them (GET /ops/outbox?status=failed)');
    return true;
  }
  await recordOutage(ctx, portalId, rows, failure, info.status, doubt, now);
  return true;
}

/** HubSpot is out for the account: its circuit opens, and each row waits for the next probe or, past the retry window, is given up. */
async function recordOutage(ctx: OutboxContext, portalId: number, rows: ClaimedOutboxRow[], failure: HubSpotFailure, status: number | undefined, doubt: (row: ClaimedOutboxRow) => string, now: number): Promise<void> {
  const { store, logger, policy, windowMs } = ctx;
  let failed = 0;
  const outage = ctx.outages.failed(portalId, failure.message);
  const waiting = `${failure.message} (waiting for HubSpot, failing for this account since ${new Date(outage.since).toISOString()}, next probe ${new Date(outage.nextProbeAt).toISOString()})`;
  await store.transaction(async () => {
    for (const row of rows) {
      if (retriesExhausted(policy, row.attempts, row.createdAt, now)) {
        const note = `given up after retrying for ${describeDuration(now - row.createdAt)} since it was queued (the retry window is ${describeDuration(windowMs)}) and ${row.attempts} attempts`;
        await store.outbox.markFailed(row, `${doubt(row)}${note}: ${failure.message}`, now);
        failed += 1;
      } else {
        await store.outbox.markRetry(row, doubt(row) + waiting, Math.max(outage.nextProbeAt, now + backoffDelay(row.attempts, ctx.outageRetry, ctx.random)));
      }
    }
  });
  if (failed > 0) logger.error({ portalId, rows: failed, status, error: failure.message }, 'outbox rows given up after the retry window (GET /ops/outbox?status=failed)');
  else logger.warn({ portalId, rows: rows.length, status, error: failure.message }, 'HubSpot call failed; the account waits for the next probe');
}

export async function markDone(ctx: OutboxContext, rows: readonly ClaimedOutboxRow[]): Promise<void> {
  const { store } = ctx;
  const now = ctx.clock.now();
  const changed = await store.transaction(async () => await store.outbox.markDone(rows, now));
  if (changed < rows.length) ctx.lostClaims(rows.length - changed);
}

/** How one kind of engagement is created: notes, or tasks (whose HubSpot ids are recorded). */
export interface EngagementKind<P> {
  kind: 'note' | 'task';
  toEngagement: (item: EngagementPlan<P>) => NewEngagement;
  /** Creates them; answers the created records (id and body; notes: ids only, in order). */
  create: (engagements: NewEngagement[]) => Promise<EngagementRecord[]>;
  /** Inside the transaction that marks the rows done: the HubSpot ids each row's engagement got. */
  record?: (created: { item: EngagementPlan<P>; ids: string[] }[]) => Promise<void>;
  /** Rows no longer worth creating (the reason, by row id); asked once it is known they do not exist yet. */
  unwanted?: (items: EngagementPlan<P>[]) => Promise<Map<number, string>>;
}

/**
 * Of the engagements whose earlier delivery may have landed, those HubSpot already has: row id
 * -> the ids of the engagements carrying its reference (more than one if a doubt made duplicates).
 */
export async function alreadyCreated(
  ctx: OutboxContext,
  portalId: number,
  kind: 'note' | 'task',
  doubtful: readonly { row: { id: number; portalId: number }; dealId: string }[],
): Promise<Map<number, string[]>> {
  const found = new Map<number, string[]>();
  const dealIds = [...new Set(doubtful.map((i) => i.dealId))];
  for (const dealId of dealIds) {
    const existing = await call(ctx, portalId, (pace) => ctx.gateway.listDealEngagements(portalId, dealId, kind, pace), 'read');
    for (const item of doubtful) {
      if (item.dealId !== dealId) continue;
      const ids = existing.filter((e) => carriesRef(e.body, item.row)).map((e) => e.id);
      if (ids.length > 0) found.set(item.row.id, ids);
    }
  }
  return found;
}

async function settleCreated<P>(ctx: OutboxContext, spec: EngagementKind<P>, created: { item: EngagementPlan<P>; ids: string[] }[]): Promise<void> {
  const { store } = ctx;
  const now = ctx.clock.now();
  await store.transaction(async () => {
    const changed = await store.outbox.markDone(created.map((c) => c.item.row), now);
    if (changed < created.length) ctx.lostClaims(created.length - changed);
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

export async function deliverEngagements<P>(ctx: OutboxContext, portalId: number, spec: EngagementKind<P>, items: EngagementPlan<P>[]): Promise<void> {
  const { store } = ctx;
  let doubtful = items.filter((i) => i.row.inDoubt);
  const claimed = new Map(items.map((i) => [i.row.id, i.row]));
  const claimsOf = (id: number) => [claimed.get(id)].filter((c) => c !== undefined);
  const waits = new Map<number, number>();
  // An earlier attempt still open here: look for it once it has been answered, without spending an attempt.
  for (const i of doubtful) {
    const ms = mustWait(ctx, i.row, false);
    if (ms !== undefined) waits.set(i.row.id, ms);
  }
  doubtful = doubtful.filter((i) => !waits.has(i.row.id));
  if (doubtful.length > 0) items = await lookUpDoubtful(ctx, portalId, spec, items, doubtful, waits);
  if (waits.size > 0) {
    const now = ctx.clock.now();
    await store.transaction(async () => {
      for (const [id, ms] of waits) await store.outbox.release(claimsOf(id), now + ms, IN_DOUBT + 'an earlier attempt may still land at HubSpot; looking for it before creating again');
    });
    items = items.filter((i) => !waits.has(i.row.id));
  }
  const unwanted = spec.unwanted && items.length > 0 ? await spec.unwanted(items) : new Map<number, string>();
  if (unwanted.size > 0) {
    const now = ctx.clock.now();
    await store.transaction(async () => {
      for (const i of items) if (unwanted.has(i.row.id)) await store.outbox.skip([i.row], unwanted.get(i.row.id) ?? '', now);
    });
    items = items.filter((i) => !unwanted.has(i.row.id));
  }
  for (const batch of chunk(items)) {
    try {
      const engagements = batch.map(spec.toEngagement);
      const records = await send(ctx, portalId, batch.map((i) => i.row), () => spec.create(engagements));
      await settleCreated(ctx, spec, matchCreated(batch, records));
    } catch (error) {
      if (!await recordFailure(ctx, portalId, batch.map((i) => i.row), error, batch.length > 1, true)) {
        for (const single of batch) await deliverEngagements(ctx, portalId, spec, [single]);
      }
    }
  }
}

/**
 * The doubtful items HubSpot already has are settled; those not found whose call may still land
 * are added to `waits` (looked for again later, nothing created yet). Answers the items left.
 */
async function lookUpDoubtful<P>(
  ctx: OutboxContext,
  portalId: number,
  spec: EngagementKind<P>,
  items: EngagementPlan<P>[],
  doubtful: EngagementPlan<P>[],
  waits: Map<number, number>,
): Promise<EngagementPlan<P>[]> {
  try {
    const existing = await alreadyCreated(ctx, portalId, spec.kind, doubtful);
    if (existing.size > 0) {
      await settleCreated(
        ctx,
        spec,
        doubtful.filter((i) => existing.has(i.row.id)).map((item) => ({ item, ids: existing.get(item.row.id) ?? [] })),
      );
    }
    // Not found, but a call that carried it may still land: look again later, create nothing yet.
    for (const i of doubtful) {
      if (existing.has(i.row.id)) continue;
      const ms = mustWait(ctx, i.row, true);
      if (ms !== undefined) waits.set(i.row.id, ms);
    }
    return items.filter((i) => !existing.has(i.row.id));
  } catch (error) {
    await recordFailure(ctx, portalId, doubtful.map((i) => i.row), error, false);
    return items.filter((i) => !i.row.inDoubt);
  }
}

/** Notes: created in batches, their ids not recorded. */
export function noteKind(ctx: OutboxContext, portalId: number): EngagementKind<{ body: string }> {
  return {
    kind: 'note',
    toEngagement: (n) => ({ dealId: n.dealId, body: withRef(n.payload.body, n.row) }),
    create: async (notes) => (await ctx.gateway.createNotes(portalId, notes)).map((id) => ({ id, body: null })),
  };
}

/** Tasks: assigned to the owners of the reviewers' user ids, their HubSpot ids recorded with their cause. */
export function taskKind(ctx: OutboxContext, portalId: number, owners: Map<string, string>): EngagementKind<CreateTaskPayload> {
  const { store } = ctx;
  return {
    kind: 'task',
    toEngagement: (t) => {
      const ownerId = t.payload.ownerId ?? (t.payload.ownerUserId ? owners.get(t.payload.ownerUserId) : undefined);
      // Not an owner of the account even in the owners just read: the task goes out unassigned, and the log says so.
      if (!ownerId && t.payload.ownerUserId) ctx.logger.warn({ portalId, outboxId: t.row.id, userId: t.payload.ownerUserId }, 'outbox: task for a user who is no HubSpot owner of the account goes out unassigned');
      return { dealId: t.dealId, subject: t.payload.subject, body: withRef(t.payload.body, t.row), dueAt: t.payload.dueAt, ...(ownerId ? { ownerId } : {}), ...(t.payload.reminderAt === undefined ? {} : { reminderAt: t.payload.reminderAt }) };
    },
    create: (tasks) => ctx.gateway.createTaskRecords(portalId, tasks),
    record: async (created) =>
      await store.outbox.recordTasks(
        portalId,
        created.flatMap(({ item, ids }) => ids.map((taskId) => ({ taskId, outboxId: item.row.id, cause: item.row.cause, dealId: item.dealId }))),
        ctx.clock.now(),
      ),
    // Its review was closed (a complete_tasks row exists) before the task reached HubSpot.
    unwanted: async (tasks) => {
      const closed = await store.outbox.causesWith(portalId, tasks.flatMap((t) => (t.row.cause ? [t.row.cause] : [])), 'complete_tasks');
      return new Map(tasks.filter((t) => t.row.cause !== null && closed.has(t.row.cause)).map((t) => [t.row.id, `${t.row.cause} was closed before its task was created`]));
    },
  };
}
