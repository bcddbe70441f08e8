import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type Response } from 'express';
import { projectScopes } from './auth/scopes';
import { TokenAuthority, type IssueTokenOptions } from './auth/tokenAuthority';
import { userSource } from './crm/changeSource';
import { CurrencyBook, type CurrencySettings } from './crm/currencies';
import { CrmStore, type CrmRecord, type HistoryEntry } from './crm/crmStore';
import type { CrmObjectType } from './crm/objectTypes';
import { OwnerDirectory, type Owner, type OwnerSeed } from './crm/owners';
import { PipelineRegistry, type Pipeline, type PipelineSeed } from './crm/pipelines';
import { PropertyCatalog, type PropertyDefinition, type PropertyGroup, type PropertyInput } from './crm/propertyCatalog';
import { accountRoutes } from './http/accountRoutes';
import { unroutedHandler, type TrafficControls } from './http/apiRoute';
import { controlRoutes } from './http/controlRoutes';
import { crmObjectRoutes } from './http/crmObjectRoutes';
import { searchRoutes } from './http/searchRoutes';
import { FaultInjector } from './traffic/faults';
import { RollingWindowLimiter } from './traffic/rateLimiter';
import { RequestLog } from './traffic/requestLog';
import { loadSubscriptions, projectWebhooksConfig, type Subscription, type WebhooksConfig } from './webhooks/subscriptions';
import { WebhookDispatcher, type DeliveryAttempt, type DeliverySettings, type WebhookEvent } from './webhooks/webhookDispatcher';
import { invalidPropertyValues, type HubSpotError } from './hubspotErrors';

export interface SimulatorOptions {
  /** The HubSpot account (hub) id. Default 24681357. */
  portalId?: number;
  /** The app's id: webhook `appId`, and `sourceId` of changes made with the app's tokens. Default 3141592. */
  appId?: number;
  /** OAuth client id. Default `sim-client-id`. */
  clientId?: string;
  /** OAuth client secret; signs webhooks. Default `sim-client-secret`. */
  clientSecret?: string;
  /** Where webhooks go; they wait (queued) until one is set. */
  webhookTargetUrl?: string;
  /** Static access tokens of the app to accept (never expire), besides `sim.accessToken`. */
  accessTokens?: string[];
  /** Requests per rolling 10 seconds per app and account. Default 110 (OAuth apps). */
  rateLimitPerTenSeconds?: number;
  /** Search requests per second per account, on top of the 10-second limit. Default 5, as HubSpot. */
  searchRateLimitPerSecond?: number;
  /**
   * The scopes of tokens and authorization codes issued without their own: by default exactly the
   * project's `requiredScopes` (src/app/app-hsmeta.json), what HubSpot grants the app at install.
   */
  scopes?: string[];
  /** The account's company currency (USD) and additional currencies with their exchange rates. */
  currencies?: CurrencySettings;
  /** Lifetime of OAuth access tokens. Default 1800 (30 minutes, as HubSpot). */
  accessTokenTtlSeconds?: number;
  /** Owners to seed at start. */
  owners?: OwnerSeed[];
  /** Webhook delivery settings; see DeliverySettings for each. */
  webhooks?: Partial<DeliverySettings> & {
    /** Subscriptions to use instead of the project's webhooks-hsmeta.json. */
    config?: WebhooksConfig;
    seed?: number;
  };
  /** The clock (ms since the epoch) for tokens, history, occurredAt and signature timestamps. */
  now?: () => number;
  /** Listen port; 0 (default) picks a free one. */
  port?: number;
}

/** A record as a test reads it back. */
export interface SimRecord {
  id: string;
  properties: Record<string, string>;
  createdAt: number;
  updatedAt: number;
}

export interface SimEngagement extends SimRecord {
  /** Ids of the deals it is associated with. */
  dealIds: string[];
}

export interface UserAction {
  /** The HubSpot user acting (shows as `updatedByUserId` and `sourceId: "userId:<id>"`). */
  userId: number;
  /** Defaults to CRM_UI. */
  changeSource?: string;
  /**
   * Make the change without any webhook: a delivery HubSpot gave up on, an outage, a subscription
   * switched off. History and hs_lastmodifieddate record it as usual, so only a sweep finds it.
   */
  silent?: boolean;
}

export interface SeedDeal {
  properties: Record<string, string>;
  id?: string;
  /** Who appears in the history; defaults to the first owner's user, else user 1. */
  userId?: number;
  /** When it was created (ms); defaults to now. */
  at?: number;
}

/** Many deals at once, without webhooks (sweep tests): `count` copies of `properties`, or the given `deals`. */
export interface BulkDeals {
  /** How many deals; `{n}` in a property value becomes the deal's number (1-based). */
  count?: number;
  properties?: Record<string, string>;
  /** Stage ids dealt out in turn (deal n gets stages[(n-1) % length]); each moves the deal to its pipeline. */
  stages?: string[];
  /** Deals given one by one instead of (or after) `count` copies. */
  deals?: { properties: Record<string, string> }[];
  /** Who appears in the history; defaults to the first owner's user, else user 1. */
  userId?: number;
  /** When they were created and last modified (ms); defaults to now. All share it. */
  at?: number;
}

export interface SimulatorWebhooks {
  /** Every event generated so far, oldest first (attemptNumber 0). */
  events(): WebhookEvent[];
  /** Every delivery attempt, in the order they finished. */
  deliveries(): DeliveryAttempt[];
  /** Resolves once everything generated so far is delivered or given up on. */
  idle(timeoutMs?: number): Promise<void>;
  /** Sends what is pending without waiting for the batch window. */
  flush(): void;
  pause(): void;
  resume(): void;
  setTargetUrl(url: string): void;
  configure(settings: Partial<DeliverySettings>): void;
  subscriptions(): Subscription[];
}

export interface Simulator {
  /** Base URL: `basePath` for @hubspot/api-client, `HUBSPOT_API_BASE_URL` for the service. */
  readonly url: string;
  readonly portalId: number;
  readonly appId: number;
  readonly clientId: string;
  readonly clientSecret: string;
  /** A static access token of the app (never expires). */
  readonly accessToken: string;

  seedDeal(input: SeedDeal): SimRecord;
  /** Creates many deals in one go, silently (5,000 in well under a second); returns their ids in order. */
  createDeals(input: BulkDeals): string[];
  seedPipeline(input: PipelineSeed): Pipeline;
  seedOwner(input: OwnerSeed): Owner;
  /** The user leaves: their owner is archived (listed only with `archived=true`, its user id in userIdIncludingInactive). */
  deactivateOwner(userId: number): Owner;
  seedPropertyGroup(objectType: CrmObjectType, group: { name: string; label: string; displayOrder?: number }): PropertyGroup;
  seedProperty(objectType: CrmObjectType, property: PropertyInput): PropertyDefinition;

  issueAccessToken(options?: IssueTokenOptions): string;
  /** The code HubSpot would send to `redirectUri` after `userId` installs the app. */
  issueAuthorizationCode(grant: { redirectUri: string; userId?: number; scopes?: string[] }): string;
  expireAccessToken(token: string): void;

  createDealAsUser(properties: Record<string, string>, action: UserAction): SimRecord;
  moveDealToStage(dealId: string, stageId: string, action: UserAction): SimRecord;
  /** Bulk edit: every deal moves at once (one webhook burst). */
  moveDealsToStage(dealIds: string[], stageId: string, action: UserAction): SimRecord[];
  updateDealAsUser(dealId: string, properties: Record<string, string>, action: UserAction): SimRecord;
  deleteDealAsUser(dealId: string, action: UserAction): void;

  getDeal(dealId: string): SimRecord | undefined;
  deals(): SimRecord[];
  /** Newest first. */
  dealHistory(dealId: string, property: string): HistoryEntry[];
  notesForDeal(dealId: string): SimEngagement[];
  tasksForDeal(dealId: string): SimEngagement[];
  pipelines(): Pipeline[];
  owners(): Owner[];

  readonly requests: RequestLog;
  readonly faults: FaultInjector;
  setRateLimit(perTenSeconds: number): void;
  setSearchRateLimit(perSecond: number): void;
  /** Adds a currency to the account or changes its rate (units of company currency per unit). */
  setExchangeRate(currencyCode: string, conversionRate: number): void;
  readonly companyCurrency: string;
  /** What tokens carry unless issued with their own scopes. */
  readonly defaultScopes: readonly string[];
  readonly webhooks: SimulatorWebhooks;

  stop(): Promise<void>;
}

export const DEFAULTS = {
  portalId: 24_681_357,
  appId: 3_141_592,
  clientId: 'sim-client-id',
  clientSecret: 'sim-client-secret',
  rateLimitPerTenSeconds: 110,
  accessTokenTtlSeconds: 1800,
  searchRateLimitPerSecond: 5,
  /** The project's declared scopes (src/app/app-hsmeta.json `requiredScopes`). */
  scopes: projectScopes() as readonly string[],
} as const;

const DEFAULT_DELIVERY: Omit<DeliverySettings, 'targetUrl' | 'maxConcurrentRequests'> = {
  timeoutMs: 5000,
  retryDelaysMs: [100, 250, 500, 1000, 2000],
  maxRetries: 10,
  batchWindowMs: 20,
  maxBatchSize: 100,
  duplicateRate: 0,
  reorder: false,
};

const DELIVERY_KEYS = ['targetUrl', 'maxConcurrentRequests', 'timeoutMs', 'retryDelaysMs', 'maxRetries', 'batchWindowMs', 'maxBatchSize', 'duplicateRate', 'reorder'] as const;

function deliveryOverrides(given: Partial<DeliverySettings>): Partial<DeliverySettings> {
  return Object.fromEntries(DELIVERY_KEYS.filter((k) => given[k] !== undefined).map((k) => [k, given[k]])) as Partial<DeliverySettings>;
}

function snapshot(record: CrmRecord): SimRecord {
  return { id: record.id, properties: Object.fromEntries(record.values), createdAt: record.createdAt, updatedAt: record.updatedAt };
}

/** Everything one simulator is made of, built once by startSimulator. */
interface SimulatorParts {
  now: () => number;
  portalId: number;
  appId: number;
  clientId: string;
  clientSecret: string;
  catalog: PropertyCatalog;
  pipelineRegistry: PipelineRegistry;
  ownerDirectory: OwnerDirectory;
  currencies: CurrencyBook;
  crm: CrmStore;
  auth: TokenAuthority;
  defaultScopes: string[];
  /** The static access token every simulator has (`sim.accessToken`). */
  accessToken: string;
  controls: TrafficControls;
  dispatcher: WebhookDispatcher;
  subscriptions: Subscription[];
}

type Identity = Pick<SimulatorParts, 'now' | 'portalId' | 'appId' | 'clientId' | 'clientSecret'>;

function identityOf(options: SimulatorOptions): Identity {
  return {
    now: options.now ?? Date.now,
    portalId: options.portalId ?? DEFAULTS.portalId,
    appId: options.appId ?? DEFAULTS.appId,
    clientId: options.clientId ?? DEFAULTS.clientId,
    clientSecret: options.clientSecret ?? DEFAULTS.clientSecret,
  };
}

/** The account's CRM: properties, pipelines, owners (seeded from the options), currencies and the records. */
function crmParts(options: SimulatorOptions, { now, portalId }: Identity): Pick<SimulatorParts, 'catalog' | 'pipelineRegistry' | 'ownerDirectory' | 'currencies' | 'crm'> {
  const catalog = new PropertyCatalog(now);
  const pipelineRegistry = new PipelineRegistry(now);
  const ownerDirectory = new OwnerDirectory(now);
  for (const owner of options.owners ?? []) ownerDirectory.seed(owner);
  const currencies = new CurrencyBook(options.currencies, portalId);
  const crm = new CrmStore(catalog, pipelineRegistry, ownerDirectory, currencies, now);
  return { catalog, pipelineRegistry, ownerDirectory, currencies, crm };
}

/** The token authority, with `sim.accessToken` and the options' static tokens issued. */
function tokenParts(options: SimulatorOptions, identity: Identity, ownerDirectory: OwnerDirectory): Pick<SimulatorParts, 'auth' | 'defaultScopes' | 'accessToken'> {
  const defaultScopes = [...(options.scopes ?? DEFAULTS.scopes)];
  const auth = new TokenAuthority({
    portalId: identity.portalId,
    appId: identity.appId,
    clientId: identity.clientId,
    clientSecret: identity.clientSecret,
    accessTokenTtlSeconds: options.accessTokenTtlSeconds ?? DEFAULTS.accessTokenTtlSeconds,
    defaultScopes,
    now: identity.now,
    emailOf: (userId) => ownerDirectory.byUserId(userId)?.email,
  });
  const accessToken = auth.issueAccessToken();
  for (const token of options.accessTokens ?? []) auth.issueAccessToken({ token });
  return { auth, defaultScopes, accessToken };
}

function trafficControls(options: SimulatorOptions, auth: TokenAuthority, now: () => number): TrafficControls {
  return {
    auth,
    limiter: new RollingWindowLimiter(options.rateLimitPerTenSeconds ?? DEFAULTS.rateLimitPerTenSeconds, 10_000, now),
    searchLimiter: new RollingWindowLimiter(options.searchRateLimitPerSecond ?? DEFAULTS.searchRateLimitPerSecond, 1_000, now),
    faults: new FaultInjector(),
    log: new RequestLog(),
    held: new Set<Response>(),
    now,
  };
}

/** The webhook dispatcher over the project's subscriptions (or the options'), fed by every CRM change. */
function webhookParts(options: SimulatorOptions, identity: Identity, crm: CrmStore): Pick<SimulatorParts, 'dispatcher' | 'subscriptions'> {
  const webhooksConfig = options.webhooks?.config ?? projectWebhooksConfig();
  const subscriptions = loadSubscriptions(webhooksConfig);
  const dispatcher = new WebhookDispatcher({
    ...DEFAULT_DELIVERY,
    maxConcurrentRequests: webhooksConfig.settings?.maxConcurrentRequests ?? 10,
    ...(options.webhookTargetUrl !== undefined ? { targetUrl: options.webhookTargetUrl } : {}),
    ...deliveryOverrides(options.webhooks ?? {}),
    clientSecret: identity.clientSecret,
    portalId: identity.portalId,
    appId: identity.appId,
    subscriptions,
    seed: options.webhooks?.seed ?? 20_261_102,
    now: identity.now,
  });
  crm.onChange((change) => dispatcher.handle(change));
  return { dispatcher, subscriptions };
}

function simulatorParts(options: SimulatorOptions): SimulatorParts {
  const identity = identityOf(options);
  const crm = crmParts(options, identity);
  const tokens = tokenParts(options, identity, crm.ownerDirectory);
  const controls = trafficControls(options, tokens.auth, identity.now);
  return { ...identity, ...crm, ...tokens, controls, ...webhookParts(options, identity, crm.crm) };
}

/** What a test does to deals as a HubSpot user would, and reads back. */
interface DealDesk {
  defaultUserId(): number;
  requireDeal(dealId: string): CrmRecord;
  engagementsOf(dealId: string, type: 'notes' | 'tasks'): SimEngagement[];
  moveDeal(dealId: string, stageId: string, action: UserAction): CrmRecord;
  createDeals(input: BulkDeals): string[];
}

function notAStage(stageId: string): HubSpotError {
  return invalidPropertyValues([{ isValid: false, message: `${stageId} is not a stage of any deal pipeline`, error: 'INVALID_OPTION', name: 'dealstage' }]);
}

function dealDesk({ crm, pipelineRegistry, ownerDirectory, now }: SimulatorParts): DealDesk {
  const defaultUserId = (): number => ownerDirectory.list()[0]?.userId ?? 1;
  const requireDeal = (dealId: string): CrmRecord => crm.get('deals', dealId);
  const engagementsOf = (dealId: string, type: 'notes' | 'tasks'): SimEngagement[] =>
    crm.associated('deals', dealId, type).map((r) => ({
      ...snapshot(r),
      dealIds: crm.links(type, r.id, 'deals').map((l) => l.toId),
    }));

  const moveDeal = (dealId: string, stageId: string, action: UserAction): CrmRecord => {
    const deal = requireDeal(dealId);
    const current = deal.values.get('pipeline');
    const stagePipeline = pipelineRegistry.pipelineOfStage(stageId);
    if (!stagePipeline) throw notAStage(stageId);
    // In HubSpot's UI, moving a deal to a stage of another pipeline moves it to that pipeline.
    const properties = stagePipeline.id === current ? { dealstage: stageId } : { pipeline: stagePipeline.id, dealstage: stageId };
    return crm.update('deals', dealId, properties, userSource(action.userId, action.changeSource), { silent: action.silent === true });
  };

  const createDeals = (input: BulkDeals): string[] => {
    const source = userSource(input.userId ?? defaultUserId());
    const at = input.at ?? now();
    const stages = input.stages ?? [];
    const stageProperties = stages.map((stageId) => {
      const pipeline = pipelineRegistry.pipelineOfStage(stageId);
      if (!pipeline) throw notAStage(stageId);
      return { pipeline: pipeline.id, dealstage: stageId };
    });
    const inputs: Record<string, string>[] = [];
    for (let n = 1; n <= (input.count ?? 0); n++) {
      const properties = Object.fromEntries(Object.entries(input.properties ?? {}).map(([k, v]) => [k, v.replaceAll('{n}', String(n))]));
      inputs.push({ ...properties, ...(stageProperties.length > 0 ? stageProperties[(n - 1) % stageProperties.length] : {}) });
    }
    for (const deal of input.deals ?? []) inputs.push(deal.properties);
    // All or nothing, like a batch create: every input is checked before the first is created.
    for (const properties of inputs) crm.check('deals', properties, undefined, []);
    return inputs.map((properties) => crm.create('deals', properties, source, { silent: true, at }).id);
  };

  return { defaultUserId, requireDeal, engagementsOf, moveDeal, createDeals };
}

type SeedingApi = Pick<
  Simulator,
  'seedDeal' | 'createDeals' | 'seedPipeline' | 'seedOwner' | 'deactivateOwner' | 'seedPropertyGroup' | 'seedProperty' | 'issueAccessToken' | 'issueAuthorizationCode' | 'expireAccessToken'
>;

function seedingApi({ crm, pipelineRegistry, ownerDirectory, catalog, auth }: SimulatorParts, desk: DealDesk): SeedingApi {
  return {
    seedDeal: (input) =>
      snapshot(
        crm.create('deals', input.properties, userSource(input.userId ?? desk.defaultUserId()), {
          silent: true,
          ...(input.id !== undefined ? { id: input.id } : {}),
          ...(input.at !== undefined ? { at: input.at } : {}),
        }),
      ),
    createDeals: desk.createDeals,
    seedPipeline: (input) => pipelineRegistry.seed(input),
    seedOwner: (input) => ownerDirectory.seed(input),
    deactivateOwner: (userId) => ownerDirectory.deactivate(userId),
    seedPropertyGroup: (objectType, group) => catalog.createGroup(objectType, group),
    seedProperty: (objectType, property) => catalog.create(objectType, property),

    issueAccessToken: (issue) => auth.issueAccessToken(issue),
    issueAuthorizationCode: (grant) => auth.issueAuthorizationCode({ ...grant, userId: grant.userId ?? desk.defaultUserId() }),
    expireAccessToken: (token) => auth.expire(token),
  };
}

type UserActionsApi = Pick<Simulator, 'createDealAsUser' | 'moveDealToStage' | 'moveDealsToStage' | 'updateDealAsUser' | 'deleteDealAsUser'>;

function userActionsApi({ crm }: SimulatorParts, desk: DealDesk): UserActionsApi {
  return {
    createDealAsUser: (properties, action) => snapshot(crm.create('deals', properties, userSource(action.userId, action.changeSource), { silent: action.silent === true })),
    moveDealToStage: (dealId, stageId, action) => snapshot(desk.moveDeal(dealId, stageId, action)),
    moveDealsToStage: (dealIds, stageId, action) => {
      dealIds.forEach(desk.requireDeal);
      return dealIds.map((id) => snapshot(desk.moveDeal(id, stageId, action)));
    },
    updateDealAsUser: (dealId, properties, action) =>
      snapshot(crm.update('deals', dealId, properties, userSource(action.userId, action.changeSource), { silent: action.silent === true })),
    deleteDealAsUser: (dealId, action) => crm.archive('deals', dealId, userSource(action.userId, action.changeSource), { silent: action.silent === true }),
  };
}

type ReadBackApi = Pick<Simulator, 'getDeal' | 'deals' | 'dealHistory' | 'notesForDeal' | 'tasksForDeal' | 'pipelines' | 'owners'>;

function readBackApi({ crm, pipelineRegistry, ownerDirectory }: SimulatorParts, desk: DealDesk): ReadBackApi {
  return {
    getDeal: (dealId) => {
      const deal = crm.find('deals', dealId);
      return deal ? snapshot(deal) : undefined;
    },
    deals: () => crm.list('deals').map(snapshot),
    dealHistory: (dealId, property) => crm.historyOf(desk.requireDeal(dealId), property),
    notesForDeal: (dealId) => desk.engagementsOf(dealId, 'notes'),
    tasksForDeal: (dealId) => desk.engagementsOf(dealId, 'tasks'),
    pipelines: () => pipelineRegistry.list(),
    owners: () => ownerDirectory.list(),
  };
}

type TrafficApi = Pick<Simulator, 'requests' | 'faults' | 'setRateLimit' | 'setSearchRateLimit' | 'setExchangeRate' | 'companyCurrency' | 'defaultScopes' | 'webhooks'>;

function trafficApi({ controls, currencies, defaultScopes, dispatcher, subscriptions }: SimulatorParts): TrafficApi {
  return {
    requests: controls.log,
    faults: controls.faults,
    setRateLimit: (perTenSeconds) => controls.limiter.setLimit(perTenSeconds),
    setSearchRateLimit: (perSecond) => controls.searchLimiter.setLimit(perSecond),
    setExchangeRate: (currencyCode, conversionRate) => currencies.setExchangeRate(currencyCode, conversionRate),
    companyCurrency: currencies.companyCurrency,
    defaultScopes,
    webhooks: {
      events: () => dispatcher.events(),
      deliveries: () => dispatcher.deliveries(),
      idle: (timeoutMs) => dispatcher.idle(timeoutMs),
      flush: () => dispatcher.flush(),
      pause: () => dispatcher.pause(),
      resume: () => dispatcher.resume(),
      setTargetUrl: (url) => dispatcher.setTargetUrl(url),
      configure: (settings) => dispatcher.configure(settings),
      subscriptions: () => subscriptions.map((s) => ({ ...s })),
    },
  };
}

/** Held requests destroyed and open connections closed, so stop() does not wait on a hung call. */
async function stopServing(parts: SimulatorParts, server: Server): Promise<void> {
  await parts.dispatcher.stop();
  for (const res of parts.controls.held) res.destroy();
  parts.controls.held.clear();
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

function simulatorApp(simulator: Simulator, { crm, catalog, pipelineRegistry, ownerDirectory, auth, currencies, controls }: SimulatorParts): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.use(express.raw({ type: () => true, limit: '5mb' }));
  app.use(controlRoutes(simulator));
  app.use(searchRoutes(crm, catalog, controls));
  app.use(crmObjectRoutes(crm, controls));
  app.use(accountRoutes({ catalog, pipelines: pipelineRegistry, owners: ownerDirectory, auth, currencies }, controls));
  app.use(unroutedHandler(controls));
  return app;
}

/** Starts the simulator on 127.0.0.1 and resolves once it listens. */
export async function startSimulator(options: SimulatorOptions = {}): Promise<Simulator> {
  const parts = simulatorParts(options);
  const desk = dealDesk(parts);
  let url = '';
  const simulator: Simulator = {
    get url() {
      return url;
    },
    portalId: parts.portalId,
    appId: parts.appId,
    clientId: parts.clientId,
    clientSecret: parts.clientSecret,
    accessToken: parts.accessToken,
    ...seedingApi(parts, desk),
    ...userActionsApi(parts, desk),
    ...readBackApi(parts, desk),
    ...trafficApi(parts),
    stop: () => stopServing(parts, server),
  };

  const server: Server = createServer(simulatorApp(simulator, parts));
  server.listen(options.port ?? 0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  return simulator;
}
