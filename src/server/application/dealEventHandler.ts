import type { HubSpotDeal } from '../hubspot/gateway';
import type { InboxEvent } from '../storage/inboxStore';

/**
 * What the inbox worker asks of enforcement: the port the use case (dealEvents.ts) implements and
 * the loop (workers/inboxWorker.ts) calls, one deal's events at a time.
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
  needsFreshDeal(portalId: number, dealId: string, events: readonly InboxEvent[]): Promise<boolean>;
  /**
   * Applies one event. It runs inside the transaction that marks the event done, so it may only
   * write through the store (a HubSpot call there throws). Returns true when it enqueued effects.
   */
  apply(input: DealEventInput): Promise<boolean>;
  /** Called before `apply` when a deal sits in a stage the stored pipelines do not know. */
  unknownStage?(portalId: number, fresh: HubSpotDeal): Promise<boolean>;
}
