import { invalidRequest } from '../shared/errors';
import { DEFAULT_MAINTENANCE_SHARE, sharesOverWhole } from '../../../extensions/contract/capacityShares';

/**
 * Capacity per quarter in three shares (issue 14): customer commitments (what the ledger books),
 * maintenance and technical debt (kept whatever sales promises: "20% of the roadmap is
 * maintenance"), and product work, the rest. Shares are fractions of the quarter's engineer-weeks;
 * together they never exceed the whole.
 */
export { DEFAULT_MAINTENANCE_SHARE };

export interface CapacityShares {
  engineerWeeksPerQuarter: number;
  commitmentShare: number;
  maintenanceShare: number;
}

export interface ShareWeeks {
  share: number;
  weeks: number;
}

export interface CapacitySplit {
  customer: ShareWeeks;
  maintenance: ShareWeeks;
  product: ShareWeeks;
}

const EPSILON = 1e-9;
const round = (n: number) => Math.round(n * 1000) / 1000;

/** 400 naming the shares when customer and maintenance together claim more than the whole quarter. */
export function assertSharesFit(shares: Pick<CapacityShares, 'commitmentShare' | 'maintenanceShare'>): void {
  const { commitmentShare, maintenanceShare } = shares;
  for (const [path, value] of [['commitmentShare', commitmentShare], ['maintenanceShare', maintenanceShare]] as const) {
    if (!(value >= 0 && value <= 1)) throw invalidRequest(`${path}: must be a share from 0 to 1`, { issues: [{ path, message: 'must be a share from 0 to 1' }] });
  }
  const message = sharesOverWhole(commitmentShare, maintenanceShare);
  if (message !== null) {
    throw invalidRequest(`capacity: ${message}`, { issues: [{ path: 'maintenanceShare', message }] });
  }
}

/** The quarter's weeks per share; product work gets what the other two leave. */
export function splitCapacity(shares: CapacityShares): CapacitySplit {
  assertSharesFit(shares);
  const weeks = (share: number) => round(shares.engineerWeeksPerQuarter * share);
  const product = Math.max(0, 1 - shares.commitmentShare - shares.maintenanceShare);
  return {
    customer: { share: shares.commitmentShare, weeks: weeks(shares.commitmentShare) },
    maintenance: { share: shares.maintenanceShare, weeks: weeks(shares.maintenanceShare) },
    product: { share: round(product), weeks: weeks(product) },
  };
}

/**
 * What a rep sees before requesting: the customer share's weeks left this quarter, and what the
 * request would leave (negative when it does not fit: the reviewer would have to deprioritize).
 */
export function requestPreview(customerWeeks: number, usedWeeks: number, requestedWeeks: number): { remainingWeeks: number; remainingAfterWeeks: number; fits: boolean } {
  const remaining = customerWeeks - usedWeeks;
  const after = remaining - requestedWeeks;
  return { remainingWeeks: round(remaining), remainingAfterWeeks: round(after), fits: after >= -EPSILON * Math.max(1, customerWeeks) };
}
