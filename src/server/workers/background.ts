import type { Clock } from '../clock';
import type { Config } from '../config/config';
import type { Logger } from '../logger';
import type { Store } from '../storage/store';
import type { HubSpotClients } from '../hubspot/clients';
import { createHubSpotGateway, type HubSpotGateway } from '../hubspot/gateway';
import { createAccountProvisioner, type AccountProvisioner } from '../accounts/provisioning';
import { savePipelines } from '../gate/dealFacts';
import { createDealEventHandler } from '../webhooks/dealEvents';
import { gatePort } from '../webhooks/gatePort';
import type { RetryPolicy } from './backoff';
import type { WorkerOutages } from './accountOutages';
import { createInboxWorker, type InboxWorker } from './inboxWorker';
import { createOutboxWorker, type OutboxWorker } from './outboxWorker';
import { createRateGovernor, DEFAULT_RATE, sharedBudgetLedger, type RateGovernor, type RateGovernorOptions } from './rateGovernor';
import { createSlaWorker, type SlaWorker } from './slaWorker';
import { createDealSweeps, SEARCH_RATE } from '../sweeps/dealSweeps';
import { createSweepWorker, type SweepWorker } from './sweepWorker';

/**
 * Everything that runs behind the HTTP routes, wired once: the HubSpot gateway, the account
 * provisioner, one rate governor shared by the workers, and the four workers (inbox: webhook
 * events through the deal event handler and the gate; outbox: effects to HubSpot; SLA:
 * escalation of overdue reviews; sweeps: the install backfill and the periodic reconciliation,
 * whose deals become inbox events). main() and the test stack build it the same way.
 */
export interface BackgroundOptions {
  inboxIdleMs?: number;
  outboxIdleMs?: number;
  /** How often the SLA worker looks for reviews past due. Default one minute. */
  slaIntervalMs?: number;
  inboxRetry?: RetryPolicy;
  outboxRetry?: RetryPolicy;
  /** A HubSpot call of the outbox that takes longer counts as failed with an unknown outcome. */
  callTimeoutMs?: number;
  rate?: RateGovernorOptions;
  /**
   * The governor paces calls in real time, so it keeps its own clock (default: the service's).
   * Tests that drive the service with a manual clock give it the system clock here.
   */
  governorClock?: Clock;
  random?: () => number;
  /** A deal in a stage Dealgate does not know makes it read the pipelines again, at most this often. Default one minute. */
  pipelineRefreshIntervalMs?: number;
  /** false: no sweeps of HubSpot at all (neither the install backfill nor the reconciliation). Default true. */
  sweeps?: boolean;
  /** Overrides DEALGATE_RECONCILE_SECONDS (tests use milliseconds); 0: no reconciliation. */
  reconcileIntervalMs?: number;
  /** The search API's own limit per account (default SEARCH_RATE: 4 a second, HubSpot allows 5). */
  searchRate?: RateGovernorOptions;
  sweepRetry?: RetryPolicy;
  /** How long the sweep worker sleeps with nothing due. Default one minute (a new account wakes it). */
  sweepIdleMs?: number;
  /** Search page size (default 200, HubSpot's largest). */
  searchPageLimit?: number;
  /** An account's sweep waits while this many of its sweep events wait in the inbox. */
  sweepInboxBacklogLimit?: number;
  /** The `sla` and `sweeps` leases (workerLease.ts): their time (default three of the worker's intervals) and a standby's poll. */
  leases?: { ttlMs?: number; standbyPollMs?: number };
}

export interface BackgroundDeps {
  config: Config;
  store: Store;
  clock: Clock;
  logger: Logger;
  hubspot: HubSpotClients;
  options?: BackgroundOptions;
}

export interface Background {
  gateway: HubSpotGateway;
  provisioner: AccountProvisioner;
  governor: RateGovernor;
  inbox: InboxWorker;
  outbox: OutboxWorker;
  sla: SlaWorker;
  sweeps: SweepWorker;
  /** The webhook route stored a batch: process it now rather than at the next poll. */
  onWebhookStored(): void;
  /** An OAuth install finished: create the properties and read the pipelines. */
  onInstalled(portalId: number): Promise<void>;
  /** The accounts whose inbox events and outbox effects wait because HubSpot fails for them. */
  outages(): WorkerOutages;
  start(): void;
  /** Lets each worker finish the round in flight, producers (inbox, SLA, sweeps) before the outbox. */
  stop(): Promise<void>;
}

export function createBackground(deps: BackgroundDeps): Background {
  const { config, store, clock, logger } = deps;
  const options = deps.options ?? {};
  const gateway = createHubSpotGateway(deps.hubspot, () => clock.now());
  // One budget per account across the instances on this database (HubSpot counts per account).
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
  const accounts = createAccountProvisioner({
    store,
    gateway,
    clock,
    logger,
    serves: (portalId) => deps.hubspot.serves(portalId),
    savePipelines: async (portalId, pipelines, at) => await savePipelines({ store }, portalId, pipelines, at),
    ...(options.pipelineRefreshIntervalMs !== undefined ? { pipelineRefreshIntervalMs: options.pipelineRefreshIntervalMs } : {}),
  });
  // First contact (an install, the first webhook) hands the account to the sweeps: its install backfill.
  const provisioner: AccountProvisioner = {
    async ensureReady(portalId) {
      await accounts.ensureReady(portalId);
      if (sweepsOn) sweeps.accountReady(portalId);
    },
    refreshPipelines: (portalId, refreshOptions) => accounts.refreshPipelines(portalId, refreshOptions),
  };
  const gate = gatePort({ store, clock, defaults: config.defaults });
  const handler = createDealEventHandler({ store, clock, logger, gate });

  const outbox = createOutboxWorker({
    store,
    gateway,
    clock,
    logger,
    governor,
    instanceId: config.instanceId,
    prepareAccount: (portalId) => provisioner.ensureReady(portalId),
    // The inbox is created below; this runs only once both exist.
    beingWritten: () => inbox.applying(),
    ...(options.outboxRetry ? { retry: options.outboxRetry } : {}),
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
    ...(options.outboxIdleMs !== undefined ? { idleMs: options.outboxIdleMs } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const inbox = createInboxWorker({
    store,
    gateway,
    clock,
    logger,
    governor,
    provisioner,
    handler,
    instanceId: config.instanceId,
    onEffects: () => outbox.wake(),
    deliveringNow: () => outbox.delivering().keys(),
    ...(options.inboxRetry ? { retry: options.inboxRetry } : {}),
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
    ...(options.inboxIdleMs !== undefined ? { idleMs: options.inboxIdleMs } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  // SLA escalation and the sweeps run on one instance at a time: the holder of their lease.
  const leases = {
    instanceId: config.instanceId,
    ...(options.leases?.ttlMs !== undefined ? { leaseTtlMs: options.leases.ttlMs } : {}),
    ...(options.leases?.standbyPollMs !== undefined ? { leaseStandbyPollMs: options.leases.standbyPollMs } : {}),
  };
  const sla = createSlaWorker({
    ...leases,
    store,
    clock,
    logger,
    defaults: config.defaults,
    people: { gateway, governor },
    onEffects: () => outbox.wake(),
    ...(options.slaIntervalMs !== undefined ? { intervalMs: options.slaIntervalMs } : {}),
  });

  const sweepsOn = options.sweeps !== false;
  const reconcileIntervalMs = options.reconcileIntervalMs ?? config.reconcileSeconds * 1000;
  const dealSweeps = createDealSweeps({
    store,
    gateway,
    clock,
    logger,
    governor,
    searchPacer,
    defaults: config.defaults,
    reconcileIntervalMs,
    onEvents: () => inbox.wake(),
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
    ...(options.sweepRetry ? { retry: options.sweepRetry } : {}),
    ...(options.searchPageLimit !== undefined ? { pageLimit: options.searchPageLimit } : {}),
    ...(options.sweepInboxBacklogLimit !== undefined ? { inboxBacklogLimit: options.sweepInboxBacklogLimit } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const sweeps = createSweepWorker({
    ...leases,
    store,
    clock,
    logger,
    sweeps: dealSweeps,
    reconcileIntervalMs,
    ...(options.sweepIdleMs !== undefined ? { idleMs: options.sweepIdleMs } : {}),
  });

  return {
    gateway,
    provisioner,
    governor,
    inbox,
    outbox,
    sla,
    sweeps,
    onWebhookStored: () => inbox.wake(),
    onInstalled: (portalId) => provisioner.ensureReady(portalId),
    outages: () => ({ inbox: inbox.outages(), outbox: outbox.outages() }),
    start() {
      outbox.start();
      inbox.start();
      sla.start();
      if (sweepsOn) sweeps.start();
    },
    async stop() {
      await Promise.all([inbox.stop(), sla.stop(), sweeps.stop()]);
      await outbox.stop();
    },
  };
}
