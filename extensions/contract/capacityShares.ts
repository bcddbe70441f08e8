/**
 * The rule the capacity shares keep, shared by the settings schema (the service's 400 and the
 * settings page's own check) and the server's domain (src/server/domain/capacityShares.ts): the
 * customer share and the maintenance share together never claim more than the whole quarter.
 */

/** "Sales must accept that 20% of the roadmap is maintenance" (issue 14). */
export const DEFAULT_MAINTENANCE_SHARE = 0.2;

const EPSILON = 1e-9;

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
