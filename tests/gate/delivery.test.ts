import type { ApiErrorBody, DashboardResponse, GateResponse } from '../../extensions/contract/api';
import { noteOverdueDeliveries } from '../../src/server/application/overdueDeliveries';
import { ADMIN, baseSettings, ESCALATION, OTHER_REP, REP, REVIEWER, SECOND_REVIEWER, START, startHarness, type Harness } from './harness';

import { nameOf } from '../support/people';

const DAY = 24 * 60 * 60 * 1000;
/** The deal's owner in HubSpot (owner id) and the user behind it: the rep (tests/support/people.ts). */
const DEAL_OWNER_ID = '7100';

/**
 * Engineering's side of the bargain (issue 14), through the card API, the store and the simulator:
 * a yes becomes an owned, dated delivery; its owner, reviewers and admins move it on; a slip tells
 * the rep (a note, a task for the deal's owner), a delivery is noted, a missed date is escalated;
 * every effect once, and the delivery properties on the deal follow.
 */
describe('card API: deliveries', () => {
  let h: Harness;
  let dealId: string;
  beforeEach(async () => {
    h = await startHarness();
    dealId = h.seedDeal({ hubspot_owner_id: DEAL_OWNER_ID });
  });
  afterEach(() => h.close());

  async function approved(decision: Record<string, unknown> = { outcome: 'yes' }, request: Record<string, unknown> = { summary: 'SSO with Okta', effortWeeks: 4 }, onDeal = dealId) {
    const requested = await h.call(REP, 'POST', `/deals/${onDeal}/reviews`, request);
    expect(requested.status).toBe(201);
    const reviewId = requested.json.review?.id ?? 0;
    const decided = await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, decision);
    expect(decided.status).toBe(200);
    return { reviewId, gate: decided.json };
  }

  const update = (userId: string, reviewId: number, body: Record<string, unknown>) => h.call(userId, 'POST', `/reviews/${reviewId}/delivery`, body);
  const refused = (result: { json: unknown }) => (result.json as ApiErrorBody).error;
  async function delivered() {
    await h.deliverOutbox();
    return h.sim.getDeal(dealId)?.properties ?? {};
  }
  const notes = (id = dealId) => h.sim.notesForDeal(id).map((n) => n.properties.hs_note_body ?? '');
  const tasks = (id = dealId) => h.sim.tasksForDeal(id).map((t) => t.properties);

  it('a yes opens a planned delivery owned by the deciding reviewer, promised effort-weeks after the decision, written to the deal', async () => {
    const { reviewId, gate } = await approved();
    expect(gate.review?.delivery).toMatchObject({
      ownerUserId: REVIEWER,
      status: 'planned',
      promisedDate: '2026-11-30',
      firstPromisedDate: '2026-11-30',
      workItemUrl: null,
      deliveredAt: null,
      overdue: false,
      canUpdate: true,
      history: [{ at: new Date(START).toISOString(), by: REVIEWER, status: 'planned', promisedDate: '2026-11-30', ownerUserId: REVIEWER, workItemUrl: null, reason: null }],
    });
    expect(await delivered()).toMatchObject({ dealgate_delivery_status: 'planned', dealgate_promised_date: '2026-11-30', dealgate_delivery_owner: REVIEWER });
    expect((await h.store.audit.listForDeal(h.sim.portalId, dealId)).map((e) => e.action)).toContain('delivery_opened');
    expect((await h.store.deliveries.get(h.sim.portalId, reviewId))?.status).toBe('planned');
  });

  it('a yes-but promises the needed-by date when given, else the effort plus the extra weeks; a no opens nothing', async () => {
    const withDate = await approved({ outcome: 'yes_but', extraWeeks: 2, tradeoff: 'SAML only' }, { summary: 'SSO', effortWeeks: 4, neededBy: '2027-01-15' });
    expect(withDate.gate.review?.delivery?.promisedDate).toBe('2027-01-15');
    const other = h.seedDeal();
    const withoutDate = await approved({ outcome: 'yes_but', extraWeeks: 2, tradeoff: 'SAML only' }, { summary: 'Audit export', effortWeeks: 1 }, other);
    expect(withoutDate.gate.review?.delivery?.promisedDate).toBe('2026-11-23');
    const third = h.seedDeal();
    const rejected = await approved({ outcome: 'no', note: 'not feasible' }, { summary: 'On-prem', effortWeeks: 30 }, third);
    expect(rejected.gate.review?.delivery).toBeNull();
    const none = await update(REVIEWER, rejected.reviewId, { status: 'in_progress' });
    expect(none.status).toBe(404);
    expect(refused(none).message).toBe(`review ${rejected.reviewId} has no delivery: only a yes or yes-but answer opens one`);
  });

  it('a rep sees the delivery and may not update it (403); another account’s review is not found (404)', async () => {
    const { reviewId } = await approved();
    const asRep = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(asRep.review?.delivery).toMatchObject({ status: 'planned', ownerUserId: REVIEWER, canUpdate: false });
    // The owner is named by name (tests/support/people.ts), not by user id.
    expect(asRep.review?.delivery?.updateDenied).toBe(`only its owner (${nameOf(REVIEWER)}), the account's reviewers and its admins may update this delivery`);
    // A rep's slip is refused before HubSpot is asked for the deal's owner.
    const calls = h.sim.requests.count();
    const byRep = await update(REP, reviewId, { status: 'in_progress', promisedDate: '2026-12-20', reason: 'the rep would like more time' });
    expect(byRep.status).toBe(403);
    expect(h.sim.requests.count()).toBe(calls);
    expect(refused(byRep).message).toBe(`only its owner (${nameOf(REVIEWER)}), the account's reviewers and its admins may update this delivery`);

    h.installOtherAccount(999);
    const foreign = await h.call(ADMIN, 'POST', `/reviews/${reviewId}/delivery`, { status: 'in_progress' }, 999);
    expect(foreign.status).toBe(404);
    expect(refused(foreign).message).toBe(`review ${reviewId} does not exist in this account`);
    expect((await h.store.deliveries.get(h.sim.portalId, reviewId))?.history).toHaveLength(1);
  });

  it('refuses a malformed update with the field named (400)', async () => {
    const { reviewId } = await approved();
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ status: 'done' }, 'status'],
      [{ status: 'in_progress', promisedDate: '2026-02-30' }, 'promisedDate'],
      [{ status: 'in_progress', workItemUrl: 'ftp://tracker/1' }, 'workItemUrl'],
      [{ status: 'in_progress', ownerUserId: OTHER_REP }, 'ownerUserId'],
      [{ status: 'deprioritized' }, 'status'],
      [{ status: 'in_progress', promisedDate: '2026-12-15' }, 'reason'],
      [{ status: 'in_progress', extra: 1 }, 'request body'],
    ];
    for (const [body, path] of cases) {
      const result = await update(REVIEWER, reviewId, body);
      expect(result.status).toBe(400);
      expect(refused(result).details?.issues?.map((i) => i.path)).toContain(path);
    }
    expect(refused(await update(REVIEWER, reviewId, { status: 'in_progress', ownerUserId: OTHER_REP })).message).toBe(
      `ownerUserId: ${nameOf(OTHER_REP)} is not an engineer of this account (one of its reviewers); an admin adds reviewers in the settings`,
    );
    expect(refused(await update(REVIEWER, reviewId, { status: 'in_progress', promisedDate: '2026-12-15' })).message).toBe(
      'reason: moving the promised date from 2026-11-30 to 2026-12-15 is a slip: say why (the rep tells the customer)',
    );
    expect((await h.store.deliveries.get(h.sim.portalId, reviewId))?.history).toHaveLength(1);
  });

  it('the owner slips it with a reason: a note on the deal and a task for the deal owner to tell the customer, once; the properties follow', async () => {
    const { reviewId } = await approved();
    await h.deliverOutbox();
    const before = { notes: notes().length, tasks: tasks().length };
    h.clock.advance(DAY);
    const slipped = await update(REVIEWER, reviewId, { status: 'in_progress', promisedDate: '2026-12-14', reason: 'the IdP vendor changed its API' });
    expect(slipped.status).toBe(200);
    expect(slipped.json.review?.delivery).toMatchObject({ status: 'slipped', promisedDate: '2026-12-14', firstPromisedDate: '2026-11-30' });
    expect(slipped.json.review?.delivery?.history.at(-1)).toMatchObject({ by: REVIEWER, status: 'slipped', reason: 'the IdP vendor changed its API' });
    expect(await delivered()).toMatchObject({ dealgate_delivery_status: 'slipped', dealgate_promised_date: '2026-12-14' });

    const slipNotes = notes().slice(before.notes);
    expect(slipNotes).toEqual([expect.stringContaining(`the delivery of technical review #${reviewId} slipped</strong> from 2026-11-30 to 2026-12-14`)]);
    expect(slipNotes[0]).toContain('Why: the IdP vendor changed its API');
    const slipTasks = tasks().slice(before.tasks);
    expect(slipTasks).toEqual([
      expect.objectContaining({ hubspot_owner_id: DEAL_OWNER_ID, hs_task_subject: 'Tell the customer: Acme renewal now delivers 2026-12-14', hs_timestamp: new Date(START + 2 * DAY).toISOString() }),
    ]);
    expect(slipTasks[0]?.hs_task_body).toContain('Tell the customer the new date and why');

    // The same update again (a new request, the card's form still on 'slipped'): the date is no
    // longer later, so it is saved as it is, with no second slip and nothing told twice.
    const again = await update(REVIEWER, reviewId, { status: 'slipped', promisedDate: '2026-12-14', reason: 'the IdP vendor changed its API' });
    expect(again.status).toBe(200);
    expect(again.json.review?.delivery).toMatchObject({ status: 'slipped', promisedDate: '2026-12-14' });
    await h.deliverOutbox();
    expect(notes().slice(before.notes)).toHaveLength(1);
    expect(tasks().slice(before.tasks)).toHaveLength(1);
    expect((await h.store.audit.listForDeal(h.sim.portalId, dealId)).filter((e) => e.action === 'delivery_slipped')).toHaveLength(1);

    // Pulled in, then slipped to the same day again: a second slip, told again.
    expect((await update(REVIEWER, reviewId, { status: 'in_progress', promisedDate: '2026-12-07' })).status).toBe(200);
    expect((await update(REVIEWER, reviewId, { status: 'in_progress', promisedDate: '2026-12-14', reason: 'the vendor slipped again' })).status).toBe(200);
    await h.deliverOutbox();
    expect(notes().slice(before.notes)).toEqual([expect.stringContaining('the IdP vendor changed its API'), expect.stringContaining('the vendor slipped again')]);
    expect(tasks().slice(before.tasks)).toHaveLength(2);
  });

  it('a reviewer reassigns it and links the work item, an admin marks it at risk, the owner delivers it on time: one delivered note, then settled', async () => {
    const { reviewId } = await approved();
    const reassigned = await update(SECOND_REVIEWER, reviewId, { status: 'in_progress', ownerUserId: SECOND_REVIEWER, workItemUrl: 'https://tracker.example.com/ENG-42' });
    expect(reassigned.json.review?.delivery).toMatchObject({ status: 'in_progress', ownerUserId: SECOND_REVIEWER, workItemUrl: 'https://tracker.example.com/ENG-42' });
    expect((await update(ADMIN, reviewId, { status: 'at_risk', reason: 'one engineer out' })).json.review?.delivery?.status).toBe('at_risk');
    h.clock.advance(20 * DAY);
    const done = await update(SECOND_REVIEWER, reviewId, { status: 'delivered' });
    expect(done.json.review?.delivery).toMatchObject({ status: 'delivered', deliveredAt: new Date(START + 20 * DAY).toISOString(), canUpdate: false });
    expect(await delivered()).toMatchObject({ dealgate_delivery_status: 'delivered', dealgate_delivery_owner: SECOND_REVIEWER });
    const deliveredNotes = notes().filter((n) => n.includes('was delivered'));
    expect(deliveredNotes).toEqual([expect.stringContaining('on 2026-11-22, on time (first promised for 2026-11-30)')]);

    const twice = await update(SECOND_REVIEWER, reviewId, { status: 'delivered' });
    expect(twice.status).toBe(400);
    expect(refused(twice).message).toBe(`status: the delivery of review ${reviewId} is already delivered; it cannot change any more`);
    await h.deliverOutbox();
    expect(notes().filter((n) => n.includes('was delivered'))).toHaveLength(1);
    expect((await h.store.deliveries.get(h.sim.portalId, reviewId))?.history.map((c) => [c.by, c.status])).toEqual([
      [REVIEWER, 'planned'],
      [SECOND_REVIEWER, 'in_progress'],
      [ADMIN, 'at_risk'],
      [SECOND_REVIEWER, 'delivered'],
    ]);
  });

  it('a handover tells the rep on the deal who owns it now and gives the new owner a task, once; the next handover or the delivery completes that task', async () => {
    const { reviewId } = await approved();
    await h.deliverOutbox();
    const before = { notes: notes().length, tasks: tasks().length };
    const handOver = { status: 'in_progress', ownerUserId: SECOND_REVIEWER };
    expect((await update(REVIEWER, reviewId, handOver)).status).toBe(200);
    await h.deliverOutbox();
    expect(notes().slice(before.notes)).toEqual([expect.stringContaining(`has a new owner</strong>: ${nameOf(SECOND_REVIEWER)} (before: ${nameOf(REVIEWER)})`)]);
    expect(notes().at(-1)).toContain(`Promised for 2026-11-30. Handed over by ${nameOf(REVIEWER)}.`);
    // The task goes to the new owner's HubSpot owner record (user 201 is owner 7201, tests/support/people.ts), due a day later.
    const ownerTask = { hubspot_owner_id: '7201', hs_task_subject: `You own the delivery of technical review #${reviewId}: Acme renewal`, hs_timestamp: new Date(START + DAY).toISOString() };
    expect(tasks().slice(before.tasks)).toEqual([expect.objectContaining({ ...ownerTask, hs_task_status: 'NOT_STARTED' })]);
    expect(tasks().at(-1)?.hs_task_body).toContain(`${nameOf(REVIEWER)} handed you the delivery of this commitment, promised for 2026-11-30.`);
    // The same update again: the owner is the same, so nothing is told twice.
    expect((await update(REVIEWER, reviewId, handOver)).status).toBe(200);
    await h.deliverOutbox();
    expect([notes().length, tasks().length]).toEqual([before.notes + 1, before.tasks + 1]);

    // The reviewer takes it back themselves: the deal is told, nobody gets a task, and the new owner's task is done.
    expect((await update(REVIEWER, reviewId, { status: 'in_progress', ownerUserId: REVIEWER })).json.review?.delivery?.ownerUserId).toBe(REVIEWER);
    await h.deliverOutbox();
    expect(notes().at(-1)).toContain(`has a new owner</strong>: ${nameOf(REVIEWER)} (before: ${nameOf(SECOND_REVIEWER)})`);
    expect(notes().at(-1)).toContain(`Taken over by ${nameOf(REVIEWER)}.`);
    expect(tasks().slice(before.tasks)).toEqual([expect.objectContaining({ ...ownerTask, hs_task_status: 'COMPLETED' })]);

    // Handed over and slipped in one update: both are told (the slip to the deal owner, the handover to the new owner).
    h.clock.advance(DAY);
    expect((await update(ADMIN, reviewId, { status: 'in_progress', ownerUserId: SECOND_REVIEWER, promisedDate: '2026-12-14', reason: 'the IdP vendor changed its API' })).status).toBe(200);
    await h.deliverOutbox();
    expect(notes().slice(before.notes + 2).map((n) => (n.includes('slipped') ? 'slip' : n.includes('has a new owner') ? 'handover' : n))).toEqual(['slip', 'handover']);
    expect(notes().at(-1)).toContain(`Promised for 2026-12-14. Handed over by ${nameOf(ADMIN)}.`);
    const second = tasks().slice(before.tasks + 1);
    expect(second.map((t) => [t.hubspot_owner_id, t.hs_task_status])).toEqual([[DEAL_OWNER_ID, 'NOT_STARTED'], ['7201', 'NOT_STARTED']]);

    // Delivered: only the delivery is told, and the owner's task is done.
    expect((await update(SECOND_REVIEWER, reviewId, { status: 'delivered' })).status).toBe(200);
    await h.deliverOutbox();
    expect(notes().slice(before.notes + 4)).toEqual([expect.stringContaining('was delivered')]);
    expect(tasks().slice(before.tasks).map((t) => [t.hubspot_owner_id, t.hs_task_status])).toEqual([
      ['7201', 'COMPLETED'],
      [DEAL_OWNER_ID, 'NOT_STARTED'],
      ['7201', 'COMPLETED'],
    ]);
  });

  it('a handover in the update that delivers it tells only the delivery', async () => {
    const { reviewId } = await approved();
    await h.deliverOutbox();
    const before = { notes: notes().length, tasks: tasks().length };
    expect((await update(ADMIN, reviewId, { status: 'delivered', ownerUserId: SECOND_REVIEWER })).status).toBe(200);
    await h.deliverOutbox();
    expect(notes().slice(before.notes)).toEqual([expect.stringContaining('was delivered')]);
    expect(tasks()).toHaveLength(before.tasks);
  });

  it('a promised date passing undelivered: overdue, a note and a task for the escalation reviewer, once however many rounds', async () => {
    const { reviewId } = await approved();
    h.clock.set(Date.UTC(2026, 10, 30, 23, 0));
    expect(await noteOverdueDeliveries({ store: h.store, clock: h.clock, logger: h.ctx.logger, defaults: h.config.defaults })).toBe(0);
    h.clock.set(Date.UTC(2026, 11, 1, 0, 1));
    const noted = await noteOverdueDeliveries({ store: h.store, clock: h.clock, logger: h.ctx.logger, defaults: h.config.defaults });
    expect(noted).toBe(1);
    expect(await noteOverdueDeliveries({ store: h.store, clock: h.clock, logger: h.ctx.logger, defaults: h.config.defaults })).toBe(0);
    await h.deliverOutbox();
    const overdueNotes = notes().filter((n) => n.includes('is overdue'));
    expect(overdueNotes).toEqual([expect.stringContaining(`promised for 2026-11-30 and is not delivered`)]);
    expect(overdueNotes[0]).toContain(`Owner: ${nameOf(REVIEWER)}. It was escalated to ${nameOf(ESCALATION)}.`);
    expect(tasks().filter((t) => t.hubspot_owner_id === '7300')).toEqual([expect.objectContaining({ hs_task_subject: `Overdue delivery of technical review #${reviewId}: Acme renewal` })]);
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.review?.delivery).toMatchObject({ overdue: true, status: 'planned' });

    // Slipped to a new date, told to the customer, and that one missed too: noted again, once.
    expect((await update(REVIEWER, reviewId, { status: 'in_progress', promisedDate: '2026-12-14', reason: 'the IdP vendor changed its API' })).status).toBe(200);
    h.clock.set(Date.UTC(2026, 11, 15, 0, 1));
    expect(await noteOverdueDeliveries({ store: h.store, clock: h.clock, logger: h.ctx.logger, defaults: h.config.defaults })).toBe(1);
    expect(await noteOverdueDeliveries({ store: h.store, clock: h.clock, logger: h.ctx.logger, defaults: h.config.defaults })).toBe(0);
    await h.deliverOutbox();
    expect(notes().filter((n) => n.includes('is overdue'))).toEqual([expect.stringContaining('promised for 2026-11-30'), expect.stringContaining('promised for 2026-12-14')]);
    expect(tasks().filter((t) => t.hubspot_owner_id === '7300')).toHaveLength(2);
  });

  it('names the owner and the escalation reviewer as HubSpot has them now in an overdue note of the SLA round, not as cached weeks before', async () => {
    const { reviewId } = await approved();
    // The card load cached the people; then the owner is renamed in HubSpot.
    h.sim.seedOwner({ userId: Number(REVIEWER), email: 'augusta.king@example.com', firstName: 'Augusta', lastName: 'King' });
    h.clock.advance(30 * DAY); // past the promised 2026-11-30, and long past the people's refresh interval
    await h.slaRound();
    await h.deliverOutbox();
    const overdue = notes().filter((n) => n.includes('is overdue'));
    expect(overdue).toEqual([expect.stringContaining(`Owner: Augusta King. It was escalated to ${nameOf(ESCALATION)}.`)]);
    expect(tasks().find((t) => t.hs_task_subject === `Overdue delivery of technical review #${reviewId}: Acme renewal`)?.hs_task_body).toContain('Its owner is Augusta King');
  });

  it('an overdue note names an owner who has left as such, for the escalation reviewer to find a new one', async () => {
    const { reviewId } = await approved();
    h.sim.deactivateOwner(Number(REVIEWER));
    h.clock.advance(30 * DAY);
    await h.slaRound();
    await h.deliverOutbox();
    expect(notes().filter((n) => n.includes('is overdue'))).toEqual([expect.stringContaining(`Owner: ${nameOf(REVIEWER)} (deactivated in HubSpot: it needs a new owner).`)]);
    expect(tasks().find((t) => t.hs_task_subject?.startsWith(`Overdue delivery of technical review #${reviewId}`))?.hs_task_body).toContain(`Its owner is ${nameOf(REVIEWER)} (deactivated in HubSpot: it needs a new owner)`);
  });

  it('a deprioritization by the capacity ledger settles the target’s delivery and says so on its deal', async () => {
    await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, reviewers: [REVIEWER, SECOND_REVIEWER], capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.1 } });
    const first = await approved({ outcome: 'yes' }, { summary: 'SSO', effortWeeks: 7 });
    // Handed over first: its new owner's task is done once the delivery is settled.
    expect((await update(REVIEWER, first.reviewId, { status: 'in_progress', ownerUserId: SECOND_REVIEWER })).status).toBe(200);
    await h.deliverOutbox();
    const ownerTask = () => tasks().find((t) => t.hs_task_subject?.startsWith(`You own the delivery of technical review #${first.reviewId}`))?.hs_task_status;
    expect(ownerTask()).toBe('NOT_STARTED');
    const other = h.seedDeal();
    await approved({ outcome: 'yes', deprioritizeReviewId: first.reviewId }, { summary: 'Audit export', effortWeeks: 5 }, other);
    const target = (await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json.review?.delivery;
    expect(target).toMatchObject({ status: 'deprioritized', canUpdate: false });
    expect(target?.history.at(-1)).toMatchObject({ by: 'system', status: 'deprioritized' });
    expect(await delivered()).toMatchObject({ dealgate_delivery_status: 'deprioritized' });
    expect(notes().filter((n) => n.includes('was deprioritized'))).toHaveLength(1);
    expect(ownerTask()).toBe('COMPLETED');
    expect((await update(REVIEWER, first.reviewId, { status: 'in_progress' })).status).toBe(400);
  });

  it('the dashboard lists open commitments by promised date, overdue first, and the on-time rate per quarter of the first promise', async () => {
    const late = await approved({ outcome: 'yes' }, { summary: 'SSO', effortWeeks: 1 }); // promised 2026-11-09
    const soon = await approved({ outcome: 'yes' }, { summary: 'Audit export', effortWeeks: 2 }, h.seedDeal({ dealname: 'Globex' })); // 2026-11-16
    const onTime = await approved({ outcome: 'yes' }, { summary: 'Webhooks', effortWeeks: 3 }, h.seedDeal({ dealname: 'Initech' })); // 2026-11-23
    await approved({ outcome: 'yes' }, { summary: 'Next year', effortWeeks: 1, neededBy: '2027-02-01' }, h.seedDeal({ dealname: 'Hooli' }));
    h.clock.set(Date.UTC(2026, 10, 12, 10));
    expect((await update(REVIEWER, onTime.reviewId, { status: 'delivered' })).status).toBe(200);

    const home = await h.call<DashboardResponse>(ADMIN, 'GET', '/dashboard');
    expect(home.status).toBe(200);
    const { deliveries } = home.json;
    expect(deliveries.open.map((d) => [d.reviewId, d.promisedDate, d.overdue])).toEqual([
      [late.reviewId, '2026-11-09', true],
      [soon.reviewId, '2026-11-16', false],
      [expect.any(Number), '2027-02-01', false],
    ]);
    expect(deliveries.open[1]).toMatchObject({ dealName: 'Globex', ownerUserId: REVIEWER, status: 'planned' });
    expect(deliveries).toMatchObject({ openCount: 3, overdueCount: 1 });
    // 2026-Q4: one delivered on time, one overdue (the one not yet due counts in neither); 2027-Q1: nothing to count.
    expect(deliveries.onTime).toEqual([
      { quarter: '2026-Q4', onTime: 1, late: 0, overdue: 1, rate: 0.5 },
      { quarter: '2027-Q1', onTime: 0, late: 0, overdue: 0, rate: null },
    ]);
    // Delivered after the first promise, even with a slip before it: late.
    expect((await update(REVIEWER, soon.reviewId, { status: 'in_progress', promisedDate: '2026-11-30', reason: 'vendor delay' })).status).toBe(200);
    h.clock.set(Date.UTC(2026, 10, 25, 10));
    await update(REVIEWER, soon.reviewId, { status: 'delivered' });
    const later = (await h.call<DashboardResponse>(REVIEWER, 'GET', '/dashboard')).json.deliveries;
    expect(later.onTime[0]).toEqual({ quarter: '2026-Q4', onTime: 1, late: 1, overdue: 1, rate: 1 / 3 });
    expect(((await h.call<GateResponse>(REP, 'GET', '/dashboard')).status)).toBe(403);
  });
});
