import type { Clock } from '../shared/clock';
import type { Config } from '../config/config';
import type { Logger } from '../shared/logger';
import type { Store } from '../storage/store';
import type { HubSpotGateway } from '../hubspot/gateway';
import type { AccountProvisioner } from '../application/provisioning';
import type { DealEventHandler } from '../application/dealEventHandler';
import type { RetryPolicy } from '../hubspot/backoff';
import type { WorkerOutages } from '../hubspot/accountOutages';
import { createInboxWorker, type InboxWorker } from './inboxWorker';
import { createOutboxWorker, type OutboxWorker } from './outboxWorker';
import type { RateGovernor, RateGovernorOptions } from '../hubspot/rateGovernor';
import { createSlaWorker, type SlaWorker } from './slaWorker';
import { createDealSweeps } from '../application/dealSweeps';
import { createSweepWorker, type SweepWorker } from './sweepWorker';
import type { WorkerLeaseOptions } from './workerLease';

/**
 * The loops that run behind the HTTP routes: the four workers (inbox: webhook events through the
 * deal event handler and the gate; outbox: effects to HubSpot; SLA: escalation of overdue
 * reviews; sweeps: the install backfill and the periodic reconciliation, whose deals become inbox
 * events). What they share (the gateway, the rate governors, the account provisioner, the deal
 * event handler) is wired by createService (service.ts), which builds these loops over it.
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
  /** The service's one HubSpot gateway (the card routes use the same). */
  gateway: HubSpotGateway;
  /** One budget per account, shared by the workers (and the instances on this database). */
  governor: RateGovernor;
  /** The search API's own limit per account, for the sweeps. */
  searchPacer: RateGovernor;
  /** Properties and pipelines of an account; the loops add the handover to the sweeps. */
  accounts: AccountProvisioner;
  handler: DealEventHandler;
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
  const { config, gateway, governor } = deps;
  const options = deps.options ?? {};
  const sweepsOn = options.sweeps !== false;
  // First contact (an install, the first webhook) hands the account to the sweeps: its install backfill.
  const provisioner: AccountProvisioner = {
    async ensureReady(portalId) {
      await deps.accounts.ensureReady(portalId);
      if (sweepsOn) sweeps.accountReady(portalId);
    },
    refreshPipelines: (portalId, refreshOptions) => deps.accounts.refreshPipelines(portalId, refreshOptions),
  };
  // The inbox is created below; beingWritten runs only once both exist.
  const outbox = outboxLoop(deps, options, provisioner, () => inbox.applying());
  const inbox = inboxLoop(deps, options, provisioner, outbox);
  // SLA escalation and the sweeps run on one instance at a time: the holder of their lease.
  const leases: WorkerLeaseOptions = {
    instanceId: config.instanceId,
    ...(options.leases?.ttlMs !== undefined ? { leaseTtlMs: options.leases.ttlMs } : {}),
    ...(options.leases?.standbyPollMs !== undefined ? { leaseStandbyPollMs: options.leases.standbyPollMs } : {}),
  };
  const sla = createSlaWorker({
    ...leases,
    store: deps.store,
    clock: deps.clock,
    logger: deps.logger,
    defaults: config.defaults,
    people: { gateway, governor },
    onEffects: () => outbox.wake(),
    ...(options.slaIntervalMs !== undefined ? { intervalMs: options.slaIntervalMs } : {}),
  });
  const sweeps = sweepLoop(deps, options, leases, inbox);

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

function outboxLoop(deps: BackgroundDeps, options: BackgroundOptions, provisioner: AccountProvisioner, beingWritten: () => Iterable<number>): OutboxWorker {
  const { store, gateway, clock, logger, governor, config } = deps;
  return createOutboxWorker({
    store,
    gateway,
    clock,
    logger,
    governor,
    instanceId: config.instanceId,
    prepareAccount: (portalId) => provisioner.ensureReady(portalId),
    beingWritten,
    ...(options.outboxRetry ? { retry: options.outboxRetry } : {}),
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
    ...(options.outboxIdleMs !== undefined ? { idleMs: options.outboxIdleMs } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
}

function inboxLoop(deps: BackgroundDeps, options: BackgroundOptions, provisioner: AccountProvisioner, outbox: OutboxWorker): InboxWorker {
  const { store, gateway, clock, logger, governor, config, handler } = deps;
  return createInboxWorker({
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
}

function sweepLoop(deps: BackgroundDeps, options: BackgroundOptions, leases: WorkerLeaseOptions, inbox: InboxWorker): SweepWorker {
  const { store, gateway, clock, logger, governor, config } = deps;
  const reconcileIntervalMs = options.reconcileIntervalMs ?? config.reconcileSeconds * 1000;
  const dealSweeps = createDealSweeps({
    store,
    gateway,
    clock,
    logger,
    governor,
    searchPacer: deps.searchPacer,
    defaults: config.defaults,
    reconcileIntervalMs,
    onEvents: () => inbox.wake(),
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
    ...(options.sweepRetry ? { retry: options.sweepRetry } : {}),
    ...(options.searchPageLimit !== undefined ? { pageLimit: options.searchPageLimit } : {}),
    ...(options.sweepInboxBacklogLimit !== undefined ? { inboxBacklogLimit: options.sweepInboxBacklogLimit } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  return createSweepWorker({
    ...leases,
    store,
    clock,
    logger,
    sweeps: dealSweeps,
    reconcileIntervalMs,
    ...(options.sweepIdleMs !== undefined ? { idleMs: options.sweepIdleMs } : {}),
  });
}
