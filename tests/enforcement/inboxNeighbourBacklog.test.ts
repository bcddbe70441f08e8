import { join } from 'node:path';
import { systemClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import type { HubSpotDeal, HubSpotGateway } from '../../src/server/hubspot/gateway';
import { createDb } from '../../src/server/storage/db';
import { createSqliteStore } from '../../src/server/storage/sqliteStore';
import type { Store } from '../../src/server/storage/store';
import type { InboxRepository, NewInboxEvent } from '../../src/server/storage/inboxStore';
import type { AccountProvisioner } from '../../src/server/application/provisioning';
import { createInboxWorker, EXPANSION_SLICES_PER_ROUND, type InboxWorker } from '../../src/server/workers/inboxWorker';
import type { RateGovernor } from '../../src/server/hubspot/rateGovernor';
import { tempDir } from '../support/env';

/**
 * Noisy neighbour (issue 12), the two places the bench found B's move waiting behind A's import
 * once the inbox served each account its own share (npm run bench -- --only neighbour, B's inbox
 * rows' received_at / processed_at and the journal's expansion times):
 *
 * - The journal. Every round expanded the journal until it was empty (up to 300 slices) before it
 *   took what was due. While A delivers at full speed the journal never empties, so B's event,
 *   expanded within milliseconds of its arrival, waited while the round went on expanding A's
 *   newer batches: up to 3 s in the bench.
 * - A's share holding the event loop. Applying an event is store work whose promises resolve as
 *   microtasks, so a share of 500 A events never let the event loop turn: B's webhook (its answer,
 *   the wake of the worker, B's outbox calls to HubSpot) waited for A's whole share, 200-600 ms
 *   each time, for the whole of A's import.
 *
 * Both tests fail on the code before (B applied after 300+ slices of A's journal; after all of A's
 * share) and pass after.
 */
describe("inbox worker: B's event does not wait behind A's backlog", () => {
  const A = 111;
  const B = 222;
  let dir: ReturnType<typeof tempDir>;
  let store: Store;
  let worker: InboxWorker | undefined;

  beforeEach(() => {
    dir = tempDir();
    store = createSqliteStore(createDb(join(dir.path, 'db.sqlite')));
  });
  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
    await store.close();
    dir.cleanup();
  });

  const gateway = { batchReadDeals: async (_p: number, ids: string[]) => ids.map((id) => ({ id, properties: {} }) as unknown as HubSpotDeal) } as unknown as HubSpotGateway;
  const governor = { acquire: async () => true, rateLimited: () => undefined, pauseRemainingMs: () => 0 } as unknown as RateGovernor;
  const provisioner: AccountProvisioner = { ensureReady: async () => undefined, refreshPipelines: async () => false };

  /** A signed-and-validated webhook body as the route journals it. */
  const body = (portalId: number, eventId: number, dealId: number, occurredAt: number) =>
    Buffer.from(
      JSON.stringify([
        {
          eventId,
          subscriptionId: 2101,
          portalId,
          appId: 1,
          occurredAt,
          subscriptionType: 'deal.propertyChange',
          attemptNumber: 0,
          objectId: dealId,
          propertyName: 'amount',
          propertyValue: '1000',
          changeSource: 'IMPORT',
          sourceId: 'userId:1',
          isSensitive: false,
        },
      ]),
    );

  const waitFor = async (what: () => boolean, ms: number) => {
    const deadline = Date.now() + ms;
    while (!what() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  };

  it("takes B's expanded event while A's import keeps the journal from ever emptying", async () => {
    // A delivers at full speed: before every expansion slice, 16 more of A's batches are journaled.
    let slices = 0;
    let aSequence = 0;
    const journalA = async (n: number) => {
      for (let i = 0; i < n; i++, aSequence++) await store.inbox.journal(body(A, 1_000_000 + aSequence, 5_000 + (aSequence % 500), 1_000 + aSequence), 1);
    };
    const inbox = new Proxy(store.inbox, {
      get(target, p) {
        if (p === 'expandJournal') {
          return async (...args: Parameters<InboxRepository['expandJournal']>) => {
            slices += 1;
            if (slices < 2_000) await journalA(16);
            return target.expandJournal(...args);
          };
        }
        const value = Reflect.get(target, p, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const watched = new Proxy(store, {
      get(target, p) {
        if (p === 'inbox') return inbox;
        const value = Reflect.get(target, p, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    let bAppliedAfterSlices: number | undefined;
    worker = createInboxWorker({
      store: watched,
      gateway,
      clock: systemClock,
      logger: silentLogger(),
      governor,
      provisioner,
      idleMs: 50,
      handler: {
        needsFreshDeal: async () => false,
        apply: async ({ event }) => {
          if (event.portalId === B) bAppliedAfterSlices ??= slices;
          return false;
        },
      },
    });
    await journalA(20);
    await store.inbox.journal(body(B, 42, 9, 999_999_999_999), 1);
    worker.start();
    await waitFor(() => bAppliedAfterSlices !== undefined, 30_000);
    // B's batch is the 21st in the journal: its first slices are expanded in the first round; B is
    // applied in the round after A's first share started (A busy, B's turn), a few slices later.
    expect(bAppliedAfterSlices).toBeDefined();
    expect(bAppliedAfterSlices as number).toBeLessThanOrEqual(4 * EXPANSION_SLICES_PER_ROUND);
  }, 60_000);

  it("answers B while A's share is applied: the share lets the event loop turn", async () => {
    const busyWait = (ms: number) => {
      const until = performance.now() + ms;
      while (performance.now() < until) { /* the CPU work of applying one event */ }
    };
    let aApplied = 0;
    let aAppliedWhenB: number | undefined;
    worker = createInboxWorker({
      store,
      gateway,
      clock: systemClock,
      logger: silentLogger(),
      governor,
      provisioner,
      idleMs: 1_000,
      handler: {
        needsFreshDeal: async () => false,
        apply: async ({ event }) => {
          if (event.portalId === A) {
            busyWait(2);
            aApplied += 1;
          } else aAppliedWhenB ??= aApplied;
          return false;
        },
      },
    });
    const aEvents: NewInboxEvent[] = Array.from({ length: 400 }, (_, i) => ({
      portalId: A,
      eventKey: `a${i}`,
      objectId: String(1_000 + i),
      subscriptionType: 'deal.propertyChange',
      propertyName: 'amount',
      propertyValue: '1000',
      changeSource: 'IMPORT',
      sourceId: null,
      occurredAt: i + 1,
      payload: '{}',
    }));
    await store.inbox.insertBatch(aEvents, 1);
    worker.start();
    // B's webhook arrives (a macrotask, as an HTTP request is) just after A's share of 400 events
    // (about 0.8 s of work) has started.
    await waitFor(() => aApplied > 0, 5_000);
    await new Promise<void>((resolve) =>
      setTimeout(() => {
        void store.inbox.journal(body(B, 42, 9, 10_000), 1).then(() => {
          worker?.wake();
          resolve();
        });
      }, 0),
    );
    await waitFor(() => aAppliedWhenB !== undefined && aApplied === 400, 10_000);
    expect(aAppliedWhenB).toBeDefined();
    // Before, the timer could fire only once A's whole share was applied (400).
    expect(aAppliedWhenB as number).toBeLessThan(100);
    expect(await store.inbox.countByStatus()).toEqual({ pending: 0, done: 401, parked: 0 });
  }, 30_000);
});
