/**
 * Gate reaction: a user moves a gated deal past the gate; the time from the stage-change webhook's
 * arrival at the receiver (the simulator's delivery start, loopback) to the revert reaching the
 * simulator (the stage history entry it writes), over single moves one at a time. Dealgate (inbox,
 * HubSpot read of the deal and its stage history, violation, note, outbox) against the bare
 * reactor baseline (verify, answer, one PATCH), in interleaved blocks, same run. The simulator's
 * clock has millisecond resolution, so both figures are whole milliseconds. HubSpot's rate limit is
 * lifted for this one (it measures reaction, not the API budget; see the bulk-move figure for that).
 */
import type { Simulator } from '../src/simulator';
import { percentile } from './lib/load';
import { freePort, startEntry } from './lib/processes';
import { round } from './lib/stats';
import { GATE_STAGE, PAST_GATE, REP, startWorld, until } from './lib/world';

export interface ReactionOptions {
  moves: number;
  warmupMoves: number;
  blocks: number;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
  n: number;
}

export interface ReactionResult {
  service: LatencySummary;
  baseline: LatencySummary;
  notesPerMove: number;
  missed: number;
}

function summary(values: number[]): LatencySummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, n: sorted.length };
}

/** When the webhook carrying this deal's move to `stage` first reached the receiver. */
function arrivalOf(sim: Simulator, dealId: string, stage: string, occurredAt: number): number | undefined {
  let first: number | undefined;
  for (const d of sim.webhooks.deliveries()) {
    if (d.status === undefined) continue;
    if (d.events.some((e) => String(e.objectId) === dealId && e.propertyName === 'dealstage' && e.propertyValue === stage && e.occurredAt === occurredAt)) {
      first = first === undefined ? d.startedAt : Math.min(first, d.startedAt);
    }
  }
  return first;
}

/** Moves the deal past the gate and waits until it is back; returns arrival -> revert in ms. */
export async function oneMove(sim: Simulator, dealId: string): Promise<number | undefined> {
  const moved = sim.moveDealToStage(dealId, PAST_GATE, { userId: REP.userId });
  const movedAt = moved.updatedAt;
  sim.webhooks.flush();
  try {
    await until(() => sim.getDeal(dealId)?.properties.dealstage === GATE_STAGE, 10_000, `deal ${dealId} reverted`, 1);
  } catch {
    if (process.env.BENCH_DEBUG) process.stderr.write(`timeout ${dealId}\n`);
    return undefined;
  }
  const revert = sim.dealHistory(dealId, 'dealstage').find((h) => h.value === GATE_STAGE && h.timestamp >= movedAt);
  // A delivery attempt is recorded when its answer has been read, which can come after the revert.
  let arrival: number | undefined;
  await until(() => (arrival = arrivalOf(sim, dealId, PAST_GATE, movedAt)) !== undefined, 2_000, 'the delivery record', 1).catch(() => undefined);
  if (!revert || arrival === undefined) {
    if (process.env.BENCH_DEBUG) process.stderr.write(`miss ${dealId}: movedAt ${movedAt} revert ${JSON.stringify(revert)} arrival ${arrival} history ${JSON.stringify(sim.dealHistory(dealId, 'dealstage').slice(0, 3))}\n`);
    return undefined;
  }
  return revert.timestamp - arrival;
}

export async function benchGateReaction(options: ReactionOptions): Promise<ReactionResult> {
  const world = await startWorld({
    name: 'gate-reaction',
    core: options.serviceCore,
    rateLimitPerTenSeconds: 1_000_000,
    entry: 'bench/servers/service.ts',
    env: { BENCH_HUBSPOT_PER_10S: '1000000' },
  });
  const reactorPort = await freePort();
  const reactorUrl = `http://127.0.0.1:${reactorPort}`;
  const reactor = await startEntry({
    entry: 'bench/baselines/bareReactor.ts',
    args: [String(reactorPort), world.sim.clientSecret, reactorUrl, world.sim.url, world.sim.accessToken, PAST_GATE, GATE_STAGE],
    core: options.serviceCore,
  });
  try {
    await world.startService();
    world.sim.webhooks.configure({ batchWindowMs: 1 });
    const perBlock = Math.ceil(options.moves / options.blocks);
    const deals = Array.from({ length: options.moves + options.warmupMoves }, () => world.seedGatedDeal(GATE_STAGE));
    const baseDeals = Array.from({ length: options.moves + options.warmupMoves }, () => world.seedGatedDeal(GATE_STAGE));
    // The simulator gives each change its own millisecond, so a burst of seeding runs its clock
    // ahead of real time; wait until real time has caught up, so history times are real times.
    const ahead = Math.max(...[...deals, ...baseDeals].map((id) => world.sim.getDeal(id)?.updatedAt ?? 0));
    await until(() => Date.now() > ahead + 20, 60_000, 'the simulator clock caught up', 10);
    const serviceTarget = `${world.url}/webhooks/hubspot`;
    const reactorTarget = `${reactorUrl}/webhooks/hubspot`;

    // Warm-up: the first move provisions the account (properties, pipelines); JIT on both sides.
    world.sim.webhooks.setTargetUrl(serviceTarget);
    for (const id of deals.slice(0, options.warmupMoves)) await oneMove(world.sim, id);
    world.sim.webhooks.setTargetUrl(reactorTarget);
    for (const id of baseDeals.slice(0, options.warmupMoves)) await oneMove(world.sim, id);

    const service: number[] = [];
    const baseline: number[] = [];
    let missed = 0;
    const notesBefore = deals.slice(options.warmupMoves).reduce((n, id) => n + world.sim.notesForDeal(id).length, 0);
    for (let block = 0; block < options.blocks; block++) {
      const from = options.warmupMoves + block * perBlock;
      const to = Math.min(options.warmupMoves + options.moves, from + perBlock);
      await world.sim.webhooks.idle();
      world.sim.webhooks.setTargetUrl(serviceTarget);
      for (const id of deals.slice(from, to)) {
        const ms = await oneMove(world.sim, id);
        if (ms === undefined) missed += 1;
        else service.push(ms);
      }
      await world.sim.webhooks.idle();
      world.sim.webhooks.setTargetUrl(reactorTarget);
      for (const id of baseDeals.slice(from, to)) {
        const ms = await oneMove(world.sim, id);
        if (ms !== undefined) baseline.push(ms);
      }
      options.log(`  block ${block + 1}/${options.blocks}: service p50 ${percentile([...service].sort((a, b) => a - b), 50)} ms, baseline p50 ${percentile([...baseline].sort((a, b) => a - b), 50)} ms`);
    }
    // Notes land after the revert (the outbox sends the stage first); give them a moment.
    const measured = deals.slice(options.warmupMoves);
    await world.sim.webhooks.idle();
    await until(() => measured.every((id) => world.sim.notesForDeal(id).length >= 1), 30_000, 'every violation note').catch(() => undefined);
    const notes = measured.reduce((n, id) => n + world.sim.notesForDeal(id).length, 0) - notesBefore;
    return { service: summary(service), baseline: summary(baseline), notesPerMove: round(notes / measured.length, 3), missed };
  } finally {
    await reactor.stop();
    await world.stop();
  }
}
