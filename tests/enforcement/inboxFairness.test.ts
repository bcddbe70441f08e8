import { join } from 'node:path';
import { systemClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import type { HubSpotDeal, HubSpotGateway } from '../../src/server/hubspot/gateway';
import { testStore } from '../support/testStore';
import type { Store } from '../../src/server/storage/store';
import type { NewInboxEvent } from '../../src/server/storage/inboxStore';
import type { AccountProvisioner } from '../../src/server/application/provisioning';
import { createInboxWorker, type InboxWorker } from '../../src/server/workers/inboxWorker';
import type { RateGovernor } from '../../src/server/hubspot/rateGovernor';
import { tempDir } from '../support/env';

/**
 * Noisy neighbour (issue 12): account A's import fills the inbox and its HubSpot reads are slow
 * (its budget, a slow answer); account B's one event must not wait for them. The inbox worker's
 * loop takes the next due events of the other accounts while an account's share is still being
 * applied. Before, one round served every account and waited for the slowest: B's event sat behind
 * A's held read (and behind every older A event that filled the next rounds) until A was done.
 */
describe('inbox worker: one account does not hold up another', () => {
  const A = 111;
  const B = 222;
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let worker: InboxWorker | undefined;
  let releaseA: (() => void) | undefined;

  beforeEach(async () => {
    dir = tempDir();
    store = await testStore(join(dir.path, 'db.sqlite'));
  });
  afterEach(async () => {
    releaseA?.();
    await worker?.stop();
    worker = undefined;
    await store.close();
    dir.cleanup();
  });

  const event = (portalId: number, key: string, objectId: string, occurredAt: number): NewInboxEvent => ({
    portalId,
    eventKey: key,
    objectId,
    subscriptionType: 'deal.propertyChange',
    propertyName: 'amount',
    propertyValue: '1000',
    changeSource: 'IMPORT',
    sourceId: null,
    occurredAt,
    payload: '{}',
  });

  it("applies B's event while A's read is held and A's older events fill every round", async () => {
    const applied: string[] = [];
    let effectsCalls = 0;
    const aHeld = new Promise<void>((resolve) => (releaseA = resolve));
    const gateway = {
      async batchReadDeals(portalId: number, ids: string[]): Promise<HubSpotDeal[]> {
        if (portalId === A) await aHeld;
        return ids.map((id) => ({ id, properties: {} }) as unknown as HubSpotDeal);
      },
    } as unknown as HubSpotGateway;
    const governor = { acquire: async () => true, rateLimited: () => undefined, pauseRemainingMs: () => 0 } as unknown as RateGovernor;
    const provisioner: AccountProvisioner = { ensureReady: async () => undefined, refreshPipelines: async () => false };
    worker = createInboxWorker({
      store,
      gateway,
      clock: systemClock,
      logger: silentLogger(),
      governor,
      provisioner,
      batchSize: 10,
      idleMs: 50,
      onEffects: () => (effectsCalls += 1),
      handler: {
        needsFreshDeal: async () => true,
        apply: async ({ event: e }) => {
          applied.push(`${e.portalId}:${e.eventKey}`);
          return e.portalId === B;
        },
      },
    });
    // A's import: 50 older events (five rounds' worth); B: one newer event.
    await store.inbox.insertBatch(Array.from({ length: 50 }, (_, i) => event(A, `a${i}`, String(1_000 + i), i + 1)), 1);
    await store.inbox.insertBatch([event(B, 'b1', '9', 10_000)], 1);
    worker.start();

    const deadline = Date.now() + 3_000;
    // Until B's share has ended (its effects are told after its commit, which is I/O on PostgreSQL).
    while (!(applied.includes(`${B}:b1`) && effectsCalls > 0) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    expect(applied).toEqual([`${B}:b1`]);
    expect(effectsCalls).toBe(1);

    // A resumes when its read answers, and all its events are applied once, in order.
    releaseA?.();
    // Until the last event's done mark has committed too (apply runs inside that transaction, before it commits).
    const done = Date.now() + 10_000;
    while ((applied.length < 51 || (await store.inbox.countByStatus()).pending > 0) && Date.now() < done) await new Promise((r) => setTimeout(r, 10));
    const aApplied = applied.filter((k) => k.startsWith(`${A}:`));
    expect(aApplied).toEqual(Array.from({ length: 50 }, (_, i) => `${A}:a${i}`));
    expect(await store.inbox.countByStatus()).toEqual({ pending: 0, done: 51, parked: 0 });
  });

  it('processDue still returns once every account of the round is settled', async () => {
    const gateway = { batchReadDeals: async (_p: number, ids: string[]) => ids.map((id) => ({ id, properties: {} })) } as unknown as HubSpotGateway;
    const governor = { acquire: async () => true, rateLimited: () => undefined, pauseRemainingMs: () => 0 } as unknown as RateGovernor;
    worker = createInboxWorker({
      store,
      gateway,
      clock: systemClock,
      logger: silentLogger(),
      governor,
      provisioner: { ensureReady: async () => undefined, refreshPipelines: async () => false },
      handler: { needsFreshDeal: async () => true, apply: async () => false },
    });
    await store.inbox.insertBatch([event(A, 'a', '1', 1), event(B, 'b', '2', 2)], 1);
    expect(await worker.processDue()).toBe(2);
    expect(await store.inbox.countByStatus()).toEqual({ pending: 0, done: 2, parked: 0 });
  });
});
