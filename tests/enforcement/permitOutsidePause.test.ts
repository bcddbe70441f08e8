import { ManualClock } from '../../src/server/shared/clock';
import { createRateGovernor, permitOutsidePause, type RateGovernor } from '../../src/server/hubspot/rateGovernor';

/**
 * The governor checks an account's pause when it grants a permit, but the caller's code runs
 * later: another call's 429 can be read in between (the flake of the reliability suite's "real
 * rolling limit" case: a request reached HubSpot after a 429 with its permit taken before it).
 * permitOutsidePause takes the permit again when that happened, so nothing goes out during a pause.
 * Time is a manual clock that moves only while the governor sleeps.
 */
const PORTAL = 7;
const PAUSE_MS = 1_000;

function governorWith(clock: ManualClock): RateGovernor {
  return createRateGovernor(clock, {
    requestsPerWindow: 90,
    windowMs: 10_000,
    minPauseMs: PAUSE_MS,
    maxPauseMs: 10_000,
    sleep: async (ms) => {
      await new Promise<void>((resolve) => setImmediate(resolve));
      clock.advance(ms);
    },
  });
}

describe('a permit taken while a 429 arrives', () => {
  it('a 429 read after the grant, before the caller goes on: the caller waits out the pause and takes a new permit', async () => {
    const clock = new ManualClock();
    const real = governorWith(clock);
    const grants: number[] = [];
    let limited = false;
    const governor: RateGovernor = {
      ...real,
      acquire: async (portalId) => {
        const granted = await real.acquire(portalId);
        grants.push(clock.now());
        // Another call's answer, a 429, is read right after the first grant.
        if (!limited) {
          limited = true;
          await real.rateLimited(portalId);
        }
        return granted;
      },
    };
    const started = clock.now();

    await permitOutsidePause(governor, PORTAL);

    // Two permits: the first, granted before the pause, not used; the second after the pause.
    expect(grants).toHaveLength(2);
    expect((grants[1] as number) - started).toBeGreaterThanOrEqual(PAUSE_MS);
    expect(governor.pauseRemainingMs(PORTAL)).toBe(0);
  });

  it('no 429 meanwhile: one permit, no wait', async () => {
    const clock = new ManualClock();
    const real = governorWith(clock);
    let acquired = 0;
    const governor: RateGovernor = {
      ...real,
      acquire: async (portalId) => {
        acquired += 1;
        return await real.acquire(portalId);
      },
    };
    const started = clock.now();

    await permitOutsidePause(governor, PORTAL);

    expect(acquired).toBe(1);
    expect(clock.now()).toBe(started);
  });
});
