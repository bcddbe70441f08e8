import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { DealgateError } from '../shared/errors';
import { classifyHubSpotError } from './gateway';
import { backoffDelay, describeError, type RetryPolicy } from './backoff';

/**
 * What a failed HubSpot call means for the work waiting on it:
 * - `unavailable`: HubSpot is out for the account (a 5xx, or no HTTP answer at all: a timeout, a
 *   reset, a refused connection, the token endpoint down). Waiting cures it.
 * - `rate_limited`: a 429. Waiting out the pause cures it.
 * - `refused`: an answer HubSpot will give again however long Dealgate waits (400 validation,
 *   403 missing scopes, 404 of the object, an account Dealgate holds no credentials for).
 */
export type HubSpotFailureKind = 'unavailable' | 'rate_limited' | 'refused';

export interface HubSpotFailure {
  kind: HubSpotFailureKind;
  status: number | undefined;
  /** For the row's last_error: the status, HubSpot's error category when it gave one, and its message. */
  message: string;
}

function categoryOf(error: unknown): string | undefined {
  const body = typeof error === 'object' && error !== null ? (error as { body?: unknown }).body : undefined;
  const category = typeof body === 'object' && body !== null ? (body as { category?: unknown }).category : undefined;
  return typeof category === 'string' ? category : undefined;
}

export function classifyHubSpotFailure(error: unknown): HubSpotFailure {
  if (error instanceof DealgateError) {
    const message = describeError(error);
    if (error.code === 'forbidden') return { kind: 'refused', status: undefined, message: `the account has not installed Dealgate: ${message}` };
    if (error.code === 'unauthorized' || error.code === 'invalid_request' || error.code === 'not_found') return { kind: 'refused', status: undefined, message };
    return { kind: 'unavailable', status: undefined, message };
  }
  const info = classifyHubSpotError(error);
  if (info.status === undefined) return { kind: 'unavailable', status: undefined, message: info.message };
  const category = categoryOf(error);
  const message = `HubSpot ${info.status}: ${info.message}${category ? ` (${category})` : ''}`;
  if (info.rateLimited) return { kind: 'rate_limited', status: info.status, message };
  return { kind: info.retryable ? 'unavailable' : 'refused', status: info.status, message };
}

/** An account whose work waits because HubSpot keeps failing for it. */
export interface AccountOutage {
  portalId: number;
  /** When the first failure of this outage was seen. */
  since: number;
  /** Failed calls so far (the first failure included). */
  failures: number;
  nextProbeAt: number;
  lastError: string;
}

/** What each worker waits on (Background.outages, shown on /ops/metrics). */
export interface WorkerOutages {
  inbox: AccountOutage[];
  outbox: AccountOutage[];
}

/** While HubSpot fails for an account, its probes are at most this far apart: its work resumes within a minute of HubSpot answering. */
export const PROBE_MAX_MS = 60_000;

/**
 * One circuit per account. A call failing with `unavailable` opens it (or pushes its next probe
 * out, with backoff from the policy's base up to a minute); while it is open the account's work is
 * left out of the rounds; once the probe is due, the next round's first call is the probe, and the
 * first answer closes it. In memory: a restart probes again at once.
 */
export interface AccountOutages {
  failed(portalId: number, message: string): AccountOutage;
  answered(portalId: number): void;
  /** The open circuit whose probe is not due yet, if any. */
  waitingFor(portalId: number, now: number): AccountOutage | undefined;
  /** Accounts whose work is left out of a round at `now`. */
  waiting(now: number): Set<number>;
  list(): AccountOutage[];
}

export function createAccountOutages(deps: { clock: Clock; logger: Logger; retry: RetryPolicy; random: () => number; worker: string }): AccountOutages {
  const { clock, logger } = deps;
  const probePolicy: RetryPolicy = { baseMs: deps.retry.baseMs, maxMs: Math.min(deps.retry.maxMs, PROBE_MAX_MS), maxAttempts: Number.POSITIVE_INFINITY };
  const circuits = new Map<number, AccountOutage>();
  return {
    failed(portalId, message) {
      const now = clock.now();
      let circuit = circuits.get(portalId);
      if (!circuit) {
        circuit = { portalId, since: now, failures: 0, nextProbeAt: now, lastError: message };
        circuits.set(portalId, circuit);
        logger.warn({ portalId, worker: deps.worker, error: message }, `HubSpot fails for the account: its ${deps.worker} work waits and HubSpot is probed with backoff`);
      }
      circuit.failures += 1;
      circuit.lastError = message;
      circuit.nextProbeAt = Math.max(circuit.nextProbeAt, now + backoffDelay(circuit.failures, probePolicy, deps.random));
      return { ...circuit };
    },
    answered(portalId) {
      const circuit = circuits.get(portalId);
      if (!circuit) return;
      circuits.delete(portalId);
      logger.info({ portalId, worker: deps.worker, outageMs: clock.now() - circuit.since, failures: circuit.failures }, `HubSpot answers the account again: its waiting ${deps.worker} work resumes`);
    },
    waitingFor(portalId, now) {
      const circuit = circuits.get(portalId);
      return circuit && circuit.nextProbeAt > now ? { ...circuit } : undefined;
    },
    waiting(now) {
      const waiting = new Set<number>();
      for (const [portalId, circuit] of circuits) if (circuit.nextProbeAt > now) waiting.add(portalId);
      return waiting;
    },
    list: () => [...circuits.values()].map((c) => ({ ...c })),
  };
}
