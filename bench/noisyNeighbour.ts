/**
 * Noisy neighbour (issue 12): two HubSpot accounts installed in one Dealgate through OAuth (each
 * its own simulator, behind the reliability suite's router, as tests/reliability/twoAccounts.ts),
 * the service as deployed (src/server/main.ts, its own process, pinned; production HubSpot budget
 * of 90 calls per 10 s per account). Account A delivers a 100,000-event import at full speed:
 * signed batches of 100 deal property changes (10 properties of each of 10,000 deals A holds, below
 * the gate's threshold) POSTed by 16 connections in a closed loop, as the ingest benchmark does.
 * Meanwhile account B's rep moves gated deals past the gate, one every `moveEveryMs`, from the
 * start of A's import until A's last event is handled; each move's figure is the time from its
 * webhook's arrival at the service to the revert reaching B's simulator (as the gate-reaction
 * benchmark). Baseline, same run: the same B moves with A idle, before the import.
 */
import { randomBytes } from 'node:crypto';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startSimulator, type Simulator } from '../src/simulator';
import { DEALGATE_PROPERTIES, DEALGATE_PROPERTY_GROUP } from '../src/server/application/dealgateProperties';
import { CALLBACK_PATH, INSTALL_PATH } from '../src/server/http/oauthRoutes';
import { signedHeaders } from '../src/server/hubspot/signature';
import { startRouter, type Router } from '../tests/reliability/twoAccounts';
import { closedLoop, non2xx, percentile, type BenchRequest, type LoadResult } from './lib/load';
import { freePort, repoRoot, startEntry, type BenchProcess } from './lib/processes';
import { sleep } from './lib/stats';
import { GATE_STAGE, PAST_GATE, THRESHOLD, waitReady } from './lib/world';

const PORTAL_A = 24_681_357;
const PORTAL_B = 35_792_468;
const REP = 1001;
const ADMIN = 1003;
const EVENTS_PER_BATCH = 100;
const PROPERTIES = ['amount', 'dealname', 'closedate', 'description', 'hs_priority', 'hs_next_step', 'dealtype', 'hs_forecast_probability', 'hs_deal_stage_probability', 'notes_last_updated'];

export interface NeighbourOptions {
  importEvents: number;
  importDeals: number;
  connections: number;
  moveEveryMs: number;
  baselineMoves: number;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

export interface MoveSummary {
  n: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  /** Moves not reverted within the wait (counted in the percentiles at the wait's length). */
  notReverted: number;
}

export interface NeighbourResult {
  importEvents: number;
  importBatchesPerSecond: number;
  importDeliverySeconds: number;
  /** From the first batch until every A event was handled (done or parked). */
  importHandledSeconds: number;
  importNon2xx: number;
  during: MoveSummary;
  idle: MoveSummary;
}

function summary(values: number[], notReverted: number): MoveSummary {
  const sorted = [...values].sort((a, b) => a - b);
  return { n: sorted.length, p50: percentile(sorted, 50), p90: percentile(sorted, 90), p99: percentile(sorted, 99), max: sorted[sorted.length - 1] ?? NaN, notReverted };
}

function seedProperties(sim: Simulator): void {
  sim.seedPropertyGroup('deals', DEALGATE_PROPERTY_GROUP);
  for (const p of DEALGATE_PROPERTIES) {
    sim.seedProperty('deals', { name: p.name, label: p.label, type: p.type, fieldType: p.fieldType, groupName: DEALGATE_PROPERTY_GROUP.name, description: p.description, ...(p.options ? { options: p.options } : {}) });
  }
}

async function install(url: string, router: Router, sim: Simulator, userId: number): Promise<void> {
  const start = await fetch(url + INSTALL_PATH, { redirect: 'manual' });
  const authorize = new URL(start.headers.get('location') ?? '');
  const redirectUri = authorize.searchParams.get('redirect_uri') ?? '';
  const code = sim.issueAuthorizationCode({ redirectUri, userId });
  router.ownsCode(code, sim);
  const callback = new URL(redirectUri);
  callback.searchParams.set('code', code);
  callback.searchParams.set('state', authorize.searchParams.get('state') ?? '');
  if (!callback.toString().startsWith(url + CALLBACK_PATH)) throw new Error(`unexpected redirect_uri ${redirectUri}`);
  const cookie = start.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
  const answer = await fetch(callback, { headers: { cookie } });
  if (answer.status !== 200) throw new Error(`installing account ${sim.portalId} answered ${answer.status}: ${await answer.text()}`);
}

/** When the webhook carrying this deal's move to `stage` first reached the service. */
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

/**
 * Moves B's deals past the gate, one every `everyMs`, until `keepGoing` says stop, then waits
 * (up to `waitMs`) for every one to be back; returns arrival -> revert for each.
 */
async function movesOfB(simB: Simulator, deals: string[], everyMs: number, keepGoing: (moved: number) => boolean, waitMs: number): Promise<{ ms: number[]; notReverted: number }> {
  const moved: { id: string; at: number }[] = [];
  const reverted = new Map<string, number>();
  let next = 0;
  const poll = () => {
    for (const m of moved) {
      if (reverted.has(m.id)) continue;
      if (simB.getDeal(m.id)?.properties.dealstage === GATE_STAGE) {
        const revert = simB.dealHistory(m.id, 'dealstage').find((h) => h.value === GATE_STAGE && h.timestamp >= m.at);
        if (revert) reverted.set(m.id, revert.timestamp);
      }
    }
  };
  let started = performance.now();
  while (keepGoing(moved.length) && next < deals.length) {
    const id = deals[next++] as string;
    const record = simB.moveDealToStage(id, PAST_GATE, { userId: REP });
    moved.push({ id, at: record.updatedAt });
    simB.webhooks.flush();
    started += everyMs;
    while (performance.now() < started) {
      poll();
      await sleep(1);
    }
  }
  const deadline = performance.now() + waitMs;
  while (reverted.size < moved.length && performance.now() < deadline) {
    poll();
    await sleep(2);
  }
  await simB.webhooks.idle();
  const ms: number[] = [];
  let notReverted = 0;
  for (const m of moved) {
    const arrival = arrivalOf(simB, m.id, PAST_GATE, m.at);
    const revert = reverted.get(m.id);
    if (revert === undefined || arrival === undefined) {
      notReverted += 1;
      ms.push(waitMs);
    } else ms.push(revert - arrival);
  }
  return { ms, notReverted };
}

function importBatch(url: string, secret: string, appId: number, sequence: number, dealIds: string[]): BenchRequest {
  const events: string[] = [];
  const occurredAt = Date.now();
  for (let i = 0; i < EVENTS_PER_BATCH; i++) {
    const n = sequence * EVENTS_PER_BATCH + i;
    const dealId = dealIds[Math.floor(n / PROPERTIES.length) % dealIds.length] as string;
    const property = PROPERTIES[n % PROPERTIES.length] as string;
    const value = property === 'amount' ? String(1_000 + (n % 9_000)) : `import value ${n}`;
    events.push(
      `{"eventId":${900_000_000 + n},"subscriptionId":2101,"portalId":${PORTAL_A},"appId":${appId},"occurredAt":${occurredAt},` +
        `"subscriptionType":"deal.propertyChange","attemptNumber":0,"objectId":${dealId},"propertyName":"${property}","propertyValue":${JSON.stringify(value)},` +
        `"changeSource":"IMPORT","sourceId":"userId:${REP}","isSensitive":false}`,
    );
  }
  const body = `[${events.join(',')}]`;
  const headers = signedHeaders(secret, { method: 'POST', uri: url + '/webhooks/hubspot', body }, Date.now());
  return { method: 'POST', path: '/webhooks/hubspot', headers: { ...headers, 'content-type': 'application/json' }, body };
}

/** The two accounts, each its own simulator, both behind the router; their webhooks go to the service at `url`. */
async function startAccounts(router: Router, url: string): Promise<{ simA: Simulator; simB: Simulator }> {
  const owners = [
    { email: 'rep@example.com', firstName: 'Riley', lastName: 'Rep', userId: REP },
    { email: 'admin@example.com', firstName: 'Morgan', lastName: 'Ops', userId: ADMIN },
  ];
  const simA = await startSimulator({ portalId: PORTAL_A, owners, webhookTargetUrl: `${url}/webhooks/hubspot` });
  const simB = await startSimulator({ portalId: PORTAL_B, appId: simA.appId, clientId: simA.clientId, clientSecret: simA.clientSecret, owners, webhookTargetUrl: `${url}/webhooks/hubspot` });
  router.route(simA);
  router.route(simB);
  return { simA, simB };
}

/** B's gated deals (enough for every move of the run) and A's deals for the import; returns once real time has caught up with the simulators. */
async function seedDeals(simA: Simulator, simB: Simulator, options: NeighbourOptions): Promise<{ aDeals: string[]; bDeals: string[] }> {
  for (const sim of [simA, simB]) seedProperties(sim);
  const gated = { amount: '80000', dealstage: GATE_STAGE, pipeline: 'default', dealgate_commitment: 'true', dealgate_commitment_summary: 'Custom SSO', dealgate_effort_weeks: '3' };
  const moves = Math.ceil(60_000 / options.moveEveryMs) + options.baselineMoves + 20;
  const bDeals = Array.from({ length: moves }, (_, i) => simB.seedDeal({ properties: { ...gated, dealname: `B gated deal ${i}` }, userId: REP }).id);
  const aDeals = Array.from({ length: options.importDeals }, (_, i) =>
    simA.seedDeal({ properties: { dealname: `A imported deal ${i}`, amount: '5000', dealstage: 'appointmentscheduled', pipeline: 'default' }, userId: REP }).id,
  );
  // The simulator gives each change its own millisecond: wait until real time has caught up.
  const ahead = Math.max(...bDeals.map((id) => simB.getDeal(id)?.updatedAt ?? 0));
  while (Date.now() <= ahead + 20) await sleep(10);
  simB.webhooks.configure({ batchWindowMs: 1 });
  return { aDeals, bDeals };
}

/** Where the run happens: the service's address and database, the router, the two accounts. */
interface Neighbourhood {
  url: string;
  port: number;
  dbPath: string;
  router: Router;
  simA: Simulator;
  simB: Simulator;
}

/** The service as deployed (src/server/main.ts, its own process), with the production HubSpot budget. */
function startService({ url, port, dbPath, router, simA }: Neighbourhood, options: NeighbourOptions): Promise<BenchProcess> {
  return startEntry({
    entry: 'src/server/main.ts',
    core: options.serviceCore,
    ready: null,
    env: {
      PORT: String(port),
      PUBLIC_BASE_URL: url,
      DATABASE_PATH: dbPath,
      HUBSPOT_CLIENT_ID: simA.clientId,
      HUBSPOT_CLIENT_SECRET: simA.clientSecret,
      HUBSPOT_API_BASE_URL: router.url,
      DEALGATE_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DEALGATE_VALUE_THRESHOLD: String(THRESHOLD),
      DEALGATE_ADMINS: String(ADMIN),
      DEALGATE_REVIEWERS: '1002',
      LOG_LEVEL: 'warn',
    },
  });
}

async function installBoth({ url, router, simA, simB }: Neighbourhood): Promise<void> {
  await waitReady(url);
  await install(url, router, simA, ADMIN);
  await install(url, router, simB, ADMIN);
}

/** Warm-up (B's first moves provision the account: properties, pipelines; JIT), then the baseline: B's moves with A idle. */
async function movesOfBAlone(simB: Simulator, bDeals: string[], options: NeighbourOptions): Promise<MoveSummary> {
  const warm = await movesOfB(simB, bDeals.splice(0, 10), 50, () => true, 10_000);
  options.log(`  warm-up: ${warm.ms.length} B moves, ${warm.notReverted} not reverted`);
  const idle = await movesOfB(simB, bDeals.splice(0, options.baselineMoves), options.moveEveryMs, () => true, 10_000);
  const idleSummary = summary(idle.ms, idle.notReverted);
  options.log(`  B alone: p50 ${idleSummary.p50} / p99 ${idleSummary.p99} / max ${idleSummary.max} ms (n = ${idleSummary.n})`);
  return idleSummary;
}

/** A's import under way: delivered by a closed loop, and watched in the service's database until every A event is handled. */
interface ImportRun {
  started: number;
  delivery: Promise<LoadResult>;
  /** Resolves once every A event was handled (none pending, the journal empty) or after 300 s. */
  watcher: Promise<void>;
  deliveredAt(): number;
  handledAt(): number | undefined;
}

function startImport({ url, simA }: Neighbourhood, options: NeighbourOptions, aDeals: string[], inbox: Database.Database): ImportRun {
  const aUnhandled = inbox.prepare<[number], { n: number }>(`SELECT COUNT(*) AS n FROM webhook_inbox WHERE portal_id = ? AND status = 'pending'`);
  const journal = inbox.prepare<[], { n: number }>('SELECT COUNT(*) AS n FROM webhook_batches');
  const batches = Math.ceil(options.importEvents / EVENTS_PER_BATCH);
  let sequence = 0;
  const importStarted = performance.now();
  let delivered = false;
  let handledAt: number | undefined;
  let deliveredAt = importStarted;
  const delivery = (async () => {
    const result = await closedLoop({
      baseUrl: url,
      connections: options.connections,
      durationMs: 600_000,
      next: () => importBatch(url, simA.clientSecret, simA.appId, sequence++, aDeals),
      stopAfter: batches,
    });
    delivered = true;
    deliveredAt = performance.now();
    return result;
  })();
  const watcher = (async () => {
    for (;;) {
      await sleep(20);
      if (delivered && journal.get()?.n === 0 && aUnhandled.get(PORTAL_A)?.n === 0) {
        handledAt = performance.now();
        return;
      }
      if (performance.now() - importStarted > 300_000) return;
    }
  })();
  return { started: importStarted, delivery, watcher, deliveredAt: () => deliveredAt, handledAt: () => handledAt };
}

/** A's import, and B's moves while it is delivered and handled. */
async function movesOfBDuringImport(place: Neighbourhood, options: NeighbourOptions, aDeals: string[], bDeals: string[]): Promise<Omit<NeighbourResult, 'idle'>> {
  const inbox = new Database(place.dbPath, { readonly: true, fileMustExist: true });
  const run = startImport(place, options, aDeals, inbox);
  const during = await movesOfB(place.simB, bDeals, options.moveEveryMs, () => run.handledAt() === undefined && performance.now() - run.started < 300_000, 60_000);
  const load = await run.delivery;
  await run.watcher;
  inbox.close();
  const duringSummary = summary(during.ms, during.notReverted);
  const deliverySeconds = (run.deliveredAt() - run.started) / 1000;
  const handledSeconds = ((run.handledAt() ?? performance.now()) - run.started) / 1000;
  options.log(
    `  A's import: ${load.ok * EVENTS_PER_BATCH} events acknowledged in ${deliverySeconds.toFixed(1)} s (${Math.round(load.perSecond)} batches/s, non-2xx ${non2xx(load)}), all handled after ${handledSeconds.toFixed(1)} s`,
  );
  options.log(`  B during A's import: p50 ${duringSummary.p50} / p99 ${duringSummary.p99} / max ${duringSummary.max} ms (n = ${duringSummary.n}, ${duringSummary.notReverted} not reverted within 60 s)`);
  return {
    importEvents: load.ok * EVENTS_PER_BATCH,
    importBatchesPerSecond: Math.round(load.perSecond),
    importDeliverySeconds: Math.round(deliverySeconds * 10) / 10,
    importHandledSeconds: Math.round(handledSeconds * 10) / 10,
    importNon2xx: non2xx(load),
    during: duringSummary,
  };
}

export async function benchNoisyNeighbour(options: NeighbourOptions): Promise<NeighbourResult> {
  const router = await startRouter();
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const { simA, simB } = await startAccounts(router, url);
  const dbPath = join(repoRoot, 'bench/tmp', `neighbour-${process.pid}-${port}.db`);
  const place: Neighbourhood = { url, port, dbPath, router, simA, simB };
  let service: BenchProcess | undefined;
  try {
    const { aDeals, bDeals } = await seedDeals(simA, simB, options);
    service = await startService(place, options);
    await installBoth(place);
    const idle = await movesOfBAlone(simB, bDeals, options);
    return { ...(await movesOfBDuringImport(place, options, aDeals, bDeals)), idle };
  } finally {
    await service?.stop();
    await simA.stop();
    await simB.stop();
    await router.close();
    for (const suffix of ['', '-wal', '-shm']) rmSync(dbPath + suffix, { force: true });
  }
}
