import { personLabel, type DeliveriesSummary, type DeliveryView, type Person, type Settings } from '../../../extensions/contract/api';
import { quarterOf } from '../domain/capacityLedger';
import { assertMayUpdateDelivery, dayOf, engineersOf, isOverdue } from '../domain/delivery';
import { DealgateError } from '../shared/errors';
import type { DeliveryRecord } from '../storage/deliveryStore';
import type { Store } from '../storage/store';
import { cachedPeople, type PeopleBook } from '../application/people';

/** What the card and the home page show of deliveries, from Dealgate's own records. */

const iso = (ms: number) => new Date(ms).toISOString();

/** Why `userId` may not update it (null: they may). */
function updateDeniedFor(delivery: DeliveryRecord, userId: string, settings: Settings, people: PeopleBook): string | null {
  if (delivery.status === 'delivered' || delivery.status === 'deprioritized') return `the delivery is ${delivery.status}; it cannot change any more`;
  try {
    assertMayUpdateDelivery(delivery, userId, settings, (id) => people.label(id));
    return null;
  } catch (error) {
    if (error instanceof DealgateError && error.code === 'forbidden') return error.message;
    throw error;
  }
}

export function deliveryView(delivery: DeliveryRecord, userId: string, settings: Settings, now: number, people: PeopleBook): DeliveryView {
  const updateDenied = updateDeniedFor(delivery, userId, settings, people);
  return {
    ownerUserId: delivery.ownerUserId,
    owner: people.person(delivery.ownerUserId),
    ownerDeactivated: people.isDeactivated(delivery.ownerUserId),
    status: delivery.status,
    promisedDate: delivery.promisedDate,
    firstPromisedDate: delivery.firstPromisedDate,
    workItemUrl: delivery.workItemUrl,
    deliveredAt: delivery.deliveredAt === null ? null : iso(delivery.deliveredAt),
    overdue: isOverdue(delivery, now),
    history: delivery.history.map((c) => ({ ...c, at: iso(c.at), byPerson: people.person(c.by), owner: people.person(c.ownerUserId) })),
    canUpdate: updateDenied === null,
    updateDenied,
    ownerChoices: updateDenied === null ? ownerChoices(delivery, settings, people) : [],
  };
}

/** The current owner, then the account's engineers who are users now, by name. */
function ownerChoices(delivery: DeliveryRecord, settings: Settings, people: PeopleBook): Person[] {
  const others = engineersOf(settings)
    .filter((id) => id !== delivery.ownerUserId && !people.isDeactivated(id))
    .map((id) => people.person(id))
    .sort((a, b) => personLabel(a).localeCompare(personLabel(b)) || a.userId.localeCompare(b.userId));
  return [people.person(delivery.ownerUserId), ...others];
}

/** The delivery of a review, as `userId` sees it (null when its answer opened none). */
export async function deliveryViewOf(store: Store, portalId: number, reviewId: number, userId: string, settings: Settings, now: number): Promise<DeliveryView | null> {
  const delivery = await store.deliveries.get(portalId, reviewId);
  if (!delivery) return null;
  const people = await cachedPeople(store, portalId, [delivery.ownerUserId, ...delivery.history.flatMap((c) => [c.by, c.ownerUserId]), ...engineersOf(settings)]);
  return deliveryView(delivery, userId, settings, now, people);
}

export const OPEN_DELIVERIES_LISTED = 100;
/** The on-time rate covers this many quarters back from the current one (and any later quarter). */
const ON_TIME_QUARTERS = 8;

/** The first quarter of the on-time rates: `quarters - 1` quarters before the one of `now`. */
function quarterBefore(now: number, quarters: number): string {
  const date = new Date(now);
  return quarterOf(Date.UTC(date.getUTCFullYear(), Math.floor(date.getUTCMonth() / 3) * 3 - (quarters - 1) * 3, 1));
}

/** The home page's commitments: the open ones by promised date (overdue first), and on-time delivery per quarter, in SQL. */
export async function deliveriesSummary(store: Store, portalId: number, now: number): Promise<DeliveriesSummary> {
  const today = dayOf(now);
  const counts = await store.deliveries.countOpen(portalId, today);
  const open = await store.deliveries.listOpen(portalId, OPEN_DELIVERIES_LISTED);
  const people = await cachedPeople(store, portalId, open.map((d) => d.ownerUserId));
  return {
    open: open.map((d) => ({
      reviewId: d.reviewId,
      dealId: d.dealId,
      dealName: d.dealName,
      ownerUserId: d.ownerUserId,
      owner: people.person(d.ownerUserId),
      ownerDeactivated: people.isDeactivated(d.ownerUserId),
      status: d.status,
      promisedDate: d.promisedDate,
      workItemUrl: d.workItemUrl,
      overdue: isOverdue(d, now),
    })),
    openCount: counts.open,
    overdueCount: counts.overdue,
    onTime: await store.deliveries.onTimeByQuarter(portalId, today, quarterBefore(now, ON_TIME_QUARTERS)),
  };
}
