import type { Review } from './reviewLifecycle';
import type { ReviewStatus } from './vocabulary';

/** The clock of a waiting review, as the card shows it. */
export interface SlaClock {
  dueAt: string;
  slaHours: number;
  /** Negative when overdue. */
  remainingMs: number;
  overdue: boolean;
}

/** A reviewer's answer is due `slaHours` after the request. */
export const HOUR_MS = 60 * 60 * 1000;

export function dueAt(requestedAt: number, slaHours: number): number {
  return requestedAt + slaHours * HOUR_MS;
}

/** A waiting review is overdue once its due time has passed. */
export function isPastDue(review: Pick<Review, 'status' | 'dueAt'>, now: number): boolean {
  return (review.status === 'pending' || review.status === 'overdue') && now > review.dueAt;
}

/** The status as shown: a pending review past its due time is overdue even before the SLA worker marks it so. */
export function statusAt(review: Pick<Review, 'status' | 'dueAt'>, now: number): ReviewStatus {
  return review.status === 'pending' && now > review.dueAt ? 'overdue' : review.status;
}

/** The clock the card shows for a waiting review; the hours are the ones in force when it was requested. */
export function slaClock(review: Pick<Review, 'requestedAt' | 'dueAt'>, now: number): SlaClock {
  return {
    dueAt: new Date(review.dueAt).toISOString(),
    slaHours: Math.round((review.dueAt - review.requestedAt) / HOUR_MS),
    remainingMs: review.dueAt - now,
    overdue: now > review.dueAt,
  };
}
