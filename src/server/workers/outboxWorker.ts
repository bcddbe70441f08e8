import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { HubSpotGateway, HubSpotDeal } from '../hubspot/gateway';
import { randomUUID } from 'node:crypto';
import type { ClaimedOutboxRow } from '../storage/outboxStore';
import type { RetryPolicy } from '../hubspot/backoff';
import { createAccountOutages, PROBE_MAX_MS, type AccountOutage } from '../hubspot/accountOutages';
import type { RateGovernor } from '../hubspot/rateGovernor';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';
import { type OutboxContext, call, markDone, recordFailure, deliverEngagements, noteKind, taskKind } from './outboxCalls';
import { chunk, planDelivery, revertProperties, type DealUpdatePlan, type RevertStagePayload } from '../storage/deliveryPlan';
import { deliverTaskCompletions } from './outboxTaskCompletions';

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

/** What the deliveries share (see OutboxContext): the settings, from the deps and their defaults, and the state the rounds keep. */
function outboxContext(deps: OutboxWorkerDeps): OutboxContext {
  const { store, gateway, clock, logger, governor } = deps;
  const retry = deps.retry ?? DEFAULT_OUTBOX_RETRY;
  const callTimeoutMs = deps.callTimeoutMs ?? 20_000;
  const random = deps.random ?? Math.random;
  const windowMs = retry.windowMs ?? OUTBOX_RETRY_WINDOW_MS;
  const policy: RetryPolicy = { ...retry, windowMs };
  return {
    deps, store, gateway, clock, logger, governor,
    retry,
    callTimeoutMs,
    batchSize: deps.batchSize ?? 500,
    random,
    windowMs,
    policy,
    outageRetry: { ...policy, maxMs: Math.min(retry.maxMs, PROBE_MAX_MS) },
    outages: createAccountOutages({ clock, logger, retry, random, worker: 'outbox' }),
    leaseMs: callTimeoutMs * 3,
    holder: deps.instanceId ?? randomUUID(),
    lostClaims: (rows: number) => logger.warn({ rows, worker: 'outbox' }, 'outbox: rows delivered after their lease ran out were taken over by another claim; its outcome stands'),
    ownerIds: new Map(),
    openCallMs: callTimeoutMs * 10,
    lateAnswerMs: callTimeoutMs * 3,
    lookupEveryMs: callTimeoutMs,
    openCalls: new Map(),
    heldSince: new Map(),
    delivering: new Map(),
  };
}

export function createOutboxWorker(deps: OutboxWorkerDeps): OutboxWorker {
  const ctx = outboxContext(deps);
  const { store, clock, logger, outages } = ctx;
  const deliverDue = () => deliverOutboxDue(ctx);

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
    delivering: () => new Set(ctx.delivering.keys()),
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
        .recoverClaims(clock.now(), ctx.holder)
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

/** Accounts held back because their effects are still being written (for at most HOLD_WHILE_WRITTEN_MAX_MS each). */
function stillBeingWritten(ctx: OutboxContext, elsewhere: ReadonlySet<number>): number[] {
  const { heldSince } = ctx;
  const at = performance.now();
  const writing = new Set([...(ctx.deps.beingWritten?.() ?? []), ...elsewhere]);
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
async function skippedAccounts(ctx: OutboxContext, now: number): Promise<Set<number>> {
  const applying = await ctx.store.inbox.accountsBeingApplied(now);
  return new Set([...ctx.governor.pausedAccounts(), ...ctx.outages.waiting(now), ...stillBeingWritten(ctx, applying)]);
}

/** One round: claims what is due and delivers it, the accounts side by side. */
async function deliverOutboxDue(ctx: OutboxContext): Promise<number> {
  const { store, delivering } = ctx;
  const now = ctx.clock.now();
  const skipped = await skippedAccounts(ctx, now);
  const rows = await store.transaction(async () => await store.outbox.claimDue(now, ctx.batchSize, ctx.leaseMs, skipped, ctx.holder));
  if (rows.length === 0) return 0;
  const byAccount = new Map<number, ClaimedOutboxRow[]>();
  for (const row of rows) byAccount.set(row.portalId, [...(byAccount.get(row.portalId) ?? []), row]);
  await Promise.all(
    [...byAccount].map(async ([portalId, accountRows]) => {
      delivering.set(portalId, (delivering.get(portalId) ?? 0) + 1);
      try {
        await deliverAccount(ctx, portalId, accountRows);
      } finally {
        const n = (delivering.get(portalId) ?? 1) - 1;
        if (n > 0) delivering.set(portalId, n);
        else delivering.delete(portalId);
      }
    }),
  );
  return rows.length;
}

/** The deal still sits in the stage it was moved into without sign-off, and by that move (the newest in its history). */
function stillAsMoved(deal: HubSpotDeal | undefined, revert: RevertStagePayload): boolean {
  if (!deal || deal.stage !== revert.fromStage) return false;
  if (revert.movedAt === undefined) return true;
  const newest = deal.stageHistory[0];
  return newest === undefined || (newest.value === revert.fromStage && newest.timestamp === revert.movedAt);
}

/** One account's claimed rows: planned, then deal updates, notes, tasks and task completions, in that order. */
export async function deliverAccount(ctx: OutboxContext, portalId: number, rows: ClaimedOutboxRow[]): Promise<void> {
  const { store, logger } = ctx;
  try {
    await ctx.deps.prepareAccount?.(portalId);
  } catch (error) {
    await recordFailure(ctx, portalId, rows, error, false);
    return;
  }
  const plan = planDelivery(rows, await supersededIn(ctx, portalId, rows));
  if (plan.invalid.length > 0) {
    const now = ctx.clock.now();
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
      await recordFailure(ctx, portalId, rowsOf, error, false);
    }
  };
  await guard('deal updates', () => deliverDealUpdates(ctx, portalId, plan.dealUpdates), plan.dealUpdates.flatMap((u) => u.rows));
  await guard('notes', () => deliverEngagements(ctx, portalId, noteKind(ctx, portalId), plan.notes), plan.notes.map((n) => n.row));
  await guard(
    'tasks',
    async () => {
      const needed = [...new Set(plan.tasks.flatMap((t) => (t.payload.ownerId || !t.payload.ownerUserId ? [] : [t.payload.ownerUserId])))];
      const owners = needed.length > 0 ? await ownersByUserId(ctx, portalId, needed) : new Map<string, string>();
      await deliverEngagements(ctx, portalId, taskKind(ctx, portalId, owners), plan.tasks);
    },
    plan.tasks.map((t) => t.row),
  );
  await guard('task completions', () => deliverTaskCompletions(ctx, portalId, plan.taskCompletions), plan.taskCompletions.map((t) => t.row));
}

async function deliverDealUpdates(ctx: OutboxContext, portalId: number, updates: DealUpdatePlan[]): Promise<void> {
  // A revert that waited (a retry, or an unknown earlier outcome) is only applied while the deal
  // still sits where it was moved without sign-off, by that same move: a later, legitimate move
  // is never undone (not even one back into the same stage after an approval).
  const recheck = updates.filter((u) => u.revert && u.rows.some((r) => r.attempts > 1 || r.inDoubt));
  if (recheck.length > 0) {
    const current = new Map<string, HubSpotDeal>();
    for (const ids of chunk(recheck.map((u) => u.dealId))) {
      const deals = await call(ctx, portalId, () => ctx.gateway.batchReadDeals(portalId, ids, { withStageHistory: true }), 'read');
      for (const deal of deals) current.set(deal.id, deal);
    }
    for (const update of recheck) {
      if (update.revert && !stillAsMoved(current.get(update.dealId), update.revert)) {
        for (const name of Object.keys(revertProperties(update.revert))) delete update.properties[name];
      }
    }
  }
  const settledWithoutCall = updates.filter((u) => Object.keys(u.properties).length === 0);
  if (settledWithoutCall.length > 0) await markDone(ctx, settledWithoutCall.flatMap((u) => u.rows));
  const toSend = updates.filter((u) => Object.keys(u.properties).length > 0);

  for (const batch of chunk(toSend)) {
    try {
      let sent: DealUpdatePlan[] = [];
      await call(
        ctx,
        portalId,
        async (pace) => {
          // After the permit, right before the call: only the updates whose rows are still this
          // delivery's go out. The check is I/O: a 429 read meanwhile paused the account, and
          // nothing goes out during a pause (pace waits it out, off the call's timeout; then the
          // rows are checked again).
          sent = await stillClaimed(ctx, batch);
          while (ctx.governor.pauseRemainingMs(portalId) > 0) {
            await pace();
            sent = await stillClaimed(ctx, batch);
          }
          if (sent.length > 0) await ctx.gateway.batchUpdateDeals(portalId, sent.map((u) => ({ id: u.dealId, properties: u.properties })));
        },
        'write',
      );
      await markDone(ctx, sent.flatMap((u) => u.rows));
    } catch (error) {
      if (!await recordFailure(ctx, portalId, batch.flatMap((u) => u.rows), error, batch.length > 1, true)) {
        for (const single of batch) await deliverDealUpdates(ctx, portalId, [single]);
      }
    }
  }
}

/**
 * The updates whose rows are all still claimed by this delivery, their leases renewed. A row
 * taken over while this delivery stalled (past its lease) is another instance's now, which may
 * already have written a newer value: this older one must not land after it.
 */
async function stillClaimed(ctx: OutboxContext, updates: readonly DealUpdatePlan[]): Promise<DealUpdatePlan[]> {
  const { store } = ctx;
  const until = ctx.clock.now() + ctx.leaseMs;
  const kept = await store.transaction(async () => {
    const ours: DealUpdatePlan[] = [];
    for (const update of updates) if ((await store.outbox.renewClaims(update.rows, until)) === update.rows.length) ours.push(update);
    return ours;
  });
  if (kept.length < updates.length) ctx.logger.warn({ lostClaims: updates.length - kept.length }, 'outbox: deal updates taken over by another instance while this one stalled are left to it');
  return kept;
}

/**
 * HubSpot assigns tasks to owners, not users: map the reviewers' user ids (cached ten minutes). A
 * user id the cached list lacks (a reviewer added since) reads the owners again, once per round of
 * the account (deliverAccount's one call), drawing a read permit like the other reads.
 */
async function ownersByUserId(ctx: OutboxContext, portalId: number, needed: readonly string[]): Promise<Map<string, string>> {
  const cached = ctx.ownerIds.get(portalId);
  const fresh = cached !== undefined && ctx.clock.now() - cached.at < 10 * 60_000;
  if (fresh && needed.every((userId) => cached.byUserId.has(userId))) return cached.byUserId;
  const owners = await call(ctx, portalId, (pace) => ctx.gateway.getOwners(portalId, pace), 'read');
  const byUserId = new Map<string, string>();
  for (const owner of owners) if (owner.userId !== null) byUserId.set(owner.userId, owner.id);
  ctx.ownerIds.set(portalId, { at: ctx.clock.now(), byUserId });
  return byUserId;
}

/** For each deal-property row, the properties later rows of its deal write (see planDelivery). */
async function supersededIn(ctx: OutboxContext, portalId: number, rows: readonly ClaimedOutboxRow[]): Promise<(row: ClaimedOutboxRow) => ReadonlySet<string>> {
  const firstByDeal = new Map<string, number>();
  for (const row of rows) {
    if (row.dealId === null || (row.kind !== 'update_deal' && row.kind !== 'revert_stage')) continue;
    firstByDeal.set(row.dealId, Math.min(row.id, firstByDeal.get(row.dealId) ?? row.id));
  }
  const writes = new Map<string, { id: number; properties: string[] }[]>();
  for (const [dealId, firstId] of firstByDeal) writes.set(dealId, await ctx.store.outbox.dealWritesAfter(portalId, dealId, firstId));
  return (row) => {
    const later = row.dealId === null ? undefined : writes.get(row.dealId);
    return new Set((later ?? []).filter((w) => w.id > row.id).flatMap((w) => w.properties));
  };
}
