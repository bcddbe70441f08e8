import type { CapacityPreview, CapacityView } from '../../../extensions/contract/api';
import { approvalCovers, type DealFacts } from '../domain/gatePolicy';
import { requestPreview } from '../domain/capacityShares';
import type { Review } from '../domain/reviewLifecycle';

/**
 * What a rep sees before requesting (issue 14): the quarter's customer share left, and what the
 * deal's commitment (its effort) would leave once approved; with no effort named yet, what is left
 * (`requestedWeeks` 0: the card previews the effort the rep types against `remainingWeeks`).
 * Nothing to preview when capacity is off, or an approval already books this very commitment (its
 * weeks are in `usedWeeks`). The 409 of an approval that does not fit stays the decision's: this only warns.
 */
export function capacityPreviewOf(capacity: CapacityView | null, facts: DealFacts, latest: Review | undefined, tolerance: number): CapacityPreview | null {
  if (capacity === null) return null;
  if (approvalCovers(latest, facts, tolerance)) return null;
  const requestedWeeks = facts.effortWeeks !== null && facts.effortWeeks > 0 ? facts.effortWeeks : 0;
  const preview = requestPreview(capacity.allocationWeeks, capacity.usedWeeks, requestedWeeks);
  return {
    quarter: capacity.quarter,
    customerWeeks: capacity.allocationWeeks,
    usedWeeks: capacity.usedWeeks,
    remainingWeeks: preview.remainingWeeks,
    requestedWeeks,
    remainingAfterWeeks: preview.remainingAfterWeeks,
    fits: preview.fits,
  };
}
