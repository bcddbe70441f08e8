import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { HubSpotGateway } from '../hubspot/gateway';
import type { DealEventHandler } from '../application/dealEventHandler';
import type { RetryPolicy } from '../hubspot/backoff';
import type { RateGovernor } from '../hubspot/rateGovernor';
import type { AccountOutage, InboxWorkerDeps } from './inboxWorker';

/**
 * What one inbox worker's rounds share: its dependencies, its settings (see createInboxWorker)
 * and the state kept between rounds (the accounts' circuits, the shares in flight).
 */
export interface InboxContext {
  deps: InboxWorkerDeps;
  store: Store;
  gateway: HubSpotGateway;
  clock: Clock;
  logger: Logger;
  governor: RateGovernor;
  handler: DealEventHandler;
  retry: RetryPolicy;
  batchSize: number;
  random: () => number;
  callTimeoutMs: number;
  holder: string;
  claimLeaseMs: number;
  claimRenewMs: number;
  windowMs: number;
  policy: RetryPolicy;
  probePolicy: RetryPolicy;
  circuits: Map<number, AccountOutage>;
  /**
   * Accounts whose events are being applied right now. Each account's share of a round runs on its
   * own: the loop takes the next due events of the other accounts without waiting for it, so one
   * account's import (its HubSpot budget, its backlog) delays nobody else's events (issue 12,
   * noisy neighbour). An account's events are still applied one share at a time, in order.
   */
  busy: Set<number>;
  /** Events in each busy account's share: a larger share gives way to a smaller one (never the reverse, so no two wait for each other). */
  shareSizes: Map<number, number>;
  inFlight: Set<Promise<unknown>>;
  /** Renews this instance's claims on the deals of the shares running (see claimRenewal). */
  claimRenewal: { start(): void; stop(): void };
  /** Wakes the worker's loop (a share that ended). */
  wake(): void;
}

/** Accounts whose events are left out of the round: HubSpot failed for them and their next probe is not due. */
export function waitingAccounts(ctx: InboxContext, now: number): Set<number> {
  const waiting = new Set<number>();
  for (const [portalId, circuit] of ctx.circuits) if (circuit.nextProbeAt > now) waiting.add(portalId);
  return waiting;
}

/** Left out of the round: the accounts waiting for HubSpot and those whose share is still running. */
export function leftOut(ctx: InboxContext, now: number): Set<number> {
  const skip = waitingAccounts(ctx, now);
  for (const portalId of ctx.busy) skip.add(portalId);
  return skip;
}

/** Renews this instance's claims on the deals of the shares running (busy accounts) every claimRenewMs (a timer, so a share waiting on HubSpot keeps its deals). */
export function claimRenewal(ctx: Pick<InboxContext, 'store' | 'holder' | 'clock' | 'claimLeaseMs' | 'claimRenewMs' | 'busy' | 'logger'>): { start(): void; stop(): void } {
  const { store, logger } = ctx;
  let timer: NodeJS.Timeout | undefined;
  const renew = () => {
    store.inbox.renewDealClaims(ctx.holder, ctx.clock.now(), ctx.claimLeaseMs, [...ctx.busy]).catch((error: unknown) => logger.warn({ err: error }, 'inbox: renewing the claims on deals failed; they run out unless the next renewal succeeds'));
  };
  return {
    start() {
      if (timer !== undefined) return;
      timer = setInterval(renew, ctx.claimRenewMs);
      timer.unref();
    },
    stop() {
      clearInterval(timer);
      timer = undefined;
    },
  };
}

/** The share is over: its deals are free for any instance (a failure here leaves them to run out). */
export async function releaseClaims(ctx: InboxContext, portalId: number): Promise<void> {
  try {
    await ctx.store.inbox.releaseDealClaims(ctx.holder, portalId);
  } catch (error) {
    ctx.logger.warn({ portalId, err: error }, 'inbox: releasing the claims on deals failed; they run out with their lease');
  }
}
