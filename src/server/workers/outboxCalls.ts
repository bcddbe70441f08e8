import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import { classifyHubSpotError, type HubSpotGateway, type PaceNext } from '../hubspot/gateway';
import type { OutboxClaim } from '../storage/outboxStore';
import type { RetryPolicy } from '../hubspot/backoff';
import type { AccountOutage, AccountOutages } from '../hubspot/accountOutages';
import { CallTimeout, pausableTimeout, withTimeout } from '../hubspot/callTimeout';
import type { RateGovernor } from '../hubspot/rateGovernor';
import type { OutboxWorkerDeps } from './outboxWorker';

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
  await ctx.governor.acquire(portalId);
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
  await ctx.governor.acquire(portalId);
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
