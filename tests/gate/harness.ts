import { join } from 'node:path';
import express from 'express';
import type { GateResponse, Settings } from '../../extensions/contract/api';
import { ManualClock } from '../../src/server/shared/clock';
import { createService } from '../../src/server/service';
import { staticHubSpotClients, type HubSpotClients } from '../../src/server/hubspot/clients';
import { silentLogger } from '../../src/server/shared/logger';
import { testDatabase } from '../support/testStore';
import type { Store } from '../../src/server/storage/store';
import type { OutboxRow } from '../../src/server/storage/outboxStore';
import { createOutboxWorker } from '../../src/server/workers/outboxWorker';
import { createRateGovernor } from '../../src/server/hubspot/rateGovernor';
import type { GateContext } from '../../src/server/application/context';
import type { Config } from '../../src/server/config/config';
import { startSimulator, type Simulator } from '../../src/simulator';
import { DEALGATE_PROPERTIES, DEALGATE_PROPERTY_GROUP } from '../../src/server/application/dealgateProperties';
import { TEST_PEOPLE } from '../support/people';
import { cardRequest, type CardRequest, type CardResponse } from '../support/cardClient';
import { listen, tempDir, testConfig, TEST_CLIENT_SECRET } from '../support/env';

/** Who is who in these tests (HubSpot user ids). */
export const REP = '100';
export const OTHER_REP = '101';
export const REVIEWER = '200';
export const SECOND_REVIEWER = '201';
export const ESCALATION = '300';
export const ADMIN = '900';

export const START = Date.UTC(2026, 10, 2, 9, 0, 0);

/** A complete, valid settings body for PUT /settings (tests change one field of it). */
export const baseSettings: Settings = {
  valueThreshold: 50000,
  slaHours: 48,
  reviewers: [REVIEWER],
  admins: [ADMIN],
  escalationReviewer: null,
  gateStageLabel: 'contract',
  gateStages: {},
  amountTolerance: 0.1,
  afterClose: 'revert',
  capacity: null,
};

export interface Harness {
  sim: Simulator;
  store: Store;
  clock: ManualClock;
  config: Config;
  url: string;
  /** The gate service's context over the same store, clock and simulator (for what the webhook worker would do). */
  ctx: GateContext;
  call<T = GateResponse>(userId: string, method: CardRequest['method'], path: string, body?: unknown, portalId?: number): Promise<CardResponse<T>>;
  /** Outbox rows of a deal, oldest first. */
  outbox(dealId: string): Promise<OutboxRow[]>;
  /** One round of the real outbox worker: what is due goes to the simulator. */
  deliverOutbox(): Promise<number>;
  /** One round of the SLA worker as the service wires it (its loop stopped): escalations, overdue deliveries, reminders. */
  slaRound(): Promise<void>;
  /** A deal in HubSpot (the simulator) that Dealgate has not seen yet. */
  seedDeal(properties?: Record<string, string>): string;
  /**
   * Treats another account as installed (as an OAuth install would): its card requests pass the
   * account check. Only for routes that call HubSpot for it no more than the static token allows.
   */
  installOtherAccount(portalId: number): void;
  close(): Promise<void>;
}

/**
 * The whole service in-process, as main() wires it (createService, its workers left stopped) over
 * real SQLite in a temp dir, HubSpot being the local simulator, every card call signed like
 * hubspot.fetch. One ManualClock
 * drives the service, the simulator and the signature timestamps.
 */
export async function startHarness(env: Record<string, string> = {}): Promise<Harness> {
  const dir = tempDir('dealgate-gate-');
  const clock = new ManualClock(START);
  // The account's users have real names (tests/support/people.ts): notes and cards name them.
  const sim = await startSimulator({ now: () => clock.now(), owners: [...TEST_PEOPLE] });
  const outer = express();
  const server = await listen(outer);
  // SQLite in the temp dir, or (DEALGATE_TEST_STORE=postgres) a PostgreSQL database of this harness's own.
  const database = await testDatabase(join(dir.path, 'db.sqlite'));
  const config = testConfig({
    ...database.env,
    HUBSPOT_ACCESS_TOKEN: sim.accessToken,
    HUBSPOT_API_BASE_URL: sim.url,
    // The signature covers the public URL, known once the server listens.
    PUBLIC_BASE_URL: server.url,
    DEALGATE_REVIEWERS: `${REVIEWER},${SECOND_REVIEWER}`,
    DEALGATE_ADMINS: ADMIN,
    DEALGATE_ESCALATION_REVIEWER: ESCALATION,
    DEALGATE_VALUE_THRESHOLD: '50000',
    DEALGATE_SLA_HOURS: '48',
    ...env,
  });
  const store = await database.open();
  const statically = staticHubSpotClients(config);
  const installed = new Set<number>();
  const hubspot: HubSpotClients = { ...statically, serves: async (portalId) => installed.has(portalId) || statically.serves(portalId) };
  const logger = silentLogger();
  const service = await createService(config, { store, clock, logger, hubspot });
  outer.use(service.app);
  const ctx: GateContext = { store, clock, defaults: config.defaults, gateway: service.gateway, logger };
  // The account as installed: the dealgate properties exist in HubSpot. The calls are not the card's.
  await ctx.gateway.ensureProperties(sim.portalId, DEALGATE_PROPERTY_GROUP, DEALGATE_PROPERTIES);
  sim.requests.reset();
  const outboxWorker = createOutboxWorker({ store, gateway: ctx.gateway, clock, logger, governor: createRateGovernor(clock) });

  return {
    sim,
    store,
    clock,
    config,
    url: server.url,
    ctx,
    call(userId, method, path, body, portalId = sim.portalId) {
      return cardRequest(server.url, TEST_CLIENT_SECRET, { method, path: `/api/v1${path}`, userId, portalId, body, timestamp: clock.now() });
    },
    async outbox(dealId) {
      return (await store.outbox.list({ portalId: sim.portalId, dealId, limit: 1000 })).reverse();
    },
    deliverOutbox() {
      return outboxWorker.deliverDue();
    },
    slaRound() {
      return service.background.sla.runRound();
    },
    installOtherAccount(portalId) {
      installed.add(portalId);
    },
    seedDeal(properties = {}) {
      return sim.seedDeal({ properties: { dealname: 'Acme renewal', dealstage: 'decisionmakerboughtin', amount: '80000', ...properties } }).id;
    },
    async close() {
      await server.close();
      await sim.stop();
      await store.close();
      await database.drop();
      dir.cleanup();
    },
  };
}

/** The properties of every pending `update_deal` row of a deal, merged oldest to newest (as the outbox coalesces them). */
export function projectedProperties(rows: readonly OutboxRow[]): Record<string, string> {
  return rows
    .filter((r) => r.kind === 'update_deal')
    .reduce<Record<string, string>>((acc, r) => ({ ...acc, ...(r.payload as { properties: Record<string, string> }).properties }), {});
}
