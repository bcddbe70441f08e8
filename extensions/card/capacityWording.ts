import type { CapacityPreview, CapacitySharesView, ShareWeeksView } from '../contract/api';
import { formatWeeks } from './gateWording';

/** Capacity in words: the quarter's three shares, and what a request would leave of the customer share. */

const percentOf = (share: number) => `${Math.round(share * 1000) / 10}%`;
const part = (label: string, s: ShareWeeksView) => `${label} ${percentOf(s.share)} (${formatWeeks(s.weeks)})`;

/** "Customer commitments 30% (36 weeks), maintenance and technical debt 20% (24 weeks), product work 50% (60 weeks)". */
export function sharesLine(shares: CapacitySharesView): string {
  return [part('Customer commitments', shares.customer), part('maintenance and technical debt', shares.maintenance), part('product work', shares.product)].join(', ');
}

/** What the quarter has left of the customer share, and what this request would leave (or how far over it would be). */
export function previewLine(preview: CapacityPreview): string {
  const left = `${preview.quarter} has ${formatWeeks(Math.max(0, preview.remainingWeeks))} left of ${formatWeeks(preview.customerWeeks)} for customer commitments`;
  // No effort named yet (none on the deal, none typed): only what is left.
  if (preview.requestedWeeks <= 0) return `${left}.`;
  const request = `this request (${formatWeeks(preview.requestedWeeks)})`;
  if (preview.fits) return `${left}; ${request} would leave ${formatWeeks(preview.remainingAfterWeeks)}.`;
  return `${left}; ${request} would be over by ${formatWeeks(-preview.remainingAfterWeeks)}: the reviewer would have to deprioritize an approved commitment, or answer yes-but or no.`;
}
