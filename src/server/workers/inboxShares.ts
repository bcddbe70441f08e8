import { refreshPeopleIfStale } from '../application/people';
import { classifyHubSpotError, type HubSpotDeal } from '../hubspot/gateway';
import { JOURNAL_BATCHES_PER_SLICE, type InboxEvent, type NewInboxEvent } from '../storage/inboxStore';
import { inboxEventsOf } from '../hubspot/webhookEvent';
import { chunk } from '../storage/deliveryPlan';
import { withTimeout } from '../hubspot/callTimeout';
import type { InboxContext } from './inboxContext';
import { classifyFailure, hubSpotAnswered, hubSpotFailed, retryLater } from './inboxFailures';

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

/** Between two steps of a share: after SHARE_SLICE_MS of work, let the event loop turn, and give way to smaller work of other accounts (at most SHARE_DEFER_MAX_MS). */
function timeSlicer(ctx: InboxContext, portalId: number, size: number): () => Promise<void> {
  let since = performance.now();
  return async () => {
    if (performance.now() - since < SHARE_SLICE_MS) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
    const until = performance.now() + SHARE_DEFER_MAX_MS;
    while (othersAhead(ctx, portalId, size) && performance.now() < until) await new Promise<void>((resolve) => setTimeout(resolve, 1));
    since = performance.now();
  };
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
      await governor.acquire(portalId);
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
    await yieldNow();
    if (await handler.needsFreshDeal(portalId, dealId, dealEvents)) toRead.push(dealId);
  }
  const { fresh, unread } = await readDeals(ctx, portalId, toRead, (dealId) => byDeal.get(dealId) ?? []);
  const wasRead = new Set(toRead);
  // The notes enforcement may write name people: their names are read when stale, before any transaction.
  if (fresh.size > 0) await refreshPeopleIfStale(ctx, portalId, async () => void (await ctx.governor.acquire(portalId)));

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
  yieldNow: () => Promise<void>,
): Promise<{ settled: number; effects: boolean }> {
  const { store, logger, handler } = ctx;
  let settled = 0;
  let effects = false;
  for (let i = 0; i < dealEvents.length; i += 1) {
    const event = dealEvents[i] as InboxEvent;
    // Between two events' transactions, never inside one.
    await yieldNow();
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
