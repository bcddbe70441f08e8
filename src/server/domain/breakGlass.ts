import type { GateStatus } from './vocabulary';
import type { Review } from './reviewLifecycle';
import { isAdmin, type RoleSettings } from './roles';
import { HOUR_MS } from './sla';

/**
 * Break-glass (issue 15): an admin, or someone the account names for it, lets one deal pass the
 * gate without review, with a reason and a time box to get the review done. It is the only
 * legitimate bypass. Pure: while the box is open and no decision has been made since it opened,
 * the gate lets the deal's moves past the gate through; once the box closes (its time ran out, or
 * a reviewer decided), the deal is judged like any other.
 */

export const BREAK_GLASS_DEFAULT_HOURS = 72;
/** At most 7 days. */
export const BREAK_GLASS_MAX_HOURS = 7 * 24;

/** How a break-glass ended: its time ran out with no decision, or a reviewer decided within it. */
export type BreakGlassEnd = 'expired' | 'decided';

export interface BreakGlass {
  id: number;
  portalId: number;
  dealId: string;
  /** The user who opened it. */
  openedBy: string;
  reason: string;
  openedAt: number;
  /** The end of the time box (ms). */
  until: number;
  closedAt: number | null;
  closedAs: BreakGlassEnd | null;
}

/** The part of a break-glass the gate judges by. */
export type BreakGlassWindow = Pick<BreakGlass, 'openedAt' | 'until' | 'closedAt'>;

/** The settings that name who may break the glass besides the admins. */
export interface BreakGlassSettings extends RoleSettings {
  breakGlassUsers?: readonly string[];
}

export function mayBreakGlass(userId: string, settings: BreakGlassSettings): boolean {
  return isAdmin(userId, settings) || (settings.breakGlassUsers ?? []).includes(userId);
}

const decidedStatuses: readonly Review['status'][] = ['approved', 'approved_with_conditions', 'rejected'];

/** A reviewer decided the deal's review at or after `since`: a decision within the box. */
export function decidedSince(latest: Pick<Review, 'status' | 'closedAt'> | undefined, since: number): boolean {
  return latest !== undefined && decidedStatuses.includes(latest.status) && latest.closedAt !== null && latest.closedAt >= since;
}

/** The break-glass lets the deal past the gate now: open, inside its box, and no decision since it opened. */
export function breakGlassHolds(window: BreakGlassWindow | undefined, latest: Pick<Review, 'status' | 'closedAt'> | undefined, now: number): boolean {
  if (window === undefined || window.closedAt !== null) return false;
  return now < window.until && !decidedSince(latest, window.openedAt);
}

/** Why an open break-glass is over at `now`, or null while it still holds. */
export function breakGlassEndAt(window: BreakGlassWindow, latest: Pick<Review, 'status' | 'closedAt'> | undefined, now: number): BreakGlassEnd | null {
  if (window.closedAt !== null) return null;
  if (decidedSince(latest, window.openedAt)) return 'decided';
  return now >= window.until ? 'expired' : null;
}

/** The end of the box opened at `at` for `hours` (default 72). */
export function breakGlassUntil(at: number, hours: number = BREAK_GLASS_DEFAULT_HOURS): number {
  return at + Math.min(hours, BREAK_GLASS_MAX_HOURS) * HOUR_MS;
}

/** What the gate says of the deal when someone asks to break the glass for it. */
export interface BreakGlassCandidate {
  reviewRequired: boolean;
  /** Why review is (not) required, in words. */
  reason: string;
  /** The deal's gate status: a decision that still speaks for the deal shows as approved or rejected. */
  status: GateStatus;
  /** The deal's latest review's id, if any. */
  latestReviewId: number | null;
  /** The deal's open break-glass, if any. */
  open: Pick<BreakGlass, 'openedBy' | 'until'> | undefined;
}

const decisionStatuses: readonly GateStatus[] = ['approved', 'approved_with_conditions', 'rejected'];

/**
 * Why the glass cannot be broken for this deal (a conflict), or null when it can: it needs no
 * review, it already has a decision that speaks for it, or a break-glass is open already.
 */
export function breakGlassRefusal(candidate: BreakGlassCandidate, describeUser: (userId: string) => string): string | null {
  if (candidate.open) {
    return `the deal already has an open break-glass, by ${describeUser(candidate.open.openedBy)} until ${new Date(candidate.open.until).toISOString()}`;
  }
  if (decisionStatuses.includes(candidate.status)) {
    return `the deal already has a decision (review #${candidate.latestReviewId ?? '?'} is ${candidate.status}): a break-glass bypasses a review nobody has answered, never an answer`;
  }
  if (!candidate.reviewRequired) return `the deal needs no review, so there is nothing to bypass: ${candidate.reason}`;
  return null;
}
