import type { ApiErrorBody, DashboardResponse, PeopleResponse, Person, SettingsResponse } from '../../extensions/contract/api';
import { PEOPLE_REFRESH_MS, PEOPLE_RETRY_AFTER_FAILURE_MS } from '../../src/server/application/people';
import { nameOf } from '../support/people';
import { ADMIN, baseSettings, ESCALATION, REP, REVIEWER, SECOND_REVIEWER, startHarness, type Harness } from './harness';

/** The person a test account's user is (tests/support/people.ts), as the card API answers them. */
function person(userId: string): Person {
  const [first, last] = nameOf(userId).split(' ');
  return { userId, name: nameOf(userId), email: `${first?.toLowerCase()}.${last?.toLowerCase()}@example.com` };
}

const OWNERS_READ = 'GET /crm/v3/owners';

/**
 * Issue 15, names everywhere a person reads and pickers instead of typed ids: the rep, the
 * reviewer and the admin through the card API against the simulator, whose owners have real names.
 */
describe('card API: people by name', () => {
  let h: Harness;
  let dealId: string;
  beforeEach(async () => {
    h = await startHarness();
    dealId = h.seedDeal();
  });
  afterEach(() => h.close());

  async function requestReview(userId = REP): Promise<number> {
    const requested = await h.call(userId, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 4 });
    expect(requested.status).toBe(201);
    return requested.json.review?.id ?? 0;
  }

  const noteBodies = async () =>
    (await h.outbox(dealId)).filter((r) => r.kind === 'create_note').map((r) => (r.payload as { body: string }).body);

  it('names who requested, who the review waits for, who decided, and who did what in the history', async () => {
    const reviewId = await requestReview();
    const waiting = await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`);
    expect(waiting.json.review?.requester).toEqual(person(REP));
    expect(waiting.json.review?.waitingOn).toEqual([person(REVIEWER), person(SECOND_REVIEWER)]);
    expect(waiting.json.caller.person).toEqual(person(REVIEWER));

    const decided = await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes', note: 'fits the roadmap' });
    expect(decided.status).toBe(200);
    const review = decided.json.review;
    expect(review?.decision).toMatchObject({ decidedBy: REVIEWER, decider: person(REVIEWER) });
    expect(review?.waitingOn).toEqual([]);
    expect(review?.delivery).toMatchObject({ ownerUserId: REVIEWER, owner: person(REVIEWER) });
    expect(review?.delivery?.history[0]).toMatchObject({ by: REVIEWER, byPerson: person(REVIEWER), owner: person(REVIEWER) });
    expect(decided.json.history.map((e) => [e.actor, e.actorPerson.name])).toEqual(
      expect.arrayContaining([
        [REP, nameOf(REP)],
        [REVIEWER, nameOf(REVIEWER)],
      ]),
    );
  });

  it('writes "Decided by Ada Lovelace" on the deal, not a user id', async () => {
    const reviewId = await requestReview();
    expect((await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    const decision = (await noteBodies()).find((b) => b.includes('technical review #'));
    expect(decision).toContain(`Decided by ${nameOf(REVIEWER)} at `);
    expect(decision).not.toContain(`user ${REVIEWER}`);
  });

  it('shows an id only for someone HubSpot knows no name for', async () => {
    // 4242 is no owner of the account (a user removed since, or an integration's user).
    const reviewId = await requestReview('4242');
    const gate = await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`);
    expect(gate.json.review?.requester).toEqual({ userId: '4242', name: null, email: null });
    expect((await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'no', note: 'not this quarter' })).status).toBe(200);
    expect((await noteBodies()).find((b) => b.includes('technical review #'))).toContain(`Decided by ${nameOf(REVIEWER)}`);
  });

  it('lists the account\'s users by name for the pickers, to anyone on the account', async () => {
    const answer = await h.call<PeopleResponse>(REP, 'GET', '/people');
    expect(answer.status).toBe(200);
    expect(answer.json.people.map((p) => p.name)).toEqual(['Ada Lovelace', 'Alan Turing', 'Barbara Liskov', 'Edsger Dijkstra', 'Grace Hopper', 'Margaret Hamilton']);
    expect(answer.json.people).toContainEqual(person(ESCALATION));
    expect(answer.json.refreshedAt).toBe(new Date(h.clock.now()).toISOString());
  });

  it('reads HubSpot again after the refresh interval, and not before: a rename shows then', async () => {
    await h.call<PeopleResponse>(REP, 'GET', '/people');
    const reads = h.sim.requests.count(OWNERS_READ);
    h.sim.seedOwner({ userId: Number(REVIEWER), email: 'augusta.king@example.com', firstName: 'Augusta', lastName: 'King' });

    h.clock.advance(PEOPLE_REFRESH_MS - 1);
    const cached = await h.call<PeopleResponse>(REP, 'GET', '/people');
    expect(cached.json.people.find((p) => p.userId === REVIEWER)?.name).toBe('Ada Lovelace');
    expect(h.sim.requests.count(OWNERS_READ)).toBe(reads);

    h.clock.advance(1);
    const renamed = await h.call<PeopleResponse>(REP, 'GET', '/people');
    expect(renamed.json.people.find((p) => p.userId === REVIEWER)).toEqual({ userId: REVIEWER, name: 'Augusta King', email: 'augusta.king@example.com' });
    // One refresh: the active owners, then the archived ones (deactivated users, for their names).
    expect(h.sim.requests.count(OWNERS_READ)).toBe(reads + 2);
    await requestReview();
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.review?.waitingOn[0]?.name).toBe('Augusta King');
  });

  it('still names someone HubSpot has deactivated since, and leaves them out of the pickers and the settings', async () => {
    const reviewId = await requestReview();
    expect((await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    // The reviewer leaves the company: HubSpot archives their owner (no userId any more).
    h.sim.deactivateOwner(Number(REVIEWER));
    h.clock.advance(PEOPLE_REFRESH_MS);
    const people = await h.call<PeopleResponse>(REP, 'GET', '/people');
    expect(people.json.people.map((p) => p.userId)).not.toContain(REVIEWER);
    expect(people.json.people.map((p) => p.userId)).toContain(SECOND_REVIEWER);
    // What they did still names them: the decision, the delivery they own, the history.
    const gate = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(gate.review?.decision?.decider).toEqual(person(REVIEWER));
    expect(gate.review?.delivery?.owner).toEqual(person(REVIEWER));
    // ... and say the commitment has no owner who can deliver it, on the card and the home page.
    expect(gate.review?.delivery?.ownerDeactivated).toBe(true);
    const home = await h.call<DashboardResponse>(ADMIN, 'GET', '/dashboard');
    expect(home.json.deliveries.open.map((d) => [d.reviewId, d.ownerUserId, d.ownerDeactivated])).toEqual([[reviewId, REVIEWER, true]]);
    expect(gate.history.find((e) => e.actor === REVIEWER)?.actorPerson.name).toBe(nameOf(REVIEWER));
    // A client that sends the whole delivery, the current owner included, is not refused for them.
    expect((await h.call(ADMIN, 'POST', `/reviews/${reviewId}/delivery`, { status: 'in_progress', ownerUserId: REVIEWER })).status).toBe(200);
    // Nor can the delivery be handed back to them, and the owner picker does not offer them.
    const handed = await h.call(ADMIN, 'POST', `/reviews/${reviewId}/delivery`, { status: 'planned', ownerUserId: SECOND_REVIEWER });
    expect(handed.status).toBe(200);
    expect(handed.json.review?.delivery?.ownerDeactivated).toBe(false);
    expect(handed.json.review?.delivery?.ownerChoices.map((p) => p.userId)).toEqual([SECOND_REVIEWER, ESCALATION]);
    const back = await h.call(ADMIN, 'POST', `/reviews/${reviewId}/delivery`, { status: 'planned', ownerUserId: REVIEWER });
    expect(back.status).toBe(400);
    expect((back.json as unknown as ApiErrorBody).error.message).toBe(
      `ownerUserId: ${nameOf(REVIEWER)} has been deactivated in HubSpot; hand the delivery to an engineer who is still a user of the account`,
    );
    // Their place in the settings does not block a save; naming a deactivated user anew is refused, saying why.
    expect((await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, slaHours: 24 })).status).toBe(200);
    const saved = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, escalationReviewer: ESCALATION });
    expect(saved.status).toBe(200);
    h.sim.deactivateOwner(Number(ESCALATION));
    h.clock.advance(PEOPLE_REFRESH_MS);
    const again = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, escalationReviewer: null, admins: [ADMIN, ESCALATION] });
    expect(again.status).toBe(400);
    expect((again.json as unknown as ApiErrorBody).error.message).toBe(`admins: ${nameOf(ESCALATION)} (user ${ESCALATION}) has been deactivated in HubSpot; pick people from the account's users`);
  });

  it('asks no one HubSpot has deactivated: a new review waits on, and tasks, the reviewers who are still users', async () => {
    h.sim.deactivateOwner(Number(REVIEWER));
    h.clock.advance(PEOPLE_REFRESH_MS);
    await h.call<PeopleResponse>(REP, 'GET', '/people');
    await requestReview();
    const gate = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(gate.review?.waitingOn).toEqual([person(SECOND_REVIEWER)]);
    await h.deliverOutbox();
    const secondOwner = h.sim.owners().find((o) => String(o.userId) === SECOND_REVIEWER)?.id;
    expect(h.sim.tasksForDeal(dealId).map((t) => t.properties.hubspot_owner_id)).toEqual([secondOwner]);
  });

  it('asks the escalation reviewer when every reviewer has been deactivated, as when none is left', async () => {
    h.sim.deactivateOwner(Number(REVIEWER));
    h.sim.deactivateOwner(Number(SECOND_REVIEWER));
    h.clock.advance(PEOPLE_REFRESH_MS);
    await h.call<PeopleResponse>(REP, 'GET', '/people');
    await requestReview();
    await h.deliverOutbox();
    const escalationOwner = h.sim.owners().find((o) => String(o.userId) === ESCALATION)?.id;
    expect(escalationOwner).toBeDefined();
    expect(h.sim.tasksForDeal(dealId).map((t) => t.properties.hubspot_owner_id)).toEqual([escalationOwner]);
  });

  it('keeps the deactivated people it knew when HubSpot fails only the read of the archived owners, and still takes the active ones', async () => {
    const reviewId = await requestReview();
    expect((await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    h.sim.deactivateOwner(Number(REVIEWER));
    h.clock.advance(PEOPLE_REFRESH_MS);
    await h.call<PeopleResponse>(REP, 'GET', '/people');
    // Every second owners read (each refresh's archived one) fails from now on.
    let reads = 0;
    h.sim.faults.failNext(1000, { status: 500, match: (r) => r.endpoint === OWNERS_READ && ++reads % 2 === 0 });
    h.sim.seedOwner({ userId: Number(SECOND_REVIEWER), email: 'augusta.king@example.com', firstName: 'Augusta', lastName: 'King' });
    h.clock.advance(PEOPLE_REFRESH_MS);
    const people = await h.call<PeopleResponse>(REP, 'GET', '/people');
    expect(people.json.people.find((p) => p.userId === SECOND_REVIEWER)?.name).toBe('Augusta King');
    expect(people.json.people.map((p) => p.userId)).not.toContain(REVIEWER);
    expect(people.json.refreshedAt).toBe(new Date(h.clock.now()).toISOString());
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.review?.decision?.decider).toEqual(person(REVIEWER));
    expect(reads).toBe(2);
  });

  it('still loads the card when HubSpot does not answer the owners read: ids until it does, without asking on every load', async () => {
    h.sim.faults.failNext(1000, { status: 500, match: OWNERS_READ });
    await requestReview();
    const failedReads = h.sim.requests.count(OWNERS_READ);
    expect(failedReads).toBeGreaterThan(0);
    const gate = await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`);
    expect(gate.status).toBe(200);
    expect(gate.json.review?.requester).toEqual({ userId: REP, name: null, email: null });
    expect(h.sim.requests.count(OWNERS_READ)).toBe(failedReads);

    h.sim.faults.clear();
    h.clock.advance(PEOPLE_RETRY_AFTER_FAILURE_MS);
    expect((await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json.review?.requester).toEqual(person(REP));
  });
});

describe('card API: settings choose people of the account', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(() => h.close());

  const refusal = (answer: { json: unknown }) => (answer.json as ApiErrorBody).error;

  it('refuses a reviewer who is not a user of the account with 400 naming the id, and saves nothing', async () => {
    const answer = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, reviewers: [REVIEWER, '4242'] });
    expect(answer.status).toBe(400);
    expect(refusal(answer)).toMatchObject({ code: 'invalid_request', message: expect.stringContaining('reviewers: user 4242 is not a user of this HubSpot account') });
    expect(refusal(answer).details).toMatchObject({ issues: [{ path: 'reviewers' }], unknownUserIds: ['4242'] });
    expect(await h.store.settings.get(h.sim.portalId)).toBeUndefined();
  });

  it('names the field for an admin or an escalation reviewer who is not a user', async () => {
    const admins = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, admins: [ADMIN, '4243', '4244'] });
    expect(admins.status).toBe(400);
    expect(refusal(admins).message).toContain('admins: user 4243, user 4244 are not users of this HubSpot account');
    const escalation = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, escalationReviewer: '4245' });
    expect(escalation.status).toBe(400);
    expect(refusal(escalation).message).toContain('escalationReviewer: user 4245 is not a user of this HubSpot account');
  });

  it('refuses a Triad member or a break-glass user who is not a user, naming the role\'s field; the settings name them by name once saved', async () => {
    const triad = { enabled: true, members: { tech_lead: ['4246'], product_manager: [REVIEWER], product_marketing: [] }, decisionMaker: 'product_manager' };
    const member = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, triad });
    expect(member.status).toBe(400);
    expect(refusal(member).message).toContain('triad.members.tech_lead: user 4246 is not a user of this HubSpot account');
    expect(refusal(member).details).toMatchObject({ issues: [{ path: 'triad.members.tech_lead' }], unknownUserIds: ['4246'] });
    const breakGlass = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, breakGlassUsers: ['4247'] });
    expect(breakGlass.status).toBe(400);
    expect(refusal(breakGlass).message).toContain('breakGlassUsers: user 4247 is not a user of this HubSpot account');
    expect(await h.store.settings.get(h.sim.portalId)).toBeUndefined();
    const saved = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, triad: { ...triad, members: { ...triad.members, tech_lead: [SECOND_REVIEWER] } }, breakGlassUsers: [ESCALATION] });
    expect(saved.status).toBe(200);
    expect(saved.json.people).toEqual(expect.arrayContaining([person(SECOND_REVIEWER), person(ESCALATION)]));
  });

  it('accepts a user added in HubSpot a moment ago, though the cached list is younger than the interval', async () => {
    await h.call<PeopleResponse>(ADMIN, 'GET', '/people');
    h.sim.seedOwner({ userId: 777, email: 'katherine.johnson@example.com', firstName: 'Katherine', lastName: 'Johnson' });
    const saved = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, reviewers: [REVIEWER, '777'] });
    expect(saved.status).toBe(200);
    expect(saved.json.people).toContainEqual({ userId: '777', name: 'Katherine Johnson', email: 'katherine.johnson@example.com' });
    expect(saved.json.updatedByPerson).toEqual(person(ADMIN));
    expect(saved.json.changes[0]?.changedByPerson).toEqual(person(ADMIN));
  });

  it('answers 502 rather than refusing unchecked when HubSpot does not answer, and 403 to a non-admin before any check', async () => {
    h.sim.faults.failNext(40, { status: 500, match: OWNERS_READ });
    const unchecked = await h.call(ADMIN, 'PUT', '/settings', { ...baseSettings, reviewers: [REVIEWER, '4242'] });
    expect(unchecked.status).toBe(502);
    expect(refusal(unchecked).message).toContain("could not check the people named against the account's HubSpot users");
    const notAdmin = await h.call(REVIEWER, 'PUT', '/settings', { ...baseSettings, reviewers: [REVIEWER, '4242'] });
    expect(notAdmin.status).toBe(403);
  });
});
