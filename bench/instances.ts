/**
 * Instances (issue 13): the same deployment (real `main` processes behind a round-robin load
 * balancer, one account installed through OAuth, HubSpot at its real 110 calls per 10 s) in three
 * setups measured in one run, interleaved per repetition: one instance on SQLite, one on
 * PostgreSQL, two on PostgreSQL. Each run measures, in this order:
 * - card load: signed `GET /api/v1/deals/:id/gate` at a constant rate (open loop) over deals whose
 *   snapshots the service holds, p50/p99;
 * - gate reaction: single moves past the gate one at a time, paced within the account's HubSpot
 *   budget, from the webhook's delivery start to the revert at HubSpot (as the gate section);
 * - ingest: signed batches of 100 events (closed loop) until a fixed count is acknowledged:
 *   acknowledged batches/s, and events/s until every event is applied (journal and inbox empty).
 * And what several instances must keep: notes per reverted move (1) and 429s answered (0).
 * On this machine every instance shares core 1 (taskset) and PostgreSQL runs beside the load
 * generator: the figures show what PostgreSQL's round trips cost against SQLite and that a second
 * instance keeps the effects single, not that it adds capacity.
 */
import { signedHeaders } from '../src/server/hubspot/signature';
import { WEBHOOK_PATH } from '../src/server/http/webhookRoute';
import { startInstanceCluster, type ClusterAccount, type InstanceCluster } from '../tests/support/instanceCluster';
import { signedCardLoad } from './cardLoad';
import { oneMove } from './gateReaction';
import { closedLoop, latencySummary, openLoop, percentile, type BenchRequest, type LatencySummary } from './lib/load';
import { fmt, round, sleep, spread, type Spread } from './lib/stats';
import { BEFORE_GATE, GATE_STAGE, REP, REVIEWER, until } from './lib/world';
import type { Section } from './report';

export interface InstancesOptions {
  reps: number;
  cardRate: number;
  cardDurationMs: number;
  gateMoves: number;
  /** A move costs up to three HubSpot calls (read, revert, note): 400 ms apart stays under 90 calls per 10 s. */
  gatePaceMs: number;
  ingestBatches: number;
  connections: number;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

const SETUPS = [
  { name: 'sqlite-1', store: 'sqlite', instances: 1 },
  { name: 'postgres-1', store: 'postgres', instances: 1 },
  { name: 'postgres-2', store: 'postgres', instances: 2 },
] as const;
type SetupName = (typeof SETUPS)[number]['name'];

interface RunFigures {
  card: LatencySummary & { hubspotCallsPerLoad: number };
  gateMs: { p50: number; p99: number; n: number; missed: number };
  ingestAckedBatchesPerSecond: number;
  ingestAppliedEventsPerSecond: number;
  notesPerMove: number;
  answered429: number;
}

export interface SetupResult {
  card: { p50: Spread; p99: Spread; non2xx: number; hubspotCallsPerLoad: number[] };
  gate: { p50: Spread; p99: Spread; missed: number };
  ingestAckedBatchesPerSecond: Spread;
  ingestAppliedEventsPerSecond: Spread;
  notesPerMove: number[];
  answered429: number;
}

export type InstancesResult = Record<SetupName, SetupResult> & { options: Omit<InstancesOptions, 'log' | 'serviceCore'> };

const EVENTS_PER_BATCH = 100;

/** A signed batch of 100 amount changes under the threshold on the account's deals (no gate effect, no HubSpot write). */
function ingestBatch(cluster: InstanceCluster, account: ClusterAccount, dealIds: string[], runId: number, sequence: number): BenchRequest {
  const events: string[] = [];
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    const n = sequence * EVENTS_PER_BATCH + i;
    events.push(
      `{"eventId":${runId * 10_000_000 + n},"subscriptionId":2102,"portalId":${account.portalId},"appId":${account.sim.appId},"occurredAt":${Date.now()},` +
        `"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":${dealIds[n % dealIds.length]},"propertyName":"amount","propertyValue":"${1_000 + (n % 9_000)}",` +
        `"changeSource":"CRM_UI","sourceId":"userId:${REP.userId}","isSensitive":false}`,
    );
  }
  const body = `[${events.join(',')}]`;
  const headers = signedHeaders(account.sim.clientSecret, { method: 'POST', uri: cluster.balancer.url + WEBHOOK_PATH, body }, Date.now());
  return { method: 'POST', path: WEBHOOK_PATH, headers: { ...headers, 'content-type': 'application/json' }, body };
}

async function measureCard(cluster: InstanceCluster, account: ClusterAccount, dealIds: string[], options: InstancesOptions): Promise<LatencySummary & { hubspotCallsPerLoad: number }> {
  const users = [REP.userId, REVIEWER.userId];
  const next = (i: number) => signedCardLoad(account.sim, cluster.balancer.url, dealIds[i % dealIds.length] as string, users[i % users.length] as number);
  // Each deal's first load reads it from HubSpot and keeps the snapshot: slowly, within the budget.
  await openLoop({ baseUrl: cluster.balancer.url, ratePerSecond: 5, durationMs: (dealIds.length * 1000) / 5, next });
  await openLoop({ baseUrl: cluster.balancer.url, ratePerSecond: options.cardRate, durationMs: 2_000, next });
  const callsBefore = account.sim.requests.count();
  const load = await openLoop({ baseUrl: cluster.balancer.url, ratePerSecond: options.cardRate, durationMs: options.cardDurationMs, next });
  return { ...latencySummary(load), hubspotCallsPerLoad: round((account.sim.requests.count() - callsBefore) / load.requests, 3) };
}

async function measureGate(account: ClusterAccount, dealIds: string[], options: InstancesOptions): Promise<RunFigures['gateMs'] & { notesPerMove: number }> {
  account.sim.webhooks.configure({ batchWindowMs: 1 });
  const times: number[] = [];
  let missed = 0;
  for (const id of dealIds) {
    const started = Date.now();
    const ms = await oneMove(account.sim, id);
    if (ms === undefined) missed += 1;
    else times.push(ms);
    await sleep(Math.max(0, options.gatePaceMs - (Date.now() - started)));
  }
  await until(() => dealIds.every((id) => account.sim.notesForDeal(id).length >= 1), 30_000, 'every violation note').catch(() => undefined);
  const notes = dealIds.reduce((n, id) => n + account.sim.notesForDeal(id).length, 0);
  const sorted = times.sort((a, b) => a - b);
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), n: sorted.length, missed, notesPerMove: round(notes / dealIds.length, 3) };
}

async function measureIngest(cluster: InstanceCluster, account: ClusterAccount, dealIds: string[], runId: number, options: InstancesOptions) {
  const started = performance.now();
  const load = await closedLoop({
    baseUrl: cluster.balancer.url,
    connections: options.connections,
    durationMs: 300_000,
    stopAfter: options.ingestBatches,
    next: (sequence) => ingestBatch(cluster, account, dealIds, runId, sequence),
  });
  const deadline = Date.now() + 300_000;
  for (;;) {
    const left = await cluster.backlog();
    if (left.journal + left.inbox === 0) break;
    if (Date.now() > deadline) throw new Error(`ingest not applied after 300 s: ${left.journal} journaled batches, ${left.inbox} inbox events pending`);
    await sleep(20);
  }
  const appliedSeconds = (performance.now() - started) / 1000;
  return { ackedBatchesPerSecond: load.perSecond, appliedEventsPerSecond: (load.ok * EVENTS_PER_BATCH) / appliedSeconds, non2xx: load.requests - load.ok };
}

async function measureSetup(setup: (typeof SETUPS)[number], runId: number, options: InstancesOptions): Promise<RunFigures> {
  const cluster = await startInstanceCluster({ instances: setup.instances, accounts: 1, store: setup.store, core: options.serviceCore });
  try {
    const account = cluster.accounts[0] as ClusterAccount;
    const cardDeals = Array.from({ length: 30 }, () => account.seedGatedDeal(BEFORE_GATE));
    const gateDeals = Array.from({ length: options.gateMoves }, () => account.seedGatedDeal(GATE_STAGE));
    // The simulator gives each change its own millisecond: wait until real time has caught up, so history times are real times.
    const ahead = Math.max(...[...cardDeals, ...gateDeals].map((id) => account.sim.getDeal(id)?.updatedAt ?? 0));
    await until(() => Date.now() > ahead + 20, 60_000, 'the simulator clock caught up', 10);
    const card = await measureCard(cluster, account, cardDeals, options);
    const gate = await measureGate(account, gateDeals, options);
    const ingest = await measureIngest(cluster, account, cardDeals, runId, options);
    const answered429 = account.sim.requests.all().filter((r) => r.status === 429).length;
    options.log(
      `  ${setup.name}: card p50 ${card.p50.toFixed(2)} / p99 ${card.p99.toFixed(2)} ms (non-2xx ${card.non2xx}, ${card.hubspotCallsPerLoad} HubSpot calls per load); gate p50 ${gate.p50} / p99 ${gate.p99} ms (${gate.missed} missed, ${gate.notesPerMove} notes per move); ` +
        `ingest ${Math.round(ingest.ackedBatchesPerSecond)} batches/s acked, ${Math.round(ingest.appliedEventsPerSecond)} events/s applied (non-2xx ${ingest.non2xx}); 429s ${answered429}`,
    );
    return {
      card,
      gateMs: { p50: gate.p50, p99: gate.p99, n: gate.n, missed: gate.missed },
      ingestAckedBatchesPerSecond: ingest.ackedBatchesPerSecond,
      ingestAppliedEventsPerSecond: ingest.appliedEventsPerSecond,
      notesPerMove: gate.notesPerMove,
      answered429,
    };
  } finally {
    await cluster.stop();
  }
}

function setupResult(runs: RunFigures[]): SetupResult {
  return {
    card: { p50: spread(runs.map((r) => r.card.p50)), p99: spread(runs.map((r) => r.card.p99)), non2xx: runs.reduce((n, r) => n + r.card.non2xx, 0), hubspotCallsPerLoad: runs.map((r) => r.card.hubspotCallsPerLoad) },
    gate: { p50: spread(runs.map((r) => r.gateMs.p50)), p99: spread(runs.map((r) => r.gateMs.p99)), missed: runs.reduce((n, r) => n + r.gateMs.missed, 0) },
    ingestAckedBatchesPerSecond: spread(runs.map((r) => round(r.ingestAckedBatchesPerSecond, 1))),
    ingestAppliedEventsPerSecond: spread(runs.map((r) => round(r.ingestAppliedEventsPerSecond, 0))),
    notesPerMove: runs.map((r) => r.notesPerMove),
    answered429: runs.reduce((n, r) => n + r.answered429, 0),
  };
}

export async function benchInstances(options: InstancesOptions): Promise<InstancesResult> {
  const runs: Record<SetupName, RunFigures[]> = { 'sqlite-1': [], 'postgres-1': [], 'postgres-2': [] };
  for (let rep = 0; rep < options.reps; rep++) {
    options.log(` rep ${rep + 1}/${options.reps}`);
    for (const [i, setup] of SETUPS.entries()) runs[setup.name].push(await measureSetup(setup, rep * SETUPS.length + i + 1, options));
  }
  const { log: _log, serviceCore: _core, ...recorded } = options;
  return { 'sqlite-1': setupResult(runs['sqlite-1']), 'postgres-1': setupResult(runs['postgres-1']), 'postgres-2': setupResult(runs['postgres-2']), options: recorded };
}

const ratio = (a: Spread, b: Spread) => fmt(a.median / b.median, 2);

export function instancesSection(r: InstancesResult): Section {
  const s = r['sqlite-1'];
  const p1 = r['postgres-1'];
  const p2 = r['postgres-2'];
  const line = (x: SetupResult) =>
    `card p50/p99 ${fmt(x.card.p50.median, 2)}/${fmt(x.card.p99.median, 2)} ms (HubSpot calls per load ${x.card.hubspotCallsPerLoad.join(', ')}); gate p50/p99 ${fmt(x.gate.p50.median)}/${fmt(x.gate.p99.median)} ms; ` +
    `ingest ${fmt(x.ingestAckedBatchesPerSecond.median)} batches/s acked, ${fmt(x.ingestAppliedEventsPerSecond.median)} events/s applied; notes per move ${x.notesPerMove.join(', ')}; 429s ${x.answered429}`;
  return {
    title: 'Instances',
    figures: [
      { name: `PostgreSQL, one instance (median of ${p1.card.p50.runs.length})`, value: line(p1), baseline: `SQLite, one instance: ${line(s)}` },
      {
        name: 'PostgreSQL one instance against SQLite: card p99, gate p50, ingest acked, ingest applied',
        value: `${ratio(p1.card.p99, s.card.p99)}, ${ratio(p1.gate.p50, s.gate.p50)}, ${ratio(p1.ingestAckedBatchesPerSecond, s.ingestAckedBatchesPerSecond)}, ${ratio(p1.ingestAppliedEventsPerSecond, s.ingestAppliedEventsPerSecond)}`,
      },
      { name: 'PostgreSQL, two instances', value: line(p2), baseline: `PostgreSQL, one instance: ${line(p1)}` },
      {
        name: 'two instances against one: card p99, gate p50, ingest acked, ingest applied',
        value: `${ratio(p2.card.p99, p1.card.p99)}, ${ratio(p2.gate.p50, p1.gate.p50)}, ${ratio(p2.ingestAckedBatchesPerSecond, p1.ingestAckedBatchesPerSecond)}, ${ratio(p2.ingestAppliedEventsPerSecond, p1.ingestAppliedEventsPerSecond)}`,
      },
    ],
    targets: [
      { what: 'notes per reverted move, every setup', target: '= 1', measured: [s, p1, p2].map((x) => x.notesPerMove.join('/')).join(' | '), met: [s, p1, p2].every((x) => x.notesPerMove.every((n) => n === 1)) },
      { what: '429s answered by HubSpot, every setup', target: '= 0', measured: [s, p1, p2].map((x) => x.answered429).join(' | '), met: [s, p1, p2].every((x) => x.answered429 === 0) },
    ],
    details: r,
  };
}
