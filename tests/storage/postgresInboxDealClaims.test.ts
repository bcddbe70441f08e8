import { ManualClock, systemClock } from '../../src/server/shared/clock';
import { effects, holdDeal, INBOX_PORTAL, inboxEvent, inboxInstance } from '../support/inboxInstances';
import { twoInstances, type TwoInstances } from '../support/twoInstances';

/**
 * Issue 13, several instances on one PostgreSQL: each deal's events are applied by one instance at
 * a time, in order, and once. (SQLite has one owning process and keeps no deal claims.) Two inbox workers (instance ids "a" and "b") share the database
 * (tests/support/inboxInstances.ts: each applied event leaves one outbox row). Before the claims,
 * nothing stopped "b" applying the events "a" was applying: every event of the held deal twice.
 */
const X = '10';
const Y = '20';

describe('inbox: several instances, one database', () => {
  let db: TwoInstances;
  beforeEach(async () => {
    db = await twoInstances('postgres');
  });
  afterEach(async () => {
    await db.close();
  });

  it('renews only the claims of the accounts whose shares run: a claim left on another account runs out', async () => {
    const other = INBOX_PORTAL + 1;
    const claimed = await db.a.inbox.claimDeals('a', [{ portalId: INBOX_PORTAL, objectId: X }, { portalId: other, objectId: Y }], 1_000, 500);
    expect([...claimed].sort()).toEqual([`${INBOX_PORTAL}/${X}`, `${other}/${Y}`].sort());
    expect(await db.a.inbox.renewDealClaims('a', 1_400, 500, [INBOX_PORTAL])).toBe(1);
    // At 1,600 the other account's claim (until 1,500) has run out and "b" may take it; the renewed one (until 1,900) is still "a"'s.
    const taken = await db.b.inbox.claimDeals('b', [{ portalId: INBOX_PORTAL, objectId: X }, { portalId: other, objectId: Y }], 1_600, 500);
    expect([...taken]).toEqual([`${other}/${Y}`]);
  });

  it("leaves a deal another instance holds to it, and applies the deal's events once each, in order", async () => {
    const a = inboxInstance('a', db.a, systemClock);
    const b = inboxInstance('b', db.b, systemClock);
    await db.a.inbox.insertBatch([1, 2, 3, 4, 5].map((n) => inboxEvent(X, `x${n}`, n)), 1);
    const held = holdDeal(a, X);
    const roundA = a.worker.processDue();
    await held.reached.opened;

    // While "a" holds deal X: a newer event of X, and another deal's events, arrive.
    await db.b.inbox.insertBatch([inboxEvent(Y, 'y1', 10), inboxEvent(Y, 'y2', 11), inboxEvent(X, 'x6', 12)], 2);
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
    const a = inboxInstance('a', db.a, clock, { dealClaimLeaseMs: 1_000, dealClaimRenewMs: 3_600_000 });
    const b = inboxInstance('b', db.b, clock);
    await db.a.inbox.insertBatch([1, 2, 3].map((n) => inboxEvent(X, `x${n}`, n)), 1);
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

  it("a restart with the same instance id takes its deals back at once; a dead run's under another id wait for their lease", async () => {
    await db.a.inbox.insertBatch([inboxEvent(X, 'x1', 1), inboxEvent(Y, 'y1', 2)], 1);
    // A killed run held both deals: X under this instance's fixed id, Y under a default (random) id of its last start.
    await db.a.inbox.claimDeals('web-1', [{ portalId: INBOX_PORTAL, objectId: X }], Date.now(), 3_600_000);
    await db.a.inbox.claimDeals('host-1234-5f3a', [{ portalId: INBOX_PORTAL, objectId: Y }], Date.now(), 3_600_000);
    const restarted = inboxInstance('web-1', db.b, systemClock);
    await restarted.worker.processDue();
    expect(await effects(db.b)).toEqual(['x1 by web-1']);
  });
});
