import type { HubSpotBudgetState, PermitReservation } from '../storage/hubspotBudgetStore';

/**
 * The decisions on one account's HubSpot budget, as pure functions of its state, so that every
 * instance decides the same way on the row they share (rateGovernor.ts does the round trips).
 *
 * The rule that keeps the budget in every window, across instances: a reservation made at `now`
 * is refused unless the permits of every reservation whose `useBy` is later than `now - window`,
 * plus its own, fit in the budget; its permits are handed out no later than its `useBy`. Take
 * any window (s, s + window] and the last reservation (in write order) whose permits were handed
 * out in it: it was made no later than s + window, so every other such reservation (made before
 * it, used after s) was counted when it was made. Hence at most `budget` grants per window.
 */
export interface BudgetLimits {
  requestsPerWindow: number;
  windowMs: number;
  minPauseMs: number;
  maxPauseMs: number;
  /** How long a 429 halves the budget. */
  slowDownForMs: number;
}

export interface PermitRequest {
  /** How many permits the instance would like (it gets at least one when any is free). */
  want: number;
  /** How long after `now` they may be handed out (0: at once, the in-memory governor's way). */
  leaseMs: number;
  /** Permits of an earlier reservation of this instance that expired unused: counted no more. */
  unused?: PermitReservation;
}

export type PermitDecision =
  | { kind: 'granted'; permits: number; useBy: number; next: HubSpotBudgetState }
  /** `next` when the state read had to be bounded (see current): written, so the bound holds from then on. */
  | { kind: 'wait'; until: number; next?: HubSpotBudgetState };

/**
 * The state as of `now`: reservations out of the window dropped, and what no instance's clock can
 * explain bounded (a clock set back, or one far ahead, must not stop the account for long).
 * `bounded` says a bound applied: the state must be written so, or it would apply anew at every read.
 */
function current(state: HubSpotBudgetState, now: number, limits: BudgetLimits): { state: HubSpotBudgetState; bounded: boolean } {
  const latestUseBy = now + limits.windowMs;
  const bounded =
    state.pausedUntil > now + limits.maxPauseMs || state.slowUntil > now + limits.slowDownForMs || state.reservations.some((r) => r.useBy > latestUseBy);
  return {
    state: {
      reservations: state.reservations.filter((r) => r.useBy > now - limits.windowMs).map((r) => (r.useBy > latestUseBy ? { ...r, useBy: latestUseBy } : r)),
      pausedUntil: Math.min(state.pausedUntil, now + limits.maxPauseMs),
      slowUntil: Math.min(state.slowUntil, now + limits.slowDownForMs),
      recent429s: state.slowUntil > now ? state.recent429s : 0,
    },
    bounded,
  };
}

function withoutUnused(reservations: PermitReservation[], unused: PermitReservation | undefined): PermitReservation[] {
  if (!unused) return reservations;
  const index = reservations.findIndex((r) => r.useBy === unused.useBy && r.permits >= unused.permits);
  if (index < 0) return reservations;
  const left = (reservations[index] as PermitReservation).permits - unused.permits;
  const rest = reservations.filter((_, i) => i !== index);
  return left > 0 ? [...rest, { useBy: unused.useBy, permits: left }] : rest;
}

/** The budget in force: halved while a 429 of the last minute slows the account down. */
export function budgetInForce(state: HubSpotBudgetState, now: number, limits: BudgetLimits): number {
  return state.slowUntil > now ? Math.max(1, Math.floor(limits.requestsPerWindow / 2)) : limits.requestsPerWindow;
}

export function reservePermits(stored: HubSpotBudgetState, now: number, request: PermitRequest, limits: BudgetLimits): PermitDecision {
  const { state, bounded } = current(stored, now, limits);
  const waitUntil = (until: number): PermitDecision => ({ kind: 'wait', until, ...(bounded ? { next: state } : {}) });
  if (state.pausedUntil > now) return waitUntil(state.pausedUntil);
  const reservations = withoutUnused(state.reservations, request.unused);
  const budget = budgetInForce(state, now, limits);
  const used = reservations.reduce((sum, r) => sum + r.permits, 0);
  if (used >= budget) return waitUntil(freeAt(reservations, used - budget + 1, limits));
  const permits = Math.max(1, Math.min(request.want, budget - used));
  const useBy = now + request.leaseMs;
  return { kind: 'granted', permits, useBy, next: { ...state, reservations: [...reservations, { useBy, permits }] } };
}

/** When `count` permits will have left the window, the oldest first. */
function freeAt(reservations: PermitReservation[], count: number, limits: BudgetLimits): number {
  const oldestFirst = [...reservations].sort((a, b) => a.useBy - b.useBy);
  let freed = 0;
  for (const r of oldestFirst) {
    freed += r.permits;
    if (freed >= count) return r.useBy + limits.windowMs;
  }
  return (oldestFirst[oldestFirst.length - 1]?.useBy ?? 0) + limits.windowMs;
}

/**
 * HubSpot answered 429: the account pauses (the first pause minPauseMs, doubling while 429s
 * repeat within the slow-down, up to maxPauseMs, never shorter than a Retry-After) and its budget
 * is halved for the slow-down. Returns the pause in ms.
 */
export function recordRateLimit(stored: HubSpotBudgetState, now: number, retryAfterMs: number | undefined, limits: BudgetLimits): { next: HubSpotBudgetState; pauseMs: number } {
  const { state } = current(stored, now, limits);
  const recent429s = state.recent429s + 1;
  const pauseMs = Math.min(limits.maxPauseMs, Math.max(limits.minPauseMs * 2 ** (recent429s - 1), retryAfterMs ?? 0));
  return {
    next: { ...state, recent429s, pausedUntil: Math.max(state.pausedUntil, now + pauseMs), slowUntil: now + limits.slowDownForMs },
    pauseMs,
  };
}
