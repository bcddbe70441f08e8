import type { StageChange } from '../hubspot/gateway';
import type { InboxEvent } from '../storage/inboxStore';

/** What an inbox event says about itself: its kind, who made the change, the sweep that found the deal. */

/** What a sweep of HubSpot asks of a deal it found (see the sweeps); `enforce` is an admin's action on a backfill flag. */
export type SweepMode = 'backfill' | 'reconcile' | 'enforce';

export const SWEEP_SUBSCRIPTION = 'dealgate.sweep';

export function sweepModeOf(event: Pick<InboxEvent, 'subscriptionType' | 'propertyValue'>): SweepMode | null {
  if (event.subscriptionType !== SWEEP_SUBSCRIPTION) return null;
  const mode = event.propertyValue;
  return mode === 'backfill' || mode === 'enforce' ? mode : 'reconcile';
}

/** `userId:123` (HubSpot's UI) becomes the user id; anything else is HubSpot acting. */
export function actorOf(event: Pick<InboxEvent, 'sourceId'>, entry?: StageChange): string {
  if (entry?.updatedByUserId) return entry.updatedByUserId;
  const match = /^userId:(\d+)$/.exec(event.sourceId ?? '');
  return match?.[1] ?? 'hubspot';
}

export function appIdOf(event: InboxEvent): string | null {
  try {
    const appId = (JSON.parse(event.payload) as { appId?: unknown }).appId;
    return appId === undefined || appId === null ? null : String(appId);
  } catch {
    return null;
  }
}

/**
 * Changes made with the app's own token: HubSpot records them as INTEGRATION with the app id as
 * the source (https://developers.hubspot.com/docs/api/crm/properties#property-history).
 */
export function isOwnChange(sourceType: string | null, sourceId: string | null, appId: string | null): boolean {
  return appId !== null && sourceId === appId && (sourceType === 'INTEGRATION' || sourceType === 'APP');
}

/** The event reports a change made with the app's own token. */
export function isOwnEvent(event: InboxEvent): boolean {
  return isOwnChange(event.changeSource, event.sourceId, appIdOf(event));
}

export function isStageEvent(event: Pick<InboxEvent, 'subscriptionType' | 'propertyName'>): boolean {
  return event.subscriptionType === 'deal.propertyChange' && event.propertyName === 'dealstage';
}

export function isDeletion(event: Pick<InboxEvent, 'subscriptionType'>): boolean {
  return event.subscriptionType === 'deal.deletion';
}

/** When the sweep pass that found the deal started (sweepEvents.ts); undefined for events stored before it was recorded. */
export function sweepStartedAt(event: InboxEvent): number | undefined {
  try {
    const at = (JSON.parse(event.payload) as { startedAt?: unknown }).startedAt;
    return typeof at === 'number' && Number.isFinite(at) ? at : undefined;
  } catch {
    return undefined;
  }
}

export function enforcedBy(event: InboxEvent): string | null {
  try {
    const by = (JSON.parse(event.payload) as { actor?: unknown }).actor;
    return typeof by === 'string' ? by : null;
  } catch {
    return null;
  }
}

export function describeActor(actor: string): string {
  return /^\d+$/.test(actor) ? `user ${actor}` : actor === 'hubspot' ? 'an automation or integration' : actor;
}
