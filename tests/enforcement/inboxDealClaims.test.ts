import { ManualClock, systemClock, type Clock } from '../../src/server/clock';
import { silentLogger } from '../../src/server/logger';
import type { HubSpotGateway } from '../../src/server/hubspot/gateway';
import type { AccountProvisioner } from '../../src/server/accounts/provisioning';
import type { Store } from '../../src/server/storage/store';
import type { NewInboxEvent } from '../../src/server/webhooks/inboxStore';
import { createInboxWorker, type InboxWorker } from '../../src/server/workers/inboxWorker';
import type { RateGovernor } from '../../src/server/workers/rateGovernor';
import { gate, twoInstances, type TwoInstances } from '../support/twoInstances';

/**
 * Issue 13, several instances on one database: each deal's events are applied by one instance at
 * a time, in order, and once. Two inbox workers (instance ids "a" and "b") share the database; the
 * handler records each event it applies as an outbox row written in the apply transaction, so a
 * rolled-back apply leaves nothing and a doubled one leaves two rows. Before the claims, nothing
 * stopped "b" applying the events "a" was applying: every event of the held deal twice.
 */
const PORTAL = 4_242;
const X = '10';
const Y = '20';

const event = (objectId: string, key: string, occurredAt: number): NewInboxEvent => ({
  portalId: PORTAL,
  eventKey: key,
  objectId,
  subscriptionType: 'deal.propertyChange',
  propertyName: 'amount',
  propertyValue: '1000',
  changeSource: 'CRM_UI',
  sourceId: null,
  occurredAt,
  payload: '{}',
});

/** HubSpot is never asked: every deal's facts are already known to the handler below. */
const noHubSpot = new Proxy({}, {
  get(_target, name) {
    throw new Error(`no HubSpot call expected in this suite (${String(name)})`);
  },
}) as HubSpotGateway;
const governor = { acquire: async () => true, rateLimited: () => undefined, pauseRemainingMs: () => 0 } as unknown as RateGovernor;
const provisioner: AccountProvisioner = { ensureReady: async () => undefined, refreshPipelines: async () => false };

interface Instance {
  worker: InboxWorker;
  /** Deals whose first look in a round waits for the test (the instance is held there, its claim taken). */
  holdAt: Map<string, { reached: ReturnType<typeof gate>; release: ReturnType<typeof gate> }>;
}

function instance(name: string, store: Store, clock: Clock, leases: { dealClaimLeaseMs?: number; dealClaimRenewMs?: number } = {}): Instance {
  const holdAt: Instance['holdAt'] = new Map();
  const worker = createInboxWorker({
    store,
    gateway: noHubSpot,
    clock,
    logger: silentLogger(),
    governor,
    provisioner,
    instanceId: name,
    ...leases,
    handler: {
      async needsFreshDeal(_portalId, dealId) {
        const hold = holdAt.get(dealId);
        if (hold) {
          holdAt.delete(dealId);
          hold.reached.open();
          await hold.release.opened;
        }
        return false;
      },
      async apply({ event: e }) {
        await store.outbox.enqueue({ portalId: e.portalId, dealId: e.objectId, kind: 'test_effect', payload: { eventKey: e.eventKey, by: name } }, clock.now());
        return false;
      },
    },
  });
  return { worker, holdAt };
}

function holdDeal(target: Instance, dealId: string) {
  const hold = { reached: gate(), release: gate() };
  target.holdAt.set(dealId, hold);
  return hold;
}

/** Each applied event as `key by instance`, in the order the applies committed. */
async function effects(store: Store): Promise<string[]> {
  const rows = (await store.outbox.list({ limit: 1_000 })).sort((p, q) => p.id - q.id);
  return rows.map((row) => {
    const payload = row.payload as { eventKey: string; by: string };
    return `${payload.eventKey} by ${payload.by}`;
  });
}

describe('inbox: several instances, one database', () => {
  let db: TwoInstances;
  beforeEach(async () => {
    db = await twoInstances();
  });
  afterEach(async () => {
    await db.close();
  });

  it("leaves a deal another instance holds to it, and applies the deal's events once each, in order", async () => {
    const a = instance('a', db.a, systemClock);
    const b = instance('b', db.b, systemClock);
    await db.a.inbox.insertBatch([1, 2, 3, 4, 5].map((n) => event(X, `x${n}`, n)), 1);
    const held = holdDeal(a, X);
    const roundA = a.worker.processDue();
    await held.reached.opened;

    // While "a" holds deal X: a newer event of X, and another deal's events, arrive.
    await db.b.inbox.insertBatch([event(Y, 'y1', 10), event(Y, 'y2', 11), event(X, 'x6', 12)], 2);
    await b.worker.processDue();
    expect(await effects(db.b)).toEqual(['y1 by b', 'y2 by b']);

    held.release.open();
    await roundA;
    // x6 waited for "a" to finish the deal, then came after x1..x5.
    await b.worker.processDue();
    const all = await effects(db.a);
    expect(all.filter((e) => e.startsWith('x'))).toEqual(['x1 by a', 'x2 by a', 'x3 by a', 'x4 by a', 'x5 by a', 'x6 by b']);
    expect(all).toHaveLength(8);
    expect(await db.a.inbox.countByStatus()).toEqual({ pending: 0, done: 8, parked: 0 });
  });

  it("a claim that runs out mid-round: the instance that takes the deal over applies it, the late one's applies roll back", async () => {
    const clock = new ManualClock();
    // "a" renews its claims only every hour (it is stalled, as a process paused by GC or cut off from the database would be).
    const a = instance('a', db.a, clock, { dealClaimLeaseMs: 1_000, dealClaimRenewMs: 3_600_000 });
    const b = instance('b', db.b, clock);
    await db.a.inbox.insertBatch([1, 2, 3].map((n) => event(X, `x${n}`, n)), 1);
    const held = holdDeal(a, X);
    const roundA = a.worker.processDue();
    await held.reached.opened;

    // Still "a"'s: "b" leaves it.
    await b.worker.processDue();
    expect(await effects(db.b)).toEqual([]);

    clock.advance(1_001);
    await b.worker.processDue();
    expect(await effects(db.b)).toEqual(['x1 by b', 'x2 by b', 'x3 by b']);

    // "a" wakes up and applies what it took: each done mark changes no row, so nothing lands.
    held.release.open();
    await roundA;
    expect(await effects(db.a)).toEqual(['x1 by b', 'x2 by b', 'x3 by b']);
    expect(await db.a.inbox.countByStatus()).toEqual({ pending: 0, done: 3, parked: 0 });
  });
});
