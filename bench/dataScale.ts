/**
 * Data scale (issue 12): the card load (signed `GET /api/v1/deals/:id/gate`, as cardLoad.ts) and
 * the home page (signed `GET /api/v1/dashboard`, an admin) of one account holding 1,000,000 deals,
 * 200,000 reviews (with their decisions) and 2,000,000 audit rows, against the same two figures of
 * an account 100 times smaller (10,000 deals, 2,000 reviews, 20,000 audit rows), both services up
 * at once on the same core and measured interleaved (small, large, small, large), same run.
 *
 * The rows are written straight into each service's SQLite database before it starts (multi-row
 * INSERTs, one transaction), with the capacity ledger on (so the card and the home page compute
 * it). 2% of the reviews wait (pending or overdue), the rest are decided over the last three
 * years. The 50 deals whose cards are loaded live in the simulator too (their first load reads them
 * from HubSpot, as cardLoad.ts) and carry reviews and audit rows of their own like any other.
 *
 * After the loads, the statements the card and the home page run are captured in this process
 * (getGate and buildDashboard over the large database, every prepared statement they
 * execute recorded with its parameters) and each one's EXPLAIN QUERY PLAN is recorded: a plan
 * that SCANs a table (rather than SEARCHing an index) is listed as a scan.
 */
import { readFileSync, rmSync } from 'node:fs';
import { loadavg } from 'node:os';
import type { GateContext } from '../src/server/application/context';
import type { HubSpotGateway } from '../src/server/hubspot/gateway';
import { silentLogger } from '../src/server/shared/logger';
import type { Statement } from 'better-sqlite3';
import { recordQueryPlans, type QueryPlan } from '../tests/support/queryPlans';
import { signedHeaders } from '../src/server/hubspot/signature';
import { createDb, type Db } from '../src/server/storage/db';
import { migrations } from '../src/server/storage/migrations';
import { createSqliteStore } from '../src/server/storage/sqliteStore';
import { getGate } from '../src/server/application/gateService';
import { buildDashboard } from '../src/server/application/dashboard';
import { quarterBounds, quarterOf } from '../src/server/domain/capacityLedger';
import { latencySummary, openLoop, type BenchRequest, type LatencySummary } from './lib/load';
import { ADMIN, BEFORE_GATE, REP, REVIEWER, ESCALATION, THRESHOLD, startWorld, type World } from './lib/world';

export interface Scale {
  deals: number;
  reviews: number;
  audit: number;
}
export const LARGE: Scale = { deals: 1_000_000, reviews: 200_000, audit: 2_000_000 };
export const SMALL: Scale = { deals: 10_000, reviews: 2_000, audit: 20_000 };

export interface DataScaleOptions {
  small: Scale;
  large: Scale;
  cardRate: number;
  homeRate: number;
  durationMs: number;
  warmupMs: number;
  reps: number;
  measuredDeals: number;
  serviceCore: number | undefined;
  log: (line: string) => void;
}

export interface ScaleFigures {
  scale: Scale;
  seedSeconds: number;
  dbMiB: number;
  card: LatencySummary[];
  home: LatencySummary[];
  /** Calls the service made to HubSpot (the simulator) during the measured loads: the card of a held deal makes none. */
  hubspotCalls: number;
  /**
   * The card's own work without HTTP: µs per getGate in this process over the service's database
   * once it stopped (1,000 loads of the measured deals, median of 3), to tell the product's cost
   * from the machine's and the transport's.
   */
  inProcessCardMicros: number;
  /**
   * The service process's CPU time (user + system, from /proc) per card load over the measured
   * card loads: what a load costs the core whatever else the machine runs, HTTP included.
   */
  serviceCpuMicrosPerCard: number | null;
}

export interface DataScaleResult {
  cardRate: number;
  homeRate: number;
  small: ScaleFigures;
  large: ScaleFigures;
  plans: { card: QueryPlan[]; home: QueryPlan[] };
  /** The 1-minute load average (`uptime`) after each rep: the machine is shared. */
  loadAverages: number[];
}

const DAY = 86_400_000;
/** Closed reviews of the current quarter, and reviews waiting now, at every scale (see seedAccount). */
export const QUARTER_REVIEWS = 400;
export const WAITING_REVIEWS = 100;
const CLOSED = ['approved', 'approved_with_conditions', 'rejected', 'withdrawn'] as const;

/** Multi-row INSERTs of `rows` (each an array of column values), 100 rows per statement. */
function insertMany(db: ReturnType<typeof createDb>, table: string, columns: string[], count: number, row: (i: number) => unknown[]): void {
  const per = 100;
  const statements = new Map<number, Statement<unknown[]>>();
  const statementFor = (n: number) => {
    let s = statements.get(n);
    if (!s) {
      const one = `(${columns.map(() => '?').join(', ')})`;
      s = db.prepare<unknown[]>(`INSERT INTO ${table} (${columns.join(', ')}) VALUES ${Array.from({ length: n }, () => one).join(', ')}`);
      statements.set(n, s);
    }
    return s;
  };
  for (let start = 0; start < count; start += per) {
    const n = Math.min(per, count - start);
    const params: unknown[] = [];
    for (let i = start; i < start + n; i++) params.push(...row(i));
    statementFor(n).run(...params);
  }
}

/**
 * The rows are written as the schema before migration 17 holds them (reviews and decisions only);
 * migration 17 then derives the capacity ledger's running totals from them, as on an upgrade.
 */
const SEEDED_BEFORE_VERSION = 17;

const SEEDED_STAGES = ['appointmentscheduled', 'qualifiedtobuy', 'presentationscheduled', 'decisionmakerboughtin', 'contractsent', 'closedwon', 'closedlost'];

/** Where the seeded rows of one account fall: each deal's id, the deal of each review, when each review was asked for. */
interface SeedPlan {
  portalId: number;
  scale: Scale;
  now: number;
  dealId(i: number): string;
  reviewedDeal(r: number): string;
  requestedAtOf(r: number): number;
  /** The first of the reviews that wait; every review before it is closed. */
  waitingFrom: number;
}

function seedPlan(portalId: number, scale: Scale, measured: string[], now: number): SeedPlan {
  // Deal i's id; the measured deals (in the simulator) take the first ids of the reviewed deals.
  const dealId = (i: number) => String(5_000_000_000 + i);
  const reviewedDeal = (r: number) => {
    const k = r % Math.max(1, Math.floor(scale.deals / 5));
    return k < measured.length ? (measured[k] as string) : dealId(k * 5);
  };
  // History grows with the account; a quarter's volume is what its deal desk can handle: the
  // last QUARTER_REVIEWS closed reviews fall in the current quarter (from its start to five days
  // ago) and WAITING_REVIEWS wait, at every scale; every other review lies in the twelve years before.
  const quarterStart = quarterBounds(now).start;
  const span = 12 * 365 * DAY;
  const waitingFrom = scale.reviews - Math.min(WAITING_REVIEWS, Math.floor(scale.reviews / 4));
  const quarterFrom = waitingFrom - Math.min(QUARTER_REVIEWS, Math.floor(scale.reviews / 4));
  const requestedAtOf = (r: number) =>
    r >= quarterFrom
      ? quarterStart + Math.floor(((r - quarterFrom) / Math.max(1, waitingFrom - quarterFrom)) * Math.max(0, now - quarterStart - 5 * DAY))
      : quarterStart - span + Math.floor((r / Math.max(1, quarterFrom)) * (span - 5 * DAY));
  return { portalId, scale, now, dealId, reviewedDeal, requestedAtOf, waitingFrom };
}

async function seedSettings(store: ReturnType<typeof createSqliteStore>, portalId: number, now: number): Promise<void> {
  await store.settings.put(
    portalId,
    {
      valueThreshold: THRESHOLD,
      slaHours: 48,
      reviewers: [String(REVIEWER.userId)],
      admins: [String(ADMIN.userId)],
      escalationReviewer: String(ESCALATION.userId),
      gateStageLabel: 'Contract sent',
      gateStages: {},
      capacity: { engineerWeeksPerQuarter: 100_000, commitmentShare: 1 },
      amountTolerance: 0.1,
      afterClose: 'revert',
    },
    now - 400 * DAY,
    String(ADMIN.userId),
  );
}

function insertDeals(db: Db, { portalId, scale, now, dealId }: SeedPlan): void {
  insertMany(
    db,
    'deal_snapshots',
    ['portal_id', 'deal_id', 'deal_name', 'amount', 'stage', 'pipeline', 'commitment', 'commitment_summary', 'effort_weeks', 'owner_id', 'deleted', 'source_updated_at', 'refreshed_at', 'amount_home'],
    scale.deals,
    (i) => {
      const amount = 10_000 + ((i * 7919) % 150_000);
      return [portalId, dealId(i), `Seeded deal ${i}`, amount, SEEDED_STAGES[i % SEEDED_STAGES.length], 'default', i % 5 === 0 ? 1 : 0, i % 5 === 0 ? `Integration ${i}` : null, i % 5 === 0 ? 2 : null, String(REP.userId), 0, now - (i % 1000) * DAY, now - DAY, amount];
    },
  );
}

/** Reviews, oldest first; the last WAITING_REVIEWS wait (pending, some overdue), the others are closed. */
function insertReviews(db: Db, { portalId, scale, now, reviewedDeal, requestedAtOf, waitingFrom }: SeedPlan): void {
  insertMany(
    db,
    'reviews',
    ['id', 'portal_id', 'deal_id', 'status', 'summary', 'effort_weeks', 'needed_by', 'amount_at_request', 'requested_by', 'requested_at', 'due_at', 'escalated_at', 'closed_at', 'updated_at', 'keeps_booking'],
    scale.reviews,
    (r) => {
      const waiting = r >= waitingFrom;
      // A steady state: the waiting reviews were asked for in the last four days; those past their
      // due time are overdue and already escalated (the SLA worker has nothing to catch up on).
      const requestedAt = waiting ? now - ((r - waitingFrom) % 96) * 3_600_000 - 60_000 : requestedAtOf(r);
      const dueAt = requestedAt + 2 * DAY;
      const overdue = waiting && dueAt < now;
      const status = waiting ? (overdue ? 'overdue' : 'pending') : CLOSED[r % CLOSED.length];
      const closedAt = waiting ? null : requestedAt + DAY + (r % 48) * 3_600_000;
      return [r + 1, portalId, reviewedDeal(r), status, `Commitment ${r}`, 1 + (r % 4), null, 80_000, String(REP.userId), requestedAt, dueAt, overdue ? dueAt : null, closedAt, closedAt ?? requestedAt, 0];
    },
  );
}

/** A decision for every closed review but the withdrawn ones. */
function insertDecisions(db: Db, { portalId, requestedAtOf, waitingFrom }: SeedPlan): void {
  const decided: number[] = [];
  for (let r = 0; r < waitingFrom; r++) if (CLOSED[r % CLOSED.length] !== 'withdrawn') decided.push(r);
  insertMany(
    db,
    'decisions',
    ['portal_id', 'review_id', 'outcome', 'note', 'extra_weeks', 'quarter', 'decided_by', 'decided_at'],
    decided.length,
    (k) => {
      const r = decided[k] as number;
      const status = CLOSED[r % CLOSED.length];
      const decidedAt = requestedAtOf(r) + DAY + (r % 48) * 3_600_000;
      const outcome = status === 'approved' ? 'yes' : status === 'approved_with_conditions' ? 'yes_but' : 'no';
      return [portalId, r + 1, outcome, 'Seeded decision', outcome === 'yes_but' ? 1 : null, quarterOf(decidedAt), String(REVIEWER.userId), decidedAt];
    },
  );
}

/** Audit rows: about ten per review, on the review's deal, in time order. */
function insertAudit(db: Db, { portalId, scale, reviewedDeal, requestedAtOf }: SeedPlan): void {
  const perReview = Math.max(1, Math.floor(scale.audit / Math.max(1, scale.reviews)));
  const actions = ['review_requested', 'review_escalated', 'review_decided', 'stage_reverted', 'note_added'];
  insertMany(db, 'audit_log', ['portal_id', 'deal_id', 'review_id', 'action', 'actor', 'from_status', 'to_status', 'reason', 'details', 'at'], scale.audit, (a) => {
    const r = Math.min(scale.reviews - 1, Math.floor(a / perReview));
    const at = requestedAtOf(r) + (a % perReview) * 60_000;
    return [portalId, reviewedDeal(r), r + 1, actions[a % actions.length], String(REP.userId), 'pending', 'approved', 'seeded', null, at];
  });
}

/** Seeds the account into the service's database (created and migrated here), one transaction. */
async function seedAccount(dbPath: string, portalId: number, scale: Scale, measured: string[], now: number): Promise<number> {
  const started = performance.now();
  const db = createDb(dbPath, migrations.filter((m) => m.version < SEEDED_BEFORE_VERSION));
  const store = createSqliteStore(db);
  await seedSettings(store, portalId, now);
  const plan = seedPlan(portalId, scale, measured, now);
  db.transaction(() => {
    insertDeals(db, plan);
    insertReviews(db, plan);
    insertDecisions(db, plan);
    insertAudit(db, plan);
  })();
  await store.close();
  // The remaining migrations (17 and on) run on open, over the seeded rows; then checkpoint and fresh planner statistics.
  const upgraded = createDb(dbPath);
  upgraded.pragma('wal_checkpoint(TRUNCATE)');
  upgraded.exec('ANALYZE');
  upgraded.close();
  return (performance.now() - started) / 1000;
}

/** Every statement `body` executes on the store of `db`, with its parameters, and its EXPLAIN QUERY PLAN. */
async function capturePlans(dbPath: string, body: (store: ReturnType<typeof createSqliteStore>) => Promise<void>): Promise<QueryPlan[]> {
  const db = createDb(dbPath);
  const recorder = recordQueryPlans(db);
  const store = createSqliteStore(db);
  await body(store);
  const plans = recorder.plans();
  await store.close();
  return plans;
}

interface Side {
  world: World;
  ids: string[];
  figures: ScaleFigures;
}

async function startSide(name: string, scale: Scale, options: DataScaleOptions): Promise<Side> {
  const world = await startWorld({ name, core: options.serviceCore, env: { DEALGATE_ADMINS: String(ADMIN.userId) } });
  const ids = Array.from({ length: options.measuredDeals }, () => world.seedGatedDeal(BEFORE_GATE));
  const seedSeconds = await seedAccount(world.dbPath, world.sim.portalId, scale, ids, Date.now());
  const { statSync } = await import('node:fs');
  const dbMiB = Math.round(statSync(world.dbPath).size / 1024 / 1024);
  options.log(`  ${name}: seeded ${scale.deals.toLocaleString('en-US')} deals, ${scale.reviews.toLocaleString('en-US')} reviews, ${scale.audit.toLocaleString('en-US')} audit rows in ${seedSeconds.toFixed(1)} s (${dbMiB} MiB)`);
  await world.startService();
  return { world, ids, figures: { scale, seedSeconds: Math.round(seedSeconds * 10) / 10, dbMiB, card: [], home: [], hubspotCalls: 0, inProcessCardMicros: 0, serviceCpuMicrosPerCard: null } };
}

function cardRequest(side: Side, i: number): BenchRequest {
  const { world } = side;
  const dealId = side.ids[i % side.ids.length] as string;
  const userId = i % 2 === 0 ? REP.userId : REVIEWER.userId;
  const path = `/api/v1/deals/${dealId}/gate?userId=${userId}&userEmail=user${userId}%40example.com&appId=${world.sim.appId}&portalId=${world.sim.portalId}`;
  return { method: 'GET', path, headers: signedHeaders(world.sim.clientSecret, { method: 'GET', uri: world.url + path, body: '' }, Date.now()) };
}

function homeRequest(side: Side): BenchRequest {
  const { world } = side;
  const userId = ADMIN.userId;
  const path = `/api/v1/dashboard?userId=${userId}&userEmail=user${userId}%40example.com&appId=${world.sim.appId}&portalId=${world.sim.portalId}`;
  return { method: 'GET', path, headers: signedHeaders(world.sim.clientSecret, { method: 'GET', uri: world.url + path, body: '' }, Date.now()) };
}

/** User + system CPU time of a process so far, in µs (Linux /proc; null elsewhere). */
function processCpuMicros(pid: number): number | null {
  try {
    // Fields 14 and 15 (utime, stime) after the command name in parentheses, in clock ticks (100 a second on Linux).
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
    return (Number(fields[11]) + Number(fields[12])) * 10_000;
  } catch {
    return null;
  }
}

/** The gate's context over `store` in this process; HubSpot refused (a held deal's card never calls it). */
function storeContext(store: ReturnType<typeof createSqliteStore>): GateContext {
  const gateway = new Proxy({} as HubSpotGateway, { get: (_t, name) => () => Promise.reject(new Error(`the card path called HubSpot (${String(name)})`)) });
  const defaults = { valueThreshold: THRESHOLD, slaHours: 48, reviewers: [String(REVIEWER.userId)], admins: [String(ADMIN.userId)], escalationReviewer: String(ESCALATION.userId), gateStageLabel: 'Contract sent' };
  return { store, clock: { now: () => Date.now() }, defaults, gateway, logger: silentLogger() };
}

async function inProcessCardMicros(side: Side): Promise<number> {
  const store = createSqliteStore(createDb(side.world.dbPath));
  const ctx = storeContext(store);
  const portalId = side.world.sim.portalId;
  const perLoad: number[] = [];
  for (let rep = 0; rep < 3; rep++) {
    const started = performance.now();
    for (let i = 0; i < 1_000; i++) await getGate(ctx, { portalId, userId: String(i % 2 === 0 ? REP.userId : REVIEWER.userId) }, side.ids[i % side.ids.length] as string);
    perLoad.push(performance.now() - started);
  }
  await store.close();
  return Math.round(perLoad.sort((a, b) => a - b)[1] as number);
}

export async function benchDataScale(options: DataScaleOptions): Promise<DataScaleResult> {
  const sides: Side[] = [];
  try {
    sides.push(await startSide('scale-small', options.small, options));
    sides.push(await startSide('scale-large', options.large, options));
    for (const side of sides) {
      // First loads read the measured deals from HubSpot and keep their snapshots; then warm up.
      await openLoop({ baseUrl: side.world.url, ratePerSecond: 50, durationMs: Math.max(1_000, (side.ids.length * 2 * 1000) / 50), next: (i) => cardRequest(side, i) });
      await openLoop({ baseUrl: side.world.url, ratePerSecond: options.cardRate, durationMs: options.warmupMs, next: (i) => cardRequest(side, i) });
      await openLoop({ baseUrl: side.world.url, ratePerSecond: options.homeRate, durationMs: options.warmupMs, next: () => homeRequest(side) });
    }
    for (const side of sides) side.world.sim.requests.reset();
    const loadAverages: number[] = [];
    const cardCpu = new Map<Side, { micros: number; loads: number }>(sides.map((side) => [side, { micros: 0, loads: 0 }]));
    for (let rep = 0; rep < options.reps; rep++) {
      loadAverages.push(Math.round((loadavg()[0] ?? 0) * 100) / 100);
      for (const side of sides) {
        const pid = side.world.service()?.pid ?? 0;
        const cpuBefore = processCpuMicros(pid);
        const card = await openLoop({ baseUrl: side.world.url, ratePerSecond: options.cardRate, durationMs: options.durationMs, next: (i) => cardRequest(side, i) });
        const cpuAfter = processCpuMicros(pid);
        const cpu = cardCpu.get(side);
        if (cpu && cpuBefore !== null && cpuAfter !== null) {
          cpu.micros += cpuAfter - cpuBefore;
          cpu.loads += card.requests;
        }
        side.figures.card.push(latencySummary(card));
        const home = await openLoop({ baseUrl: side.world.url, ratePerSecond: options.homeRate, durationMs: options.durationMs, next: () => homeRequest(side) });
        side.figures.home.push(latencySummary(home));
        options.log(
          `  rep ${rep + 1} ${side.figures.scale.deals.toLocaleString('en-US')} deals: card p50 ${card.latencyMs.p50.toFixed(2)} / p99 ${card.latencyMs.p99.toFixed(2)} ms ${JSON.stringify(card.statuses)}, ` +
            `home p50 ${home.latencyMs.p50.toFixed(2)} / p99 ${home.latencyMs.p99.toFixed(2)} ms ${JSON.stringify(home.statuses)}`,
        );
      }
    }
    loadAverages.push(Math.round((loadavg()[0] ?? 0) * 100) / 100);
    for (const side of sides) {
      side.figures.hubspotCalls = side.world.sim.requests.count();
      const cpu = cardCpu.get(side);
      side.figures.serviceCpuMicrosPerCard = cpu && cpu.loads > 0 ? Math.round(cpu.micros / cpu.loads) : null;
      await side.world.stopService();
      side.figures.inProcessCardMicros = await inProcessCardMicros(side);
    }
    const large = sides[1] as Side;
    // The card's whole path as the route runs it (getGate), on a deal Dealgate holds.
    const card = await capturePlans(large.world.dbPath, async (store) => void (await getGate(storeContext(store), { portalId: large.world.sim.portalId, userId: String(REVIEWER.userId) }, large.ids[0] as string)));
    const home = await capturePlans(large.world.dbPath, async (store) => void (await buildDashboard(storeContext(store), { portalId: large.world.sim.portalId, userId: String(ADMIN.userId) })));
    for (const [what, plans] of [['card', card], ['home', home]] as const) {
      for (const p of plans) if (p.scans) options.log(`  ${what} query scans: ${p.sql.slice(0, 160)} -> ${p.plan.join('; ')}`);
    }
    return { cardRate: options.cardRate, homeRate: options.homeRate, small: (sides[0] as Side).figures, large: large.figures, plans: { card, home }, loadAverages };
  } finally {
    for (const side of sides) {
      const path = side.world.dbPath;
      await side.world.stop();
      for (const suffix of ['', '-wal', '-shm']) rmSync(path + suffix, { force: true });
    }
  }
}
