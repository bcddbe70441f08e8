import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ADMIN, ESCALATION, gatedDealSeeder, REP, REVIEWER, seedDealgateProperties, THRESHOLD } from '../../bench/lib/world';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';
import { WEBHOOK_PATH } from '../../src/server/webhooks/webhookRoute';
import { installAccount, PORTAL_A, startRouter, type Router } from '../reliability/twoAccounts';
import { startLoadBalancer, type LoadBalancer } from './loadBalancer';
import { freshDatabase, type FreshDatabase } from './postgres';
import { startServiceInstances, type ServiceInstances } from './serviceInstances';

/**
 * Several Dealgate instances on one PostgreSQL database, as deployed for more than one process:
 * the instances (real `main` processes, tests/support/serviceInstances.ts) behind a round-robin
 * load balancer whose URL is their PUBLIC_BASE_URL and HubSpot's webhook target; HubSpot accounts
 * installed through OAuth, one simulator each (a simulator holds one account) behind the router
 * that sends each API call to the simulator that issued its token. Used by the multi-instance
 * reliability suite and the instances bench.
 */
export interface ClusterAccount {
  portalId: number;
  sim: Simulator;
  /** A gated deal in this account (commitment present, amount above the threshold). */
  seedGatedDeal: (stage?: string, extra?: Record<string, string>) => string;
}

/** What the instances still have to do, read from the shared database. */
export interface Backlog {
  journal: number;
  inbox: number;
  outbox: number;
  /** The first pending outbox rows, for a failure message. */
  rows: string[];
}

export interface InstanceCluster {
  database: FreshDatabase;
  /** The test's own connection to the shared database (to count what the service recorded). */
  pool: pg.Pool;
  accounts: ClusterAccount[];
  balancer: LoadBalancer;
  instances: ServiceInstances;
  backlog: () => Promise<Backlog>;
  /** Recorded gate violations per `portalId/dealId`. */
  violationsByDeal: () => Promise<Map<string, number>>;
  stop: () => Promise<void>;
}

export interface ClusterOptions {
  instances: number;
  accounts: number;
  sim?: Partial<SimulatorOptions>;
  /** Pin every instance to this core (the bench). */
  core?: number | undefined;
}

/** Portal ids PORTAL_A, PORTAL_B (tests/reliability/twoAccounts.ts), then on in the same steps. */
const portalIdOf = (index: number) => PORTAL_A + index * 11_111_111;

async function startAccounts(count: number, router: Router, webhookTargetUrl: string, sim: Partial<SimulatorOptions>): Promise<ClusterAccount[]> {
  const accounts: ClusterAccount[] = [];
  for (let index = 0; index < count; index++) {
    const first = accounts[0]?.sim;
    const simulator = await startSimulator({
      owners: [REP, REVIEWER, ADMIN, ESCALATION],
      rateLimitPerTenSeconds: 110,
      ...sim,
      portalId: portalIdOf(index),
      ...(first ? { appId: first.appId, clientId: first.clientId, clientSecret: first.clientSecret } : {}),
      webhookTargetUrl,
    });
    seedDealgateProperties(simulator);
    router.route(simulator);
    accounts.push({ portalId: simulator.portalId, sim: simulator, seedGatedDeal: gatedDealSeeder(simulator) });
  }
  return accounts;
}

async function readBacklog(pool: pg.Pool): Promise<Backlog> {
  const count = async (sql: string) => Number((await pool.query<{ n: string }>(sql)).rows[0]?.n ?? 0);
  const rows = await pool.query<{ line: string }>(
    `SELECT 'outbox #' || id || ' ' || kind || ' portal ' || portal_id || ' deal ' || COALESCE(deal_id, '-') || ' attempts ' || attempts ||
            ' due in ' || (next_attempt_at - $1::bigint) || ' ms: ' || COALESCE(last_error, '(claimed)') AS line
       FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 20`,
    [Date.now()],
  );
  return {
    journal: await count('SELECT COUNT(*) AS n FROM webhook_batches'),
    inbox: await count(`SELECT COUNT(*) AS n FROM webhook_inbox WHERE status = 'pending'`),
    outbox: await count(`SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'`),
    rows: rows.rows.map((r) => r.line),
  };
}

export async function startInstanceCluster(options: ClusterOptions): Promise<InstanceCluster> {
  const database = await freshDatabase();
  const pool = new pg.Pool({ connectionString: database.url, max: 2 });
  const router = await startRouter();
  const balancer = await startLoadBalancer();
  const accounts = await startAccounts(options.accounts, router, balancer.url + WEBHOOK_PATH, options.sim ?? {});
  const app = accounts[0]?.sim;
  if (!app) throw new Error('a cluster needs at least one account');
  const instances = await startServiceInstances({
    count: options.instances,
    core: options.core,
    env: {
      PUBLIC_BASE_URL: balancer.url,
      DATABASE_URL: database.url,
      HUBSPOT_CLIENT_ID: app.clientId,
      HUBSPOT_CLIENT_SECRET: app.clientSecret,
      HUBSPOT_API_BASE_URL: router.url,
      DEALGATE_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64'),
      DEALGATE_VALUE_THRESHOLD: String(THRESHOLD),
      DEALGATE_REVIEWERS: String(REVIEWER.userId),
      DEALGATE_ADMINS: String(ADMIN.userId),
      DEALGATE_ESCALATION_REVIEWER: String(ESCALATION.userId),
      LOG_LEVEL: 'warn',
    },
  });
  const stop = async () => {
    await instances.stopAll();
    for (const account of accounts) await account.sim.stop();
    await balancer.close();
    await router.close();
    await pool.end();
    await database.drop();
  };
  try {
    balancer.setTargets(instances.instances.map((i) => i.url));
    // Together, as a deployment starts them: the schema is migrated once, under the advisory lock.
    await Promise.all(instances.instances.map((_, index) => instances.start(index)));
    for (const account of accounts) await installAccount(balancer.url, router, account.sim, ADMIN.userId);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    database,
    pool,
    accounts,
    balancer,
    instances,
    backlog: () => readBacklog(pool),
    violationsByDeal: async () => {
      const result = await pool.query<{ key: string; n: string }>(`SELECT portal_id || '/' || deal_id AS key, COUNT(*) AS n FROM gate_violations GROUP BY portal_id, deal_id`);
      return new Map(result.rows.map((r) => [r.key, Number(r.n)]));
    },
    stop,
  };
}
