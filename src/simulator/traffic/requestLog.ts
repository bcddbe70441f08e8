import type { ScopeRequirement } from '../auth/scopes';

/**
 * Every API call the simulator answered, so tests and benchmarks can count calls per endpoint.
 * An endpoint is `METHOD /route` with the object type spelled out and ids as placeholders:
 * `GET /crm/v3/objects/deals/{objectId}`, `POST /crm/v3/objects/notes/batch/create`,
 * `GET /crm/v3/pipelines/deals`, `POST /oauth/v1/token`.
 */
export interface LoggedRequest {
  seq: number;
  at: number;
  method: string;
  /** Path and query string as called. */
  url: string;
  endpoint: string;
  status: number;
  durationMs: number;
  /** The app the token belonged to, when it authenticated. */
  appId?: number;
  /** Number of inputs of a batch call. */
  batchSize?: number;
  /** The scopes the endpoint required (one of each group), for calls that presented a token. */
  requiredScopes?: ScopeRequirement;
}

export class RequestLog {
  private entries: LoggedRequest[] = [];
  private seq = 0;

  record(entry: Omit<LoggedRequest, 'seq'>): void {
    this.entries.push({ seq: ++this.seq, ...entry });
  }

  /** Everything answered since the last reset, oldest first. */
  all(): LoggedRequest[] {
    return [...this.entries];
  }

  /** How many calls matched: an endpoint exactly, a RegExp, or all when omitted. */
  count(endpoint?: string | RegExp): number {
    if (endpoint === undefined) return this.entries.length;
    return this.entries.filter((e) => (typeof endpoint === 'string' ? e.endpoint === endpoint : endpoint.test(e.endpoint))).length;
  }

  /** Calls per endpoint. */
  countsByEndpoint(): Record<string, number> {
    const counts: Record<string, number> = {};
    for (const e of this.entries) counts[e.endpoint] = (counts[e.endpoint] ?? 0) + 1;
    return counts;
  }

  reset(): void {
    this.entries = [];
  }
}
