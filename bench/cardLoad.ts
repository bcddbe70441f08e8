/**
 * Card load: `GET /api/v1/deals/:id/gate`, v3-signed as `hubspot.fetch` sends it, at a constant
 * 200 requests/s (open loop, latency from each request's intended send time) over 50 deals whose
 * snapshots Dealgate already holds (kept current by webhooks). Reported: p50/p99 and HubSpot calls
 * per load. Baseline, same run, same core: an Express 5 JSON hello route at the same rate.
 */
import { signedHeaders } from '../src/server/hubspot/signature';
import type { Simulator } from '../src/simulator';
import { latencySummary, openLoop, type BenchRequest, type LatencySummary } from './lib/load';
import { freePort, startEntry } from './lib/processes';
import { round } from './lib/stats';
import { BEFORE_GATE, REP, REVIEWER, startWorld } from './lib/world';

export interface CardOptions {
  rate: number;
  durationMs: number;
  warmupMs: number;
  deals: number;
  reps: number;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

export interface CardResult {
  rate: number;
  service: (LatencySummary & { statuses: Record<string, number> })[];
  baseline: LatencySummary[];
  loads: number;
  hubspotCalls: number;
  callsPerLoad: number;
}

/** The deal card's load of `dealId` by `userId`, signed as hubspot.fetch signs it for the service at `baseUrl`. */
export function signedCardLoad(sim: Simulator, baseUrl: string, dealId: string, userId: number): BenchRequest {
  const path = `/api/v1/deals/${dealId}/gate?userId=${userId}&userEmail=user${userId}%40example.com&appId=${sim.appId}&portalId=${sim.portalId}`;
  return { method: 'GET', path, headers: signedHeaders(sim.clientSecret, { method: 'GET', uri: baseUrl + path, body: '' }, Date.now()) };
}

export async function benchCardLoad(options: CardOptions): Promise<CardResult> {
  const world = await startWorld({ name: 'card-load', core: options.serviceCore });
  const helloPort = await freePort();
  const hello = await startEntry({ entry: 'bench/baselines/expressHello.ts', args: [String(helloPort)], core: options.serviceCore });
  const helloUrl = `http://127.0.0.1:${helloPort}`;
  const { sim } = world;
  try {
    await world.startService();
    const ids = Array.from({ length: options.deals }, () => world.seedGatedDeal(BEFORE_GATE));
    const users = [REP.userId, REVIEWER.userId];
    const cardRequest = (i: number): BenchRequest => signedCardLoad(sim, world.url, ids[i % ids.length] as string, users[i % users.length] as number);
    // Each deal's first load reads it from HubSpot and keeps the snapshot; a webhook (an edit by
    // the rep) also reaches every deal, as in an account where deals are worked on.
    for (const id of ids) sim.updateDealAsUser(id, { dealname: `Deal ${id} (edited)` }, { userId: REP.userId });
    await sim.webhooks.idle();
    await openLoop({ baseUrl: world.url, ratePerSecond: 50, durationMs: Math.max(1_000, (ids.length * 2 * 1000) / 50), next: cardRequest });
    await openLoop({ baseUrl: world.url, ratePerSecond: options.rate, durationMs: options.warmupMs, next: cardRequest });
    await openLoop({ baseUrl: helloUrl, ratePerSecond: options.rate, durationMs: options.warmupMs, next: () => ({ method: 'GET', path: '/hello' }) });
    // Let the workers finish what the warm-up caused, then count from zero.
    await new Promise((r) => setTimeout(r, 1_000));
    sim.requests.reset();

    const service: CardResult['service'] = [];
    const baseline: CardResult['baseline'] = [];
    let loads = 0;
    for (let rep = 0; rep < options.reps; rep++) {
      const a = await openLoop({ baseUrl: world.url, ratePerSecond: options.rate, durationMs: options.durationMs, next: cardRequest });
      loads += a.requests;
      service.push({ ...latencySummary(a), statuses: a.statuses });
      const b = await openLoop({ baseUrl: helloUrl, ratePerSecond: options.rate, durationMs: options.durationMs, next: () => ({ method: 'GET', path: '/hello' }) });
      baseline.push(latencySummary(b));
      options.log(`  rep ${rep + 1}: card p50 ${a.latencyMs.p50.toFixed(2)} / p99 ${a.latencyMs.p99.toFixed(2)} ms (${JSON.stringify(a.statuses)}), hello p50 ${b.latencyMs.p50.toFixed(2)} / p99 ${b.latencyMs.p99.toFixed(2)} ms`);
    }
    const hubspotCalls = sim.requests.count();
    return { rate: options.rate, service, baseline, loads, hubspotCalls, callsPerLoad: round(hubspotCalls / loads, 4) };
  } finally {
    await hello.stop();
    await world.stop();
  }
}
