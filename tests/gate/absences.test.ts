import { nameOf } from '../support/people';
import type { AbsencesResponse, AbsenceView, ApiErrorBody, GateResponse } from '../../extensions/contract/api';
import { noteOverdueDeliveries } from '../../src/server/application/overdueDeliveries';
import { startHarness, baseSettings, ADMIN, ESCALATION, REP, REVIEWER, SECOND_REVIEWER, START, type Harness } from './harness';

/**
 * Issue 15, delegation and out-of-office, through the card API (real HTTP, the store, the
 * simulator): a reviewer records their own absence and an admin anyone's; nobody else may; bad
 * dates and delegates get a 400 naming the field; during the absence the review request goes to
 * the delegate, the card says who covers, and the delegate's decision says so in its note and
 * the audit log; once it ends, requests go to the reviewer again.
 */
const HOUR = 60 * 60 * 1000;
const iso = (ms: number) => new Date(ms).toISOString();
const OWNER_IDS: Record<string, string> = { [REVIEWER]: '7200', [SECOND_REVIEWER]: '7201', [ESCALATION]: '7300' };

describe('card API: absences and delegates', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
    // Reviewers 200 and 201 and the escalation reviewer 300 are owners of the test account already (tests/support/people.ts), with these owner ids.
  });
  afterEach(() => h.close());

  const away = (userId: string, body: Record<string, unknown>) => h.call<AbsenceView & ApiErrorBody>(userId, 'POST', '/absences', body);
  const week = { from: iso(START), until: iso(START + 7 * 24 * HOUR) };
  const taskOwners = (dealId: string) => h.sim.tasksForDeal(dealId).map((t) => t.properties.hubspot_owner_id).sort();

  async function requestOn(dealId: string): Promise<number> {
    const result = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 4 });
    expect(result.status).toBe(201);
    await h.deliverOutbox();
    return result.json.review?.id ?? Number.NaN;
  }

  it('a reviewer records their own absence and an admin one for a reviewer; both are listed', async () => {
    const own = await away(REVIEWER, { delegateUserId: SECOND_REVIEWER, ...week });
    expect(own.status).toBe(201);
    expect(own.json).toMatchObject({ userId: REVIEWER, delegateUserId: SECOND_REVIEWER, from: week.from, until: week.until, current: true, createdBy: REVIEWER });

    const forOther = await away(ADMIN, { userId: SECOND_REVIEWER, delegateUserId: ESCALATION, from: '2026-12-20', until: '2027-01-04' });
    expect(forOther.status).toBe(201);
    expect(forOther.json).toMatchObject({ userId: SECOND_REVIEWER, from: '2026-12-20T00:00:00.000Z', current: false, createdBy: ADMIN });

    const listed = await h.call<AbsencesResponse>(REP, 'GET', '/absences');
    expect(listed.status).toBe(200);
    expect(listed.json.absences.map((a) => [a.userId, a.delegateUserId, a.current])).toEqual([
      [REVIEWER, SECOND_REVIEWER, true],
      [SECOND_REVIEWER, ESCALATION, false],
    ]);
    // Named for whoever reads them (issue 15): the absent, the delegate, who recorded it.
    expect(listed.json.absences.map((a) => [a.absent.name, a.delegate.name, a.createdByPerson.name])).toEqual([
      [nameOf(REVIEWER), nameOf(SECOND_REVIEWER), nameOf(REVIEWER)],
      [nameOf(SECOND_REVIEWER), nameOf(ESCALATION), nameOf(ADMIN)],
    ]);
  });

  it('refuses an absence recorded for someone else by a non-admin (403), and one for a user who reviews nothing (400)', async () => {
    const byRep = await away(REP, { userId: REVIEWER, delegateUserId: SECOND_REVIEWER, ...week });
    expect(byRep.status).toBe(403);
    expect(byRep.json.error.message).toBe(`you may record only your own absence; an admin records one for ${nameOf(REVIEWER)}`);
    const byOtherReviewer = await away(SECOND_REVIEWER, { userId: REVIEWER, delegateUserId: SECOND_REVIEWER, ...week });
    expect(byOtherReviewer.status).toBe(403);
    const repSelf = await away(REP, { delegateUserId: SECOND_REVIEWER, ...week });
    expect(repSelf.status).toBe(400);
    // Spoken to: the caller is "you", not named.
    expect(repSelf.json.error.message).toBe('userId: you are not a reviewer of this account, so you have no reviews to hand over');
    expect((await h.call<AbsencesResponse>(ADMIN, 'GET', '/absences')).json.absences).toEqual([]);
  });

  it.each([
    ['a delegate who is no reviewer', { delegateUserId: REP, ...week }, 'delegateUserId', `${nameOf(REP)} is not a reviewer`],
    ['themselves as delegate', { delegateUserId: REVIEWER, ...week }, 'delegateUserId', 'someone else'],
    ['until before from', { delegateUserId: SECOND_REVIEWER, from: week.until, until: week.from }, 'until', 'must be after from'],
    ['until equal to from', { delegateUserId: SECOND_REVIEWER, from: week.from, until: week.from }, 'until', 'must be after from'],
    ['an absence already over', { delegateUserId: SECOND_REVIEWER, from: iso(START - 48 * HOUR), until: iso(START - HOUR) }, 'until', 'already over'],
    ['a year away', { delegateUserId: SECOND_REVIEWER, from: '2026-11-02', until: '2027-11-02' }, 'until', 'at most 180 days'],
    ['a date that is not one', { delegateUserId: SECOND_REVIEWER, from: '2026-02-30', until: '2027-01-01' }, 'from', 'not a real date'],
    ['a time without a zone', { delegateUserId: SECOND_REVIEWER, from: '2026-11-02T10:00', until: '2027-01-01' }, 'from', 'must be a date'],
    ['no delegate', { ...week }, 'delegateUserId', ''],
    ['an unknown field', { delegateUserId: SECOND_REVIEWER, ...week, reason: 'holiday' }, '', ''],
  ])('answers 400 for %s, naming the field', async (_what, body, field, words) => {
    const result = await away(REVIEWER, body);
    expect(result.status).toBe(400);
    expect(result.json.error.code).toBe('invalid_request');
    expect(result.json.error.message).toContain(field);
    expect(result.json.error.message).toContain(words);
  });

  it('refuses an overlapping second absence (409); the absent reviewer or an admin ends one, others may not', async () => {
    const first = await away(REVIEWER, { delegateUserId: SECOND_REVIEWER, ...week });
    const overlap = await away(REVIEWER, { delegateUserId: ESCALATION, from: iso(START + 24 * HOUR), until: iso(START + 10 * 24 * HOUR) });
    expect(overlap.status).toBe(409);
    expect(overlap.json.error.message).toContain(`absence ${first.json.id}`);
    expect(overlap.json.error.message).toMatch(/^you are already away from /);

    const byOther = await h.call<ApiErrorBody>(SECOND_REVIEWER, 'DELETE', `/absences/${first.json.id}`);
    expect(byOther.status).toBe(403);
    expect(byOther.json.error.message).toBe(`only ${nameOf(REVIEWER)} (who is away) or an admin can end absence ${first.json.id}`);
    expect((await h.call<ApiErrorBody>(ADMIN, 'DELETE', '/absences/9999')).status).toBe(404);
    expect((await h.call<ApiErrorBody>(ADMIN, 'DELETE', '/absences/first')).status).toBe(400);
    const ended = await h.call<AbsencesResponse>(ADMIN, 'DELETE', `/absences/${first.json.id}`);
    expect(ended.status).toBe(200);
    expect(ended.json.absences).toEqual([]);
    expect((await h.call<ApiErrorBody>(REVIEWER, 'DELETE', `/absences/${first.json.id}`)).status).toBe(409);
    // Ended, it no longer blocks a new one.
    expect((await away(REVIEWER, { delegateUserId: ESCALATION, ...week })).status).toBe(201);
  });

  it('names who may end an absence an admin recorded: the one away and the admin who recorded it', async () => {
    const recorded = await away(ADMIN, { userId: REVIEWER, delegateUserId: SECOND_REVIEWER, ...week });
    expect(recorded.status).toBe(201);
    const byOther = await h.call<ApiErrorBody>(SECOND_REVIEWER, 'DELETE', `/absences/${recorded.json.id}`);
    expect(byOther.status).toBe(403);
    expect(byOther.json.error.message).toBe(`only ${nameOf(REVIEWER)} (who is away), ${nameOf(ADMIN)} (who recorded it) or an admin can end absence ${recorded.json.id}`);
  });

  it('during the absence the request goes to the delegate, the card says who covers, the delegate decides and says so; then back to normal', async () => {
    await away(REVIEWER, { delegateUserId: ESCALATION, from: iso(START), until: iso(START + 24 * HOUR) });
    const dealId = h.seedDeal();
    const reviewId = await requestOn(dealId);
    expect(taskOwners(dealId)).toEqual([OWNER_IDS[SECOND_REVIEWER], OWNER_IDS[ESCALATION]].sort());

    const card = await h.call(SECOND_REVIEWER, 'GET', `/deals/${dealId}/gate`);
    expect(card.json.covering).toEqual([
      { absentUserId: REVIEWER, absent: expect.objectContaining({ userId: REVIEWER, name: nameOf(REVIEWER) }), delegateUserId: ESCALATION, delegate: expect.objectContaining({ name: nameOf(ESCALATION) }), until: iso(START + 24 * HOUR) },
    ]);

    const decided = await h.call(ESCALATION, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes', note: 'fits the roadmap' });
    expect(decided.status).toBe(200);
    expect(decided.json.covering).toEqual([]);
    await h.deliverOutbox();
    const notes = h.sim.notesForDeal(dealId).map((n) => n.properties.hs_note_body ?? '');
    expect(notes.filter((b) => b.includes(`Decided by ${nameOf(ESCALATION)}, covering for ${nameOf(REVIEWER)}`))).toHaveLength(1);
    const entry = (await h.store.audit.listForDeal(h.sim.portalId, dealId)).find((e) => e.action === 'review_decided');
    expect(entry).toMatchObject({ actor: ESCALATION, details: expect.objectContaining({ coveringFor: [REVIEWER] }) });
    expect(entry?.reason).toContain(`decided by ${nameOf(ESCALATION)}, covering for ${nameOf(REVIEWER)}`);

    // The absence is over: the next request asks the reviewer again, and nobody is covering.
    h.clock.advance(24 * HOUR);
    const later = h.seedDeal({ dealname: 'Globex' });
    const laterReview = await requestOn(later);
    expect(taskOwners(later)).toEqual([OWNER_IDS[REVIEWER], OWNER_IDS[SECOND_REVIEWER]].sort());
    expect((await h.call<GateResponse>(REVIEWER, 'GET', `/deals/${later}/gate`)).json.covering).toEqual([]);
    await h.call(SECOND_REVIEWER, 'POST', `/reviews/${laterReview}/decision`, { outcome: 'yes' });
    await h.deliverOutbox();
    expect(h.sim.notesForDeal(later).some((n) => (n.properties.hs_note_body ?? '').includes('covering for'))).toBe(false);
  });

  it('an absence whose delegate an admin has since taken off the reviewers hands nothing over', async () => {
    await away(REVIEWER, { delegateUserId: SECOND_REVIEWER, ...week });
    expect((await h.call(ADMIN, 'PUT', '/settings', baseSettings)).status).toBe(200);
    const dealId = h.seedDeal();
    await requestOn(dealId);
    expect(taskOwners(dealId)).toEqual([OWNER_IDS[REVIEWER]]);
    expect((await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json.covering).toEqual([]);
  });

  it('a reviewer who covers for nobody decides as before: no covering line', async () => {
    await away(REVIEWER, { delegateUserId: ESCALATION, ...week });
    const dealId = h.seedDeal();
    const reviewId = await requestOn(dealId);
    expect((await h.call(SECOND_REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    await h.deliverOutbox();
    expect(h.sim.notesForDeal(dealId).some((n) => (n.properties.hs_note_body ?? '').includes('covering for'))).toBe(false);
    const entry = (await h.store.audit.listForDeal(h.sim.portalId, dealId)).find((e) => e.action === 'review_decided');
    expect(entry?.details ?? {}).not.toHaveProperty('coveringFor');
  });
  it('while the escalation reviewer is away, the task of an overdue delivery goes to their delegate', async () => {
    const settings = { ...baseSettings, reviewers: [REVIEWER, SECOND_REVIEWER], escalationReviewer: ESCALATION };
    expect((await h.call(ADMIN, 'PUT', '/settings', settings)).status).toBe(200);
    const dealId = h.seedDeal();
    const reviewId = await requestOn(dealId);
    expect((await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' })).status).toBe(200);
    const promised = (await h.store.deliveries.get(h.sim.portalId, reviewId))?.promisedDate ?? '';
    expect(promised).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect((await away(ADMIN, { userId: ESCALATION, delegateUserId: SECOND_REVIEWER, from: iso(START), until: iso(START + 90 * 24 * HOUR) })).status).toBe(201);

    // Two days past the promised date, the escalation reviewer still away.
    h.clock.set(Date.parse(`${promised}T00:00:00Z`) + 48 * HOUR);
    expect(await noteOverdueDeliveries({ store: h.store, clock: h.clock, logger: h.ctx.logger, defaults: h.ctx.defaults })).toBe(1);
    await h.deliverOutbox();
    const overdueTasks = h.sim.tasksForDeal(dealId).filter((t) => (t.properties.hs_task_subject ?? '').startsWith('Overdue delivery'));
    expect(overdueTasks.map((t) => t.properties.hubspot_owner_id)).toEqual([OWNER_IDS[SECOND_REVIEWER]]);
    const entry = (await h.store.audit.listForDeal(h.sim.portalId, dealId)).find((e) => e.action === 'delivery_overdue');
    expect(entry?.details).toMatchObject({ escalationReviewer: SECOND_REVIEWER });
  });
});
