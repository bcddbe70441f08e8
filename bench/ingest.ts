/**
 * Webhook ingest: signed batches of 100 events POSTed on loopback to /webhooks/hubspot
 * (verification, validation, durable journal insert, then deduplicated expansion into the inbox),
 * against a bare node:http receiver that HMACs the body and inserts it as one row, measured in the
 * same run, interleaved A, B, A, B (BENCHMARKING.md). Each repetition starts the receiver afresh on
 * an empty database, pinned to core 1 (the generator sits on core 0). Each repetition also runs the
 * service with its expansion held (C): the route alone against the same baseline, for context.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { signedHeaders } from '../src/server/hubspot/signature';
import { closedLoop, latencySummary, non2xx, openLoop, type BenchRequest, type LatencySummary, type LoadResult } from './lib/load';
import { peakRssMiB } from './lib/machine';
import { freePort, repoRoot, startEntry, type BenchProcess } from './lib/processes';
import { round, sleep, spread, type Spread } from './lib/stats';

export const WEBHOOK_PATH = '/webhooks/hubspot';
const SECRET = 'bench-client-secret-0123456789';
const EVENTS_PER_BATCH = 100;
const PORTAL_ID = 24_681_357;

export interface IngestOptions {
  reps: number;
  warmupMs: number;
  durationMs: number;
  connections: number;
  /** Open-loop rate of the ack-latency figure; 'half-max': half the service's median closed-loop batches/s of this run. */
  latencyRate: number | 'half-max';
  latencyDurationMs: number;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

interface Receiver {
  name: 'service' | 'baseline' | 'routeOnly' | 'durable';
  entry: string;
  args?: string[];
}

const RECEIVERS: Record<Receiver['name'], Receiver> = {
  service: { name: 'service', entry: 'bench/servers/ingestService.ts' },
  baseline: { name: 'baseline', entry: 'bench/baselines/bareReceiver.ts' },
  // The second baseline: Dealgate's durable work (journal committed before the answer, then the
  // same deduplicated inbox rows in the same schema) with no framework (issue 12).
  durable: { name: 'durable', entry: 'bench/baselines/durableReceiver.ts' },
  // Context, not a target: the same service with the expansion held until the load ends, so its
  // batches/s is the route alone (verify, parse, validate, journal, answer) against the baseline.
  routeOnly: { name: 'routeOnly', entry: 'bench/servers/ingestService.ts', args: ['--defer-expansion'] },
};

/**
 * One batch as HubSpot sends it: 100 deal events with ids unique across the run (so deduplication
 * does real work, finding nothing to drop), about 20 KB.
 */
export function batchBody(sequence: number, runId: number): string {
  const events: string[] = [];
  const base = runId * 1_000_000_000 + sequence * EVENTS_PER_BATCH;
  const occurredAt = 1_763_000_000_000 + sequence;
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    const dealId = 10_000 + ((sequence * 7 + i) % 50_000);
    const stage = i % 2 === 0;
    events.push(
      `{"eventId":${base + i},"subscriptionId":2101,"portalId":${PORTAL_ID},"appId":3141592,"occurredAt":${occurredAt},` +
        `"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":${dealId},` +
        `"propertyName":"${stage ? 'dealstage' : 'amount'}","propertyValue":"${stage ? 'contractsent' : String(50_000 + i)}",` +
        `"changeSource":"CRM_UI","sourceId":"userId:1001","isSensitive":false}`,
    );
  }
  return `[${events.join(',')}]`;
}

function signedBatch(publicBaseUrl: string, sequence: number, runId: number): BenchRequest {
  const body = batchBody(sequence, runId);
  const headers = signedHeaders(SECRET, { method: 'POST', uri: publicBaseUrl + WEBHOOK_PATH, body }, Date.now());
  return { method: 'POST', path: WEBHOOK_PATH, headers: { ...headers, 'content-type': 'application/json' }, body };
}

async function startReceiver(receiver: Receiver, dbPath: string, core: number | undefined): Promise<{ proc: BenchProcess; url: string }> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const proc = await startEntry({ entry: receiver.entry, args: [String(port), dbPath, SECRET, url, ...(receiver.args ?? [])], core, ready: /ready/ });
  return { proc, url };
}

function dbCounts(dbPath: string, receiver: Receiver): { journaled: number; events: number } {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    if (receiver.name === 'baseline') return { journaled: (db.prepare('SELECT COUNT(*) AS n FROM batches').get() as { n: number }).n, events: 0 };
    const journaled = (db.prepare('SELECT COUNT(*) AS n FROM webhook_batches').get() as { n: number }).n;
    const events = (db.prepare('SELECT COUNT(*) AS n FROM webhook_inbox').get() as { n: number }).n;
    return { journaled, events };
  } finally {
    db.close();
  }
}

interface RepResult {
  load: LoadResult;
  /** Service only: time from the end of the load until every acknowledged batch was in the inbox. */
  drainMs: number;
  eventsStored: number;
  peakRssMiB: number | null;
}

async function throughputRep(receiver: Receiver, rep: number, options: IngestOptions): Promise<RepResult> {
  const dbPath = join(repoRoot, 'bench/tmp', `ingest-${receiver.name}-${rep}-${process.pid}.db`);
  const { proc, url } = await startReceiver(receiver, dbPath, options.serviceCore);
  const runId = rep * 4 + { service: 1, baseline: 2, routeOnly: 3, durable: 4 }[receiver.name];
  try {
    let sequence = 0;
    await closedLoop({ baseUrl: url, connections: options.connections, durationMs: options.warmupMs, next: () => signedBatch(url, sequence++, runId) });
    const load = await closedLoop({ baseUrl: url, connections: options.connections, durationMs: options.durationMs, next: () => signedBatch(url, sequence++, runId) });
    const endedAt = performance.now();
    let drainMs = 0;
    let eventsStored = 0;
    if (receiver.name === 'service' || receiver.name === 'durable') {
      for (;;) {
        const counts = dbCounts(dbPath, receiver);
        if (counts.journaled === 0) {
          eventsStored = counts.events;
          break;
        }
        await sleep(20);
      }
      drainMs = performance.now() - endedAt;
    }
    const rss = peakRssMiB(proc.pid);
    return { load, drainMs, eventsStored, peakRssMiB: rss };
  } finally {
    await proc.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  }
}

async function latencyRun(receiver: Receiver, options: IngestOptions & { latencyRate: number }): Promise<{ load: LoadResult; peakRssMiB: number | null }> {
  const dbPath = join(repoRoot, 'bench/tmp', `latency-${receiver.name}-${process.pid}.db`);
  const { proc, url } = await startReceiver(receiver, dbPath, options.serviceCore);
  try {
    let sequence = 0;
    await openLoop({ baseUrl: url, ratePerSecond: options.latencyRate, durationMs: options.warmupMs, next: () => signedBatch(url, sequence++, 90) });
    const load = await openLoop({ baseUrl: url, ratePerSecond: options.latencyRate, durationMs: options.latencyDurationMs, next: () => signedBatch(url, sequence++, 90) });
    return { load, peakRssMiB: peakRssMiB(proc.pid) };
  } finally {
    await proc.stop();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  }
}

export interface IngestResult {
  eventsPerBatch: number;
  connections: number;
  repDurationMs: number;
  service: { batchesPerSecond: Spread; eventsPerSecond: Spread; sustainedEventsPerSecond: Spread; drainMs: Spread; non2xx: number };
  baseline: { batchesPerSecond: Spread; eventsPerSecond: Spread; non2xx: number };
  ratioBatchesPerSecond: Spread;
  /** The second baseline (durableReceiver.ts): the same durable work, no framework. */
  durable: { batchesPerSecond: Spread; sustainedEventsPerSecond: Spread; drainMs: Spread; non2xx: number };
  ratioDurableBatchesPerSecond: Spread;
  ratioDurableSustainedEventsPerSecond: Spread;
  /** The service's own maximum (median closed-loop batches/s of this run) the latency rate was derived from. */
  serviceMaxBatchesPerSecond: number;
  /** The route alone (expansion held until the load ended), and its ratio to the same rep's baseline. */
  routeOnly: { batchesPerSecond: Spread; non2xx: number };
  ratioRouteOnlyBatchesPerSecond: Spread;
  latencyAt: number;
  serviceLatencyMs: LatencySummary;
  baselineLatencyMs: LatencySummary;
  servicePeakRssMiB: number | null;
}


export async function benchIngest(options: IngestOptions): Promise<IngestResult> {
  const service: RepResult[] = [];
  const baseline: RepResult[] = [];
  const routeOnly: RepResult[] = [];
  const durable: RepResult[] = [];
  for (let rep = 0; rep < options.reps; rep++) {
    const a = await throughputRep(RECEIVERS.service, rep, options);
    service.push(a);
    options.log(
      `  rep ${rep + 1} service : ${Math.round(a.load.perSecond)} batches/s (${Math.round(a.load.perSecond * EVENTS_PER_BATCH)} events/s acked), ` +
        `inbox caught up ${Math.round(a.drainMs)} ms after the load, ${a.eventsStored} events stored, non-2xx ${non2xx(a.load)}`,
    );
    const b = await throughputRep(RECEIVERS.baseline, rep, options);
    baseline.push(b);
    options.log(`  rep ${rep + 1} baseline: ${Math.round(b.load.perSecond)} batches/s, non-2xx ${non2xx(b.load)}`);
    const d = await throughputRep(RECEIVERS.durable, rep, options);
    durable.push(d);
    options.log(
      `  rep ${rep + 1} durable baseline: ${Math.round(d.load.perSecond)} batches/s, inbox caught up ${Math.round(d.drainMs)} ms after the load, ${d.eventsStored} events stored, non-2xx ${non2xx(d.load)}`,
    );
    const c = await throughputRep(RECEIVERS.routeOnly, rep, options);
    routeOnly.push(c);
    options.log(`  rep ${rep + 1} route alone (expansion held): ${Math.round(c.load.perSecond)} batches/s, non-2xx ${non2xx(c.load)}`);
  }
  const serviceMax = spread(service.map((r) => r.load.perSecond)).median;
  const latencyRate = options.latencyRate === 'half-max' ? Math.max(1, Math.round(serviceMax / 2)) : options.latencyRate;
  const latencyOptions = { ...options, latencyRate };
  options.log(`  service maximum ${Math.round(serviceMax)} batches/s (closed loop, median): ack latency measured open loop at ${latencyRate}/s`);
  const svcLatency = await latencyRun(RECEIVERS.service, latencyOptions);
  options.log(`  service  open loop ${latencyRate}/s: p50 ${svcLatency.load.latencyMs.p50.toFixed(2)} ms, p99 ${svcLatency.load.latencyMs.p99.toFixed(2)} ms`);
  const baseLatency = await latencyRun(RECEIVERS.baseline, latencyOptions);
  options.log(`  baseline open loop ${latencyRate}/s: p50 ${baseLatency.load.latencyMs.p50.toFixed(2)} ms, p99 ${baseLatency.load.latencyMs.p99.toFixed(2)} ms`);

  const durationS = options.durationMs / 1000;
  const rss = [...service.map((r) => r.peakRssMiB), svcLatency.peakRssMiB].filter((v): v is number => v !== null);
  return {
    eventsPerBatch: EVENTS_PER_BATCH,
    connections: options.connections,
    repDurationMs: options.durationMs,
    service: {
      batchesPerSecond: spread(service.map((r) => r.load.perSecond)),
      eventsPerSecond: spread(service.map((r) => r.load.perSecond * EVENTS_PER_BATCH)),
      // Acknowledged and expanded into the deduplicated inbox, including the catch-up after the load.
      sustainedEventsPerSecond: spread(service.map((r) => (r.load.ok * EVENTS_PER_BATCH) / (durationS + r.drainMs / 1000))),
      drainMs: spread(service.map((r) => r.drainMs)),
      non2xx: service.reduce((n, r) => n + non2xx(r.load), 0),
    },
    baseline: {
      batchesPerSecond: spread(baseline.map((r) => r.load.perSecond)),
      eventsPerSecond: spread(baseline.map((r) => r.load.perSecond * EVENTS_PER_BATCH)),
      non2xx: baseline.reduce((n, r) => n + non2xx(r.load), 0),
    },
    ratioBatchesPerSecond: spread(service.map((r, i) => r.load.perSecond / (baseline[i]?.load.perSecond ?? NaN))),
    durable: {
      batchesPerSecond: spread(durable.map((r) => r.load.perSecond)),
      sustainedEventsPerSecond: spread(durable.map((r) => (r.load.ok * EVENTS_PER_BATCH) / (durationS + r.drainMs / 1000))),
      drainMs: spread(durable.map((r) => r.drainMs)),
      non2xx: durable.reduce((n, r) => n + non2xx(r.load), 0),
    },
    ratioDurableBatchesPerSecond: spread(service.map((r, i) => r.load.perSecond / (durable[i]?.load.perSecond ?? NaN))),
    ratioDurableSustainedEventsPerSecond: spread(
      service.map((r, i) => {
        const d = durable[i];
        return d ? (r.load.ok / (durationS + r.drainMs / 1000)) / (d.load.ok / (durationS + d.drainMs / 1000)) : NaN;
      }),
    ),
    serviceMaxBatchesPerSecond: round(serviceMax, 1),
    routeOnly: { batchesPerSecond: spread(routeOnly.map((r) => r.load.perSecond)), non2xx: routeOnly.reduce((n, r) => n + non2xx(r.load), 0) },
    ratioRouteOnlyBatchesPerSecond: spread(routeOnly.map((r, i) => r.load.perSecond / (baseline[i]?.load.perSecond ?? NaN))),
    latencyAt: latencyRate,
    serviceLatencyMs: latencySummary(svcLatency.load),
    baselineLatencyMs: latencySummary(baseLatency.load),
    servicePeakRssMiB: rss.length > 0 ? Math.max(...rss) : null,
  };
}
