/**
 * Install backfill: an account whose deals already sit past the gate gets its first webhook (first
 * contact); the service (src/server/main.ts, compiled, as deployed) provisions it and sweeps its
 * existing deals through HubSpot's search, with the simulator enforcing both of HubSpot's limits
 * (110 calls per rolling 10 s, 5 searches per second). Measured: seconds from first contact until
 * GET /ops/sweeps says the backfill finished, and until the inbox has applied every event it made;
 * the searches and HubSpot calls spent; the busiest second of searches and the busiest 10 s.
 * Baseline: the fastest any client could list the same deals, 200 per search at 5 searches a
 * second (computed, not measured).
 *
 *   npx tsx bench/sweepBackfill.ts                     # 5,000 and 25,000 deals, half past the gate with a commitment
 *   npx tsx bench/sweepBackfill.ts --deals 5000        # one size
 */
import { parseArgs } from 'node:util';
import type { LoggedRequest } from '../src/simulator';
import { round, sleep } from './lib/stats';
import { PAST_GATE, REP, startWorld } from './lib/world';

interface SweepState {
  status: string;
  checked: number;
  total: number | null;
}

export interface SweepBenchResult {
  deals: number;
  pastGateWithCommitment: number;
  secondsUntilSwept: number;
  secondsUntilApplied: number;
  searches: number;
  calls: number;
  rateLimited429: number;
  busiestSecondOfSearches: number;
  busiestTenSeconds: number;
  floorSeconds: number;
  ratioToFloor: number;
}

function busiest(log: readonly LoggedRequest[], windowMs: number): number {
  const times = log.map((r) => r.at).sort((a, b) => a - b);
  let most = 0;
  let first = 0;
  for (let last = 0; last < times.length; last += 1) {
    while ((times[last] as number) - (times[first] as number) >= windowMs) first += 1;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

export async function benchSweepBackfill(deals: number, log: (line: string) => void = () => {}): Promise<SweepBenchResult> {
  const world = await startWorld({ name: 'sweep-backfill' });
  const { sim } = world;
  try {
    const half = Math.floor(deals / 2);
    const at = Date.now() - 3_600_000;
    const commitment = { amount: '80000', dealgate_commitment: 'true', dealgate_commitment_summary: 'Custom integration', dealgate_effort_weeks: '3' };
    sim.createDeals({ count: half, stages: [PAST_GATE], properties: { dealname: 'Won {n}', ...commitment }, at });
    sim.createDeals({ count: deals - half, stages: ['contractsent', 'closedlost', 'appointmentscheduled'], properties: { dealname: 'Other {n}', ...commitment }, at });
    await world.startService();

    // First contact: a webhook from the account.
    const started = Date.now();
    const [probe] = sim.createDeals({ count: 1, stages: ['appointmentscheduled'], properties: { dealname: 'First contact' }, at });
    sim.updateDealAsUser(probe as string, { amount: '10' }, { userId: REP.userId });

    const get = async <T>(path: string): Promise<T> => (await (await fetch(world.url + path)).json()) as T;
    let swept = 0;
    let lastLog = 0;
    for (;;) {
      const { accounts } = await get<{ accounts: { backfill: SweepState | null }[] }>('/ops/sweeps');
      const backfill = accounts[0]?.backfill;
      if (Date.now() - lastLog > 1_000 && backfill) {
        log(`  ${round((Date.now() - started) / 1000, 1)} s: ${backfill.status}, ${backfill.checked} of ${backfill.total ?? '?'}`);
        lastLog = Date.now();
      }
      if (backfill?.status === 'finished') {
        swept = Date.now() - started;
        break;
      }
      if (Date.now() - started > 600_000) throw new Error('the backfill did not finish within 10 minutes');
      await sleep(20);
    }
    for (;;) {
      const metrics = await get<{ inbox: { pending: number } }>('/ops/metrics');
      if (metrics.inbox.pending === 0) break;
      await sleep(20);
    }
    const applied = Date.now() - started;
    const requests = sim.requests.all().filter((r) => r.at >= started);
    const searches = requests.filter((r) => r.endpoint === 'POST /crm/v3/objects/deals/search');
    const floorSeconds = Math.ceil(half / 200) / 5;
    return {
      deals,
      pastGateWithCommitment: half,
      secondsUntilSwept: round(swept / 1000, 2),
      secondsUntilApplied: round(applied / 1000, 2),
      searches: searches.length,
      calls: requests.length,
      rateLimited429: requests.filter((r) => r.status === 429).length,
      busiestSecondOfSearches: busiest(searches, 1_000),
      busiestTenSeconds: busiest(requests, 10_000),
      floorSeconds,
      ratioToFloor: round(swept / 1000 / floorSeconds, 2),
    };
  } finally {
    await world.stop();
  }
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { deals: { type: 'string' } } });
  const sizes = values.deals ? [Number(values.deals)] : [5_000, 25_000];
  for (const deals of sizes) {
    process.stdout.write(`install backfill, ${deals} deals:\n`);
    const result = await benchSweepBackfill(deals, (line) => process.stdout.write(line + '\n'));
    process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  }
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  });
}
