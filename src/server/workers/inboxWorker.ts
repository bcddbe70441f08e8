import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { type HubSpotGateway, classifyHubSpotError, type HubSpotDeal } from '../hubspot/gateway';
import { randomUUID } from 'node:crypto';
import { dealClaimKey, type InboxEvent, JOURNAL_BATCHES_PER_SLICE, type NewInboxEvent } from '../storage/inboxStore';
import type { AccountProvisioner } from '../application/provisioning';
import type { DealEventHandler } from '../application/dealEventHandler';
import type { RetryPolicy } from '../hubspot/backoff';
import { permitOutsidePause, type RateGovernor } from '../hubspot/rateGovernor';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';
import { claimRenewal, leftOut, releaseClaims, waitingAccounts, type InboxContext } from './inboxContext';
import { refreshPeopleIfStale } from '../application/people';
import { inboxEventsOf } from '../hubspot/webhookEvent';
import { chunk } from '../storage/deliveryPlan';
import { withTimeout } from '../hubspot/callTimeout';
import { classifyFailure, hubSpotAnswered, hubSpotFailed, retryLater } from './inboxFailures';

/**
 * Drains the webhook inbox. Each round takes the due events (oldest occurrence first; a deal with
 * an event waiting for a retry waits whole, so its events apply in order), reads the deals that
 * need fresh facts from HubSpot in batches of up to 100 (one call for a hundred moved deals, not
 * one per event), then applies each event in its own transaction together with everything it
 * causes (snapshot, violation, audit, outbox rows) and its `done` mark. A crash before that commit
 * leaves the event pending, to be applied once on the next round; after it, nothing is repeated.
 *
 * Nothing acknowledged is dropped because HubSpot is down. A HubSpot failure that waiting can
 * cure (5xx, timeout, network error, token endpoint down) opens the account's circuit: its events
 * wait, spending no attempts and leaving the rounds to other accounts, while one probe round at a
 * time (backoff from `retry.baseMs` up to a minute) asks HubSpot again; the first answer closes it
 * and the events resume by themselves. A 429 waits out the governor's pause, also without an
 * attempt. An event is parked at once only for what retrying cannot cure (an account that never
 * installed, a 4xx other than 429), and otherwise only once it is older than the retry window (72 h
 * by default, three times HubSpot's own 24 h of webhook retries); its last_error says which.
 */
export interface InboxWorkerDeps {
  store: Store;
  gateway: HubSpotGateway;
  clock: Clock;
  logger: Logger;
  governor: RateGovernor;
  provisioner: AccountProvisioner;
  handler: DealEventHandler;
  /** New outbox rows were written: the outbox worker can start now. */
  onEffects?: () => void;
  /** Accounts whose effects the outbox worker is delivering right now: a share of another account gives way to them at its slices' ends. */
  deliveringNow?: () => Iterable<number>;
  retry?: RetryPolicy;
  /** A deal read that takes longer than this fails (and is retried), so one hung call cannot stall enforcement. */
  callTimeoutMs?: number;
  batchSize?: number;
  idleMs?: number;
  random?: () => number;
  /** Names this process among the instances sharing the database (config.instanceId); default a new random id. */
  instanceId?: string;
  /** How long a claim on a deal lasts unless renewed (default DEAL_CLAIM_LEASE_MS, on the worker's clock). */
  dealClaimLeaseMs?: number;
  /** How often the claims of the shares in flight are renewed (real time; default a third of the lease). */
  dealClaimRenewMs?: number;
}

/**
 * Several instances on one database: a round claims the deals of the events it took (one
 * statement) and applies only those; a deal a live other instance holds is left to it. The claims
 * are renewed while the round's shares run and released when each ends; a dead instance's claims
 * run out after this long (its deals' events then wait at most this long).
 */
export const DEAL_CLAIM_LEASE_MS = 30_000;

/**
 * How long an acknowledged event is retried before it is parked: HubSpot itself retries a webhook
 * for 24 hours; Dealgate keeps an event it acknowledged for three days, the span of HubSpot's
 * webhook journal. A policy without `windowMs` gets this window too.
 */
export const INBOX_RETRY_WINDOW_MS = 72 * 60 * 60_000;

/** An event failing in Dealgate itself is parked after 8 attempts, and not before the window has passed. */
export const DEFAULT_INBOX_RETRY: RetryPolicy = { baseMs: 1_000, maxMs: 5 * 60_000, maxAttempts: 8, windowMs: INBOX_RETRY_WINDOW_MS };

/** While HubSpot fails for an account, its probes are at most this far apart: its events resume within a minute of HubSpot answering. */
export const PROBE_MAX_MS = 60_000;

/** An account whose events wait because HubSpot keeps failing for it. */
export interface AccountOutage {
  portalId: number;
  /** When the first failure of this outage was seen. */
  since: number;
  /** Failed probes so far (the first failure included). */
  failures: number;
  nextProbeAt: number;
  lastError: string;
}

export interface InboxWorker extends WorkerLoop {
  /** One round; returns the number of events it settled (done, retried or parked). */
  processDue(): Promise<number>;
  /** Accounts whose events wait for HubSpot right now (this process's view; a restart probes again). */
  outages(): AccountOutage[];
  /** Accounts whose events are being applied right now (their effects are still being written). */
  applying(): ReadonlySet<number>;
}

/** What the rounds share (see InboxContext): the settings, from the deps and their defaults, and the state they keep. */
function inboxContext(deps: InboxWorkerDeps, wake: () => void): InboxContext {
  const { store, gateway, clock, logger, governor, handler } = deps;
  const retry = deps.retry ?? DEFAULT_INBOX_RETRY;
  const claimLeaseMs = deps.dealClaimLeaseMs ?? DEAL_CLAIM_LEASE_MS;
  const windowMs = retry.windowMs ?? INBOX_RETRY_WINDOW_MS;
  const shared = {
    deps, store, gateway, clock, logger, governor, handler,
    retry,
    batchSize: deps.batchSize ?? 500,
    random: deps.random ?? Math.random,
    callTimeoutMs: deps.callTimeoutMs ?? 20_000,
    holder: deps.instanceId ?? randomUUID(),
    claimLeaseMs,
    claimRenewMs: deps.dealClaimRenewMs ?? Math.max(1, Math.floor(claimLeaseMs / 3)),
    windowMs,
    policy: { ...retry, windowMs },
    probePolicy: { baseMs: retry.baseMs, maxMs: Math.min(retry.maxMs, PROBE_MAX_MS), maxAttempts: Number.POSITIVE_INFINITY },
    circuits: new Map<number, AccountOutage>(),
    busy: new Set<number>(),
    shareSizes: new Map<number, number>(),
    inFlight: new Set<Promise<unknown>>(),
    wake,
  };
  return { ...shared, claimRenewal: claimRenewal(shared) };
}

export function createInboxWorker(deps: InboxWorkerDeps): InboxWorker {
  const ctx = inboxContext(deps, () => loop.wake());
  const { store, clock, logger, circuits } = ctx;
  const processDue = async (): Promise<number> => {
    const results = await Promise.all((await startDue(ctx)).works);
    return results.reduce((n, r) => n + r.settled, 0);
  };

  const loop = createWorkerLoop({
    name: 'inbox',
    logger,
    idleMs: deps.idleMs ?? 1_000,
    round: () => startRound(ctx),
    msUntilNextDue: async () => {
      if ((await store.inbox.journalBacklog()) > 0) return 0;
      const now = clock.now();
      const waiting = waitingAccounts(ctx, now);
      let next = await store.inbox.nextDueAt(leftOut(ctx, now));
      // A waiting account's probe wakes the loop when it is due.
      for (const portalId of waiting) next = Math.min(next ?? Number.POSITIVE_INFINITY, circuits.get(portalId)?.nextProbeAt ?? Number.POSITIVE_INFINITY);
      return next === undefined ? undefined : next - now;
    },
  });

  return {
    processDue,
    outages: () => [...circuits.values()].map((c) => ({ ...c })),
    applying: () => ctx.busy,
    get running() {
      return loop.running;
    },
    start: loop.start,
    wake: loop.wake,
    async stop() {
      await loop.stop();
      await Promise.allSettled([...ctx.inFlight]);
      ctx.claimRenewal.stop();
    },
  };
}

/** Takes the due events of every account not busy, claims their deals, and starts applying each account's share; one promise per account. */
async function startDue(ctx: InboxContext): Promise<{ expanded: number; works: Promise<{ settled: number; effects: boolean }>[] }> {
  const { store, holder, busy, shareSizes, inFlight } = ctx;
  const expanded = await expandJournal(ctx);
  const now = ctx.clock.now();
  const due = await store.inbox.due(now, ctx.batchSize, leftOut(ctx, now), holder);
  const claimed = due.length === 0 ? new Set<string>() : await store.inbox.claimDeals(holder, due, now, ctx.claimLeaseMs);
  const events = due.filter((event) => claimed.has(dealClaimKey(event)));
  const byAccount = new Map<number, InboxEvent[]>();
  for (const event of events) {
    const list = byAccount.get(event.portalId);
    if (list) list.push(event);
    else byAccount.set(event.portalId, [event]);
  }
  const works = [...byAccount].map(([portalId, accountEvents]) => {
    busy.add(portalId);
    shareSizes.set(portalId, accountEvents.length);
    ctx.claimRenewal.start();
    const work = processAccount(ctx, portalId, accountEvents)
      .finally(() => releaseClaims(ctx, portalId))
      .then((result) => {
        // The account's effects go out now, not when the slowest account of the round is done.
        if (result.effects) ctx.deps.onEffects?.();
        return result;
      })
      .finally(() => {
        busy.delete(portalId);
        shareSizes.delete(portalId);
        inFlight.delete(work);
        if (busy.size === 0) ctx.claimRenewal.stop();
        ctx.wake();
      });
    inFlight.add(work);
    return work;
  });
  return { expanded, works };
}

/** The loop's round: starts what is due and returns at once; an account's share that ends wakes the loop. */
async function startRound(ctx: InboxContext): Promise<number> {
  const { expanded, works } = await startDue(ctx);
  for (const work of works) {
    void work.catch((error: unknown) => ctx.logger.error({ err: error, worker: 'inbox' }, 'inbox: applying an account\'s events failed; they stay pending'));
  }
  // Expanding counts as work: the next round (more of the journal) follows at once.
  return works.length + (expanded > 0 ? 1 : 0);
}

/** Journal slices (JOURNAL_BATCHES_PER_SLICE batches each) a round expands before it takes what is due. */
export const EXPANSION_SLICES_PER_ROUND = 4;

/**
 * Milliseconds an account's share runs before it lets the event loop go (a macrotask turn). Applying
 * an event is store work only, and the store's promises resolve as microtasks: without this, a share
 * of 500 events held the loop for hundreds of milliseconds, and another account's webhook (its
 * answer, its events, its outbox calls to HubSpot) waited for all of it (issue 12, noisy neighbour).
 */
export const SHARE_SLICE_MS = 4;

/**
 * At most this long, at each slice's end, a share waits while a smaller share of another account,
 * or another account's outbox delivery, is in flight: on one core, yielding alone still left each
 * of B's steps (its round, its deal read, its revert) waiting behind a slice of A's share. Bounded,
 * so a bulk account keeps going (at worst one slice in six) whatever the others do.
 */
export const SHARE_DEFER_MAX_MS = 20;

/** Applying an event found it no longer pending (another instance applied it): its transaction rolls back. */
class EventNoLongerPending extends Error {
  constructor(readonly eventId: number) {
    super(`inbox event ${eventId} is no longer pending (applied by another instance): its effects are rolled back`);
  }
}

function othersAhead(ctx: InboxContext, portalId: number, size: number): boolean {
  for (const [other, n] of ctx.shareSizes) if (other !== portalId && n < size) return true;
  for (const other of ctx.deps.deliveringNow?.() ?? []) if (other !== portalId) return true;
  return false;
}

/**
 * Between two steps of a share: after SHARE_SLICE_MS of work, let the event loop turn, and give
 * way to smaller work of other accounts (at most SHARE_DEFER_MAX_MS). Answers undefined while the
 * slice lasts (most steps): the step then goes on without a promise of its own (`await` on one
 * that is already settled still makes two, each running the async context's hook).
 */
function timeSlicer(ctx: InboxContext, portalId: number, size: number): () => Promise<void> | undefined {
  let since = performance.now();
  const pause = async () => {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const until = performance.now() + SHARE_DEFER_MAX_MS;
    while (othersAhead(ctx, portalId, size) && performance.now() < until) await new Promise<void>((resolve) => setTimeout(resolve, 1));
    since = performance.now();
  };
  return () => (performance.now() - since < SHARE_SLICE_MS ? undefined : pause());
}

/** Reads the deals in batches of 100; a refused batch parks only its deals' events, HubSpot failing stops the reads and the account waits. */
async function readDeals(ctx: InboxContext, portalId: number, dealIds: string[], eventsOf: (dealId: string) => InboxEvent[]) {
  const { governor } = ctx;
  const fresh = new Map<string, HubSpotDeal>();
  const unread = new Set<string>();
  const chunks = chunk(dealIds);
  for (let c = 0; c < chunks.length; c += 1) {
    const ids = chunks[c] as string[];
    try {
      await permitOutsidePause(governor, portalId);
      for (const deal of await withTimeout(ctx.gateway.batchReadDeals(portalId, ids, { withStageHistory: true }), ctx.callTimeoutMs)) fresh.set(deal.id, deal);
      hubSpotAnswered(ctx, portalId);
    } catch (error) {
      if (classifyHubSpotError(error).rateLimited) await governor.rateLimited(portalId);
      // A refusal concerns this batch; HubSpot down (or limiting) concerns the account: the rest
      // of its round waits with this batch, without asking.
      const onlyThese = classifyFailure(error).kind === 'refused';
      const failed = onlyThese ? ids : chunks.slice(c).flat();
      await hubSpotFailed(ctx, portalId, failed.flatMap(eventsOf), error);
      for (const id of failed) unread.add(id);
      if (!onlyThese) break;
    }
  }
  return { fresh, unread };
}

/** One account's share of a round: the deals that need fresh facts are read, then each deal's events are applied in order. */
export async function processAccount(ctx: InboxContext, portalId: number, events: InboxEvent[]): Promise<{ settled: number; effects: boolean }> {
  const { handler } = ctx;
  try {
    await ctx.deps.provisioner.ensureReady(portalId);
  } catch (error) {
    await hubSpotFailed(ctx, portalId, events, error);
    return { settled: events.length, effects: false };
  }
  const byDeal = new Map<string, InboxEvent[]>();
  for (const event of events) {
    const list = byDeal.get(event.objectId);
    if (list) list.push(event);
    else byDeal.set(event.objectId, [event]);
  }
  const yieldNow = timeSlicer(ctx, portalId, events.length);
  const toRead: string[] = [];
  for (const [dealId, dealEvents] of byDeal) {
    const pause = yieldNow();
    if (pause) await pause;
    if (await handler.needsFreshDeal(portalId, dealId, dealEvents)) toRead.push(dealId);
  }
  const { fresh, unread } = await readDeals(ctx, portalId, toRead, (dealId) => byDeal.get(dealId) ?? []);
  const wasRead = new Set(toRead);
  // The notes enforcement may write name people: their names are read when stale, before any transaction.
  if (fresh.size > 0) await refreshPeopleIfStale(ctx, portalId, () => permitOutsidePause(ctx.governor, portalId));

  let refreshedPipelines = false;
  let settled = 0;
  let effects = false;
  for (const [dealId, dealEvents] of byDeal) {
    if (unread.has(dealId)) {
      settled += dealEvents.length;
      continue;
    }
    const deal = fresh.get(dealId);
    if (deal && !refreshedPipelines && await handler.unknownStage?.(portalId, deal)) {
      try {
        refreshedPipelines = await ctx.deps.provisioner.refreshPipelines(portalId);
      } catch (error) {
        ctx.logger.warn({ portalId, err: error }, 'could not read the pipelines again');
      }
    }
    const applied = await applyDealEvents(ctx, portalId, dealId, dealEvents, deal, wasRead.has(dealId) && !deal, yieldNow);
    settled += applied.settled;
    effects ||= applied.effects;
  }
  return { settled, effects };
}

/** A deal's events, each in its own transaction with its effects and its done mark; a failure leaves the deal's later events waiting for it. */
async function applyDealEvents(
  ctx: InboxContext,
  portalId: number,
  dealId: string,
  dealEvents: InboxEvent[],
  deal: HubSpotDeal | undefined,
  goneFromHubSpot: boolean,
  yieldNow: () => Promise<void> | undefined,
): Promise<{ settled: number; effects: boolean }> {
  const { store, logger, handler } = ctx;
  let settled = 0;
  let effects = false;
  for (let i = 0; i < dealEvents.length; i += 1) {
    const event = dealEvents[i] as InboxEvent;
    // Between two events' transactions, never inside one.
    const pause = yieldNow();
    if (pause) await pause;
    try {
      const enqueued = await store.transaction(async () => {
        const result = await handler.apply({ event, fresh: deal, goneFromHubSpot });
        // The done mark fences the transaction: an event another instance applied meanwhile (on
        // PostgreSQL, one whose apply is still open waits for its commit here) changes no row.
        if (!await store.inbox.markDone(event.id, ctx.clock.now())) throw new EventNoLongerPending(event.id);
        return result;
      });
      effects ||= enqueued;
      settled += 1;
    } catch (error) {
      if (error instanceof EventNoLongerPending) {
        // Our claim on the deal ran out and another instance took it over: the deal's later events are its to apply.
        logger.warn({ portalId, dealId, eventId: event.id }, 'inbox event already applied by another instance (this claim on the deal ran out); nothing applied twice');
        settled += dealEvents.length - i;
        break;
      }
      // The database is gone (shutting down or crashed): nothing can be recorded; the event stays pending.
      if (!await store.ping()) throw error;
      logger.warn({ portalId, dealId, eventId: event.id, err: error }, 'applying an inbox event failed');
      // The deal's later events wait for this one (due() leaves out a deal with a waiting event).
      await store.transaction(async () => await retryLater(ctx, event, error));
      settled += dealEvents.length - i;
      break;
    }
  }
  return { settled, effects };
}

function eventsOfBatch(ctx: InboxContext, body: Buffer): NewInboxEvent[] {
  try {
    return inboxEventsOf(body);
  } catch (error) {
    // Validated when it arrived, so only a corrupted row gets here. It was acknowledged: the store
    // parks the batch whole with this reason (never dropped), and a requeue reads it again.
    ctx.logger.error({ err: error, body: body.toString('utf8').slice(0, 4000) }, 'a journaled webhook batch cannot be read; parked (GET /ops/inbox?status=parked)');
    throw error;
  }
}

/**
 * Journaled batches become inbox events (deduplicated) before each round picks what is due, a
 * slice at a time with the event loop free in between: webhook answers wait for one slice, not
 * for the whole backlog (50 batches × 100 rounds used to hold the loop for seconds). At most
 * EXPANSION_SLICES_PER_ROUND slices a round, then the round takes what is due: while one account
 * delivers an import at full speed the journal never empties, and a round that expanded until it
 * did kept every other account's expanded events waiting behind it (issue 12, noisy neighbour:
 * seconds). The loop runs the next round at once while the journal has a backlog.
 * Returns the batches expanded.
 */
export async function expandJournal(ctx: InboxContext): Promise<number> {
  let expanded = 0;
  for (let slice = 0; slice < EXPANSION_SLICES_PER_ROUND; slice += 1) {
    if (slice > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    const { batches } = await ctx.store.inbox.expandJournal(JOURNAL_BATCHES_PER_SLICE, (body) => eventsOfBatch(ctx, body));
    expanded += batches;
    if (batches < JOURNAL_BATCHES_PER_SLICE) break;
  }
  return expanded;
}
