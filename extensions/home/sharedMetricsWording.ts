import type { RepRef, RevenueGoalView, SalesSide } from '../contract/api';
import { formatAmount, formatWeeks, formatWhen } from '../card/gateWording';

/** An amount in the account's currency: with its code when the service knows it, else the amount alone. */
export function money(amount: number, currency: string | null): string {
  return currency === null ? formatAmount(amount) : `${currency} ${formatAmount(amount)}`;
}

/** What the home page says of engineering's revenue goal this quarter. */
export function revenueGoalLine(r: RevenueGoalView): string {
  const won = `${money(r.approvedAmount, r.currency)} won with commitments engineering approved this quarter, ${money(r.deliveredAmount, r.currency)} of it delivered`;
  if (r.goal === null) return `No revenue goal set (an admin sets one in the settings): ${won}.`;
  if (r.reachedBy !== null) {
    const deal = r.reachedBy.dealName ?? `deal ${r.reachedBy.dealId}`;
    return `Engineering's revenue goal of ${money(r.goal, r.currency)} for ${r.quarter} is reached: ${won}. ${deal} took it there (${formatWhen(r.reachedBy.at)}).`;
  }
  return `${money(r.approvedAmount, r.currency)} of the ${money(r.goal, r.currency)} goal (${Math.round((r.progress ?? 0) * 100)}%): ${won}.`;
}

/** "45% of the customer share promised (9 weeks of 20 weeks)", or that capacity is not tracked. */
export function capacityPromisedLine(sales: SalesSide): string {
  const c = sales.customerCapacityPromised;
  if (c === null) return 'Capacity is not tracked: an admin sets engineering capacity in the settings.';
  const percent = c.share === null ? 'none' : `${Math.round(c.share * 100)}%`;
  return `${percent} of this quarter's customer capacity already promised (${formatWeeks(c.promisedWeeks)} of ${formatWeeks(c.customerWeeks)}).`;
}

/** A rep by name where known, else by HubSpot owner id. */
export function repLabel(rep: RepRef | null): string {
  if (rep === null) return 'no owner Dealgate knows';
  return rep.name ? `${rep.name} (owner ${rep.ownerId})` : `owner ${rep.ownerId}`;
}
