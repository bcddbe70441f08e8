import type { Clock } from '../clock';
import type { Logger } from '../logger';
import type { Store } from '../storage/store';
import { classifyHubSpotError, type HubSpotDeal, type HubSpotGateway } from '../hubspot/gateway';
import { JOURNAL_BATCHES_PER_SLICE, type InboxEvent, type NewInboxEvent } from '../webhooks/inboxStore';
import { inboxEventsOf } from '../webhooks/webhookEvent';
import type { AccountProvisioner } from '../accounts/provisioning';
import { chunk } from '../outbox/deliveryPlan';
import { backoffDelay, describeError, type RetryPolicy } from './backoff';
import { withTimeout } from './callTimeout';
import type { RateGovernor } from './rateGovernor';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';
import { DealgateError } from '../errors';

/**
 * Drains the webhook inbox. Each round takes the due events (oldest occurrence first; a deal with
 * an event waiting for a retry waits whole, so its events apply in order), reads the deals that
 * need fresh facts from HubSpot in batches of up to 100 (one call for a hundred moved deals, not
 * one per event), then applies each event in its own transaction together with everything it
 * causes (snapshot, violation, audit, outbox rows) and its `done` mark. A crash before that commit
 * leaves the event pending, to be applied once on the next round; after it, nothing is repeated.
 * An event that keeps failing is retried with backoff and then parked with its error.
 */
export interface DealEventInput {
  event: InboxEvent;
  /** The deal as HubSpot has it now (with stage history), when it was read for this round. */
  fresh: HubSpotDeal | undefined;
  /** True when HubSpot was asked and no longer has the deal. */
  goneFromHubSpot: boolean;
}

export interface DealEventHandler {
  /** Whether applying these events (one deal's, in order) needs the deal read from HubSpot first. */
  needsFreshDeal(portalId: number, dealId: string, events: readonly InboxEvent[]): boolean;
  /**
   * Applies one event. Synchronous: it runs inside the transaction that marks the event done, so it
   * may only write through the store (never call HubSpot). Returns true when it enqueued effects.
   */
  apply(input: DealEventInput): boolean;
  /** Called before `apply` when a deal sits in a stage the stored pipelines do not know. */
  unknownStage?(portalId: number, fresh: HubSpotDeal): boolean;
}

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
  retry?: RetryPolicy;
  /** A deal read that takes longer than this fails (and is retried), so one hung call cannot stall enforcement. */
  callTimeoutMs?: number;
  batchSize?: number;
  idleMs?: number;
  random?: () => number;
}

export const DEFAULT_INBOX_RETRY: RetryPolicy = { baseMs: 1_000, maxMs: 5 * 60_000, maxAttempts: 8 };

export interface InboxWorker extends WorkerLoop {
  /** One round; returns the number of events it settled (done, retried or parked). */
  processDue(): Promise<number>;
}

export function createInboxWorker(deps: InboxWorkerDeps): InboxWorker {
  const { store, gateway, clock, logger, governor, handler } = deps;
  const retry = deps.retry ?? DEFAULT_INBOX_RETRY;
  const batchSize = deps.batchSize ?? 500;
  const random = deps.random ?? Math.random;
  const callTimeoutMs = deps.callTimeoutMs ?? 20_000;

  function fail(events: readonly InboxEvent[], error: unknown): void {
    const now = clock.now();
    const info = classifyHubSpotError(error);
    const message = describeError(error);
    let parked = 0;
    // An account Dealgate holds no credentials for will not be served by waiting: parked at once,
    // for ops to requeue once it has installed.
    const refusedAccount = error instanceof DealgateError && error.code === 'forbidden';
    store.transaction(() => {
      for (const event of events) {
        const attempts = event.attempts + 1;
        if (attempts >= retry.maxAttempts || refusedAccount) {
          store.inbox.park(event.id, attempts, message, now);
          parked += 1;
        } else {
          // The governor may keep its own (real) time: take the pause as a duration, never as a time.
          const wait = info.rateLimited ? Math.max(governor.pauseRemainingMs(event.portalId), retry.baseMs) : 0;
          store.inbox.markRetry(event.id, attempts, message, now + Math.max(wait, backoffDelay(attempts, retry, random)));
        }
      }
    });
    if (parked > 0) logger.error({ events: parked, error: message }, 'inbox events parked (GET /ops/inbox?status=parked)');
    else logger.warn({ events: events.length, error: message }, 'inbox events failed; will retry');
  }

  /** Reads the deals in batches of 100; a failed batch fails (and retries) only its deals' events. */
  async function readDeals(portalId: number, dealIds: string[], eventsOf: (dealId: string) => InboxEvent[]) {
    const fresh = new Map<string, HubSpotDeal>();
    const unread = new Set<string>();
    for (const ids of chunk(dealIds)) {
      try {
        await governor.acquire(portalId);
        for (const deal of await withTimeout(gateway.batchReadDeals(portalId, ids, { withStageHistory: true }), callTimeoutMs)) fresh.set(deal.id, deal);
      } catch (error) {
        if (classifyHubSpotError(error).rateLimited) governor.rateLimited(portalId);
        fail(ids.flatMap(eventsOf), error);
        for (const id of ids) unread.add(id);
      }
    }
    return { fresh, unread };
  }

  async function processAccount(portalId: number, events: InboxEvent[]): Promise<{ settled: number; effects: boolean }> {
    try {
      await deps.provisioner.ensureReady(portalId);
    } catch (error) {
      fail(events, error);
      return { settled: events.length, effects: false };
    }
    const byDeal = new Map<string, InboxEvent[]>();
    for (const event of events) {
      const list = byDeal.get(event.objectId);
      if (list) list.push(event);
      else byDeal.set(event.objectId, [event]);
    }
    const toRead = [...byDeal].filter(([dealId, dealEvents]) => handler.needsFreshDeal(portalId, dealId, dealEvents)).map(([dealId]) => dealId);
    const { fresh, unread } = await readDeals(portalId, toRead, (dealId) => byDeal.get(dealId) ?? []);
    const wasRead = new Set(toRead);

    let refreshedPipelines = false;
    let settled = 0;
    let effects = false;
    for (const [dealId, dealEvents] of byDeal) {
      if (unread.has(dealId)) {
        settled += dealEvents.length;
        continue;
      }
      const deal = fresh.get(dealId);
      if (deal && !refreshedPipelines && handler.unknownStage?.(portalId, deal)) {
        try {
          refreshedPipelines = await deps.provisioner.refreshPipelines(portalId);
        } catch (error) {
          logger.warn({ portalId, err: error }, 'could not read the pipelines again');
        }
      }
      for (let i = 0; i < dealEvents.length; i += 1) {
        const event = dealEvents[i] as InboxEvent;
        try {
          const enqueued = store.transaction(() => {
            const result = handler.apply({ event, fresh: deal, goneFromHubSpot: wasRead.has(dealId) && !deal });
            store.inbox.markDone(event.id, clock.now());
            return result;
          });
          effects ||= enqueued;
          settled += 1;
        } catch (error) {
          // The database is gone (shutting down or crashed): nothing can be recorded; the event stays pending.
          if (!store.ping()) throw error;
          logger.warn({ portalId, dealId, eventId: event.id, err: error }, 'applying an inbox event failed');
          // The deal's later events wait for this one (due() leaves out a deal with a waiting event).
          fail([event], error);
          settled += dealEvents.length - i;
          break;
        }
      }
    }
    return { settled, effects };
  }

  function eventsOfBatch(body: Buffer): NewInboxEvent[] {
    try {
      return inboxEventsOf(body);
    } catch (error) {
      // Validated when it arrived, so only a corrupted row gets here: keep it in the log, not the queue.
      logger.error({ err: error, body: body.toString('utf8').slice(0, 4000) }, 'a journaled webhook batch cannot be read; dropped');
      return [];
    }
  }

  /**
   * Journaled batches become inbox events (deduplicated) before each round picks what is due, a
   * slice at a time with the event loop free in between: webhook answers wait for one slice, not
   * for the whole backlog (50 batches × 100 rounds used to hold the loop for seconds).
   */
  async function expandJournal(): Promise<void> {
    for (let slice = 0; slice < 300; slice += 1) {
      if (store.inbox.expandJournal(JOURNAL_BATCHES_PER_SLICE, eventsOfBatch).batches < JOURNAL_BATCHES_PER_SLICE) return;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  async function processDue(): Promise<number> {
    await expandJournal();
    const events = store.inbox.due(clock.now(), batchSize);
    if (events.length === 0) return 0;
    const byAccount = new Map<number, InboxEvent[]>();
    for (const event of events) {
      const list = byAccount.get(event.portalId);
      if (list) list.push(event);
      else byAccount.set(event.portalId, [event]);
    }
    const results = await Promise.all([...byAccount].map(([portalId, accountEvents]) => processAccount(portalId, accountEvents)));
    if (results.some((r) => r.effects)) deps.onEffects?.();
    return results.reduce((n, r) => n + r.settled, 0);
  }

  const loop = createWorkerLoop({
    name: 'inbox',
    logger,
    idleMs: deps.idleMs ?? 1_000,
    round: processDue,
    msUntilNextDue: () => {
      if (store.inbox.journalBacklog() > 0) return 0;
      const next = store.inbox.nextDueAt();
      return next === undefined ? undefined : next - clock.now();
    },
  });

  return {
    processDue,
    get running() {
      return loop.running;
    },
    start: loop.start,
    wake: loop.wake,
    stop: loop.stop,
  };
}
