import { forbidden, invalidRequest } from '../shared/errors';
import { quarterOf } from './capacityLedger';
import type { LabelOf } from './personLabel';
import { isAdmin, isDesignatedReviewer, type RoleSettings } from './roles';
import { triadOf, type TriadSettings } from './triad';

/**
 * Engineering's side of the bargain (issue 14): a yes or yes-but becomes a delivery, an owned and
 * dated commitment. Its owner is the deciding reviewer unless reassigned, its promised date the
 * customer's needed-by date when given, else the decision date plus the weeks approved. The owner,
 * the account's reviewers and its admins move it through planned, in progress, at risk, slipped
 * and delivered; moving the promised date later is a slip and needs a reason, which the rep is told.
 * `deprioritized` is the capacity ledger's choice (a reviewer freed its weeks for another
 * commitment), never set by hand, and counts neither as late nor as delivered.
 *
 * Dates are calendar days (YYYY-MM-DD, UTC): a promise is made to a customer for a day.
 */
// The card API's contract spells the same list for the card's form (application/wire.ts keeps them equal).
export const DELIVERY_STATUSES = ['planned', 'in_progress', 'at_risk', 'delivered', 'slipped', 'deprioritized'] as const;
export type DeliveryStatus = (typeof DELIVERY_STATUSES)[number];

/** Settled: nothing more is expected of the commitment. */
const SETTLED: ReadonlySet<DeliveryStatus> = new Set(['delivered', 'deprioritized']);

export interface DeliveryChange {
  at: number;
  /** Who changed it: a HubSpot user id, or `system` for the capacity ledger. */
  by: string;
  status: DeliveryStatus;
  promisedDate: string;
  ownerUserId: string;
  workItemUrl: string | null;
  /** Why, for a slip (required) or any other change (optional). */
  reason: string | null;
}

export interface Delivery {
  reviewId: number;
  ownerUserId: string;
  status: DeliveryStatus;
  promisedDate: string;
  /** The date first promised: on time means delivered by it, whatever slips came after. */
  firstPromisedDate: string;
  workItemUrl: string | null;
  deliveredAt: number | null;
  /** Oldest first; the first entry is the promise made with the decision. */
  history: DeliveryChange[];
}

export interface DeliveryUpdate {
  status: DeliveryStatus;
  promisedDate?: string | undefined;
  reason?: string | undefined;
  workItemUrl?: string | undefined;
  ownerUserId?: string | undefined;
}

/** What an update means for the people around the deal: each is written to HubSpot once. */
export interface DeliveryConsequences {
  /** The promised date moved later: a note on the deal and a task for its owner to tell the customer. */
  slipped: { from: string; to: string; reason: string } | null;
  delivered: boolean;
  /** The new owner, when it changed. */
  reassignedTo: string | null;
}

const DAY_MS = 24 * 60 * 60_000;
const WEEK_MS = 7 * DAY_MS;

/** The calendar day (UTC) of a moment. */
export function dayOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/** Whether `value` is a real calendar day written YYYY-MM-DD (not 2026-02-30). */
export function isCalendarDay(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const ms = Date.parse(`${value}T00:00:00Z`);
  return !Number.isNaN(ms) && dayOf(ms) === value;
}

/**
 * The date promised with a decision: the customer's needed-by date when it is still ahead (a date
 * already passed cannot be promised), else the decision date plus the effort and any yes-but extra
 * weeks, rounded up to a whole day.
 */
export function promisedDateFor(neededBy: string | null, decidedAt: number, weeks: number): string {
  if (neededBy !== null && isCalendarDay(neededBy) && neededBy >= dayOf(decidedAt)) return neededBy;
  return dayOf(decidedAt + Math.ceil((Math.max(0, weeks) * WEEK_MS) / DAY_MS) * DAY_MS);
}

/** The delivery an approval creates: planned, owned by the reviewer who decided. */
export function openDelivery(input: { reviewId: number; decidedBy: string; decidedAt: number; neededBy: string | null; weeks: number }): Delivery {
  const promisedDate = promisedDateFor(input.neededBy, input.decidedAt, input.weeks);
  return {
    reviewId: input.reviewId,
    ownerUserId: input.decidedBy,
    status: 'planned',
    promisedDate,
    firstPromisedDate: promisedDate,
    workItemUrl: null,
    deliveredAt: null,
    history: [{ at: input.decidedAt, by: input.decidedBy, status: 'planned', promisedDate, ownerUserId: input.decidedBy, workItemUrl: null, reason: null }],
  };
}

/** The roles a delivery's rules read: the account's, and its Triad (whose tech leads are engineers too). */
export type DeliverySettings = RoleSettings & { triad?: TriadSettings | undefined };

/**
 * The account's engineers, who may own a delivery: its reviewers (the escalation reviewer included)
 * and, with the Triad on, its tech leads, who deliver what the Triad said yes to.
 */
export function isEngineer(userId: string, settings: DeliverySettings): boolean {
  const triad = triadOf(settings);
  return isDesignatedReviewer(userId, settings) || (triad.enabled && triad.members.tech_lead.includes(userId));
}

/** The account's engineers (isEngineer), each once: its reviewers, the escalation reviewer, then with the Triad on its tech leads. */
export function engineersOf(settings: DeliverySettings): string[] {
  const triad = triadOf(settings);
  const ids = [...settings.reviewers, ...(settings.escalationReviewer === null ? [] : [settings.escalationReviewer]), ...(triad.enabled ? triad.members.tech_lead : [])];
  return [...new Set(ids)];
}

/**
 * The owner, the account's engineers and its admins may update a delivery. The refusal names the
 * owner with `label`.
 */
export function assertMayUpdateDelivery(delivery: Pick<Delivery, 'reviewId' | 'ownerUserId'>, userId: string, settings: DeliverySettings, label: LabelOf): void {
  if (userId === delivery.ownerUserId || isEngineer(userId, settings) || isAdmin(userId, settings)) return;
  const engineers = triadOf(settings).enabled ? "the account's reviewers, the Triad's tech leads" : "the account's reviewers";
  throw forbidden(`only its owner (${label(delivery.ownerUserId)}), ${engineers} and its admins may update this delivery`);
}

const issue = (path: string, message: string) => invalidRequest(`${path}: ${message}`, { issues: [{ path, message }] });

/** A new owner must be an engineer of the account (isEngineer). */
function checkOwner(ownerUserId: string | undefined, settings: DeliverySettings, label: LabelOf, by: string): void {
  if (ownerUserId !== undefined && !isEngineer(ownerUserId, settings)) {
    const who = ownerUserId === by ? 'you are' : `${label(ownerUserId)} is`;
    const engineers = triadOf(settings).enabled ? "one of its reviewers or the Triad's tech leads" : 'one of its reviewers';
    throw issue('ownerUserId', `${who} not an engineer of this account (${engineers}); an admin adds reviewers in the settings`);
  }
}

function checkWorkItemUrl(url: string | undefined): void {
  if (url === undefined) return;
  let parsed: URL | undefined;
  try {
    parsed = new URL(url);
  } catch {
    parsed = undefined;
  }
  if (!parsed || (parsed.protocol !== 'https:' && parsed.protocol !== 'http:')) throw issue('workItemUrl', 'must be an http(s) URL of the engineering work item');
}

/** The new promised date, checked: a real day, and a later one (a slip) only with a reason. */
function nextPromisedDate(current: Delivery, update: DeliveryUpdate): { date: string; slipped: boolean } {
  const date = update.promisedDate ?? current.promisedDate;
  if (!isCalendarDay(date)) throw issue('promisedDate', 'must be a calendar day written YYYY-MM-DD');
  const slipped = date > current.promisedDate;
  if (slipped && (update.reason?.trim() ?? '') === '') {
    throw issue('reason', `moving the promised date from ${current.promisedDate} to ${date} is a slip: say why (the rep tells the customer)`);
  }
  // Becoming slipped needs the later date; a delivery already slipped keeps its status through other changes (a link, a note).
  if (update.status === 'slipped' && !slipped && current.status !== 'slipped') throw issue('status', `slipped needs a promised date later than ${current.promisedDate}, and the reason`);
  return { date, slipped };
}

function checkStatus(current: Delivery, update: DeliveryUpdate): void {
  if (!(DELIVERY_STATUSES as readonly string[]).includes(update.status)) throw issue('status', `must be one of ${DELIVERY_STATUSES.join(', ')}`);
  if (update.status === 'deprioritized') {
    throw issue('status', 'deprioritized is set by the capacity ledger, when a reviewer frees this commitment’s weeks for another; it cannot be set by hand');
  }
  if (SETTLED.has(current.status)) throw issue('status', `the delivery of review ${current.reviewId} is already ${current.status}; it cannot change any more`);
}

/**
 * Applies an update by `by` at `at` (its rights checked by assertMayUpdateDelivery) and says what it
 * means: a slip, a delivery, a new owner. The history gains one entry. `label` names a new owner
 * the rules refuse.
 */
export function updateDelivery(
  current: Delivery,
  update: DeliveryUpdate,
  context: { by: string; at: number; settings: DeliverySettings; label: LabelOf },
): { delivery: Delivery; consequences: DeliveryConsequences } {
  checkStatus(current, update);
  checkOwner(update.ownerUserId, context.settings, context.label, context.by);
  checkWorkItemUrl(update.workItemUrl);
  const { date, slipped } = nextPromisedDate(current, update);
  const reason = update.reason?.trim() || null;
  const ownerUserId = update.ownerUserId ?? current.ownerUserId;
  const workItemUrl = update.workItemUrl ?? current.workItemUrl;
  const delivered = update.status === 'delivered';
  // A later date is a slip whatever status came with it, unless the work is delivered with it.
  const status: DeliveryStatus = slipped && !delivered ? 'slipped' : update.status;
  const delivery: Delivery = {
    ...current,
    status,
    promisedDate: date,
    ownerUserId,
    workItemUrl,
    deliveredAt: delivered ? context.at : null,
    history: [...current.history, { at: context.at, by: context.by, status, promisedDate: date, ownerUserId, workItemUrl, reason }],
  };
  return {
    delivery,
    consequences: {
      slipped: slipped ? { from: current.promisedDate, to: date, reason: reason ?? '' } : null,
      delivered,
      reassignedTo: ownerUserId !== current.ownerUserId ? ownerUserId : null,
    },
  };
}

/** The capacity ledger freed this commitment's weeks: it is settled, neither late nor delivered. */
export function deprioritizeDelivery(current: Delivery, context: { at: number; reason: string }): Delivery {
  if (SETTLED.has(current.status)) return current;
  return {
    ...current,
    status: 'deprioritized',
    history: [...current.history, { at: context.at, by: 'system', status: 'deprioritized', promisedDate: current.promisedDate, ownerUserId: current.ownerUserId, workItemUrl: current.workItemUrl, reason: context.reason }],
  };
}

/** Past its promised date (the day after it) and neither delivered nor deprioritized. */
export function isOverdue(delivery: Pick<Delivery, 'status' | 'promisedDate'>, now: number): boolean {
  return !SETTLED.has(delivery.status) && dayOf(now) > delivery.promisedDate;
}

/** Delivered by the day first promised. */
export function deliveredOnTime(delivery: Pick<Delivery, 'status' | 'deliveredAt' | 'firstPromisedDate'>): boolean {
  return delivery.status === 'delivered' && delivery.deliveredAt !== null && dayOf(delivery.deliveredAt) <= delivery.firstPromisedDate;
}

export interface OnTimeRate {
  quarter: string;
  /** Delivered on or before the date first promised. */
  onTime: number;
  /** Delivered after it. */
  late: number;
  /** Not delivered, promised date passed. */
  overdue: number;
  /** onTime over (delivered + overdue); null when there is nothing to count yet. */
  rate: number | null;
}

/**
 * On-time delivery per quarter of the date first promised: delivered on or before it, over all
 * delivered or overdue. Open commitments not yet due and deprioritized ones count in neither.
 */
export function onTimeRates(deliveries: readonly Pick<Delivery, 'status' | 'deliveredAt' | 'firstPromisedDate' | 'promisedDate'>[], now: number): OnTimeRate[] {
  const byQuarter = new Map<string, OnTimeRate>();
  for (const d of deliveries) {
    const quarter = quarterOf(Date.parse(`${d.firstPromisedDate}T00:00:00Z`));
    const row = byQuarter.get(quarter) ?? { quarter, onTime: 0, late: 0, overdue: 0, rate: null };
    if (d.status === 'delivered') {
      if (deliveredOnTime(d)) row.onTime += 1;
      else row.late += 1;
    } else if (isOverdue(d, now)) row.overdue += 1;
    byQuarter.set(quarter, row);
  }
  return [...byQuarter.values()]
    .map((row) => {
      const counted = row.onTime + row.late + row.overdue;
      return { ...row, rate: counted === 0 ? null : row.onTime / counted };
    })
    .sort((a, b) => a.quarter.localeCompare(b.quarter));
}
