import { conflict } from '../shared/errors';
import { defaultMaintenanceShare, splitCapacity, type CapacitySplit } from './capacityShares';

/**
 * The share of engineering capacity allocated to customer commitments, per quarter. Approved
 * commitments (effort plus any yes-but extra weeks) consume the allocation of the quarter they are
 * due in; an approval that does not fit must name an approved commitment to deprioritize, which
 * releases its weeks. With no capacity configured the ledger is off and nothing is refused.
 */
export interface CapacitySettings {
  engineerWeeksPerQuarter: number;
  commitmentShare: number;
  /** Maintenance and technical debt (capacityShares.ts); absent: the default for the customer share. */
  maintenanceShare?: number;
}

/** An approved commitment that consumes capacity (not deprioritized, not superseded). */
export interface LedgerCommitment {
  reviewId: number;
  dealId: string;
  /** The deal's name, for people choosing what to deprioritize. */
  dealName?: string | null;
  summary: string;
  weeks: number;
  decidedAt: number;
  quarter: string;
}

const EPSILON = 1e-9;

/** "YYYY-Qn" of a moment, in UTC. */
export function quarterOf(ms: number): string {
  const date = new Date(ms);
  return `${date.getUTCFullYear()}-Q${Math.floor(date.getUTCMonth() / 3) + 1}`;
}

/**
 * The quarter a commitment lands in: the customer's needed-by date when given, else the decision
 * date. A needed-by date that passed before the decision cannot be met in its quarter any more:
 * the work lands in the decision's quarter.
 */
export function commitmentQuarter(neededBy: string | null, decidedAt: number): string {
  if (neededBy !== null) {
    const ms = Date.parse(`${neededBy}T00:00:00Z`);
    const decisionDay = Date.parse(`${new Date(decidedAt).toISOString().slice(0, 10)}T00:00:00Z`);
    if (!Number.isNaN(ms) && ms >= decisionDay) return quarterOf(ms);
  }
  return quarterOf(decidedAt);
}

/** Weeks an approval consumes: the effort, plus the extra weeks a yes-but wrote down. */
export function consumedWeeks(effortWeeks: number, extraWeeks: number | null): number {
  return effortWeeks + (extraWeeks ?? 0);
}

export function allocationWeeks(capacity: CapacitySettings): number {
  return round(capacity.engineerWeeksPerQuarter * capacity.commitmentShare);
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}

/** A commitment as the quarter's picture lists it. */
export interface CapacityCommitment {
  reviewId: number;
  dealId: string;
  dealName: string | null;
  summary: string;
  weeks: number;
  decidedAt: string;
}

/** A quarter's picture: the allocation, what approved commitments use and what remains, the largest commitments. */
export interface CapacityView {
  quarter: string;
  engineerWeeksPerQuarter: number;
  commitmentShare: number;
  allocationWeeks: number;
  usedWeeks: number;
  remainingWeeks: number;
  /** The largest by weeks (at most CAPACITY_LIST_LIMIT), oldest first; the totals count every commitment. */
  commitments: CapacityCommitment[];
  /** How many commitments `commitments` leaves out. */
  moreCommitments: number;
  /** The quarter in three: customer commitments (the allocation above), maintenance and technical debt, product work (the rest). */
  shares: CapacitySplit;
}

function toView(c: LedgerCommitment): CapacityCommitment {
  return { reviewId: c.reviewId, dealId: c.dealId, dealName: c.dealName ?? null, summary: c.summary, weeks: c.weeks, decidedAt: new Date(c.decidedAt).toISOString() };
}

/** How many commitments a capacity view lists: the largest by weeks (the ones that can make room). */
export const CAPACITY_LIST_LIMIT = 10;

/**
 * What a quarter's approved commitments book, as the store computes it in SQL (reviewStore's
 * `quarterBooking`): the exact sum of their weeks and their count over all of them, and only the
 * largest few by weeks. A card load costs the same whether the quarter holds 5 or 5,000.
 */
export interface QuarterBooking {
  quarter: string;
  /** Exact (not rounded) sum of the weeks of every commitment of the quarter. */
  usedWeeks: number;
  /** How many commitments consume the quarter. */
  count: number;
  /** The largest by weeks (ties: the oldest), at most the limit asked for, listed oldest first. */
  largest: LedgerCommitment[];
}

const oldestFirst = (a: LedgerCommitment, b: LedgerCommitment) => a.decidedAt - b.decidedAt || a.reviewId - b.reviewId;

/** The booking of `quarter` from a list of commitments (what the store's SQL computes; used by tests). */
export function bookingOf(commitments: readonly LedgerCommitment[], quarter: string, limit = CAPACITY_LIST_LIMIT): QuarterBooking {
  const inQuarter = commitments.filter((c) => c.quarter === quarter);
  const largest = [...inQuarter].sort((a, b) => b.weeks - a.weeks || oldestFirst(a, b)).slice(0, limit).sort(oldestFirst);
  return { quarter, usedWeeks: inQuarter.reduce((sum, c) => sum + c.weeks, 0), count: inQuarter.length, largest };
}

/**
 * The quarter's picture: allocation, what the approved commitments use, what remains, and the
 * largest commitments (all of them when they are few) with how many more there are.
 */
export function capacityView(capacity: CapacitySettings, booking: QuarterBooking): CapacityView {
  const allocation = allocationWeeks(capacity);
  const used = round(booking.usedWeeks);
  return {
    quarter: booking.quarter,
    engineerWeeksPerQuarter: capacity.engineerWeeksPerQuarter,
    commitmentShare: capacity.commitmentShare,
    allocationWeeks: allocation,
    usedWeeks: used,
    remainingWeeks: round(allocation - used),
    commitments: booking.largest.map(toView),
    moreCommitments: Math.max(0, booking.count - booking.largest.length),
    shares: splitCapacity({ ...capacity, maintenanceShare: capacity.maintenanceShare ?? defaultMaintenanceShare(capacity.commitmentShare) }),
  };
}

export interface ApprovalRequest {
  /** null: the ledger is off. */
  capacity: CapacitySettings | null;
  /** The review being approved (never its own deprioritization target). */
  reviewId: number;
  quarter: string;
  requestedWeeks: number;
  /** What the quarter's commitments book, this review and the commitments it releases left out. */
  booking: QuarterBooking;
  /** The commitment `deprioritizeReviewId` names, as the store found it among those still consuming capacity (any quarter). */
  named: LedgerCommitment | undefined;
  deprioritizeReviewId: number | undefined;
}

export interface ApprovalPlan {
  /** The commitment the approval deprioritizes (its weeks are released). */
  deprioritize: LedgerCommitment | null;
}

/**
 * Whether an approval fits the quarter's allocation. Refused (conflict, with the numbers and the
 * commitments that could make room) when it does not fit even after the named deprioritization.
 */
export function planApproval(request: ApprovalRequest): ApprovalPlan {
  const { capacity, quarter, requestedWeeks, booking } = request;
  let deprioritize: LedgerCommitment | null = null;
  if (request.deprioritizeReviewId !== undefined) {
    const named = request.deprioritizeReviewId;
    const found = request.named?.reviewId === named ? request.named : undefined;
    if (named === request.reviewId || !found) {
      throw conflict(`review ${named} is not an approved commitment that still consumes capacity, so it cannot be deprioritized`, {
        deprioritizeReviewId: named,
      });
    }
    if (capacity !== null && found.quarter !== quarter) {
      throw conflict(`review ${named} consumes ${found.quarter}, not ${quarter}: deprioritizing it makes no room in ${quarter}`, {
        deprioritizeReviewId: named,
        quarter,
      });
    }
    deprioritize = found;
  }
  if (capacity === null) return { deprioritize };

  const view = capacityView(capacity, booking);
  const released = deprioritize ? deprioritize.weeks : 0;
  // Compare the real figures: the view's are rounded for display, and rounding could let
  // approvals creep past the allocation by fractions of a week.
  const exactAllocation = capacity.engineerWeeksPerQuarter * capacity.commitmentShare;
  const exactUsed = booking.usedWeeks;
  const exactAfter = exactUsed - released + requestedWeeks;
  if (exactAfter - exactAllocation > EPSILON * Math.max(1, exactAllocation)) {
    const details = {
      quarter,
      allocationWeeks: view.allocationWeeks,
      usedWeeks: view.usedWeeks,
      remainingWeeks: view.remainingWeeks,
      requestedWeeks,
      // The largest of the quarter (the ones that can make room), and how many more there are.
      candidates: view.commitments,
      moreCommitments: view.moreCommitments,
    };
    const message = deprioritize
      ? `approving ${requestedWeeks} weeks exceeds the ${quarter} allocation even after deprioritizing review ${deprioritize.reviewId} (${released} weeks): ${round(view.remainingWeeks + released)} of ${view.allocationWeeks} weeks would remain`
      : `approving ${requestedWeeks} weeks exceeds the ${quarter} allocation: ${view.remainingWeeks} of ${view.allocationWeeks} weeks remain; name an approved commitment to deprioritize, or answer yes-but or no`;
    throw conflict(message, details);
  }
  return { deprioritize };
}

/** The UTC quarter a moment falls in, as [start, end) in ms. */
export function quarterBounds(ms: number): { quarter: string; start: number; end: number } {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  const firstMonth = Math.floor(date.getUTCMonth() / 3) * 3;
  return { quarter: quarterOf(ms), start: Date.UTC(year, firstMonth, 1), end: Date.UTC(year, firstMonth + 3, 1) };
}
