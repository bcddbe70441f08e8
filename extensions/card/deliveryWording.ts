import type { DeliveryStatus, DeliveryView } from '../contract/api';
import type { TagVariant } from './gateWording';

/** A delivery's status as the card and the home page show it. */
export const deliveryStatusTag: Record<DeliveryStatus, { label: string; variant: TagVariant }> = {
  planned: { label: 'Planned', variant: 'info' },
  in_progress: { label: 'In progress', variant: 'info' },
  at_risk: { label: 'At risk', variant: 'warning' },
  delivered: { label: 'Delivered', variant: 'success' },
  slipped: { label: 'Slipped', variant: 'warning' },
  deprioritized: { label: 'Deprioritized', variant: 'default' },
};

/** "Owned by you (user 200); promised for 2026-12-14 (first promised for 2026-11-30)." */
export function deliveryPromiseLine(delivery: Pick<DeliveryView, 'ownerUserId' | 'promisedDate' | 'firstPromisedDate'>, owner: string): string {
  const first = delivery.firstPromisedDate !== delivery.promisedDate ? ` (first promised for ${delivery.firstPromisedDate})` : '';
  return `Owned by ${owner}; promised for ${delivery.promisedDate}${first}.`;
}

/** The statuses a person may choose (deprioritized is the capacity ledger's alone). */
export const choosableDeliveryStatuses: readonly DeliveryStatus[] = ['planned', 'in_progress', 'at_risk', 'slipped', 'delivered'];
