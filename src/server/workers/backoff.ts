/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so retries of many
 * rows that failed together spread out instead of hitting HubSpot again in one burst.
 * https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/
 */
export interface RetryPolicy {
  baseMs: number;
  maxMs: number;
  /** After this many attempts in all, the row is given up (failed / parked). */
  maxAttempts: number;
}

export function backoffDelay(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exponential = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(exponential / 2 + (random() * exponential) / 2);
}

export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message.slice(0, 2000);
  return String(error).slice(0, 2000);
}
