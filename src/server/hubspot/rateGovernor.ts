import type { Clock } from '../shared/clock';
import type { Logger } from '../shared/logger';
import { EMPTY_BUDGET, type HubSpotBudgetRepository, type HubSpotBudgetState, type HubSpotLimitPolicy, type VersionedBudget } from '../storage/hubspotBudgetStore';
import { recordRateLimit, reservePermits, type BudgetLimits, type PermitDecision } from './rateBudget';

/**
 * Paces Dealgate's background HubSpot calls per account so the workers stay inside HubSpot's
 * rolling 10-second limit (110 requests per account for OAuth apps; private apps 100-190):
 * https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details
 *
 * The default budget leaves headroom under 110 for card requests, which call HubSpot directly.
 * A 429 pauses the account (at least a second, longer when they repeat) and halves its budget
 * until a full minute has passed without one.
 *
 * HubSpot counts per account, not per process: with a shared ledger (the database's
 * hubspot_budgets, see sharedBudgetLedger) every instance draws from one budget per account, and
 * one instance's 429 pauses all of them. Without one (tests, tools) the budget is this process's.
 */
export interface RateGovernorOptions {
  requestsPerWindow: number;
  windowMs: number;
  /** Tests shrink the waits; production uses real timers. */
  sleep?: (ms: number) => Promise<void>;
  /** The first pause after a 429 (doubling while they repeat, up to maxPauseMs). Default 1 s. */
  minPauseMs?: number;
  /** Default 10 s. */
  maxPauseMs?: number;
  /**
   * How long permits reserved in one trip to the ledger may be handed out. They count against the
   * window until this much later (plus the window), so the lease costs throughput (lease / window
   * of it at most), and a trip slower than it is wasted (its permits are not used; tried again).
   * Default with a shared ledger: a tenth of the window, at most 500 ms; in memory 0.
   */
  reservationMs?: number;
  /**
   * At most this many permits per trip. A trip reserves one for each acquire of the account waiting
   * in this process right then (the inbox, the outbox and the sweeps at once: a busy account), so
   * none is reserved for a demand that may not come. Default: a tenth of the budget with a shared
   * ledger, 1 in memory.
   */
  maxPermitsPerTrip?: number;
  /** Told when a 429 could not be recorded in the shared ledger (this process pauses anyway). */
  logger?: Logger;
}

export const DEFAULT_RATE: RateGovernorOptions = { requestsPerWindow: 90, windowMs: 10_000 };
const MIN_PAUSE_MS = 1_000;
const MAX_PAUSE_MS = 10_000;
const SLOW_DOWN_FOR_MS = 60_000;
/** How often a wait with `shouldStop` looks at it. */
const STOP_CHECK_MS = 100;
/**
 * A write lost to another instance (its progress) is tried again after a random wait under a
 * step that doubles with each loss in a row, from 2 ms up to 100 ms ("full jitter"): instances
 * that collided, retrying at once, would collide again in step, and under load (a slow database,
 * busy CPUs) one of them could lose dozens of times in a row while the others go on.
 */
const CONFLICT_FIRST_STEP_MS = 2;
const CONFLICT_MAX_STEP_MS = 100;
/**
 * How long the waits after lost writes may add up to before the decision gives up (its acquire
 * rejects and the worker's call is tried again later): half of HubSpot's 10 s window, some
 * hundred losses in a row, which only a row written by something else explains.
 */
const CONFLICT_GIVE_UP_MS = 5_000;
/** The longest default lease of reserved permits (see reservationMs). */
const MAX_LEASE_MS = 500;

export interface RateGovernor {
  /**
   * Resolves when the account may make one more request (and counts it): true. With `shouldStop`,
   * it waits in short steps and resolves false, counting nothing, once that says stop (a shutdown
   * is not held up by a pause of up to 10 s).
   */
  acquire(portalId: number, shouldStop?: () => boolean): Promise<boolean>;
  /**
   * HubSpot answered 429: pause the account and slow it down, here at once and in the shared
   * ledger (for every instance) when it resolves. Resolves to the pause in ms; never rejects.
   */
  rateLimited(portalId: number, retryAfterMs?: number): Promise<number>;
  /** How long the account stays paused from now (0 when it is not), as this process last saw it. */
  pauseRemainingMs(portalId: number): number;
  /** Accounts that are paused right now, as this process last saw them (the outbox skips them rather than wait). */
  pausedAccounts(): Set<number>;
}

/** Where a governor keeps each account's budget: the database (shared by instances) or this process's memory. */
export interface BudgetLedger {
  readonly shared: boolean;
  read(portalId: number): Promise<VersionedBudget | undefined>;
  /** Compare-and-set: the new version, or undefined when the state is no longer at `version`. */
  write(portalId: number, version: number | undefined, next: HubSpotBudgetState, at: number): Promise<number | undefined>;
}

/** The budget under one of HubSpot's limits in the database, shared by every instance using it. */
export function sharedBudgetLedger(repository: HubSpotBudgetRepository, policy: HubSpotLimitPolicy): BudgetLedger {
  return {
    shared: true,
    read: (portalId) => repository.read(portalId, policy),
    write: (portalId, version, next, at) => repository.write(portalId, policy, version, next, at),
  };
}

/** This process's own budget: right for one process alone on its HubSpot app (tests, tools). */
export function memoryBudgetLedger(): BudgetLedger {
  const states = new Map<number, { version: number; state: HubSpotBudgetState }>();
  return {
    shared: false,
    read: async (portalId) => states.get(portalId),
    async write(portalId, version, next) {
      if (states.get(portalId)?.version !== version) return undefined;
      const written = (version ?? 0) + 1;
      states.set(portalId, { version: written, state: next });
      return written;
    },
  };
}

/** What this process knows of an account between trips to the ledger. */
interface AccountPace {
  /** Reserved in the last trip and not yet handed out; usable until useBy. */
  permits: number;
  useBy: number;
  pausedUntil: number;
  /** The ledger said the budget is spent until then. */
  fullUntil: number;
  /** The state as last read or written (a write from it fails if another instance wrote since). */
  known?: VersionedBudget;
  /** The trip to the ledger under way, which every acquire of the account waits for. */
  trip?: Promise<void>;
  /** Acquires of the account waiting in this process: what the next trip reserves for. */
  waiting: number;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A governor's settings, resolved once from its options and its ledger. */
interface Governing {
  clock: Clock;
  ledger: BudgetLedger;
  limits: BudgetLimits;
  leaseMs: number;
  maxPermits: number;
  sleep: (ms: number) => Promise<void>;
  logger: Logger | undefined;
}

function governing(clock: Clock, options: RateGovernorOptions, ledger: BudgetLedger): Governing {
  return {
    clock,
    ledger,
    limits: {
      requestsPerWindow: options.requestsPerWindow,
      windowMs: options.windowMs,
      minPauseMs: options.minPauseMs ?? MIN_PAUSE_MS,
      maxPauseMs: options.maxPauseMs ?? MAX_PAUSE_MS,
      slowDownForMs: SLOW_DOWN_FOR_MS,
    },
    leaseMs: options.reservationMs ?? (ledger.shared ? Math.min(MAX_LEASE_MS, Math.floor(options.windowMs / 10)) : 0),
    maxPermits: Math.max(1, options.maxPermitsPerTrip ?? (ledger.shared ? Math.floor(options.requestsPerWindow / 10) : 1)),
    sleep: options.sleep ?? realSleep,
    logger: options.logger,
  };
}

/** The wait before reading again after `lost` writes lost in a row (see CONFLICT_FIRST_STEP_MS). */
function conflictBackoffMs(lost: number): number {
  const step = Math.min(CONFLICT_MAX_STEP_MS, CONFLICT_FIRST_STEP_MS * 2 ** (lost - 1));
  return Math.max(1, Math.ceil(Math.random() * step));
}

/** Decides on the latest state and writes the outcome, again (after a jittered wait) while another instance wrote first. */
async function updateBudget<T>(g: Governing, portalId: number, p: AccountPace, decide: (state: HubSpotBudgetState, now: number) => { next?: HubSpotBudgetState; result: T }): Promise<T> {
  let waitedMs = 0;
  for (let lost = 0; ; ) {
    // A write from the cached state loses whenever another instance wrote since: that is a stale
    // cache, not a collision, so it is tried again at once from a fresh read. Only a write from a
    // fresh read that loses counts, and waits before the next.
    const cached = p.known !== undefined;
    const known = p.known ?? (await g.ledger.read(portalId)) ?? { version: undefined, state: EMPTY_BUDGET };
    const now = g.clock.now();
    const { next, result } = decide(known.state, now);
    if (next === undefined) {
      p.known = known;
    } else {
      const version = await g.ledger.write(portalId, known.version, next, now);
      if (version === undefined) {
        p.known = undefined;
        if (cached) continue;
        lost += 1;
        if (waitedMs >= CONFLICT_GIVE_UP_MS) {
          throw new Error(`the HubSpot budget of account ${portalId} changed under ${lost} writes in a row (${waitedMs} ms of waits between them); is its hubspot_budgets row written by something else?`);
        }
        const backoffMs = conflictBackoffMs(lost);
        waitedMs += backoffMs;
        await g.sleep(backoffMs);
        continue;
      }
      p.known = { version, state: next };
    }
    p.pausedUntil = Math.max(p.pausedUntil, Math.min(p.known.state.pausedUntil, now + g.limits.maxPauseMs));
    return result;
  }
}

/** One trip to the ledger: reserves permits for the waiting acquires, or learns until when to wait. */
async function reserve(g: Governing, portalId: number, p: AccountPace): Promise<void> {
  const want = Math.min(g.maxPermits, Math.max(1, p.waiting));
  const unused = p.permits > 0 ? { useBy: p.useBy, permits: p.permits } : undefined;
  p.permits = 0;
  let decision: PermitDecision;
  try {
    decision = await updateBudget(g, portalId, p, (state, now) => {
      const d = reservePermits(state, now, { want, leaseMs: g.leaseMs, ...(unused ? { unused } : {}) }, g.limits);
      return { result: d, ...(d.next ? { next: d.next } : {}) };
    });
  } catch (error) {
    throw new Error(`could not take a HubSpot permit for account ${portalId} from the shared budget: ${(error as Error).message}`, { cause: error });
  }
  if (decision.kind === 'wait') {
    p.fullUntil = decision.until;
    return;
  }
  p.permits = decision.permits;
  p.useBy = decision.useBy;
}

async function acquirePermit(g: Governing, portalId: number, p: AccountPace, shouldStop?: () => boolean): Promise<boolean> {
  const wait = (ms: number) => g.sleep(shouldStop ? Math.min(ms, STOP_CHECK_MS) : ms);
  p.waiting += 1;
  let tripped = false;
  try {
    for (;;) {
      if (shouldStop?.()) return false;
      const now = g.clock.now();
      const blockedUntil = Math.max(p.pausedUntil, p.fullUntil);
      if (blockedUntil > now) {
        await wait(blockedUntil - now);
        continue;
      }
      // In memory the trip took no time worth counting (as when the permit was stamped and the
      // call went out after); a shared ledger's permit is never handed out past its useBy.
      if (p.permits > 0 && (now <= p.useBy || (tripped && !g.ledger.shared))) {
        p.permits -= 1;
        return true;
      }
      p.trip ??= reserve(g, portalId, p).finally(() => {
        p.trip = undefined;
      });
      await p.trip;
      tripped = true;
    }
  } finally {
    p.waiting -= 1;
  }
}

async function recordLimited(g: Governing, portalId: number, p: AccountPace, retryAfterMs: number | undefined): Promise<number> {
  // This process stops at once, whatever the ledger's round trip takes or says.
  const here = recordRateLimit(p.known?.state ?? EMPTY_BUDGET, g.clock.now(), retryAfterMs, g.limits);
  p.pausedUntil = Math.max(p.pausedUntil, here.next.pausedUntil);
  try {
    return await updateBudget(g, portalId, p, (state, now) => {
      const recorded = recordRateLimit(state, now, retryAfterMs, g.limits);
      return { next: recorded.next, result: recorded.pauseMs };
    });
  } catch (error) {
    g.logger?.warn({ portalId, error: (error as Error).message }, 'a 429 could not be recorded in the shared HubSpot budget; only this instance pauses');
    return here.pauseMs;
  }
}

export function createRateGovernor(clock: Clock, options: RateGovernorOptions = DEFAULT_RATE, ledger: BudgetLedger = memoryBudgetLedger()): RateGovernor {
  const g = governing(clock, options, ledger);
  const accounts = new Map<number, AccountPace>();
  const pace = (portalId: number): AccountPace => {
    let p = accounts.get(portalId);
    if (!p) {
      p = { permits: 0, useBy: 0, pausedUntil: 0, fullUntil: 0, waiting: 0 };
      accounts.set(portalId, p);
    }
    return p;
  };
  return {
    acquire: (portalId, shouldStop) => acquirePermit(g, portalId, pace(portalId), shouldStop),
    rateLimited: (portalId, retryAfterMs) => recordLimited(g, portalId, pace(portalId), retryAfterMs),
    pauseRemainingMs: (portalId) => Math.max(0, (accounts.get(portalId)?.pausedUntil ?? 0) - clock.now()),
    pausedAccounts() {
      const now = clock.now();
      const paused = new Set<number>();
      for (const [portalId, p] of accounts) if (p.pausedUntil > now) paused.add(portalId);
      return paused;
    },
  };
}

/**
 * A permit, taken again when a 429 paused the account between the governor handing it over and
 * the caller going on (another call's answer read in between): the governor checks the pause when
 * it grants, the caller's code runs later, and nothing may go out during a pause. The permit not
 * used stays counted (the budget errs on the safe side). The outbox's `send` looks again after
 * recording the send time (its own I/O).
 */
export async function permitOutsidePause(governor: Pick<RateGovernor, 'acquire' | 'pauseRemainingMs'>, portalId: number, shouldStop?: () => boolean): Promise<boolean> {
  do {
    // With `shouldStop`, as acquire: false once it says stop (nothing is sent then).
    if (!(await governor.acquire(portalId, shouldStop))) return false;
  } while (governor.pauseRemainingMs(portalId) > 0);
  return true;
}
