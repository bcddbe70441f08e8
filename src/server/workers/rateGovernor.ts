import type { Clock } from '../clock';

/**
 * Paces Dealgate's background HubSpot calls per account so the workers stay inside HubSpot's
 * rolling 10-second limit (110 requests per account for OAuth apps; private apps 100-190):
 * https://developers.hubspot.com/docs/guides/apps/api-usage/usage-details
 *
 * The default budget leaves headroom under 110 for card requests, which call HubSpot directly.
 * A 429 pauses the account (at least a second, longer when they repeat) and halves its budget
 * until a full minute has passed without one.
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
}

export const DEFAULT_RATE: RateGovernorOptions = { requestsPerWindow: 90, windowMs: 10_000 };
const MIN_PAUSE_MS = 1_000;
const MAX_PAUSE_MS = 10_000;
const SLOW_DOWN_FOR_MS = 60_000;
/** How often a wait with `shouldStop` looks at it. */
const STOP_CHECK_MS = 100;

interface AccountPace {
  sent: number[];
  pausedUntil: number;
  recent429s: number;
  slowUntil: number;
}

export interface RateGovernor {
  /**
   * Resolves when the account may make one more request (and counts it): true. With `shouldStop`,
   * it waits in short steps and resolves false, counting nothing, once that says stop (a shutdown
   * is not held up by a pause of up to 10 s).
   */
  acquire(portalId: number, shouldStop?: () => boolean): Promise<boolean>;
  /** HubSpot answered 429: pause the account and slow it down. Returns the pause in ms. */
  rateLimited(portalId: number, retryAfterMs?: number): number;
  /** How long the account stays paused from now (0 when it is not). */
  pauseRemainingMs(portalId: number): number;
  /** Accounts that are paused right now (the outbox skips them rather than wait). */
  pausedAccounts(): Set<number>;
}

const realSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function createRateGovernor(clock: Clock, options: RateGovernorOptions = DEFAULT_RATE): RateGovernor {
  const sleep = options.sleep ?? realSleep;
  const minPauseMs = options.minPauseMs ?? MIN_PAUSE_MS;
  const maxPauseMs = options.maxPauseMs ?? MAX_PAUSE_MS;
  const accounts = new Map<number, AccountPace>();
  const pace = (portalId: number): AccountPace => {
    let p = accounts.get(portalId);
    if (!p) {
      p = { sent: [], pausedUntil: 0, recent429s: 0, slowUntil: 0 };
      accounts.set(portalId, p);
    }
    return p;
  };

  return {
    async acquire(portalId, shouldStop) {
      const p = pace(portalId);
      const wait = (ms: number) => sleep(shouldStop ? Math.min(ms, STOP_CHECK_MS) : ms);
      for (;;) {
        if (shouldStop?.()) return false;
        const now = clock.now();
        if (p.pausedUntil > now) {
          await wait(p.pausedUntil - now);
          continue;
        }
        while (p.sent.length > 0 && (p.sent[0] ?? 0) <= now - options.windowMs) p.sent.shift();
        if (p.slowUntil <= now) p.recent429s = 0;
        const budget = p.slowUntil > now ? Math.max(1, Math.floor(options.requestsPerWindow / 2)) : options.requestsPerWindow;
        if (p.sent.length < budget) {
          p.sent.push(now);
          return true;
        }
        const oldest = p.sent[p.sent.length - budget] ?? now;
        await wait(Math.max(1, oldest + options.windowMs - now));
      }
    },

    rateLimited(portalId, retryAfterMs) {
      const p = pace(portalId);
      const now = clock.now();
      p.recent429s += 1;
      const pause = Math.min(maxPauseMs, Math.max(minPauseMs * 2 ** (p.recent429s - 1), retryAfterMs ?? 0));
      p.pausedUntil = Math.max(p.pausedUntil, now + pause);
      p.slowUntil = now + SLOW_DOWN_FOR_MS;
      return pause;
    },

    pauseRemainingMs(portalId) {
      return Math.max(0, (accounts.get(portalId)?.pausedUntil ?? 0) - clock.now());
    },

    pausedAccounts() {
      const now = clock.now();
      const paused = new Set<number>();
      for (const [portalId, p] of accounts) if (p.pausedUntil > now) paused.add(portalId);
      return paused;
    },
  };
}
