import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../../src/server/shared/clock';
import type { Store } from '../../src/server/storage/store';
import { createRateGovernor, sharedBudgetLedger, type BudgetLedger, type RateGovernor } from '../../src/server/hubspot/rateGovernor';
import { EMPTY_BUDGET } from '../../src/server/storage/hubspotBudgetStore';
import { startSimulator, type Simulator } from '../../src/simulator';
import { testDatabase, type TestDatabase } from '../support/testStore';

/**
 * Issue 13: HubSpot's limit is per account, so instances sharing a database share one budget per
 * account. Three instances are three stores (three connections or pools) on one database, each
 * with its own governor. Time is a manual clock that moves only while a governor waits and no
 * HubSpot call is on the wire (so a call reaches the simulator at the time it was allowed); the
 * simulator keeps the same clock and HubSpot's limit, 110 per rolling 10 s.
 */
const WINDOW_MS = 10_000;
const BUDGET = 90;
const STEP_MS = 25;

let dir: string;
let database: TestDatabase;
let stores: Store[];
let clock: ManualClock;
let callsOnTheWire = 0;

const virtualSleep = async (ms: number): Promise<void> => {
  await new Promise<void>((resolve) => setImmediate(resolve));
  if (callsOnTheWire === 0) clock.advance(Math.max(1, Math.min(ms, STEP_MS)));
};

function instance(store: Store): RateGovernor {
  return createRateGovernor(clock, { requestsPerWindow: BUDGET, windowMs: WINDOW_MS, sleep: virtualSleep }, sharedBudgetLedger(store.hubspotBudget, 'TEN_SECONDLY_ROLLING'));
}

/** The most grants inside any rolling window (t - window, t]. */
function busiestWindow(times: number[]): number {
  const sorted = [...times].sort((a, b) => a - b);
  let busiest = 0;
  let first = 0;
  for (let last = 0; last < sorted.length; last += 1) {
    while ((sorted[first] as number) <= (sorted[last] as number) - WINDOW_MS) first += 1;
    busiest = Math.max(busiest, last - first + 1);
  }
  return busiest;
}

interface Grant {
  instance: number;
  portalId: number;
  at: number;
}

/** Each instance runs `loops` callers drawing for `portalId` until `total` grants were made across all. */
async function drawConcurrently(governors: RateGovernor[], portalId: number, total: number, loops: number, call?: () => Promise<void>): Promise<Grant[]> {
  const grants: Grant[] = [];
  const caller = async (index: number) => {
    const governor = governors[index] as RateGovernor;
    while (grants.filter((g) => g.portalId === portalId).length < total) {
      await governor.acquire(portalId);
      grants.push({ instance: index, portalId, at: clock.now() });
      if (call) {
        callsOnTheWire += 1;
        try {
          await call();
        } finally {
          callsOnTheWire -= 1;
        }
      }
    }
  };
  await Promise.all(governors.flatMap((_, index) => Array.from({ length: loops }, () => caller(index))));
  return grants;
}

beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dealgate-budget-'));
  database = await testDatabase(join(dir, 'dealgate.db'));
  stores = [await database.open(), await database.open(), await database.open()];
  clock = new ManualClock();
  callsOnTheWire = 0;
});

afterEach(async () => {
  for (const store of stores) await store.close();
  await database.drop();
  rmSync(dir, { recursive: true, force: true });
});

describe('one HubSpot budget per account across instances', () => {
  it('three instances drawing at once never exceed the budget in any window, and HubSpot never answers 429', async () => {
    const sim: Simulator = await startSimulator({ now: () => clock.now() });
    try {
      const statuses: number[] = [];
      const callHubSpot = async () => {
        const answer = await fetch(`${sim.url}/crm/v3/pipelines/deals`, { headers: { authorization: `Bearer ${sim.accessToken}` } });
        await answer.arrayBuffer();
        statuses.push(answer.status);
      };
      const governors = stores.map(instance);
      const grants = await drawConcurrently(governors, sim.portalId, 4 * BUDGET, 3, callHubSpot);

      expect(busiestWindow(grants.map((g) => g.at))).toBeLessThanOrEqual(BUDGET);
      expect(statuses.filter((status) => status === 429)).toEqual([]);
      expect(statuses.filter((status) => status === 200)).toHaveLength(grants.length);
      // The budget is shared, not split: every instance drew from it, and 4 budgets took 3 windows and more.
      for (let index = 0; index < governors.length; index += 1) expect(grants.some((g) => g.instance === index)).toBe(true);
      const times = grants.map((g) => g.at);
      expect(Math.max(...times) - Math.min(...times)).toBeGreaterThanOrEqual(3 * WINDOW_MS);
    } finally {
      await sim.stop();
    }
    // 360 real HTTP calls and their trips to the database: generous on a loaded 2-core machine.
  }, 60_000);

  it('a 429 one instance gets pauses the other two, and halves the budget for all', async () => {
    const portalId = 4242;
    const [first, second, third] = stores.map(instance) as [RateGovernor, RateGovernor, RateGovernor];
    for (const governor of [first, second, third]) await governor.acquire(portalId);
    // Past the reservations' lease: no instance holds a permit reserved before the 429.
    clock.advance(WINDOW_MS);

    const pauseMs = await first.rateLimited(portalId);
    const reportedAt = clock.now();
    expect(pauseMs).toBeGreaterThan(0);

    const resumedAt: number[] = [];
    await Promise.all(
      [second, third].map(async (governor) => {
        await governor.acquire(portalId);
        resumedAt.push(clock.now());
      }),
    );
    expect(resumedAt).toHaveLength(2);
    for (const at of resumedAt) expect(at).toBeGreaterThanOrEqual(reportedAt + pauseMs);

    // For the next minute the three together get half the budget per window.
    const slowed = await drawConcurrently([first, second, third], portalId, BUDGET, 2);
    const windowAfter = slowed.filter((g) => g.at <= (resumedAt[0] as number) + WINDOW_MS - 1_000);
    expect(busiestWindow(windowAfter.map((g) => g.at))).toBeLessThanOrEqual(Math.floor(BUDGET / 2));
  });

  it('an instance whose clock runs an hour ahead cannot stop the account for long', async () => {
    const portalId = 4343;
    const ahead = { now: () => clock.now() + 3_600_000 };
    const fast = createRateGovernor(ahead, { requestsPerWindow: BUDGET, windowMs: WINDOW_MS, sleep: virtualSleep }, sharedBudgetLedger((stores[0] as Store).hubspotBudget, 'TEN_SECONDLY_ROLLING'));
    const [right] = stores.slice(1).map(instance) as [RateGovernor];
    // The fast one spends the whole budget and gets a 429, all an hour "from now".
    await drawConcurrently([fast], portalId, BUDGET, 3);
    await fast.rateLimited(portalId);

    const from = clock.now();
    const giveUpAt = from + 3 * WINDOW_MS;
    expect(await right.acquire(portalId, () => clock.now() > giveUpAt)).toBe(true);
    // At most the longest pause, and the budget back within two windows of the right clock.
    expect(clock.now() - from).toBeLessThanOrEqual(2 * WINDOW_MS);
  });

  it('accounts do not share a budget: each gets its own, and neither exceeds it across instances', async () => {
    const governors = stores.map(instance);
    const [one, two] = await Promise.all([drawConcurrently(governors, 1001, 2 * BUDGET, 2), drawConcurrently(governors, 1002, 2 * BUDGET, 2)]);

    for (const grants of [one, two]) {
      expect(busiestWindow(grants.map((g) => g.at))).toBeLessThanOrEqual(BUDGET);
      // Each account's first window holds most of its own budget (a permit reserved while the
      // clock ran past its 500 ms lease is lost to the window): with one budget for both, one of
      // them would have half of it at most.
      const start = Math.min(...grants.map((g) => g.at));
      expect(grants.filter((g) => g.at < start + WINDOW_MS).length).toBeGreaterThan(BUDGET / 2);
    }
  });

  describe('writes lost to other instances', () => {
    /** The budget of `store`, where another instance (`other`) writes the row between this one's read and write, `times` times in a row. */
    function overtaken(store: Store, other: Store, times: number): BudgetLedger {
      const ledger = sharedBudgetLedger(store.hubspotBudget, 'TEN_SECONDLY_ROLLING');
      const theirs = sharedBudgetLedger(other.hubspotBudget, 'TEN_SECONDLY_ROLLING');
      let left = times;
      return {
        ...ledger,
        async write(portalId, version, next, at) {
          if (left > 0) {
            left -= 1;
            const seen = await theirs.read(portalId);
            expect(await theirs.write(portalId, seen?.version, seen?.state ?? EMPTY_BUDGET, at)).toBeDefined();
          }
          return ledger.write(portalId, version, next, at);
        },
      };
    }
    const sleeping = (sleeps: number[]) => async (ms: number) => {
      sleeps.push(ms);
      clock.advance(ms);
    };

    it('an instance that loses 80 writes in a row still gets its permit, waiting a random time, growing with each loss, between tries', async () => {
      const sleeps: number[] = [];
      const [mine, other] = stores as [Store, Store];
      const governor = createRateGovernor(clock, { requestsPerWindow: BUDGET, windowMs: WINDOW_MS, sleep: sleeping(sleeps) }, overtaken(mine, other, 80));
      expect(await governor.acquire(5151)).toBe(true);
      // One wait after each lost write, each under its step: 2 ms doubling up to 100 ms.
      expect(sleeps).toHaveLength(80);
      sleeps.forEach((ms, index) => {
        expect(ms).toBeGreaterThanOrEqual(1);
        expect(ms).toBeLessThanOrEqual(Math.min(100, 2 * 2 ** index));
      });
      // Not in step: the waits at the cap differ.
      expect(new Set(sleeps.slice(10)).size).toBeGreaterThan(1);
    });

    it('a write from its cached state that another instance overtook is tried again at once from a fresh read, without a wait', async () => {
      const sleeps: number[] = [];
      const [mine, other] = stores as [Store, Store];
      const ledger = sharedBudgetLedger(mine.hubspotBudget, 'TEN_SECONDLY_ROLLING');
      const theirs = sharedBudgetLedger(other.hubspotBudget, 'TEN_SECONDLY_ROLLING');
      const written: (number | undefined)[] = [];
      const counting: BudgetLedger = {
        ...ledger,
        async write(portalId, version, next, at) {
          const won = await ledger.write(portalId, version, next, at);
          written.push(won);
          return won;
        },
      };
      const governor = createRateGovernor(clock, { requestsPerWindow: BUDGET, windowMs: WINDOW_MS, sleep: sleeping(sleeps) }, counting);
      expect(await governor.acquire(5353)).toBe(true);
      // Another instance writes the row: this governor's cached state is now stale.
      const seen = await theirs.read(5353);
      expect(await theirs.write(5353, seen?.version, seen?.state ?? EMPTY_BUDGET, clock.now())).toBeDefined();
      written.length = 0;
      expect(await governor.acquire(5353)).toBe(true);
      // The write from the cache lost, the one from a fresh read won, and nothing waited in between.
      expect(written.map((v) => v !== undefined)).toEqual([false, true]);
      expect(sleeps).toEqual([]);
    });

    it('a row that changes under every write: the permit is refused after about 5 s of waits, not spun for', async () => {
      const sleeps: number[] = [];
      const [mine, other] = stores as [Store, Store];
      const governor = createRateGovernor(clock, { requestsPerWindow: BUDGET, windowMs: WINDOW_MS, sleep: sleeping(sleeps) }, overtaken(mine, other, Number.POSITIVE_INFINITY));
      await expect(governor.acquire(5252)).rejects.toThrow(/could not take a HubSpot permit for account 5252 from the shared budget: the HubSpot budget of account 5252 changed under \d+ writes in a row/);
      const waited = sleeps.reduce((sum, ms) => sum + ms, 0);
      expect(waited).toBeGreaterThanOrEqual(5_000);
      expect(waited).toBeLessThan(5_100);
    });
  });
});
