import { classifyHubSpotError } from '../hubspot/gateway';
import type { InboxEvent } from '../storage/inboxStore';
import { backoffDelay, describeDuration, describeError, retriesExhausted } from '../hubspot/backoff';
import { DealgateError } from '../shared/errors';
import type { InboxContext } from './inboxContext';

type HubSpotFailure = { kind: 'unavailable' | 'rate_limited' | 'refused'; message: string };

/**
 * What waiting can cure. `refused`: an account Dealgate holds no credentials for, or a 4xx other
 * than 429 (HubSpot will answer the same again). Anything else (5xx, no status at all: a timeout,
 * a reset, a refused connection) is HubSpot being unavailable.
 */
export function classifyFailure(error: unknown): HubSpotFailure {
  const message = describeError(error);
  if (error instanceof DealgateError) {
    if (error.code === 'forbidden') return { kind: 'refused', message: `the account has not installed Dealgate: ${message}` };
    if (error.code === 'unauthorized' || error.code === 'invalid_request' || error.code === 'not_found') return { kind: 'refused', message };
    return { kind: 'unavailable', message };
  }
  const info = classifyHubSpotError(error);
  if (info.rateLimited) return { kind: 'rate_limited', message };
  if (info.status !== undefined && !info.retryable) return { kind: 'refused', message: `HubSpot answered ${info.status}: ${message}` };
  return { kind: 'unavailable', message };
}

const iso = (ms: number) => new Date(ms).toISOString();

export function hubSpotAnswered(ctx: InboxContext, portalId: number): void {
  const circuit = ctx.circuits.get(portalId);
  if (!circuit) return;
  ctx.circuits.delete(portalId);
  ctx.logger.info({ portalId, outageMs: ctx.clock.now() - circuit.since, failures: circuit.failures }, 'HubSpot answers the account again: its waiting inbox events resume');
}

const tooOld = (ctx: InboxContext, event: InboxEvent, now: number) => now - event.receivedAt >= ctx.windowMs;
const windowNote = (ctx: InboxContext, event: InboxEvent, now: number) =>
  `parked after retrying for ${describeDuration(now - event.receivedAt)} since it was acknowledged (the retry window is ${describeDuration(ctx.windowMs)})`;

/** Dealgate itself failed to apply the event: retried with backoff, parked once attempts and the window are both spent. */
export async function retryLater(ctx: InboxContext, event: InboxEvent, error: unknown): Promise<void> {
  const { store } = ctx;
  const now = ctx.clock.now();
  const message = describeError(error);
  const attempts = event.attempts + 1;
  if (retriesExhausted(ctx.policy, attempts, event.receivedAt, now)) {
    await store.inbox.park(event.id, attempts, `${windowNote(ctx, event, now)} and ${attempts} attempts: ${message}`, now);
    ctx.logger.error({ eventId: event.id, error: message }, 'inbox event parked (GET /ops/inbox?status=parked)');
  } else {
    await store.inbox.markRetry(event.id, attempts, message, now + backoffDelay(attempts, ctx.retry, ctx.random));
  }
}

/** When the account's events are tried again, and why (the rate limit's pause, or the next probe of an open circuit). */
function waitFor(ctx: InboxContext, portalId: number, failure: HubSpotFailure, now: number): { nextAt: number; note: string } {
  if (failure.kind === 'rate_limited') {
    // The governor may keep its own (real) time: take the pause as a duration, never as a time.
    return { nextAt: now + Math.max(ctx.governor.pauseRemainingMs(portalId), ctx.retry.baseMs), note: `waiting out HubSpot's rate limit: ${failure.message}` };
  }
  if (failure.kind !== 'unavailable') return { nextAt: now, note: '' };
  let circuit = ctx.circuits.get(portalId);
  if (!circuit) {
    circuit = { portalId, since: now, failures: 0, nextProbeAt: now, lastError: failure.message };
    ctx.circuits.set(portalId, circuit);
    ctx.logger.warn({ portalId, error: failure.message }, 'HubSpot fails for the account: its inbox events wait (no attempts spent) and HubSpot is probed with backoff');
  }
  circuit.failures += 1;
  circuit.lastError = failure.message;
  circuit.nextProbeAt = now + backoffDelay(circuit.failures, ctx.probePolicy, ctx.random);
  const nextAt = circuit.nextProbeAt;
  return { nextAt, note: `waiting for HubSpot, failing for this account since ${iso(circuit.since)} (next probe ${iso(nextAt)}): ${failure.message}` };
}

/** A HubSpot call for these events failed: park what waiting cannot cure, let the rest wait (no attempt spent). */
export async function hubSpotFailed(ctx: InboxContext, portalId: number, events: readonly InboxEvent[], error: unknown): Promise<void> {
  if (events.length === 0) return;
  const { store, logger } = ctx;
  const now = ctx.clock.now();
  const failure = classifyFailure(error);
  const { nextAt, note } = waitFor(ctx, portalId, failure, now);
  let parked = 0;
  await store.transaction(async () => {
    for (const event of events) {
      if (failure.kind === 'refused') {
        await store.inbox.park(event.id, event.attempts + 1, `parked, retrying cannot cure it: ${failure.message}`, now);
        parked += 1;
      } else if (tooOld(ctx, event, now)) {
        await store.inbox.park(event.id, event.attempts, `${windowNote(ctx, event, now)}: ${failure.message}`, now);
        parked += 1;
      } else {
        await store.inbox.markRetry(event.id, event.attempts, note, nextAt);
      }
    }
  });
  if (parked > 0) logger.error({ portalId, events: parked, error: failure.message }, 'inbox events parked (GET /ops/inbox?status=parked)');
  else if (failure.kind === 'rate_limited') logger.warn({ portalId, events: events.length, error: failure.message }, 'inbox events wait for the rate limit');
}
