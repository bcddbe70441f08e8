/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of many
 * rows that failed together spread out instead of hitting HubSpot again in one burst.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** After this many attempts in all, the row is given up (failed / parked)... */
  maxAttempts: number;
  /**
   * ...but not before this long has passed since the row was first taken on (e.g. an inbox event's
   * acknowledgement): a failure that lasts is retried for the whole window, however many attempts
   * that takes. Omitted: attempts alone decide.
   */
  windowMs?: number;
}

/** Whether a row that has now made `attempts` attempts, first taken on at `since`, is given up. */
export function retriesExhausted(policy: RetryPolicy, attempts: number, since: number, now: number): boolean {
  return attempts >= policy.maxAttempts && now - since >= (policy.windowMs ?? 0);
}

/** `90 s`, `12 min`, `3.5 h`: a duration for an error message. */
export function describeDuration(ms: number): string {
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  if (ms < 2 * 3_600_000) return `${Math.round(ms / 60_000)} min`;
  return `${Math.round(ms / 360_000) / 10} h`;
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 2000);
  return String(error).slice(0, 2000);
}
