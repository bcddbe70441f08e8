import type { IngestResult } from './ingest';
import type { ReactionResult } from './gateReaction';
import type { BulkResult } from './bulkMove';
import type { CardResult } from './cardLoad';
import type { DataScaleResult } from './dataScale';
import type { NeighbourResult } from './noisyNeighbour';
import { fmt, fmtSpread, round, spread, type Spread } from './lib/stats';

/** One printed figure: the measurement, its same-run baseline and their ratio. */
export interface Figure {
  name: string;
  value: string;
  baseline?: string;
  ratio?: string;
}

export interface Target {
  what: string;
  target: string;
  measured: string;
  met: boolean;
}

export interface Section {
  title: string;
  figures: Figure[];
  targets: Target[];
  details: unknown;
  seconds?: number;
}

export function report(section: Section): string[] {
  const lines: string[] = [];
  for (const f of section.figures) {
    lines.push(`  ${f.name}: ${f.value}${f.baseline ? ` | baseline ${f.baseline}` : ''}${f.ratio ? ` | ratio ${f.ratio}` : ''}`);
  }
  for (const t of section.targets) lines.push(`  target ${t.what} ${t.target}: ${t.measured} -> ${t.met ? 'MET' : 'NOT MET'}`);
  return lines;
}

const spreadJson = (s: Spread, digits = 2) => ({ median: round(s.median, digits), min: round(s.min, digits), max: round(s.max, digits), runs: s.runs.map((v) => round(v, digits)) });

export function ingestSection(r: IngestResult): Section {
  const reps = r.service.batchesPerSecond.runs.length;
  return {
    title: 'Webhook ingest',
    figures: [
      {
        name: `batches/s (${r.eventsPerBatch} events each, ${r.connections} connections, median of ${reps} × ${r.repDurationMs / 1000} s, range)`,
        value: fmtSpread(r.service.batchesPerSecond),
        baseline: `${fmtSpread(r.baseline.batchesPerSecond)} (bare node:http HMAC + one-row insert)`,
        ratio: fmtSpread(r.ratioBatchesPerSecond, 2),
      },
      {
        name: 'batches/s against the second baseline: the same durable work with no framework (journal commit before the answer, same signature check, same deduplicated inbox rows, same schema and SQLite settings)',
        value: fmtSpread(r.service.batchesPerSecond),
        baseline: `${fmtSpread(r.durable.batchesPerSecond)} (bench/baselines/durableReceiver.ts)`,
        ratio: fmtSpread(r.ratioDurableBatchesPerSecond, 2),
      },
      {
        name: 'events/s sustained against the second baseline (acknowledged and expanded, catch-up included)',
        value: fmtSpread(r.service.sustainedEventsPerSecond),
        baseline: fmtSpread(r.durable.sustainedEventsPerSecond),
        ratio: fmtSpread(r.ratioDurableSustainedEventsPerSecond, 2),
      },
      {
        name: 'batches/s, the route alone (same service, expansion held until the load ends; context, not a target)',
        value: fmtSpread(r.routeOnly.batchesPerSecond),
        baseline: fmtSpread(r.baseline.batchesPerSecond),
        ratio: fmtSpread(r.ratioRouteOnlyBatchesPerSecond, 2),
      },
      {
        name: 'events/s acknowledged',
        value: fmtSpread(r.service.eventsPerSecond),
        baseline: fmtSpread(r.baseline.eventsPerSecond),
      },
      {
        name: 'events/s sustained (acknowledged and expanded into the deduplicated inbox, catch-up included)',
        value: fmtSpread(r.service.sustainedEventsPerSecond),
      },
      {
        name: `ack latency at ${r.latencyAt} batches/s open loop, half the service's own maximum of ${fmt(r.serviceMaxBatchesPerSecond)} batches/s this run (p50 / p99 / max, ms)`,
        value: `${fmt(r.serviceLatencyMs.p50, 2)} / ${fmt(r.serviceLatencyMs.p99, 2)} / ${fmt(r.serviceLatencyMs.max, 1)}`,
        baseline: `${fmt(r.baselineLatencyMs.p50, 2)} / ${fmt(r.baselineLatencyMs.p99, 2)} / ${fmt(r.baselineLatencyMs.max, 1)}`,
        ratio: `p99 ${fmt(r.serviceLatencyMs.p99 / r.baselineLatencyMs.p99, 2)}`,
      },
      { name: 'service peak RSS during the ingest runs', value: r.servicePeakRssMiB === null ? 'unknown (no /proc)' : `${r.servicePeakRssMiB} MiB` },
      { name: 'non-2xx answers (service / baseline)', value: `${r.service.non2xx + r.routeOnly.non2xx + r.serviceLatencyMs.non2xx} / ${r.baseline.non2xx + r.baselineLatencyMs.non2xx}` },
    ],
    targets: [
      { what: 'events/s sustained', target: '>= 100,000', measured: fmt(r.service.sustainedEventsPerSecond.median), met: r.service.sustainedEventsPerSecond.median >= 100_000 },
      { what: 'batches/s ratio to the bare baseline', target: '>= 0.5', measured: fmt(r.ratioBatchesPerSecond.median, 2), met: r.ratioBatchesPerSecond.median >= 0.5 },
      { what: 'batches/s ratio to the durable baseline', target: '>= 0.5', measured: fmt(r.ratioDurableBatchesPerSecond.median, 2), met: r.ratioDurableBatchesPerSecond.median >= 0.5 },
      { what: `ack latency p99 at ${r.latencyAt} batches/s (half the service's maximum)`, target: '< 20 ms', measured: `${fmt(r.serviceLatencyMs.p99, 2)} ms`, met: r.serviceLatencyMs.p99 < 20 },
      { what: 'peak RSS', target: '< 200 MB', measured: `${r.servicePeakRssMiB ?? '?'} MiB`, met: r.servicePeakRssMiB !== null && r.servicePeakRssMiB * 1.048576 < 200 },
    ],
    details: {
      ...r,
      service: { ...r.service, batchesPerSecond: spreadJson(r.service.batchesPerSecond), eventsPerSecond: spreadJson(r.service.eventsPerSecond, 0), sustainedEventsPerSecond: spreadJson(r.service.sustainedEventsPerSecond, 0), drainMs: spreadJson(r.service.drainMs, 0) },
      baseline: { ...r.baseline, batchesPerSecond: spreadJson(r.baseline.batchesPerSecond), eventsPerSecond: spreadJson(r.baseline.eventsPerSecond, 0) },
      routeOnly: { ...r.routeOnly, batchesPerSecond: spreadJson(r.routeOnly.batchesPerSecond) },
      ratioRouteOnlyBatchesPerSecond: spreadJson(r.ratioRouteOnlyBatchesPerSecond, 3),
      ratioBatchesPerSecond: spreadJson(r.ratioBatchesPerSecond, 3),
      durable: { ...r.durable, batchesPerSecond: spreadJson(r.durable.batchesPerSecond), sustainedEventsPerSecond: spreadJson(r.durable.sustainedEventsPerSecond, 0), drainMs: spreadJson(r.durable.drainMs, 0) },
      ratioDurableBatchesPerSecond: spreadJson(r.ratioDurableBatchesPerSecond, 3),
      ratioDurableSustainedEventsPerSecond: spreadJson(r.ratioDurableSustainedEventsPerSecond, 3),
    },
  };
}

export function gateSection(r: ReactionResult): Section {
  return {
    title: 'Gate reaction',
    figures: [
      {
        name: `webhook arrival -> revert at HubSpot, single moves (p50 / p90 / p99 / max, ms; n = ${r.service.n})`,
        value: `${r.service.p50} / ${r.service.p90} / ${r.service.p99} / ${r.service.max}`,
        baseline: `${r.baseline.p50} / ${r.baseline.p90} / ${r.baseline.p99} / ${r.baseline.max} (bare reactor: verify, answer, one PATCH; n = ${r.baseline.n})`,
        ratio: `p99 ${fmt(r.service.p99 / Math.max(1, r.baseline.p99), 2)}`,
      },
      { name: 'violation notes per move (each move past the gate gets exactly one)', value: String(r.notesPerMove) },
      { name: 'moves not reverted within 10 s', value: String(r.missed) },
    ],
    targets: [{ what: 'reaction p99', target: '< 50 ms', measured: `${r.service.p99} ms`, met: r.service.p99 < 50 && r.missed === 0 }],
    details: r,
  };
}

export function bulkSection(r: BulkResult): Section {
  return {
    title: 'Bulk move',
    figures: [
      {
        name: `${r.deals} gated deals bulk-moved to Closed Won, HubSpot limit ${r.rateLimitPerTenSeconds} req/10 s: seconds until all are back`,
        value: `${r.secondsUntilAllReverted} s (all noted after ${r.secondsUntilAllNoted} s)`,
        baseline: `${r.naiveSeconds} s (naive read + patch + note per deal, computed from the same limit)`,
        ratio: fmt(r.secondsUntilAllReverted / r.naiveSeconds, 3),
      },
      {
        name: 'HubSpot calls per reverted deal (429s included)',
        value: `${r.callsPerDeal} (${r.calls} calls, ${r.rateLimited429} of them 429)`,
        baseline: `${r.naiveCallsPerDeal} (naive)`,
        ratio: fmt(r.callsPerDeal / r.naiveCallsPerDeal, 3),
      },
      { name: 'calls by endpoint', value: JSON.stringify(r.callsByEndpoint) },
      { name: 'notes per deal', value: String(r.notesPerDeal) },
    ],
    targets: [
      { what: 'all reverted', target: '< 15 s', measured: `${r.secondsUntilAllReverted} s`, met: r.secondsUntilAllReverted < 15 },
      { what: 'HubSpot calls per deal', target: '<= 0.1', measured: String(r.callsPerDeal), met: r.callsPerDeal <= 0.1 },
    ],
    details: r,
  };
}

export function cardSection(r: CardResult): Section {
  const med = (xs: number[]) => spread(xs).median;
  const p99 = r.service.map((s) => s.p99);
  const baseP99 = r.baseline.map((s) => s.p99);
  const p99Median = med(p99);
  return {
    title: 'Card load',
    figures: [
      {
        name: `GET /api/v1/deals/:id/gate signed, ${r.rate} req/s open loop, p50 / p99 ms (median of ${r.service.length} runs; p99 range)`,
        value: `${fmt(med(r.service.map((s) => s.p50)), 2)} / ${fmt(p99Median, 2)} (${fmt(Math.min(...p99), 2)}–${fmt(Math.max(...p99), 2)})`,
        baseline: `${fmt(med(r.baseline.map((s) => s.p50)), 2)} / ${fmt(med(baseP99), 2)} (Express hello, same rate)`,
        ratio: `p99 ${fmt(p99Median / med(baseP99), 2)}`,
      },
      { name: 'HubSpot calls per card load (snapshot current)', value: `${r.callsPerLoad} (${r.hubspotCalls} calls over ${r.loads} loads)`, baseline: '>= 1 (a card that reads the deal from HubSpot)' },
      { name: 'non-2xx answers', value: String(r.service.reduce((n, s) => n + s.non2xx, 0)) },
    ],
    targets: [
      { what: 'card p99', target: '< 25 ms', measured: `${fmt(p99Median, 2)} ms`, met: p99Median < 25 },
      { what: 'HubSpot calls per load', target: '= 0', measured: String(r.callsPerLoad), met: r.hubspotCalls === 0 },
    ],
    details: r,
  };
}

export function dataScaleSection(r: DataScaleResult): Section {
  const med = (xs: number[]) => spread(xs).median;
  const p99 = (side: DataScaleResult['small'], what: 'card' | 'home') => med(side[what].map((s) => s.p99));
  const p50 = (side: DataScaleResult['small'], what: 'card' | 'home') => med(side[what].map((s) => s.p50));
  const range = (side: DataScaleResult['small'], what: 'card' | 'home') => `${fmt(Math.min(...side[what].map((s) => s.p99)), 2)}–${fmt(Math.max(...side[what].map((s) => s.p99)), 2)}`;
  const size = (s: DataScaleResult['small']) => `${fmt(s.scale.deals)} deals, ${fmt(s.scale.reviews)} reviews, ${fmt(s.scale.audit)} audit rows`;
  const cardRatio = p99(r.large, 'card') / p99(r.small, 'card');
  const homeRatio = p99(r.large, 'home') / p99(r.small, 'home');
  const scans = [...r.plans.card, ...r.plans.home].filter((p) => p.scans).length;
  return {
    title: 'Data scale',
    figures: [
      {
        name: `card load at ${size(r.large)} (${r.cardRate}/s open loop; p50 / p99 ms, median of ${r.large.card.length}, p99 range)`,
        value: `${fmt(p50(r.large, 'card'), 2)} / ${fmt(p99(r.large, 'card'), 2)} (${range(r.large, 'card')})`,
        baseline: `${fmt(p50(r.small, 'card'), 2)} / ${fmt(p99(r.small, 'card'), 2)} (${range(r.small, 'card')}) at ${size(r.small)}`,
        ratio: `p99 ${fmt(cardRatio, 2)}`,
      },
      {
        name: `home page (dashboard) at ${size(r.large)} (${r.homeRate}/s open loop; p50 / p99 ms)`,
        value: `${fmt(p50(r.large, 'home'), 2)} / ${fmt(p99(r.large, 'home'), 2)} (${range(r.large, 'home')})`,
        baseline: `${fmt(p50(r.small, 'home'), 2)} / ${fmt(p99(r.small, 'home'), 2)} (${range(r.small, 'home')}) at ${size(r.small)}`,
        ratio: `p99 ${fmt(homeRatio, 2)}`,
      },
      { name: 'seed time (large / small, s) and database size (MiB)', value: `${r.large.seedSeconds} s, ${r.large.dbMiB} MiB / ${r.small.seedSeconds} s, ${r.small.dbMiB} MiB` },
      { name: 'statements of the card and home page whose plan scans a table', value: String(scans) },
      {
        name: 'card in process, without HTTP (getGate over the stopped service\'s database, µs per load, median of 3 × 1,000)',
        value: fmt(r.large.inProcessCardMicros),
        baseline: `${fmt(r.small.inProcessCardMicros)} at ${fmt(r.small.scale.deals)} deals`,
        ratio: fmt(r.large.inProcessCardMicros / r.small.inProcessCardMicros, 2),
      },
      {
        name: 'service CPU per card load over the measured loads (user + system from /proc, µs; HTTP included)',
        value: fmt(r.large.serviceCpuMicrosPerCard ?? NaN),
        baseline: `${fmt(r.small.serviceCpuMicrosPerCard ?? NaN)} at ${fmt(r.small.scale.deals)} deals`,
        ratio: fmt((r.large.serviceCpuMicrosPerCard ?? NaN) / (r.small.serviceCpuMicrosPerCard ?? NaN), 2),
      },
      { name: 'HubSpot calls during the measured loads (large / small)', value: `${r.large.hubspotCalls} / ${r.small.hubspotCalls}` },
      { name: 'load average (1 min) at each rep and at the end (the machine is shared)', value: r.loadAverages.map((l) => fmt(l, 2)).join(', ') },
    ],
    targets: [
      { what: 'card p99 at 1M deals', target: '< 10 ms', measured: `${fmt(p99(r.large, 'card'), 2)} ms`, met: p99(r.large, 'card') < 10 },
      { what: 'home p99 at 1M deals', target: '< 100 ms', measured: `${fmt(p99(r.large, 'home'), 2)} ms`, met: p99(r.large, 'home') < 100 },
      { what: 'card p99, 1M deals / 10k deals', target: '<= 1.5', measured: fmt(cardRatio, 2), met: cardRatio <= 1.5 },
      { what: 'home p99, 1M deals / 10k deals', target: '<= 1.5', measured: fmt(homeRatio, 2), met: homeRatio <= 1.5 },
    ],
    details: r,
  };
}

export function neighbourSection(r: NeighbourResult): Section {
  const m = (s: NeighbourResult['during']) => `${fmt(s.p50)} / ${fmt(s.p99)} / ${fmt(s.max)}`;
  return {
    title: 'Noisy neighbour',
    figures: [
      {
        name: `account B's illegal stage move, webhook arrival -> revert at HubSpot, while account A's ${fmt(r.importEvents)}-event import is delivered and handled (p50 / p99 / max ms; n = ${r.during.n})`,
        value: m(r.during),
        baseline: `${m(r.idle)} (B alone, A idle, same run; n = ${r.idle.n})`,
        ratio: `p99 ${fmt(r.during.p99 / Math.max(1, r.idle.p99), 2)}`,
      },
      { name: "B's moves not reverted within 60 s", value: String(r.during.notReverted) },
      {
        name: "A's import",
        value: `${fmt(r.importEvents)} events acknowledged in ${r.importDeliverySeconds} s (${fmt(r.importBatchesPerSecond)} batches/s, 16 connections, non-2xx ${r.importNon2xx}); every A event handled after ${r.importHandledSeconds} s`,
      },
    ],
    targets: [{ what: "B's revert p99 during A's import", target: '< 100 ms', measured: `${fmt(r.during.p99)} ms`, met: r.during.p99 < 100 && r.during.notReverted === 0 }],
    details: r,
  };
}
