import { join } from 'node:path';
import { ManualClock } from '../../src/server/shared/clock';
import { DEALGATE_PROPERTIES, DEALGATE_PROPERTY_GROUP } from '../../src/server/application/dealgateProperties';
import type { GateContext } from '../../src/server/application/context';
import { refreshDeal } from '../../src/server/application/dealFacts';
import { requestReview } from '../../src/server/application/gateService';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway } from '../../src/server/hubspot/gateway';
import { silentLogger } from '../../src/server/shared/logger';
import { createDb } from '../../src/server/storage/db';
import { createPostgresDatabase } from '../../src/server/storage/postgresSql';
import { migratePostgres } from '../../src/server/storage/postgresSchema';
import { createStore } from '../../src/server/storage/repositories';
import type { SqlDatabase, SqlParams, SqlSession } from '../../src/server/storage/sql';
import { createSqliteSql } from '../../src/server/storage/sqliteSql';
import type { Store } from '../../src/server/storage/store';
import { startSimulator, type Simulator } from '../../src/simulator';
import { tempDir, testConfig } from '../support/env';
import { freshDatabase, type FreshDatabase } from '../support/postgres';
import { testStoreEngine } from '../support/testStore';

/**
 * Two transactions on one deal, side by side: storing a deal read from HubSpot (the inbox for an
 * event, a card's refresh) and the rep's review request. The first has read Dealgate's copy of the
 * deal, its review and the outbox (no commitment yet) and is about to write the copy when the
 * request comes. On PostgreSQL (READ COMMITTED) the request used to commit in between, and the
 * first then wrote the copy from what it had read: the commitment gone from the copy while the
 * review is pending (the next event then withdraws the review). Each transaction on a deal now
 * waits for the one before it (deals.lockForChange).
 *
 * The database is the real one (SQLite or PostgreSQL, as the project says) behind a pass-through
 * that can hold one statement before sending it, and tells which statements are on their way: so
 * the test holds the first transaction just before its write and goes on once the request has
 * committed or waits for it, with no timing.
 */

/** The SQL door with a hand on it: `holdNext(pattern)` holds the next matching statement until released. */
interface WatchedSql {
  database: SqlDatabase;
  holdNext(pattern: RegExp): { reached: Promise<void>; release(): void };
  /** Statements sent and not answered yet, and transactions asked for and not begun ('BEGIN'). */
  onTheirWay(): string[];
}

function watched(inner: SqlDatabase): WatchedSql {
  const holds: { pattern: RegExp; reached: () => void; released: Promise<void> }[] = [];
  const sent = new Map<symbol, string>();
  async function pass<T>(statement: string, call: () => Promise<T>): Promise<T> {
    const hold = holds.find((h) => h.pattern.test(statement));
    if (hold) {
      holds.splice(holds.indexOf(hold), 1);
      hold.reached();
      await hold.released;
    }
    const id = Symbol(statement);
    sent.set(id, statement);
    try {
      return await call();
    } finally {
      sent.delete(id);
    }
  }
  const over = (session: SqlSession): SqlSession => ({
    dialect: session.dialect,
    all: <T,>(statement: string, params?: SqlParams) => pass(statement, () => session.all<T>(statement, params)),
    get: <T,>(statement: string, params?: SqlParams) => pass(statement, () => session.get<T>(statement, params)),
    run: (statement: string, params?: SqlParams) => pass(statement, () => session.run(statement, params)),
  });
  const database: SqlDatabase = {
    ...over(inner),
    transaction<T>(work: (tx: SqlSession) => Promise<T>): Promise<T> {
      const id = Symbol('BEGIN');
      sent.set(id, 'BEGIN');
      return inner
        .transaction((tx) => {
          sent.delete(id);
          return work(over(tx));
        })
        .finally(() => sent.delete(id));
    },
    close: () => inner.close(),
  };
  return {
    database,
    holdNext(pattern) {
      let reached = () => {};
      let release = () => {};
      const reachedPromise = new Promise<void>((resolve) => (reached = resolve));
      holds.push({ pattern, reached, released: new Promise<void>((resolve) => (release = resolve)) });
      return { reached: reachedPromise, release };
    },
    onTheirWay: () => [...sent.values()],
  };
}

const REP = '100';
const engine = testStoreEngine();

describe('two transactions on one deal at once', () => {
  let sim: Simulator;
  let sql: WatchedSql;
  let store: Store;
  let ctx: GateContext;
  let postgres: FreshDatabase | undefined;
  const dir = tempDir('dealgate-concurrent-');

  beforeEach(async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    sim = await startSimulator({ now: () => clock.now() });
    let inner: SqlDatabase;
    if (engine === 'postgres') {
      postgres = await freshDatabase();
      inner = createPostgresDatabase(postgres.url, { maxConnections: 5 });
      await migratePostgres(inner);
    } else {
      inner = createSqliteSql(createDb(join(dir.path, `${Date.now()}-${Math.random()}.db`)));
    }
    sql = watched(inner);
    store = createStore(sql.database, { ping: async () => true, writable: async () => ({ ok: true }) });
    const config = testConfig({ HUBSPOT_ACCESS_TOKEN: sim.accessToken, HUBSPOT_API_BASE_URL: sim.url, DEALGATE_REVIEWERS: '200', DEALGATE_VALUE_THRESHOLD: '50000' });
    ctx = { store, clock, defaults: config.defaults, gateway: createHubSpotGateway(staticHubSpotClients(config), () => clock.now()), logger: silentLogger() };
    await ctx.gateway.ensureProperties(sim.portalId, DEALGATE_PROPERTY_GROUP, DEALGATE_PROPERTIES);
  });
  afterEach(async () => {
    await store.close();
    await postgres?.drop();
    postgres = undefined;
    await sim.stop();
  });
  afterAll(() => dir.cleanup());

  /** Until the request is done, or waits for the other transaction (bounded: 10 s). */
  async function doneOrWaiting(request: { done: boolean }): Promise<void> {
    // PostgreSQL: its lock of the deal is on its way and not answered; SQLite: anything it sent
    // (one transaction at a time: every statement waits while another transaction is open).
    const waits = () => sql.onTheirWay().some((s) => engine === 'sqlite' || /pg_advisory_xact_lock/.test(s));
    const deadline = Date.now() + 10_000;
    while (!request.done && !waits()) {
      if (Date.now() > deadline) throw new Error(`the review request neither finished nor waited within 10 s (on their way: ${sql.onTheirWay().join(' | ') || 'nothing'})`);
      await new Promise<void>((resolve) => setTimeout(resolve, 5));
    }
  }

  it('a deal read from HubSpot being stored while the rep requests review: the request is applied after it, and its commitment stays', async () => {
    const portalId = sim.portalId;
    const dealId = sim.seedDeal({ properties: { dealname: 'Initech', dealstage: 'qualifiedtobuy', amount: '80000' } }).id;
    await refreshDeal(ctx, portalId, dealId);

    const atWrite = sql.holdNext(/^INSERT INTO deal_snapshots/);
    const storing = refreshDeal(ctx, portalId, dealId);
    await atWrite.reached;
    const request = { done: false };
    const requesting = requestReview(ctx, { portalId, userId: REP }, dealId, { summary: 'SSO with Okta', effortWeeks: 3 }).finally(() => (request.done = true));
    await doneOrWaiting(request);
    atWrite.release();
    await storing;
    await requesting;

    expect(await store.deals.get(portalId, dealId)).toMatchObject({ commitment: true, commitmentSummary: 'SSO with Okta', effortWeeks: 3 });
    expect((await store.reviews.latestForDeal(portalId, dealId))?.status).toBe('pending');
  });
});
