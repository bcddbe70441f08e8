import { ManualClock } from '../../src/server/shared/clock';
import { silentLogger } from '../../src/server/shared/logger';
import { staticHubSpotClients } from '../../src/server/hubspot/clients';
import { createHubSpotGateway, type HubSpotGateway } from '../../src/server/hubspot/gateway';
import type { Store } from '../../src/server/storage/store';
import { createOutboxWorker } from '../../src/server/workers/outboxWorker';
import { createRateGovernor, type RateGovernor } from '../../src/server/hubspot/rateGovernor';
import { startSimulator, type Simulator } from '../../src/simulator';
import { testConfig } from '../support/env';
import { holdDeal, INBOX_PORTAL, inboxEvent, inboxInstance } from '../support/inboxInstances';
import { gate, twoInstances, type TwoInstances } from '../support/twoInstances';

/**
 * Issue 13, several instances on one database: an outbox row is delivered under one claim at a
 * time. A claim's marks apply only while the row is still its own (a slow instance whose lease ran
 * out cannot overwrite the outcome of the instance that took it over, nor send it again), and a
 * deal's rows are not claimed while another of its rows is under a live claim.
 */
const PORTAL = 7;
const note = (dealId: string | null, body: string, portalId = PORTAL) => ({ portalId, dealId, kind: 'create_note', payload: { body } });

describe('outbox claims: several instances, one database', () => {
  let db: TwoInstances;
  beforeEach(async () => {
    db = await twoInstances();
  });
  afterEach(async () => {
    await db.close();
  });

  it("a slow instance's marks after its lease ran out change nothing: the taker's outcome stands", async () => {
    const id = (await db.a.outbox.enqueue(note('1', 'one'), 0)) ?? 0;
    const [claimA] = await db.a.outbox.claimDue(1, 10, 100, undefined, 'a');
    // "a"'s lease ends at 101; "b" takes the row over and its delivery fails with a 500.
    const [claimB] = await db.b.outbox.claimDue(200, 10, 100, undefined, 'b');
    expect(claimB).toMatchObject({ id, attempts: 2, inDoubt: true });
    expect(await db.b.outbox.markRetry(claimB!, 'b: HubSpot answered 500', 1_000)).toBe(1);

    expect(await db.a.outbox.markSending([claimA!], 250)).toBe(0);
    expect(await db.a.outbox.markDone([claimA!], 250)).toBe(0);
    expect(await db.a.outbox.markFailed(claimA!, 'a: given up', 250)).toBe(0);
    expect(await db.a.outbox.release([claimA!], 250, 'a: paused')).toBe(0);
    expect(await db.a.outbox.skip([claimA!], 'a: not wanted', 250)).toBe(0);
    expect(await db.a.outbox.get(id)).toMatchObject({ status: 'pending', attempts: 2, lastError: 'b: HubSpot answered 500', nextAttemptAt: 1_000, inFlightSince: null });
  });

  // PostgreSQL only, as a rule of the claim: SQLite has one owning process, which settles every row
  // of a round before it claims again, so its due read does not look (the case shows that too).
  it("leaves a deal's rows alone while another of its rows is under a live claim (PostgreSQL)", async () => {
    const first = await db.a.outbox.enqueue(note('X', 'x first'), 0);
    const second = await db.a.outbox.enqueue(note('X', 'x second'), 0);
    const other = await db.a.outbox.enqueue(note('Y', 'y'), 0);
    const dealless = await db.a.outbox.enqueue(note(null, 'no deal'), 0);
    const [claimA] = await db.a.outbox.claimDue(1, 1, 1_000, undefined, 'a');
    expect(claimA?.id).toBe(first);

    const claimB = (await db.b.outbox.claimDue(2, 10, 1_000, undefined, 'b')).map((r) => r.id);
    if (db.engine === 'sqlite') {
      expect(claimB).toEqual([second, other, dealless]);
      return;
    }
    expect(claimB).toEqual([other, dealless]);
    await db.a.outbox.markDone([claimA!], 3);
    expect((await db.b.outbox.claimDue(4, 10, 1_000, undefined, 'b')).map((r) => r.id)).toEqual([second]);
  });
});

describe('outbox workers on one database: a row taken over once its lease ran out', () => {
  let db: TwoInstances;
  let sim: Simulator;
  let gateway: HubSpotGateway;
  const clock = new ManualClock();
  let dealId: string;

  beforeEach(async () => {
    db = await twoInstances();
    sim = await startSimulator({ now: () => clock.now() });
    gateway = createHubSpotGateway(staticHubSpotClients(testConfig({ HUBSPOT_ACCESS_TOKEN: sim.accessToken, HUBSPOT_API_BASE_URL: sim.url })), () => clock.now());
    dealId = sim.seedDeal({ properties: { dealname: 'Acme', dealstage: 'contractsent', amount: '80000' } }).id;
  });
  afterEach(async () => {
    await sim.stop();
    await db.close();
  });

  // A call timeout of 5 s (generous on a loaded machine): a claim's lease is 15 s, on the service clock (manual here).
  const worker = (name: string, store: Store, governor: RateGovernor, deps: { gateway?: HubSpotGateway; callTimeoutMs?: number } = {}) =>
    createOutboxWorker({ store, gateway: deps.gateway ?? gateway, clock, logger: silentLogger(), governor, instanceId: name, callTimeoutMs: deps.callTimeoutMs ?? 5_000 });
  /** A governor that holds the first caller at its permit until `held.release` opens (an instance stalled past its lease). */
  const stalledGovernor = () => {
    const held = { reached: gate(), release: gate() };
    const base = createRateGovernor(clock);
    const stalled: RateGovernor = Object.assign(Object.create(base) as RateGovernor, {
      async acquire(portalId: number) {
        held.reached.open();
        await held.release.opened;
        return base.acquire(portalId);
      },
    });
    return { held, stalled };
  };
  const noteCreates = () => sim.requests.all().filter((r) => r.endpoint === 'POST /crm/v3/objects/notes/batch/create').length;

  it('a slow instance whose lease ran out before its call went out does not send it again', async () => {
    const id = (await db.a.outbox.enqueue(note(dealId, 'Moved back: review required', sim.portalId), clock.now())) ?? 0;
    // "a" claims the row, then stalls before its call (held at the rate limiter).
    const { held, stalled } = stalledGovernor();
    const deliveryA = worker('a', db.a, stalled).deliverDue();
    await held.reached.opened;

    clock.advance(15_001);
    // "b" takes it over: the earlier claim may have sent it, so it looks first, finds nothing, creates it.
    expect(await worker('b', db.b, createRateGovernor(clock)).deliverDue()).toBe(1);
    expect(sim.notesForDeal(dealId)).toHaveLength(1);

    held.release.open();
    await deliveryA;
    expect(sim.notesForDeal(dealId)).toHaveLength(1);
    expect(noteCreates()).toBe(1);
    expect(await db.a.outbox.get(id)).toMatchObject({ status: 'done', attempts: 2 });
  });

  it('a slow instance whose lease ran out does not land an older deal update after the newer one the taker sent', async () => {
    const update = (dealname: string) => ({ portalId: sim.portalId, dealId, kind: 'update_deal', payload: { properties: { dealname } } });
    await db.a.outbox.enqueue(update('Acme (older)'), clock.now());
    // "a" claims the update, then stalls before its call (held at the rate limiter) past its lease.
    const { held, stalled } = stalledGovernor();
    const deliveryA = worker('a', db.a, stalled).deliverDue();
    await held.reached.opened;
    clock.advance(15_001);

    // Meanwhile a newer update of the deal; "b" takes both rows over and writes the newer value.
    await db.b.outbox.enqueue(update('Acme (newer)'), clock.now());
    expect(await worker('b', db.b, createRateGovernor(clock)).deliverDue()).toBe(2);
    expect(sim.getDeal(dealId)?.properties.dealname).toBe('Acme (newer)');

    held.release.open();
    await deliveryA;
    expect(sim.getDeal(dealId)?.properties.dealname).toBe('Acme (newer)');
    expect(sim.requests.all().filter((r) => r.endpoint === 'POST /crm/v3/objects/deals/batch/update')).toHaveLength(1);
  });

  it("a killed instance's claim is taken over after its lease, and the lookup finds the note it made", async () => {
    const id = (await db.a.outbox.enqueue(note(dealId, 'Moved back: review required', sim.portalId), clock.now())) ?? 0;
    // "a" creates the note in HubSpot and never hears back (it died with the call in flight).
    const landed = gate();
    const gone = gate();
    const dying: HubSpotGateway = Object.assign(Object.create(gateway) as HubSpotGateway, {
      async createNotes(portalId: number, notes: Parameters<HubSpotGateway['createNotes']>[1]) {
        await gateway.createNotes(portalId, notes);
        landed.open();
        await gone.opened;
        throw new Error('the process is gone');
      },
    });
    const deliveryA = worker('a', db.a, createRateGovernor(clock), { gateway: dying, callTimeoutMs: 600_000 }).deliverDue().catch(() => 0);
    await landed.opened;

    const b = worker('b', db.b, createRateGovernor(clock));
    // "a"'s lease (30 minutes: three of its call timeouts) has not run out: "b" claims nothing.
    expect(await b.deliverDue()).toBe(0);
    clock.advance(1_800_001);
    expect(await b.deliverDue()).toBe(1);
    expect(sim.notesForDeal(dealId)).toHaveLength(1);
    expect(noteCreates()).toBe(1);
    expect(await db.b.outbox.get(id)).toMatchObject({ status: 'done' });

    gone.open();
    await deliveryA;
    expect(await db.b.outbox.get(id)).toMatchObject({ status: 'done', lastError: null });
  });

  it("holds an account's effects while another instance's inbox is applying its events, so they go out together", async () => {
    const inboxA = inboxInstance('a', db.a, clock);
    await db.a.inbox.insertBatch([inboxEvent('10', 'x1', 1)], 1);
    const held = holdDeal(inboxA, '10');
    const roundA = inboxA.worker.processDue();
    await held.reached.opened;
    await db.a.outbox.enqueue(note('10', 'written by an earlier event', INBOX_PORTAL), clock.now());

    const outboxB = worker('b', db.b, createRateGovernor(clock));
    if (db.engine === 'sqlite') {
      // One owning process keeps no deal claims: its outbox holds through its own inbox (background.ts wires them).
      expect(await outboxB.deliverDue()).toBe(1);
      held.release.open();
      await roundA;
      return;
    }
    expect(await outboxB.deliverDue()).toBe(0);
    held.release.open();
    await roundA;
    // The inbox's row of x1 and the earlier one, in one round.
    expect(await outboxB.deliverDue()).toBe(2);
  });
});
