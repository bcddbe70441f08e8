/**
 * The whole system in one process, for end-to-end tests, the demo and benchmarks: the local HubSpot
 * simulator plus the Dealgate service wired exactly as main() wires it (createService: real SQLite
 * in a temp directory, real inbox/outbox/SLA workers, the real @hubspot/api-client pointed at the
 * simulator with `basePath`). The simulator's webhooks go to the service's /webhooks/hubspot,
 * signed with the client secret the service verifies with. Worker intervals and retry delays are
 * shrunk so a test settles in milliseconds.
 *
 *   const stack = await startStack({ defaults: { reviewers: ['200'], valueThreshold: 50_000 } });
 *   const deal = stack.sim.seedDeal({ properties: { dealname: 'Acme', dealstage: 'contractsent', amount: '80000', dealgate_commitment: 'true' } });
 *   stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: 42 });
 *   await stack.settle();               // webhooks delivered, inbox and outbox drained, no new webhooks
 *   stack.sim.getDeal(deal.id)?.properties.dealstage;   // 'contractsent' again
 *   await stack.stop();
 *
 * Options (all optional):
 * - `clock`: one clock for the service AND the simulator (signatures, history, occurredAt, token
 *   expiry all agree). Pass a ManualClock to drive SLAs: nothing moves until the test advances it,
 *   including retry backoff (rows wait for `next_attempt_at`) and the simulator's rolling rate
 *   window (so with a controlled clock the simulator's limit defaults to effectively unlimited).
 *   Card requests then need `timestamp: clock.now()`. The workers' rate governor always paces in
 *   real time. Default: the system clock.
 * - `defaults`: the DEALGATE_* account defaults (threshold, reviewers, admins, escalation
 *   reviewer, SLA hours, gate stage label); `env`: any other variable, as the service reads it.
 * - `auth`: 'static' (default: HUBSPOT_ACCESS_TOKEN = the simulator's token) or 'oauth'
 *   (HUBSPOT_CLIENT_ID + an encryption key, no static token; call `installViaOAuth()` first).
 * - `rateLimitPerTenSeconds`: the simulator's HubSpot limit (default 110, as HubSpot for OAuth apps).
 * - `simulator`: more simulator options (webhook duplicates/reordering, owners, portal id...).
 * - `background`: worker options (intervals, retry policies, governor budget) over the fast defaults;
 *   `background: { sweeps: true }` runs the sweeps of HubSpot (off by default here, on in main()).
 * - `startWorkers: false`: build everything but leave the workers stopped (call
 *   `stack.background.start()` or drive `inbox.processDue()` / `outbox.deliverDue()` by hand;
 *   `settle()` needs running workers).
 *
 * Set DEALGATE_STACK_LOG=debug (or info, warn...) to see the service's logs on stderr.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { startSimulator, type Simulator, type SimulatorOptions } from '../../src/simulator';
import { systemClock, type Clock } from '../../src/server/shared/clock';
import { loadConfig, type Config } from '../../src/server/config/config';
import { createLogger, silentLogger, type Logger } from '../../src/server/shared/logger';
import type { Store } from '../../src/server/storage/store';
import type { HubSpotClients } from '../../src/server/hubspot/clients';
import { signedHeaders } from '../../src/server/hubspot/signature';
import { CALLBACK_PATH, INSTALL_PATH } from '../../src/server/http/oauthRoutes';
import { WEBHOOK_PATH } from '../../src/server/http/webhookRoute';
import type { Background, BackgroundOptions } from '../../src/server/workers/background';
import { createService } from '../../src/server/service';
import { tempDir } from './env';
import { testDatabase } from './testStore';

export interface StackDefaults {
  valueThreshold?: number;
  slaHours?: number;
  reviewers?: string[];
  admins?: string[];
  escalationReviewer?: string;
  gateStageLabel?: string;
}

export interface StackOptions {
  clock?: Clock;
  defaults?: StackDefaults;
  env?: Record<string, string>;
  auth?: 'static' | 'oauth';
  rateLimitPerTenSeconds?: number;
  simulator?: Omit<SimulatorOptions, 'now' | 'webhookTargetUrl' | 'rateLimitPerTenSeconds'>;
  background?: BackgroundOptions;
  startWorkers?: boolean;
}

/** Fast but realistic: the same code paths as production, with waits in milliseconds. */
export const FAST_BACKGROUND: BackgroundOptions = {
  inboxIdleMs: 20,
  outboxIdleMs: 20,
  slaIntervalMs: 50,
  inboxRetry: { baseMs: 20, maxMs: 200, maxAttempts: 4 },
  outboxRetry: { baseMs: 20, maxMs: 200, maxAttempts: 5 },
  callTimeoutMs: 2_000,
  rate: { requestsPerWindow: 90, windowMs: 10_000, minPauseMs: 50, maxPauseMs: 500 },
  governorClock: systemClock,
  // A pipeline a test creates is read on the next event that needs it, not a minute later.
  pipelineRefreshIntervalMs: 0,
  // The sweeps search HubSpot on their own schedule (the install backfill right after first
  // contact), which would add calls to every suite's counts: tests of the sweeps turn them on.
  sweeps: false,
  sweepIdleMs: 50,
  sweepRetry: { baseMs: 20, maxMs: 200, maxAttempts: Number.POSITIVE_INFINITY },
};

export interface OpsResponse<T> {
  status: number;
  json: T;
}

export interface Stack {
  sim: Simulator;
  /** The service's base URL (also its PUBLIC_BASE_URL). */
  readonly url: string;
  readonly config: Config;
  /** The service's store (current instance: a restart opens a new one). */
  readonly store: Store;
  readonly background: Background;
  readonly hubspot: HubSpotClients;
  readonly clock: Clock;
  /** The app's client secret (signs webhooks and card requests). */
  readonly clientSecret: string;
  /** DEALGATE_OPS_TOKEN of the service. */
  readonly opsToken: string;
  readonly databasePath: string;
  /** Where the service's database is, as the service reads it (DATABASE_PATH, and DATABASE_URL on PostgreSQL): for tests/support/databaseReader.ts. */
  readonly databaseEnv: Readonly<Record<string, string>>;
  /** GET (or POST) an /ops route with the ops token. */
  ops<T = unknown>(path: string, method?: 'GET' | 'POST'): Promise<OpsResponse<T>>;
  /** POSTs a webhook batch to the service as HubSpot does: JSON, v3-signed with `secret` (default: the app's client secret). */
  postWebhook(body: string, secret?: string): Promise<Response>;
  /** Creates the dealgate properties and reads the pipelines now (as the first webhook would), so tests can seed deals with them. */
  provision(): Promise<void>;
  /** OAuth mode: runs the install as a browser would (install → HubSpot consent → callback); returns the callback's status. */
  installViaOAuth(userId?: number): Promise<{ status: number; body: string }>;
  /**
   * Waits until every webhook is delivered, the inbox and outbox are drained, and that caused no
   * new webhook (a revert makes one); repeats until all three hold. Throws after `timeoutMs`
   * (default 10 s) saying what is still waiting.
   */
  settle(options?: { timeoutMs?: number }): Promise<void>;
  /**
   * Stops the service and starts it again on the same database and URL. `crash: true` closes the
   * database under the running workers (as a killed process would leave it) instead of stopping
   * them first. Webhooks sent meanwhile get 503 and are redelivered by the simulator.
   */
  restart(options?: { crash?: boolean }): Promise<void>;
  stop(): Promise<void>;
}

function defaultsEnv(d: StackDefaults = {}): Record<string, string> {
  const env: Record<string, string> = {};
  if (d.valueThreshold !== undefined) env.DEALGATE_VALUE_THRESHOLD = String(d.valueThreshold);
  if (d.slaHours !== undefined) env.DEALGATE_SLA_HOURS = String(d.slaHours);
  if (d.reviewers !== undefined) env.DEALGATE_REVIEWERS = d.reviewers.join(',');
  if (d.admins !== undefined) env.DEALGATE_ADMINS = d.admins.join(',');
  if (d.escalationReviewer !== undefined) env.DEALGATE_ESCALATION_REVIEWER = d.escalationReviewer;
  if (d.gateStageLabel !== undefined) env.DEALGATE_GATE_STAGE_LABEL = d.gateStageLabel;
  return env;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const clock = options.clock ?? systemClock;
  const controlledClock = options.clock !== undefined && options.clock !== systemClock;
  const dir = tempDir('dealgate-stack-');
  const databasePath = join(dir.path, 'dealgate.db');
  const level = process.env.DEALGATE_STACK_LOG;
  const logger: Logger = level ? createLogger({ level }) : silentLogger();

  const sim = await startSimulator({
    ...options.simulator,
    now: () => clock.now(),
    rateLimitPerTenSeconds: options.rateLimitPerTenSeconds ?? (controlledClock ? 1_000_000_000 : 110),
  });

  // Until the service is up (and during a restart) every request gets 503, as from a proxy.
  let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
    res.statusCode = 503;
    res.end();
  };
  const server: Server = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // SQLite at databasePath, or (DEALGATE_TEST_STORE=postgres) a PostgreSQL database of this stack's own.
  const database = await testDatabase(databasePath);
  const opsToken = randomBytes(24).toString('hex');
  const env: Record<string, string> = {
    HUBSPOT_CLIENT_SECRET: sim.clientSecret,
    HUBSPOT_API_BASE_URL: sim.url,
    PUBLIC_BASE_URL: url,
    ...database.env,
    DEALGATE_OPS_TOKEN: opsToken,
    LOG_LEVEL: 'silent',
    ...(options.auth === 'oauth'
      ? { HUBSPOT_CLIENT_ID: sim.clientId, DEALGATE_TOKEN_ENCRYPTION_KEY: randomBytes(32).toString('base64') }
      : { HUBSPOT_ACCESS_TOKEN: sim.accessToken }),
    ...defaultsEnv(options.defaults),
    ...options.env,
  };
  const config = loadConfig(env);

  async function boot() {
    const store = await database.open();
    const service = await createService(config, { store, clock, logger, options: { ...FAST_BACKGROUND, ...options.background } });
    handler = service.app;
    if (options.startWorkers !== false) service.start();
    return service;
  }

  let service = await boot();
  sim.webhooks.setTargetUrl(url + WEBHOOK_PATH);

  async function pendingWork(): Promise<string | undefined> {
    const journal = await service.store.inbox.journalBacklog();
    const inbox = (await service.store.inbox.countByStatus()).pending;
    const outbox = (await service.store.outbox.countByStatus()).pending;
    if (journal === 0 && inbox === 0 && outbox === 0) return undefined;
    return `${journal} journaled batch(es), ${inbox} pending inbox event(s), ${outbox} pending outbox row(s)`;
  }

  async function settle(settleOptions: { timeoutMs?: number } = {}): Promise<void> {
    const timeoutMs = settleOptions.timeoutMs ?? 10_000;
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const generated = sim.webhooks.events().length;
      await sim.webhooks.idle(Math.max(1, deadline - Date.now()));
      service.background.inbox.wake();
      service.background.outbox.wake();
      for (;;) {
        const waiting = await pendingWork();
        if (waiting === undefined) break;
        if (Date.now() > deadline) throw new Error(`stack did not settle within ${timeoutMs} ms: ${waiting}`);
        await sleep(5);
      }
      if (sim.webhooks.events().length === generated) return;
      if (Date.now() > deadline) throw new Error(`stack did not settle within ${timeoutMs} ms: webhooks keep coming`);
    }
  }

  async function ops<T>(path: string, method: 'GET' | 'POST' = 'GET'): Promise<OpsResponse<T>> {
    const response = await fetch(url + path, { method, headers: { authorization: `Bearer ${opsToken}` } });
    return { status: response.status, json: (await response.json()) as T };
  }

  function postWebhook(body: string, secret = sim.clientSecret): Promise<Response> {
    const headers = signedHeaders(secret, { method: 'POST', uri: url + WEBHOOK_PATH, body }, clock.now());
    return fetch(url + WEBHOOK_PATH, { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body });
  }

  async function installViaOAuth(userId?: number): Promise<{ status: number; body: string }> {
    const install = await fetch(url + INSTALL_PATH, { redirect: 'manual' });
    const location = install.headers.get('location');
    if (install.status !== 302 || !location) throw new Error(`GET ${INSTALL_PATH} answered ${install.status}, not a redirect`);
    const authorize = new URL(location);
    const redirectUri = authorize.searchParams.get('redirect_uri') ?? '';
    const state = authorize.searchParams.get('state') ?? '';
    // What HubSpot does when the user consents: back to the redirect URI with a one-time code.
    const code = sim.issueAuthorizationCode({ redirectUri, ...(userId !== undefined ? { userId } : {}) });
    const callback = new URL(redirectUri);
    callback.searchParams.set('code', code);
    callback.searchParams.set('state', state);
    if (!callback.toString().startsWith(url + CALLBACK_PATH)) throw new Error(`redirect_uri ${redirectUri} is not this service's callback`);
    // The browser that started the install finishes it: it sends back the cookie /oauth/install set.
    const cookie = install.headers.getSetCookie().map((c) => c.split(';')[0]).join('; ');
    const response = await fetch(callback, { headers: { cookie } });
    return { status: response.status, body: await response.text() };
  }

  async function shutdown(crash: boolean): Promise<void> {
    handler = (_req, res) => {
      res.statusCode = 503;
      res.end();
    };
    if (crash) {
      // A killed process: the database goes away under the workers; whatever they were doing is
      // lost, and nothing new starts. Both at once: PostgreSQL's close waits for the connections in
      // use to come back, and the workers must not begin more rounds (more HubSpot calls) meanwhile.
      const closing = service.store.close();
      await Promise.all([closing, service.background.stop()]);
    } else {
      await service.background.stop();
      await service.store.close();
    }
  }

  let stopped = false;
  return {
    sim,
    url,
    config,
    get store() {
      return service.store;
    },
    get background() {
      return service.background;
    },
    get hubspot() {
      return service.hubspot;
    },
    clock,
    clientSecret: sim.clientSecret,
    opsToken,
    databasePath,
    databaseEnv: database.env,
    ops,
    postWebhook,
    provision: () => service.background.provisioner.ensureReady(sim.portalId),
    installViaOAuth,
    settle,
    async restart(restartOptions = {}) {
      await shutdown(restartOptions.crash === true);
      service = await boot();
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      await shutdown(false);
      await sim.stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await database.drop();
      dir.cleanup();
    },
  };
}
