import { classifyHubSpotError } from '../hubspot/gateway';
import { IN_DOUBT, type ClaimedOutboxRow } from '../storage/outboxStore';
import { backoffDelay, describeDuration, retriesExhausted } from '../hubspot/backoff';
import { classifyHubSpotFailure, type HubSpotFailure } from '../hubspot/accountOutages';
import { CallTimeout } from '../hubspot/callTimeout';
import { AccountWaiting, ClaimLost, type OutboxContext } from './outboxCalls';

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
