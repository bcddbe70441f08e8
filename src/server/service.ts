import type { Express } from 'express';
import type { Config } from './config/config';
import { systemClock, type Clock } from './shared/clock';
import { createLogger, type Logger } from './shared/logger';
import type { Store } from './storage/store';
import { openStore, type OpenedStore } from './storage/openStore';
import { hubSpotClientsFor, type HubSpotClients } from './hubspot/clients';
import { createHubSpotGateway, type HubSpotGateway } from './hubspot/gateway';
import { createRateGovernor, DEFAULT_RATE, sharedBudgetLedger, type RateGovernor } from './hubspot/rateGovernor';
import { createAccountProvisioner, type AccountProvisioner } from './application/provisioning';
import { savePipelines } from './application/dealFacts';
import { createDealEventHandler } from './application/dealEvents';
import { gatePort } from './application/gatePort';
import { SEARCH_RATE } from './application/dealSweeps';
import { createApp } from './http/app';
import { createBackground, type Background, type BackgroundOptions } from './workers/background';

/**
 * The one composition root: everything Dealgate runs, wired from validated configuration. main(),
 * the bench servers, the test stacks and the demo all build the service here; what they change
 * comes in `deps` (a clock, a logger, HubSpot clients, a store of their own, the loops' options).
 */
export interface ServiceDeps {
  /** Default: the system clock. */
  clock?: Clock;
  /** Default: a logger at config.logLevel. */
  logger?: Logger;
  /** A store the caller opened and closes. Default: the one the configuration selects, opened here and closed by close(). */
  store?: Store;
  /** Default: OAuth per account when HUBSPOT_CLIENT_ID is set (the static token, if any, as fallback), else the static token. */
  hubspot?: HubSpotClients;
  /** The loops' intervals, retry policies and rate budgets (tests shrink them). */
  options?: BackgroundOptions;
}

export interface Service {
  readonly config: Config;
  readonly store: Store;
  readonly hubspot: HubSpotClients;
  /** The one HubSpot gateway: the card routes and every worker call HubSpot through it. */
  readonly gateway: HubSpotGateway;
  readonly governor: RateGovernor;
  readonly provisioner: AccountProvisioner;
  /** The workers (inbox, outbox, SLA, sweeps) and their leases. */
  readonly background: Background;
  /** Every route; listen on it (main) or mount it (tests). */
  readonly app: Express;
  /** Starts the workers. */
  start(): void;
  /** Lets each worker finish the round in flight (see Background.stop). */
  stop(): Promise<void>;
  /** Closes the store if the service opened it (a store given in deps is the caller's to close). */
  close(): Promise<void>;
}

/** Opening the store is the only step that can fail (the database cannot be reached); the rest is wiring. */
export async function createService(config: Config, deps: ServiceDeps = {}): Promise<Service> {
  const clock = deps.clock ?? systemClock;
  const logger = deps.logger ?? createLogger({ level: config.logLevel });
  const opened = deps.store === undefined ? await openConfiguredStore(config, logger) : undefined;
  const store = deps.store ?? (opened as OpenedStore).store;
  const hubspot = deps.hubspot ?? hubSpotClientsFor({ config, store, clock, logger });
  const options = deps.options ?? {};
  const gateway = createHubSpotGateway(hubspot, () => clock.now());
  const { governor, searchPacer } = ratePacers(store, clock, logger, options);
  const accounts = createAccountProvisioner({
    store,
    gateway,
    clock,
    logger,
    serves: (portalId) => hubspot.serves(portalId),
    savePipelines: async (portalId, pipelines, at) => await savePipelines({ store }, portalId, pipelines, at),
    ...(options.pipelineRefreshIntervalMs !== undefined ? { pipelineRefreshIntervalMs: options.pipelineRefreshIntervalMs } : {}),
  });
  const gate = gatePort({ store, clock, defaults: config.defaults });
  const handler = createDealEventHandler({ store, clock, logger, gate });
  const background = createBackground({ config, store, clock, logger, gateway, governor, searchPacer, accounts, handler, options });
  const app = createApp({ config, store, clock, hubspot, gateway, logger, hooks: background });
  return {
    config,
    store,
    hubspot,
    gateway,
    governor,
    provisioner: background.provisioner,
    background,
    app,
    start: () => background.start(),
    stop: () => background.stop(),
    close: async () => await opened?.close(),
  };
}

/** PostgreSQL when DATABASE_URL is set (migrated under an advisory lock), else SQLite at DATABASE_PATH. */
function openConfiguredStore(config: Config, logger: Logger): Promise<OpenedStore> {
  return openStore(config, {
    onCheckpointError: (message) => logger.warn({ message }, 'WAL checkpoint thread failed; automatic checkpoints continue'),
    onIdleError: (error) => logger.warn({ err: { message: error.message, code: (error as { code?: unknown }).code } }, 'an idle PostgreSQL connection failed; the pool opens a new one'),
  });
}

/** One budget per account across the instances on this database (HubSpot counts per account), and the search API's own. */
function ratePacers(store: Store, clock: Clock, logger: Logger, options: BackgroundOptions): { governor: RateGovernor; searchPacer: RateGovernor } {
  const governor = createRateGovernor(options.governorClock ?? clock, { logger, ...(options.rate ?? DEFAULT_RATE) }, sharedBudgetLedger(store.hubspotBudget, 'TEN_SECONDLY_ROLLING'));
  const searchPacer = createRateGovernor(
    options.governorClock ?? clock,
    {
      logger,
      ...SEARCH_RATE,
      ...(options.rate?.minPauseMs !== undefined ? { minPauseMs: options.rate.minPauseMs } : {}),
      ...(options.rate?.maxPauseMs !== undefined ? { maxPauseMs: options.rate.maxPauseMs } : {}),
      ...options.searchRate,
    },
    sharedBudgetLedger(store.hubspotBudget, 'SECONDLY'),
  );
  return { governor, searchPacer };
}
