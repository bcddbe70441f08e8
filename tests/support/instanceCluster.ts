import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import pg from 'pg';
import { ADMIN, ESCALATION, gatedDealSeeder, REP, REVIEWER, seedDealgateProperties, THRESHOLD } from '../../bench/lib/world';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';
import { WEBHOOK_PATH } from '../../src/server/http/webhookRoute';
import { installAccount, PORTAL_A, startRouter, type Router } from '../reliability/twoAccounts';
import { startLoadBalancer, type LoadBalancer } from './loadBalancer';
import { tempDir } from './env';
import { freshDatabase } from './postgres';
import { startServiceInstances, type ServiceInstances } from './serviceInstances';

/**
 * Several Dealgate instances on one PostgreSQL database (or one on SQLite, for comparison), as deployed for more than one process:
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
  accounts: ClusterAccount[];
  balancer: LoadBalancer;
  instances: ServiceInstances;
  backlog: () => Promise<Backlog>;
  /** Recorded gate violations per `portalId/dealId`. */
  violationsByDeal: () => Promise<Map<string, number>>;
  /** One deal's story in the database (its account's install time, inbox events, flags), one line each, for a failure message. */
  inboxTrail: (portalId: number, dealId: string) => Promise<string[]>;
  stop: () => Promise<void>;
}

export interface ClusterOptions {
  instances: number;
  accounts: number;
  sim?: Partial<SimulatorOptions>;
  /** Pin every instance to this core (the bench). */
  core?: number | undefined;
  /** PostgreSQL (default), or SQLite for one instance (the bench's comparison). */
  store?: 'postgres' | 'sqlite';
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

/** Read access to the instances' database for counting what they did: PostgreSQL's pool or SQLite's file (read-only, WAL). */
interface DatabaseReader {
  all<T>(sql: string): Promise<T[]>;
  close(): Promise<void>;
}

function postgresReader(url: string): DatabaseReader {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  // pool.end() does not wait for its idle connections' sockets to close, and the database is dropped
  // (WITH FORCE) right after: a connection still closing then gets PostgreSQL's 57P01, which an idle
  // client hands to the pool as an 'error' event. Unheard, that event fails the suite after it passed.
  pool.on('error', () => undefined);
  return { all: async <T>(sql: string) => (await pool.query(sql)).rows as T[], close: () => pool.end() };
}

function sqliteReader(path: string): DatabaseReader {
  let db: Database.Database | undefined;
  return {
    all: async <T>(sql: string) => {
      db ??= new Database(path, { readonly: true, fileMustExist: true });
      return db.prepare(sql).all() as T[];
    },
    close: async () => {
      db?.close();
    },
  };
}

interface InboxTrailRow {
  id: number;
  status: string;
  property_name: string | null;
  property_value: string | null;
  change_source: string | null;
  occurred_at: number;
  attempts: number;
  last_error: string | null;
  payload: string;
}

interface PendingOutboxRow {
  id: number;
  kind: string;
  portal_id: number;
  deal_id: string | null;
  attempts: number;
  next_attempt_at: number;
  last_error: string | null;
}

async function readBacklog(reader: DatabaseReader): Promise<Backlog> {
  const count = async (sql: string) => Number((await reader.all<{ n: number | string }>(sql))[0]?.n ?? 0);
  const pending = await reader.all<PendingOutboxRow>(`SELECT id, kind, portal_id, deal_id, attempts, next_attempt_at, last_error FROM outbox WHERE status = 'pending' ORDER BY id LIMIT 20`);
  const now = Date.now();
  return {
    journal: await count('SELECT COUNT(*) AS n FROM webhook_batches'),
    inbox: await count(`SELECT COUNT(*) AS n FROM webhook_inbox WHERE status = 'pending'`),
    outbox: await count(`SELECT COUNT(*) AS n FROM outbox WHERE status = 'pending'`),
    rows: pending.map(
      (r) => `outbox #${r.id} ${r.kind} portal ${r.portal_id} deal ${r.deal_id ?? '-'} attempts ${r.attempts} due in ${Number(r.next_attempt_at) - now} ms: ${r.last_error ?? '(claimed)'}`,
    ),
  };
}

/** PostgreSQL: a fresh database on the run's server; SQLite (one instance only): a file in a temporary directory. */
async function clusterDatabase(store: 'postgres' | 'sqlite'): Promise<{ env: Record<string, string>; reader: DatabaseReader; drop: () => Promise<void> }> {
  if (store === 'sqlite') {
    const dir = tempDir('dealgate-cluster-');
    const path = join(dir.path, 'dealgate.db');
    return { env: { DATABASE_PATH: path }, reader: sqliteReader(path), drop: async () => dir.cleanup() };
  }
  const database = await freshDatabase();
  return { env: { DATABASE_URL: database.url }, reader: postgresReader(database.url), drop: () => database.drop() };
}

export async function startInstanceCluster(options: ClusterOptions): Promise<InstanceCluster> {
  const store = options.store ?? 'postgres';
  if (store === 'sqlite' && options.instances !== 1) throw new Error(`SQLite serves one instance, not ${options.instances}: several instances need PostgreSQL`);
  const database = await clusterDatabase(store);
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
      ...database.env,
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
  const installedAt = new Map<number, number>();
  const stop = async () => {
    await instances.stopAll();
    for (const account of accounts) await account.sim.stop();
    await balancer.close();
    await router.close();
    await database.reader.close();
    await database.drop();
  };
  try {
    balancer.setTargets(instances.instances.map((i) => i.url));
    // Together, as a deployment starts them: the schema is migrated once, under the advisory lock.
    await Promise.all(instances.instances.map((_, index) => instances.start(index)));
    for (const account of accounts) {
      await installAccount(balancer.url, router, account.sim, ADMIN.userId);
      installedAt.set(account.portalId, Date.now());
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    accounts,
    balancer,
    instances,
    backlog: () => readBacklog(database.reader),
    violationsByDeal: async () => {
      const rows = await database.reader.all<{ key: string; n: number | string }>(`SELECT portal_id || '/' || deal_id AS key, COUNT(*) AS n FROM gate_violations GROUP BY portal_id, deal_id`);
      return new Map(rows.map((r) => [r.key, Number(r.n)]));
    },
    inboxTrail: async (portalId, dealId) => {
      if (!Number.isSafeInteger(portalId) || !/^\d+$/.test(dealId)) throw new Error(`not a portal and deal id: ${portalId} ${dealId}`);
      const rows = await database.reader.all<InboxTrailRow>(
        `SELECT id, status, property_name, property_value, change_source, occurred_at, attempts, last_error, payload FROM webhook_inbox WHERE portal_id = ${portalId} AND object_id = '${dealId}' ORDER BY occurred_at, id`,
      );
      const flags = await database.reader.all<{ kind: string; reason: string; created_at: number }>(`SELECT kind, reason, created_at FROM deal_flags WHERE portal_id = ${portalId} AND deal_id = '${dealId}' ORDER BY id`);
      return [
        `installed at ${installedAt.get(portalId) ?? '?'}`,
        ...rows.map(
          (r) =>
            `inbox #${r.id} ${r.status} ${r.property_name}=${r.property_value} by ${r.change_source} at ${r.occurred_at}, ${r.attempts} attempts${r.last_error ? `: ${r.last_error}` : ''}` +
            (r.change_source === 'DEALGATE_SWEEP' ? ` ${r.payload}` : ''),
        ),
        ...flags.map((f) => `flag ${f.kind} at ${f.created_at}: ${f.reason}`),
      ];
    },
    stop,
  };
}
