import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { HubSpotGateway } from '../hubspot/gateway';
import { randomUUID } from 'node:crypto';
import { dealClaimKey, type InboxEvent } from '../storage/inboxStore';
import type { AccountProvisioner } from '../application/provisioning';
import type { DealEventHandler } from '../application/dealEventHandler';
import type { RetryPolicy } from '../hubspot/backoff';
import type { RateGovernor } from '../hubspot/rateGovernor';
import { createWorkerLoop, type WorkerLoop } from './workerLoop';
import { claimRenewal, leftOut, releaseClaims, waitingAccounts, type InboxContext } from './inboxContext';
import { expandJournal, processAccount } from './inboxShares';

export { EXPANSION_SLICES_PER_ROUND, SHARE_DEFER_MAX_MS, SHARE_SLICE_MS } from './inboxShares';

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
