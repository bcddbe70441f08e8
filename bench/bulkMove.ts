/**
 * Bulk move: a user bulk-edits 1,000 gated deals to Closed Won at once (one webhook burst); the
 * simulator enforces HubSpot's 110 requests per rolling 10 s. Measured: seconds from the bulk edit
 * until every deal is back in the gate stage with its note, and HubSpot calls spent per reverted
 * deal (every call the service made in that time, reads and writes). The baseline is the naive
 * path (read the deal, patch it back, add a note: 3 calls per deal), computed from the same limit:
 * measuring it would take over four minutes of the run.
 */
import { round } from './lib/stats';
import { GATE_STAGE, PAST_GATE, REP, startWorld, until } from './lib/world';

export interface BulkOptions {
  deals: number;
  rateLimitPerTenSeconds: number;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

export interface BulkResult {
  deals: number;
  rateLimitPerTenSeconds: number;
  secondsUntilAllReverted: number;
  secondsUntilAllNoted: number;
  calls: number;
  callsPerDeal: number;
  callsByEndpoint: Record<string, number>;
  rateLimited429: number;
  notesPerDeal: number;
  naiveCallsPerDeal: number;
  naiveSeconds: number;
}

export async function benchBulkMove(options: BulkOptions): Promise<BulkResult> {
  const world = await startWorld({ name: 'bulk-move', core: options.serviceCore, rateLimitPerTenSeconds: options.rateLimitPerTenSeconds });
  const { sim } = world;
  try {
    await world.startService();
    // Provision the account first (properties, pipelines), then let the rate window empty.
    const first = world.seedGatedDeal(GATE_STAGE);
    sim.moveDealToStage(first, PAST_GATE, { userId: REP.userId });
    await until(() => sim.getDeal(first)?.properties.dealstage === GATE_STAGE && sim.notesForDeal(first).length > 0, 60_000, 'the warm-up revert', 20);
    const ids = Array.from({ length: options.deals }, () => world.seedGatedDeal(GATE_STAGE));
    await sim.webhooks.idle();
    await new Promise((r) => setTimeout(r, 10_500));
    sim.requests.reset();

    const started = Date.now();
    sim.moveDealsToStage(ids, PAST_GATE, { userId: REP.userId });
    let reverted = 0;
    let progress = Date.now();
    await until(
      () => {
        reverted = ids.filter((id) => sim.getDeal(id)?.properties.dealstage === GATE_STAGE).length;
        if (Date.now() - progress > 5_000) {
          progress = Date.now();
          options.log(`  ${Math.round((Date.now() - started) / 1000)} s: ${reverted}/${ids.length} reverted, ${sim.requests.count()} HubSpot calls`);
        }
        return reverted === ids.length;
      },
      300_000,
      'every deal reverted',
      20,
    );
    const revertedAt = Date.now();
    await until(() => ids.every((id) => sim.notesForDeal(id).length > 0), 300_000, 'every violation note', 50);
    const notedAt = Date.now();
    // Every call counts, refused ones (429) included: the conservative reading.
    const calls = sim.requests.count();
    const rateLimited429 = sim.requests.all().filter((r) => r.status === 429).length;
    const notes = ids.reduce((n, id) => n + sim.notesForDeal(id).length, 0);
    const naiveCallsPerDeal = 3;
    return {
      deals: ids.length,
      rateLimitPerTenSeconds: options.rateLimitPerTenSeconds,
      secondsUntilAllReverted: round((revertedAt - started) / 1000, 2),
      secondsUntilAllNoted: round((notedAt - started) / 1000, 2),
      calls,
      callsPerDeal: round(calls / ids.length, 4),
      callsByEndpoint: sim.requests.countsByEndpoint(),
      rateLimited429,
      notesPerDeal: round(notes / ids.length, 3),
      naiveCallsPerDeal,
      naiveSeconds: round(Math.max(0, (naiveCallsPerDeal * ids.length) / options.rateLimitPerTenSeconds - 1) * 10, 1),
    };
  } finally {
    await world.stop();
  }
}
