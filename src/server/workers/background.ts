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
import { createInboxWorker, type InboxWorker } from './inboxWorker';
import { createOutboxWorker, type OutboxWorker } from './outboxWorker';
import { createRateGovernor, DEFAULT_RATE, type RateGovernor, type RateGovernorOptions } from './rateGovernor';
import { createSlaWorker, type SlaWorker } from './slaWorker';

/**
 * Everything that runs behind the HTTP routes, wired once: the HubSpot gateway, the account
 * provisioner, one rate governor shared by the workers, and the three workers (inbox: webhook
 * events through the deal event handler and the gate; outbox: effects to HubSpot; SLA:
 * escalation of overdue reviews). main() and the test stack build it the same way.
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
  /** The webhook route stored a batch: process it now rather than at the next poll. */
  onWebhookStored(): void;
  /** An OAuth install finished: create the properties and read the pipelines. */
  onInstalled(portalId: number): Promise<void>;
  start(): void;
  /** Lets each worker finish the round in flight, producers (inbox, SLA) before the outbox. */
  stop(): Promise<void>;
}

export function createBackground(deps: BackgroundDeps): Background {
  const { config, store, clock, logger } = deps;
  const options = deps.options ?? {};
  const gateway = createHubSpotGateway(deps.hubspot, () => clock.now());
  const governor = createRateGovernor(options.governorClock ?? clock, options.rate ?? DEFAULT_RATE);
  const provisioner = createAccountProvisioner({
    store,
    gateway,
    clock,
    logger,
    serves: (portalId) => deps.hubspot.serves(portalId),
    savePipelines: (portalId, pipelines, at) => savePipelines({ store }, portalId, pipelines, at),
    ...(options.pipelineRefreshIntervalMs !== undefined ? { pipelineRefreshIntervalMs: options.pipelineRefreshIntervalMs } : {}),
  });
  const gate = gatePort({ store, clock, defaults: config.defaults });
  const handler = createDealEventHandler({ store, clock, logger, gate });

  const outbox = createOutboxWorker({
    store,
    gateway,
    clock,
    logger,
    governor,
    prepareAccount: (portalId) => provisioner.ensureReady(portalId),
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
    onEffects: () => outbox.wake(),
    ...(options.inboxRetry ? { retry: options.inboxRetry } : {}),
    ...(options.callTimeoutMs !== undefined ? { callTimeoutMs: options.callTimeoutMs } : {}),
    ...(options.inboxIdleMs !== undefined ? { idleMs: options.inboxIdleMs } : {}),
    ...(options.random ? { random: options.random } : {}),
  });
  const sla = createSlaWorker({
    store,
    clock,
    logger,
    defaults: config.defaults,
    onEffects: () => outbox.wake(),
    ...(options.slaIntervalMs !== undefined ? { intervalMs: options.slaIntervalMs } : {}),
  });

  return {
    gateway,
    provisioner,
    governor,
    inbox,
    outbox,
    sla,
    onWebhookStored: () => inbox.wake(),
    onInstalled: (portalId) => provisioner.ensureReady(portalId),
    start() {
      outbox.start();
      inbox.start();
      sla.start();
    },
    async stop() {
      await Promise.all([inbox.stop(), sla.stop()]);
      await outbox.stop();
    },
  };
}
