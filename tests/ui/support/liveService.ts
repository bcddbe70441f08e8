import { ManualClock } from '../../../src/server/shared/clock';
import type { ServiceFetcher } from '../../../extensions/client/serviceClient';
import { startStack, type Stack } from '../../support/stack';
import { cardRequest } from '../../support/cardClient';
import { TEST_PEOPLE } from '../../support/people';

/** Who is who in these tests (HubSpot user ids, as the settings hold them). */
export const users = {
  rep: '100',
  otherRep: '101',
  reviewer: '200',
  secondReviewer: '201',
  admin: '900',
} as const;

export interface FetchCall {
  method: string;
  path: string;
  userId: string;
  status: number;
}

/**
 * The real Dealgate service under test, as the UI reaches it: the whole stack in-process (the
 * app from createApp, a fresh SQLite database, real workers, the local HubSpot simulator), on a
 * ManualClock shared by service and simulator. `fetcherFor(user)` is `hubspot.fetch` for a card
 * that user opens: it signs each request as HubSpot does (caller in the query string, v3
 * signature) and answers with whatever the service answered, so the UI only sees real responses.
 */
export interface LiveService {
  stack: Stack;
  clock: ManualClock;
  /** The service's URL: the UI's `baseUrl`. */
  url: string;
  portalId: number;
  calls: FetchCall[];
  /**
   * Added to the signature timestamp of every request: set it past HubSpot's 5-minute window and
   * the service refuses the requests (401), a real failure for the UI's error states.
   */
  signatureSkewMs: number;
  /** `portalId`: the account HubSpot names as the caller's (default the installed one). */
  fetcherFor(userId: string, portalId?: number): ServiceFetcher;
  /**
   * The same, with a gate: after `hold()` answers (already served by the service) wait for
   * `release()`, so a test sees what the UI shows while a request is in flight.
   */
  gatedFetcherFor(userId: string): { fetcher: ServiceFetcher; hold: () => void; release: () => void; waiting: () => number };
  /** Calls the API directly as `userId`, to set a scene through the real API. */
  call<T = unknown>(userId: string, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<{ status: number; json: T }>;
  /** A deal in HubSpot (simulator), with Dealgate's properties provisioned; `at`: when it was created and last moved (default now). */
  seedDeal(properties: Record<string, string>, options?: { at?: number }): string;
  close(): Promise<void>;
}

export async function startLiveService(defaults: { reviewers?: string[]; admins?: string[]; slaHours?: number } = {}): Promise<LiveService> {
  const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
  const stack = await startStack({
    clock,
    defaults: {
      valueThreshold: 50_000,
      slaHours: defaults.slaHours ?? 48,
      reviewers: defaults.reviewers ?? [users.reviewer, users.secondReviewer],
      admins: defaults.admins ?? [users.admin],
    },
    // The account's users have real names (tests/support/people.ts): the views name them.
    simulator: { owners: [...TEST_PEOPLE] },
  });
  await stack.provision();
  const calls: FetchCall[] = [];
  const portalId = stack.sim.portalId;

  const call = async <T,>(userId: string, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, asPortal = portalId) => {
    const response = await cardRequest<T>(stack.url, stack.clientSecret, { method, path, userId, portalId: asPortal, body, timestamp: clock.now() + service.signatureSkewMs });
    calls.push({ method, path, userId, status: response.status });
    return response;
  };

  const fetcherFor =
    (userId: string, asPortal = portalId): ServiceFetcher =>
    async (url, options = {}) => {
      if (!url.startsWith(`${stack.url}/`)) throw new Error(`the UI called ${url}, which is not the service's URL`);
      const { status, json } = await call(userId, options.method ?? 'GET', url.slice(stack.url.length), options.body, asPortal);
      return new Response(json === null ? null : JSON.stringify(json), { status, headers: { 'content-type': 'application/json' } });
    };

  const service: LiveService = {
    stack,
    clock,
    signatureSkewMs: 0,
    url: stack.url,
    portalId,
    calls,
    fetcherFor,
    gatedFetcherFor(userId) {
      const inner = fetcherFor(userId);
      const waiters: (() => void)[] = [];
      let holding = false;
      return {
        fetcher: async (url, options) => {
          const response = await inner(url, options);
          if (holding) await new Promise<void>((resolve) => waiters.push(resolve));
          return response;
        },
        hold: () => {
          holding = true;
        },
        release: () => {
          holding = false;
          for (const w of waiters.splice(0)) w();
        },
        waiting: () => waiters.length,
      };
    },
    call: (userId, method, path, body) => call(userId, method, path, body),
    seedDeal: (properties, options) => stack.sim.seedDeal({ properties, ...(options?.at !== undefined ? { at: options.at } : {}) }).id,
    close: () => stack.stop(),
  };
  return service;
}
