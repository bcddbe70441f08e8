import type { FoundDeal } from '../hubspot/gateway';
import type { NewInboxEvent } from '../storage/inboxStore';

/**
 * The seam between the sweeps and enforcement: a sweep never judges a deal or writes an effect.
 * Each deal it finds becomes one synthetic inbox event, stored like a webhook's (deduplicated on
 * the account and the event key) and applied by the inbox worker through the deal-event handler,
 * which reads the deal fresh from HubSpot, with its history, and judges it:
 * - `backfill` (the install sweep): a deal that sat past the gate before Dealgate was installed
 *   is flagged where it is, never moved;
 * - `reconcile` (the periodic sweep): judged as if the deal's events had arrived, once, whether
 *   or not the webhooks come too.
 *
 * The key is the deal and its modification time, so a deal found again unchanged (the next
 * reconcile pass's overlap, a restarted page, both sweeps at once) stores nothing new, and a deal
 * changed since is judged again. The webhook route never stores this subscription type: only
 * `deal.*` events of a batch become inbox rows (webhookEvent.ts), so a webhook cannot pose as a sweep.
 */
export type SweepMode = 'backfill' | 'reconcile';

export const SWEEP_SUBSCRIPTION_TYPE = 'dealgate.sweep';
export const SWEEP_CHANGE_SOURCE = 'DEALGATE_SWEEP';

export interface SweepEventPayload {
  mode: SweepMode;
  /** `<kind>-<run>` of the account's sweep row, e.g. `backfill-1`, `reconcile-42`. */
  sweepId: string;
  portalId: number;
  objectId: string;
  /**
   * When the pass started (Dealgate's clock, ms). The install backfill flags only what predates
   * it: a deal it finds moved past the gate since is judged as the reconciliation judges it.
   */
  startedAt?: number;
}

export function sweepEvent(portalId: number, mode: SweepMode, sweepId: string, deal: FoundDeal, startedAt?: number | null): NewInboxEvent {
  const payload: SweepEventPayload = { mode, sweepId, portalId, objectId: deal.id, ...(typeof startedAt === 'number' ? { startedAt } : {}) };
  return {
    portalId,
    // hs_lastmodifieddate in milliseconds (the gateway turns HubSpot's ISO date into them).
    eventKey: `sweep:${deal.id}:${deal.lastModifiedAt}`,
    objectId: deal.id,
    subscriptionType: SWEEP_SUBSCRIPTION_TYPE,
    propertyName: null,
    propertyValue: mode,
    changeSource: SWEEP_CHANGE_SOURCE,
    sourceId: null,
    occurredAt: deal.lastModifiedAt,
    payload: JSON.stringify(payload),
  };
}

export function isSweepEvent(event: { subscriptionType: string }): boolean {
  return event.subscriptionType === SWEEP_SUBSCRIPTION_TYPE;
}
