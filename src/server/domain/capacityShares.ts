import { invalidRequest } from '../shared/errors';

/**
 * Capacity per quarter in three shares (issue 14): customer commitments (what the ledger books),
 * maintenance and technical debt (kept whatever sales promises: "20% of the roadmap is
 * maintenance"), and product work, the rest. Shares are fractions of the quarter's engineer-weeks;
 * together they never exceed the whole.
 */
/** "Sales must accept that 20% of the roadmap is maintenance" (issue 14). */
export const DEFAULT_MAINTENANCE_SHARE = 0.2;

/*
 * The rule below is the domain's. The settings schema and the settings page check the same rule
 * in the UI's own package (extensions/contract/capacityShares.ts, which cannot import the server);
 * tests/domain/capacitySharesRule.test.ts keeps the two giving the same answers.
 */
const percent = (share: number) => `${Math.round(share * 100_000) / 1000}%`;

/**
 * The maintenance share of settings saved before it existed: 20%, or what the customer share
 * leaves when that is above 80% (an account that gave customers 90% keeps a valid 90/10 split
 * instead of being refused on its next load).
 */
export function defaultMaintenanceShare(commitmentShare: number): number {
  return Math.max(0, Math.min(DEFAULT_MAINTENANCE_SHARE, Math.round((1 - commitmentShare) * 1e9) / 1e9));
}

/** Why the two shares do not fit in one quarter, in words; null when they fit (an absent maintenance share takes its default). */
export function sharesOverWhole(commitmentShare: number, maintenanceShare: number | undefined): string | null {
  if (maintenanceShare === undefined || commitmentShare + maintenanceShare <= 1 + EPSILON) return null;
  return `customer commitments (${percent(commitmentShare)}) and maintenance (${percent(maintenanceShare)}) add up to ${percent(
    commitmentShare + maintenanceShare,
  )}, more than the whole quarter; lower one of them`;
}

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
