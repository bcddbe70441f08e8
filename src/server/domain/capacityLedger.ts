import type { CapacityCommitment, CapacityView } from '../../../extensions/contract/api';
import { conflict } from '../errors';

/**
 * The share of engineering capacity allocated to customer commitments, per quarter. Approved
 * commitments (effort plus any yes-but extra weeks) consume the allocation of the quarter they are
 * due in; an approval that does not fit must name an approved commitment to deprioritize, which
 * releases its weeks. With no capacity configured the ledger is off and nothing is refused.
 */
export interface CapacitySettings {
  engineerWeeksPerQuarter: number;
  commitmentShare: number;
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

function toView(c: LedgerCommitment): CapacityCommitment {
  return { reviewId: c.reviewId, dealId: c.dealId, dealName: c.dealName ?? null, summary: c.summary, weeks: c.weeks, decidedAt: new Date(c.decidedAt).toISOString() };
}

/** The quarter's picture: allocation, what the approved commitments use, what remains. */
export function capacityView(capacity: CapacitySettings, quarter: string, commitments: readonly LedgerCommitment[]): CapacityView {
  const inQuarter = commitments.filter((c) => c.quarter === quarter).sort((a, b) => a.decidedAt - b.decidedAt || a.reviewId - b.reviewId);
  const allocation = allocationWeeks(capacity);
  const used = round(inQuarter.reduce((sum, c) => sum + c.weeks, 0));
  return {
    quarter,
    engineerWeeksPerQuarter: capacity.engineerWeeksPerQuarter,
    commitmentShare: capacity.commitmentShare,
    allocationWeeks: allocation,
    usedWeeks: used,
    remainingWeeks: round(allocation - used),
    commitments: inQuarter.map(toView),
  };
}

export interface ApprovalRequest {
  /** null: the ledger is off. */
  capacity: CapacitySettings | null;
  /** The review being approved (never its own deprioritization target). */
  reviewId: number;
  quarter: string;
  requestedWeeks: number;
  /** Every approved commitment of the account that still consumes capacity. */
  commitments: readonly LedgerCommitment[];
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
  const { capacity, quarter, requestedWeeks, commitments } = request;
  let deprioritize: LedgerCommitment | null = null;
  if (request.deprioritizeReviewId !== undefined) {
    const named = request.deprioritizeReviewId;
    const found = commitments.find((c) => c.reviewId === named);
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

  const view = capacityView(capacity, quarter, commitments);
  const released = deprioritize ? deprioritize.weeks : 0;
  // Compare the real figures: the view's are rounded for display, and rounding could let
  // approvals creep past the allocation by fractions of a week.
  const exactAllocation = capacity.engineerWeeksPerQuarter * capacity.commitmentShare;
  const exactUsed = commitments.filter((c) => c.quarter === quarter).reduce((sum, c) => sum + c.weeks, 0);
  const exactAfter = exactUsed - released + requestedWeeks;
  if (exactAfter - exactAllocation > EPSILON * Math.max(1, exactAllocation)) {
    const details = {
      quarter,
      allocationWeeks: view.allocationWeeks,
      usedWeeks: view.usedWeeks,
      remainingWeeks: view.remainingWeeks,
      requestedWeeks,
      candidates: view.commitments,
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
