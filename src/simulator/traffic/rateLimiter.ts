/**
 * HubSpot's burst limit: a rolling 10-second window per app per account (110 requests for OAuth
 * apps; 100-190 for private apps, by subscription). The same class keeps the search endpoints'
 * own limit: 5 requests per second per account.
 * https://developers.hubspot.com/docs/api/usage-details#rate-limits
 * Tokens of the same app on the same account share one window, as in HubSpot: a refreshed token
 * does not get a fresh allowance. Refused requests do not count.
 */
export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
  windowMs: number;
}

export class RollingWindowLimiter {
  private readonly hits = new Map<string, number[]>();

  constructor(
    private limit: number,
    private readonly windowMs: number,
    private readonly now: () => number,
  ) {}

  setLimit(limit: number): void {
    this.limit = limit;
  }

  take(key: string): RateDecision {
    return this.decide(key, true);
  }

  /** What take() would answer, without counting a request. */
  peek(key: string): RateDecision {
    return this.decide(key, false);
  }

  private decide(key: string, count: boolean): RateDecision {
    const now = this.now();
    const recent = (this.hits.get(key) ?? []).filter((t) => t > now - this.windowMs);
    const allowed = recent.length < this.limit;
    if (allowed && count) recent.push(now);
    this.hits.set(key, recent);
    return { allowed, limit: this.limit, remaining: Math.max(0, this.limit - recent.length), windowMs: this.windowMs };
  }

  reset(): void {
    this.hits.clear();
  }
}
