import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Store } from '../storage/store';
import { classifyHubSpotError, type HubSpotDeal, type HubSpotGateway, type NewEngagement } from '../hubspot/gateway';
import { IN_DOUBT, type ClaimedOutboxRow } from '../outbox/outboxStore';
import {
  chunk,
  engagementRef,
  planDelivery,
  revertProperties,
  withRef,
  type CreateTaskPayload,
  type DealUpdatePlan,
  type EngagementPlan,
  type RevertStagePayload,
} from '../outbox/deliveryPlan';
import { backoffDelay, describeError, type RetryPolicy } from './backoff';
import { CallTimeout, withTimeout } from './callTimeout';
import type { RateGovernor } from './rateGovernor';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';

/**
 * Delivers the outbox to HubSpot. Each round claims the due rows, groups them per account into
 * batch calls (deal updates coalesced per deal, notes and tasks in batch creates of up to 100),
 * and records each outcome in one transaction:
 * - success: the rows are done (a row is marked done only after HubSpot confirmed it);
 * - 429: the account is paused and slowed down; the rows wait without spending an attempt;
 * - 5xx, timeouts, network errors: retried with exponential backoff and jitter, up to
 *   `retry.maxAttempts` attempts, then failed with the last error (GET /ops/outbox?status=failed);
 * - another 4xx: a batch is split so that one bad row cannot block the others; a single row fails.
 * A stage revert sets an explicit stage, so repeating one is harmless; a note or task whose last
 * delivery has an unknown outcome is looked up by its reference before it is created again.
 */
export interface OutboxWorkerDeps {
  store: Store;
  gateway: HubSpotGateway;
  clock: Clock;
  logger: Logger;
  governor: RateGovernor;
  /** Runs before an account's first delivery (properties must exist before they are written). */
  prepareAccount?: (portalId: number) => Promise<void>;
  retry?: RetryPolicy;
  /** A HubSpot call that takes longer than this counts as failed, with an unknown outcome. */
  callTimeoutMs?: number;
  batchSize?: number;
  idleMs?: number;
  random?: () => number;
}

export const DEFAULT_OUTBOX_RETRY: RetryPolicy = { baseMs: 1_000, maxMs: 10 * 60_000, maxAttempts: 10 };

export interface OutboxWorker extends WorkerLoop {
  /** One round: claims and delivers what is due. Returns the number of rows it settled or put back. */
  deliverDue(): Promise<number>;
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
  /** Claims outlive any call with its timeout; a crash leaves them to recoverClaims at the next start. */
  const leaseMs = callTimeoutMs * 3;
  const ownerIds = new Map<number, { at: number; byUserId: Map<string, string> }>();

  /**
   * Calls that timed out but are still open, per account: HubSpot may yet apply them. A note or task
   * in doubt is looked up only once these have been answered (or have been open for
   * `lateAnswerMs`), else the lookup misses a write still in flight and the engagement is created twice.
   */
  const lateCalls = new Map<number, Map<Promise<unknown>, number>>();
  const lateAnswerMs = callTimeoutMs * 10;

  function trackLate(portalId: number, pending: Promise<unknown>): void {
    const calls = lateCalls.get(portalId) ?? new Map<Promise<unknown>, number>();
    lateCalls.set(portalId, calls);
    calls.set(pending, Date.now());
    const settled = () => {
      calls.delete(pending);
    };
    pending.then(settled, settled);
  }

  /** Whether a timed-out call of the account may still land (real time, like the call timeout). */
  function callsInFlight(portalId: number): boolean {
    const calls = lateCalls.get(portalId);
    if (!calls) return false;
    for (const [pending, since] of calls) {
      if (Date.now() - since < lateAnswerMs) return true;
      calls.delete(pending);
    }
    return false;
  }

  async function call<T>(portalId: number, work: () => Promise<T>): Promise<T> {
    await governor.acquire(portalId);
    const pending = work();
    try {
      return await withTimeout(pending, callTimeoutMs);
    } catch (error) {
      if (error instanceof CallTimeout) trackLate(portalId, pending);
      throw error;
    }
  }

  /** Records a failed delivery of `rows`; returns false when the caller should split the batch instead. */
  function recordFailure(portalId: number, rows: ClaimedOutboxRow[], error: unknown, splittable: boolean): boolean {
    const info = classifyHubSpotError(error);
    const now = clock.now();
    if (info.rateLimited) {
      const pause = governor.rateLimited(portalId, retryAfterMs(error));
      logger.warn({ portalId, pauseMs: pause, rows: rows.length }, 'HubSpot answered 429; pausing deliveries for this account');
      const until = now + pause + Math.round(random() * 500);
      const reason = `rate limited (429): ${info.message}`;
      store.transaction(() => {
        // A row whose earlier outcome is unknown keeps that mark: it is still checked before a repeat.
        const [doubtful, clear] = [rows.filter((r) => r.inDoubt), rows.filter((r) => !r.inDoubt)];
        store.outbox.release(clear.map((r) => r.id), until, reason);
        store.outbox.release(doubtful.map((r) => r.id), until, IN_DOUBT + reason);
      });
      return true;
    }
    if (!info.retryable && splittable) return false;
    // No HTTP answer (timeout, connection reset): HubSpot may have applied the call.
    const unknownOutcome = error instanceof CallTimeout || info.status === undefined;
    const message = (info.status ? `HubSpot ${info.status}: ` : '') + info.message;
    let failed = 0;
    store.transaction(() => {
      for (const row of rows) {
        const text = (unknownOutcome || row.inDoubt ? IN_DOUBT : '') + message;
        if (!info.retryable || row.attempts >= retry.maxAttempts) {
          store.outbox.markFailed(row.id, text, now);
          failed += 1;
        } else {
          store.outbox.markRetry(row.id, text, now + backoffDelay(row.attempts, retry, random));
        }
      }
    });
    if (failed > 0) logger.error({ portalId, rows: failed, status: info.status, error: info.message }, 'outbox rows failed for good');
    else logger.warn({ portalId, rows: rows.length, status: info.status, error: info.message }, 'HubSpot call failed; will retry');
    return true;
  }

  function markDone(rows: readonly ClaimedOutboxRow[]): void {
    const now = clock.now();
    store.transaction(() => store.outbox.markDone(rows.map((r) => r.id), now));
  }

  async function deliverDealUpdates(portalId: number, updates: DealUpdatePlan[]): Promise<void> {
    // A revert that waited (a retry, or an unknown earlier outcome) is only applied while the deal
    // still sits where it was moved without sign-off, by that same move: a later, legitimate move
    // is never undone (not even one back into the same stage after an approval).
    const recheck = updates.filter((u) => u.revert && u.rows.some((r) => r.attempts > 1 || r.inDoubt));
    if (recheck.length > 0) {
      const current = new Map<string, HubSpotDeal>();
      for (const ids of chunk(recheck.map((u) => u.dealId))) {
        const deals = await call(portalId, () => gateway.batchReadDeals(portalId, ids, { withStageHistory: true }));
        for (const deal of deals) current.set(deal.id, deal);
      }
      for (const update of recheck) {
        if (update.revert && !stillAsMoved(current.get(update.dealId), update.revert)) {
          for (const name of Object.keys(revertProperties(update.revert))) delete update.properties[name];
        }
      }
    }
    const settledWithoutCall = updates.filter((u) => Object.keys(u.properties).length === 0);
    if (settledWithoutCall.length > 0) markDone(settledWithoutCall.flatMap((u) => u.rows));
    const toSend = updates.filter((u) => Object.keys(u.properties).length > 0);

    for (const batch of chunk(toSend)) {
      try {
        await call(portalId, () => gateway.batchUpdateDeals(portalId, batch.map((u) => ({ id: u.dealId, properties: u.properties }))));
        markDone(batch.flatMap((u) => u.rows));
      } catch (error) {
        if (!recordFailure(portalId, batch.flatMap((u) => u.rows), error, batch.length > 1)) {
          for (const single of batch) await deliverDealUpdates(portalId, [single]);
        }
      }
    }
  }

  /** HubSpot assigns tasks to owners, not users: map the reviewers' user ids (cached ten minutes). */
  async function ownersByUserId(portalId: number): Promise<Map<string, string>> {
    const cached = ownerIds.get(portalId);
    if (cached && clock.now() - cached.at < 10 * 60_000) return cached.byUserId;
    const owners = await call(portalId, () => gateway.getOwners(portalId));
    const byUserId = new Map<string, string>();
    for (const owner of owners) if (owner.userId !== null) byUserId.set(owner.userId, owner.id);
    ownerIds.set(portalId, { at: clock.now(), byUserId });
    return byUserId;
  }

  /** Of the engagements whose earlier delivery may have landed, those HubSpot already has. */
  async function alreadyCreated(portalId: number, kind: 'note' | 'task', doubtful: EngagementPlan<unknown>[]): Promise<Set<number>> {
    const found = new Set<number>();
    const dealIds = [...new Set(doubtful.map((i) => i.dealId))];
    for (const dealId of dealIds) {
      const bodies = await call(portalId, () => gateway.listDealEngagementBodies(portalId, dealId, kind));
      for (const item of doubtful) {
        if (item.dealId === dealId && bodies.some((b) => b.includes(engagementRef(item.row)))) found.add(item.row.id);
      }
    }
    return found;
  }

  async function deliverEngagements<P>(
    portalId: number,
    kind: 'note' | 'task',
    items: EngagementPlan<P>[],
    toEngagement: (item: EngagementPlan<P>) => NewEngagement,
  ): Promise<void> {
    let doubtful = items.filter((i) => i.row.inDoubt);
    if (doubtful.length > 0 && callsInFlight(portalId)) {
      // An earlier attempt may still land: look for it once it has been answered, without spending an attempt.
      const ids = doubtful.map((i) => i.row.id);
      store.transaction(() => store.outbox.release(ids, clock.now() + Math.min(callTimeoutMs, 1_000), IN_DOUBT + 'an earlier attempt is still in flight'));
      items = items.filter((i) => !i.row.inDoubt);
      doubtful = [];
    }
    if (doubtful.length > 0) {
      try {
        const existing = await alreadyCreated(portalId, kind, doubtful);
        if (existing.size > 0) markDone(doubtful.filter((i) => existing.has(i.row.id)).map((i) => i.row));
        items = items.filter((i) => !existing.has(i.row.id));
      } catch (error) {
        recordFailure(portalId, doubtful.map((i) => i.row), error, false);
        items = items.filter((i) => !i.row.inDoubt);
      }
    }
    for (const batch of chunk(items)) {
      try {
        const engagements = batch.map(toEngagement);
        await call(portalId, () => (kind === 'note' ? gateway.createNotes(portalId, engagements) : gateway.createTasks(portalId, engagements)));
        markDone(batch.map((i) => i.row));
      } catch (error) {
        if (!recordFailure(portalId, batch.map((i) => i.row), error, batch.length > 1)) {
          for (const single of batch) await deliverEngagements(portalId, kind, [single], toEngagement);
        }
      }
    }
  }

  /** For each deal-property row, the properties later rows of its deal write (see planDelivery). */
  function supersededIn(portalId: number, rows: readonly ClaimedOutboxRow[]): (row: ClaimedOutboxRow) => ReadonlySet<string> {
    const firstByDeal = new Map<string, number>();
    for (const row of rows) {
      if (row.dealId === null || (row.kind !== 'update_deal' && row.kind !== 'revert_stage')) continue;
      firstByDeal.set(row.dealId, Math.min(row.id, firstByDeal.get(row.dealId) ?? row.id));
    }
    const writes = new Map<string, { id: number; properties: string[] }[]>();
    for (const [dealId, firstId] of firstByDeal) writes.set(dealId, store.outbox.dealWritesAfter(portalId, dealId, firstId));
    return (row) => {
      const later = row.dealId === null ? undefined : writes.get(row.dealId);
      return new Set((later ?? []).filter((w) => w.id > row.id).flatMap((w) => w.properties));
    };
  }

  async function deliverAccount(portalId: number, rows: ClaimedOutboxRow[]): Promise<void> {
    try {
      await deps.prepareAccount?.(portalId);
    } catch (error) {
      recordFailure(portalId, rows, error, false);
      return;
    }
    const plan = planDelivery(rows, supersededIn(portalId, rows));
    if (plan.invalid.length > 0) {
      const now = clock.now();
      store.transaction(() => {
        for (const { row, reason } of plan.invalid) store.outbox.markFailed(row.id, reason, now);
      });
      logger.error({ portalId, rows: plan.invalid.map((i) => ({ id: i.row.id, reason: i.reason })) }, 'outbox rows cannot be delivered');
    }
    const guard = async (what: string, work: () => Promise<void>, rowsOf: ClaimedOutboxRow[]) => {
      try {
        await work();
      } catch (error) {
        // A failure outside a batch call (e.g. the revert re-check read): the rows wait for a retry.
        logger.warn({ portalId, err: error, what }, 'outbox delivery step failed');
        recordFailure(portalId, rowsOf, error, false);
      }
    };
    await guard('deal updates', () => deliverDealUpdates(portalId, plan.dealUpdates), plan.dealUpdates.flatMap((u) => u.rows));
    await guard(
      'notes',
      () => deliverEngagements(portalId, 'note', plan.notes, (n) => ({ dealId: n.dealId, body: withRef(n.payload.body, n.row) })),
      plan.notes.map((n) => n.row),
    );
    await guard(
      'tasks',
      async () => {
        const owners = plan.tasks.some((t) => t.payload.ownerUserId) ? await ownersByUserId(portalId) : new Map<string, string>();
        await deliverEngagements<CreateTaskPayload>(portalId, 'task', plan.tasks, (t) => {
          const ownerId = t.payload.ownerUserId ? owners.get(t.payload.ownerUserId) : undefined;
          return { dealId: t.dealId, subject: t.payload.subject, body: withRef(t.payload.body, t.row), dueAt: t.payload.dueAt, ...(ownerId ? { ownerId } : {}) };
        });
      },
      plan.tasks.map((t) => t.row),
    );
  }

  async function deliverDue(): Promise<number> {
    const rows = store.transaction(() => store.outbox.claimDue(clock.now(), batchSize, leaseMs, governor.pausedAccounts()));
    if (rows.length === 0) return 0;
    const byAccount = new Map<number, ClaimedOutboxRow[]>();
    for (const row of rows) byAccount.set(row.portalId, [...(byAccount.get(row.portalId) ?? []), row]);
    await Promise.all([...byAccount].map(([portalId, accountRows]) => deliverAccount(portalId, accountRows)));
    return rows.length;
  }

  const loop = createWorkerLoop({
    name: 'outbox',
    logger,
    idleMs: deps.idleMs ?? 1_000,
    round: deliverDue,
    msUntilNextDue: () => {
      const next = store.outbox.nextDueAt();
      return next === undefined ? undefined : next - clock.now();
    },
  });

  return {
    deliverDue,
    get running() {
      return loop.running;
    },
    start() {
      store.outbox.recoverClaims(clock.now());
      loop.start();
    },
    wake: loop.wake,
    stop: loop.stop,
  };
}
