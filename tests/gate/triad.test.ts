import type { ApiErrorBody, DashboardResponse, Settings, SettingsResponse } from '../../extensions/contract/api';
import { HOUR_MS } from '../../src/server/domain/sla';
import { silentLogger } from '../../src/server/shared/logger';
import { createSlaWorker } from '../../src/server/workers/slaWorker';
import { remindWaitingReviews } from '../../src/server/application/reviewReminders';
import { escalateToAdminsWhereDue } from '../../src/server/application/adminEscalation';
import { ESCALATION_ANSWER_MS } from '../../src/server/domain/reminderPoints';
import { ADMIN, baseSettings, ESCALATION, REP, REVIEWER, START, startHarness, type Harness } from './harness';

/** The Triad's people (HubSpot user ids): none of them is a designated reviewer. */
const TECH_LEAD = '400';
const PM = '500';
const MARKETING = '600';
const SECOND_MARKETING = '601';
const OUTSIDER = '700';

const triadOn: Settings = {
  ...baseSettings,
  escalationReviewer: ESCALATION,
  triad: { enabled: true, members: { tech_lead: [TECH_LEAD], product_manager: [PM], product_marketing: [MARKETING, SECOND_MARKETING] }, decisionMaker: 'product_manager' },
};

/**
 * The Triad and disagree-and-commit (issue 14), through the card API against the simulator: each
 * role gives its view in the role the settings name, the product manager makes the call (early if
 * need be), a call against a view is marked and noted with who decided and who disagreed, the SLA
 * escalates to the decision maker, and with the Triad off nothing changes.
 */
describe('card API: the Triad', () => {
  let h: Harness;
  let dealId: string;
  beforeEach(async () => {
    h = await startHarness();
    // The Triad's people, by name (the escalation reviewer, 300, is one of the test people already):
    // users of the account, as the settings require of everyone they name.
    for (const [id, userId, firstName, lastName] of [['7400', TECH_LEAD, 'Katherine', 'Johnson'], ['7500', PM, 'Frances', 'Allen'], ['7600', MARKETING, 'Radia', 'Perlman'], ['7601', SECOND_MARKETING, 'Mary', 'Jackson']] as const) {
      h.sim.seedOwner({ id, userId: Number(userId), firstName, lastName, email: `${firstName.toLowerCase()}.${lastName.toLowerCase()}@example.com` });
    }
    dealId = h.seedDeal();
  });
  afterEach(() => h.close());

  async function configure(settings: Settings) {
    const saved = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', settings);
    expect(saved.status).toBe(200);
    return saved.json;
  }
  async function requested(): Promise<number> {
    const result = await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'SSO with Okta', effortWeeks: 4 });
    expect(result.status).toBe(201);
    return result.json.review?.id ?? 0;
  }
  const view = (userId: string, reviewId: number, body: Record<string, unknown>) => h.call(userId, 'POST', `/reviews/${reviewId}/perspective`, body);
  const decide = (userId: string, reviewId: number, body: Record<string, unknown>) => h.call(userId, 'POST', `/reviews/${reviewId}/decision`, body);
  const refused = (result: { json: unknown }) => (result.json as ApiErrorBody).error;
  const notes = () => h.sim.notesForDeal(dealId).map((n) => n.properties.hs_note_body ?? '');

  it('records each role’s view in the role the settings give, the latest per person counting and the history keeping all', async () => {
    await configure(triadOn);
    const reviewId = await requested();
    expect((await view(TECH_LEAD, reviewId, { stance: 'yes', note: 'easy' })).status).toBe(200);
    const changed = await view(TECH_LEAD, reviewId, { stance: 'yes_but', weeks: 3, note: 'the IdP needs a new adapter' });
    expect(changed.status).toBe(200);
    const sold = await view(MARKETING, reviewId, { stance: 'can_sell', value: 120000, note: 'three more prospects ask for it' });
    const triad = sold.json.triad;
    expect(triad?.views.map((v) => [v.userId, v.role, v.stance, v.weeks, v.value])).toEqual([
      [TECH_LEAD, 'tech_lead', 'yes_but', 3, null],
      [MARKETING, 'product_marketing', 'can_sell', null, 120000],
    ]);
    expect(triad?.history.map((v) => `${v.userId}:${v.stance}`)).toEqual([`${TECH_LEAD}:yes`, `${TECH_LEAD}:yes_but`, `${MARKETING}:can_sell`]);
    expect(triad?.notWeighedIn).toEqual([{ role: 'product_marketing', userId: SECOND_MARKETING }]);
    expect(triad).toMatchObject({ enabled: true, decisionMaker: 'product_manager', callerRole: 'product_marketing', canGiveView: true, call: null });
    // The role comes from the settings: a PM's stance from the tech lead is refused, naming the field.
    const wrongRole = await view(TECH_LEAD, reviewId, { stance: 'fits' });
    expect(wrongRole.status).toBe(400);
    expect(refused(wrongRole).message).toBe('stance: the tech lead answers one of yes, yes_but, no');
    const asRep = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.triad;
    expect(asRep).toMatchObject({ callerRole: null, canGiveView: false, giveViewDenied: 'you hold no Triad role in this account, so you give no view; an admin names the Triad in the settings' });
    expect((await h.store.audit.listForDeal(h.sim.portalId, dealId)).filter((e) => e.action === 'triad_view_given')).toHaveLength(3);
  });

  it('refuses a non-member and a reviewer outside the Triad (403), a decided review (409), and bad fields (400, named)', async () => {
    await configure(triadOn);
    const reviewId = await requested();
    for (const userId of [OUTSIDER, REVIEWER, ADMIN]) {
      const result = await view(userId, reviewId, { stance: 'yes' });
      expect(result.status).toBe(403);
      expect(refused(result).message).toBe('you hold no Triad role in this account, so you give no view; an admin names the Triad in the settings');
    }
    const cases: Array<[string, Record<string, unknown>, string]> = [
      [TECH_LEAD, { stance: 'maybe' }, 'stance'],
      [TECH_LEAD, { stance: 'yes_but' }, 'weeks'],
      [TECH_LEAD, { stance: 'yes', weeks: 2 }, 'weeks'],
      [TECH_LEAD, { stance: 'no' }, 'note'],
      [TECH_LEAD, { stance: 'yes', role: 'product_manager' }, 'request body'],
      [PM, { stance: 'fits', value: 10 }, 'value'],
      [MARKETING, { stance: 'can_sell', value: -1 }, 'value'],
    ];
    for (const [userId, body, path] of cases) {
      const result = await view(userId, reviewId, body);
      expect(result.status).toBe(400);
      expect(refused(result).details?.issues?.map((i) => i.path)).toContain(path);
    }
    expect(await h.store.triad.perspectives(h.sim.portalId, reviewId)).toEqual([]);
    expect((await decide(PM, reviewId, { outcome: 'yes' })).status).toBe(200);
    const late = await view(TECH_LEAD, reviewId, { stance: 'no', note: 'too late' });
    expect(late.status).toBe(409);
    expect(refused(late).message).toBe(`review #${reviewId} is approved: views are given while it waits for the call`);
    const foreign = await view(TECH_LEAD, 99999, { stance: 'yes' });
    expect(foreign.status).toBe(404);
  });

  it('the PM decides against the tech lead’s no: disagree-and-commit, the dissent kept and shown, the note names decider and dissenter', async () => {
    await configure(triadOn);
    const reviewId = await requested();
    await view(TECH_LEAD, reviewId, { stance: 'no', note: 'needs a new auth service' });
    await view(MARKETING, reviewId, { stance: 'can_sell', value: 90000 });
    // Only the decision maker makes the call: a designated reviewer, the tech lead and an admin are refused.
    for (const userId of [REVIEWER, TECH_LEAD, ADMIN]) {
      const result = await decide(userId, reviewId, { outcome: 'yes' });
      expect(result.status).toBe(403);
      expect(refused(result).message).toBe('you do not make the call: the product manager does (an admin names them in the settings)');
    }
    const asPm = (await h.call(PM, 'GET', `/deals/${dealId}/gate`)).json;
    expect(asPm.permissions.canDecide).toBe(true);
    expect((await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json.permissions.denied.decide).toBe(
      'the Triad is on: the product manager makes the call (an admin names them in the settings)',
    );

    const decided = await decide(PM, reviewId, { outcome: 'yes', note: 'strategic account' });
    expect(decided.status).toBe(200);
    expect(decided.json.review?.status).toBe('approved');
    expect(decided.json.triad?.call).toMatchObject({
      decidedBy: PM,
      disagreeAndCommit: true,
      dissent: [{ userId: TECH_LEAD, role: 'tech_lead', stance: 'no', note: 'needs a new auth service' }],
      notWeighedIn: [{ role: 'product_marketing', userId: SECOND_MARKETING }],
    });
    expect((await h.store.audit.listForDeal(h.sim.portalId, dealId)).find((e) => e.action === 'triad_disagree_and_commit')?.reason).toBe(
      // Named as the note names them, not by user id.
      'disagree and commit: the product manager, Frances Allen, decided yes against Katherine Johnson (tech lead): no, we cannot build it',
    );
    await h.deliverOutbox();
    const note = notes().find((n) => n.includes(`technical review #${reviewId}: Yes`)) ?? '';
    expect(note).toContain('Triad decision: the product manager, Frances Allen, made the call.');
    expect(note).toContain('<strong>Disagree and commit</strong>: the call went against this view; everyone executes it.');
    expect(note).toContain('<p>Katherine Johnson (tech lead) disagreed: no, we cannot build it: needs a new auth service</p>');
    expect(note).toContain('Not weighed in when the call was made: Mary Jackson (product marketing).');
    expect(note).not.toMatch(/user \d+/);
    // The rep sees the dissent on the card after the call.
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.triad?.call?.dissent.map((v) => v.userId)).toEqual([TECH_LEAD]);
  });

  it('the PM may decide before any view is in; a call every view agrees with is not disagree-and-commit', async () => {
    await configure(triadOn);
    const early = await requested();
    const before = (await h.call(PM, 'GET', `/deals/${dealId}/gate`)).json.triad;
    expect(before?.notWeighedIn).toEqual([
      { role: 'tech_lead', userId: TECH_LEAD },
      { role: 'product_marketing', userId: MARKETING },
      { role: 'product_marketing', userId: SECOND_MARKETING },
    ]);
    const decided = await decide(PM, early, { outcome: 'no', note: 'not this year' });
    expect(decided.status).toBe(200);
    expect(decided.json.triad?.call).toMatchObject({ disagreeAndCommit: false, dissent: [] });
    expect(decided.json.triad?.call?.notWeighedIn).toHaveLength(3);
    expect((await h.store.triad.callFor(h.sim.portalId, early))?.disagreeAndCommit).toBe(false);
    await h.deliverOutbox();
    expect(notes().find((n) => n.includes(`#${early}: No`))).toContain('Every view given agreed with the call.');
  });

  it("hands the PM's yes to the tech lead to deliver: the PM made the owner, the tech lead then moves it on; marketing may not own it", async () => {
    await configure(triadOn);
    const reviewId = await requested();
    const decided = await decide(PM, reviewId, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    expect(decided.json.review?.delivery).toMatchObject({ ownerUserId: PM, status: 'planned' });
    // The card's owner picker offers the PM (its owner) and the engineers, the tech lead among them.
    expect(decided.json.review?.delivery?.ownerChoices.map((p) => p.name)).toEqual(['Frances Allen', 'Ada Lovelace', 'Katherine Johnson', 'Margaret Hamilton']);
    const delivery = (userId: string, body: Record<string, unknown>) => h.call(userId, 'POST', `/reviews/${reviewId}/delivery`, body);
    const toMarketing = await delivery(PM, { status: 'planned', ownerUserId: MARKETING });
    expect(toMarketing.status).toBe(400);
    expect(refused(toMarketing).message).toBe(
      "ownerUserId: Radia Perlman is not an engineer of this account (one of its reviewers or the Triad's tech leads); an admin adds reviewers in the settings",
    );
    const handed = await delivery(PM, { status: 'planned', ownerUserId: TECH_LEAD });
    expect(handed.status).toBe(200);
    expect(handed.json.review?.delivery).toMatchObject({ ownerUserId: TECH_LEAD, owner: expect.objectContaining({ name: 'Katherine Johnson' }) });
    // The tech lead sees it may move it on, and does; marketing sees why it may not.
    expect((await h.call(TECH_LEAD, 'GET', `/deals/${dealId}/gate`)).json.review?.delivery).toMatchObject({ canUpdate: true, updateDenied: null });
    expect((await delivery(TECH_LEAD, { status: 'in_progress', workItemUrl: 'https://tracker.example.com/ENG-7' })).status).toBe(200);
    expect((await h.call(MARKETING, 'GET', `/deals/${dealId}/gate`)).json.review?.delivery?.updateDenied).toBe(
      "only its owner (Katherine Johnson), the account's reviewers, the Triad's tech leads and its admins may update this delivery",
    );
    // The tech lead, no reviewer, reads the deal-desk home page with the commitment it owns; a rep still may not.
    const home = await h.call<DashboardResponse>(TECH_LEAD, 'GET', '/dashboard');
    expect(home.status).toBe(200);
    expect(home.json.deliveries.open.map((d) => [d.reviewId, d.owner.name])).toEqual([[reviewId, 'Katherine Johnson']]);
    const asRep = await h.call(REP, 'GET', '/dashboard');
    expect(asRep.status).toBe(403);
    expect(refused(asRep).message).toBe("the deal-desk dashboard is for admins, reviewers and the Triad's members, and you are none of them (an admin adds them in the settings)");
    expect((await h.store.deliveries.get(h.sim.portalId, reviewId))?.history.map((c) => `${c.by}:${c.status}:${c.ownerUserId}`)).toEqual([
      `${PM}:planned:${PM}`,
      `${PM}:planned:${TECH_LEAD}`,
      `${TECH_LEAD}:in_progress:${TECH_LEAD}`,
    ]);
  });

  it('gives the Triad the review tasks and escalates an overdue review to the decision maker', async () => {
    await configure(triadOn);
    const reviewId = await requested();
    await h.deliverOutbox();
    const assigned = () => h.sim.tasksForDeal(dealId).map((t) => t.properties.hubspot_owner_id);
    expect(assigned().sort()).toEqual(['7400', '7500', '7600', '7601']);
    const worker = createSlaWorker({ store: h.store, clock: h.clock, logger: silentLogger(), defaults: h.config.defaults, instanceId: 'triad-test' });
    h.clock.advance(49 * HOUR_MS);
    expect(await worker.escalateOverdue()).toBe(1);
    await h.deliverOutbox();
    const escalation = h.sim.tasksForDeal(dealId).filter((t) => (t.properties.hs_task_subject ?? '').startsWith('Overdue'));
    expect(escalation.map((t) => t.properties.hubspot_owner_id)).toEqual(['7500']);
    expect(notes().find((n) => n.includes('is overdue'))).toContain("It was escalated to Frances Allen, who makes the Triad's call.");
    // The SLA holds for the final call: the PM still decides, late.
    expect((await decide(PM, reviewId, { outcome: 'yes' })).status).toBe(200);
    await worker.stop();
  });

  it('reminds the Triad members the review asks (not the designated reviewers), as its tasks', async () => {
    await configure(triadOn);
    const reviewId = await requested();
    // Half the 48-hour SLA: the first reminder point.
    h.clock.advance(24 * HOUR_MS);
    expect(await remindWaitingReviews({ store: h.store, clock: h.clock, logger: silentLogger(), defaults: h.config.defaults })).toBe(1);
    await h.deliverOutbox();
    const reminders = h.sim.tasksForDeal(dealId).filter((t) => (t.properties.hs_task_subject ?? '').startsWith('Reminder:'));
    const taskOwners = h.sim.tasksForDeal(dealId).filter((t) => !(t.properties.hs_task_subject ?? '').startsWith('Reminder:')).map((t) => t.properties.hubspot_owner_id);
    expect(reminders.map((t) => t.properties.hubspot_owner_id).sort()).toEqual(taskOwners.sort());
    expect(reminders.map((t) => t.properties.hubspot_owner_id)).not.toContain('7200');
    const audit = (await h.store.audit.listForDeal(h.sim.portalId, dealId)).find((e) => e.action === 'review_reminded' && e.reviewId === reviewId);
    expect(audit?.details).toMatchObject({ recipients: [TECH_LEAD, PM, MARKETING, SECOND_MARKETING] });
  });

  it('takes an escalation the decision maker lets pass to the admins, the note naming the decision maker it went to', async () => {
    await configure(triadOn);
    await requested();
    const worker = createSlaWorker({ store: h.store, clock: h.clock, logger: silentLogger(), defaults: h.config.defaults, instanceId: 'triad-admins' });
    h.clock.advance(49 * HOUR_MS);
    expect(await worker.escalateOverdue()).toBe(1);
    await worker.stop();
    h.clock.advance(ESCALATION_ANSWER_MS);
    expect(await escalateToAdminsWhereDue({ store: h.store, clock: h.clock, logger: silentLogger(), defaults: h.config.defaults })).toBe(1);
    await h.deliverOutbox();
    const note = notes().find((n) => n.includes('still unanswered')) ?? '';
    expect(note).toContain("It was escalated to Frances Allen (the Triad's decision maker), who has not answered either.");
    expect(note).toContain("It now goes to the account's admins: Barbara Liskov.");
    expect(note).not.toContain('Margaret Hamilton');
  });

  it('waits on the decision maker, and an absence hands nothing over: no covering line, no "covering for" on the call', async () => {
    // The PM is a designated reviewer too, so the reviewer's absence could hand them the review.
    await configure({ ...triadOn, reviewers: [REVIEWER, PM] });
    const week = { from: new Date(START).toISOString(), until: new Date(START + 7 * 24 * HOUR_MS).toISOString() };
    expect((await h.call(REVIEWER, 'POST', '/absences', { delegateUserId: PM, ...week })).status).toBe(201);
    const reviewId = await requested();
    const card = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json;
    expect(card.review?.waitingOn.map((p) => p.userId)).toEqual([PM]);
    expect(card.covering).toEqual([]);
    const decided = await decide(PM, reviewId, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    const entry = (await h.store.audit.listForDeal(h.sim.portalId, dealId)).find((e) => e.action === 'review_decided');
    expect(entry?.reason).not.toContain('covering for');
    await h.deliverOutbox();
    expect(notes().find((n) => n.includes('Triad decision'))).not.toContain('covering for');
  });

  it('with the Triad off nothing changes: no views, the designated reviewer decides, escalation goes to the escalation reviewer', async () => {
    await configure({ ...triadOn, triad: { ...triadOn.triad!, enabled: false } });
    const reviewId = await requested();
    const gate = (await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json;
    expect(gate.triad).toBeNull();
    expect(gate.permissions.canDecide).toBe(true);
    const off = await view(TECH_LEAD, reviewId, { stance: 'yes' });
    expect(off.status).toBe(403);
    expect(refused(off).message).toBe('this account reviews with one designated reviewer: the Triad is off, so there are no views to record');
    const worker = createSlaWorker({ store: h.store, clock: h.clock, logger: silentLogger(), defaults: h.config.defaults, instanceId: 'triad-off' });
    h.clock.advance(49 * HOUR_MS);
    expect(await worker.escalateOverdue()).toBe(1);
    await worker.stop();
    await h.deliverOutbox();
    expect(h.sim.tasksForDeal(dealId).filter((t) => (t.properties.hs_task_subject ?? '').startsWith('Overdue')).map((t) => t.properties.hubspot_owner_id)).toEqual(['7300']);
    expect((await decide(PM, reviewId, { outcome: 'yes' })).status).toBe(403);
    const decided = await decide(REVIEWER, reviewId, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    expect(decided.json.triad).toBeNull();
    expect(await h.store.triad.callFor(h.sim.portalId, reviewId)).toBeUndefined();
    await h.deliverOutbox();
    expect(notes().find((n) => n.includes('Yes'))).not.toContain('Triad');
  });

  it('turned off while a review waits: the views stay in its history, the designated reviewer decides, no call is recorded; on again, the PM decides', async () => {
    await configure(triadOn);
    const reviewId = await requested();
    await view(TECH_LEAD, reviewId, { stance: 'no', note: 'needs a new auth service' });
    await configure({ ...triadOn, triad: { ...triadOn.triad!, enabled: false } });
    const offGate = (await h.call(REVIEWER, 'GET', `/deals/${dealId}/gate`)).json;
    expect(offGate.triad).toMatchObject({ enabled: false, notWeighedIn: [], canGiveView: false, call: null });
    expect(offGate.triad?.views.map((v) => v.userId)).toEqual([TECH_LEAD]);
    expect((await view(MARKETING, reviewId, { stance: 'can_sell' })).status).toBe(403);
    expect((await decide(REVIEWER, reviewId, { outcome: 'yes' })).status).toBe(200);
    expect(await h.store.triad.callFor(h.sim.portalId, reviewId)).toBeUndefined();

    const other = h.seedDeal();
    const next = await h.call(REP, 'POST', `/deals/${other}/reviews`, { summary: 'Audit export', effortWeeks: 1 });
    await configure(triadOn);
    const nextId = next.json.review?.id ?? 0;
    expect((await decide(REVIEWER, nextId, { outcome: 'yes' })).status).toBe(403);
    expect((await decide(PM, nextId, { outcome: 'yes' })).json.triad?.call).toMatchObject({ decidedBy: PM, disagreeAndCommit: false });
  });

  it('refuses an enabled Triad without a decision maker, or one person in two roles, naming the field (400)', async () => {
    const noMaker = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...triadOn, triad: { ...triadOn.triad!, members: { ...triadOn.triad!.members, product_manager: [] } } });
    expect(noMaker.status).toBe(400);
    expect(refused(noMaker).details?.issues).toEqual([
      { path: 'triad.members.product_manager', message: 'the Triad is on and the product manager makes the call: name at least one (or turn the Triad off)' },
    ]);
    const twice = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...triadOn, triad: { ...triadOn.triad!, members: { ...triadOn.triad!.members, tech_lead: [PM] } } });
    expect(twice.status).toBe(400);
    expect(refused(twice).details?.issues?.[0]?.path).toBe('triad.members.product_manager');
    const byRep = await h.call(REP, 'PUT', '/settings', triadOn);
    expect(byRep.status).toBe(403);
    // The decision maker may be another role; the default is the product manager.
    const saved = await configure({ ...triadOn, triad: { enabled: true, members: { tech_lead: [TECH_LEAD], product_manager: [], product_marketing: [] }, decisionMaker: 'tech_lead' } });
    expect(saved.settings.triad?.decisionMaker).toBe('tech_lead');
    const defaulted = await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, triad: { enabled: true, members: { tech_lead: [], product_manager: [PM, PM], product_marketing: [] } } });
    expect(defaulted.json.settings.triad).toEqual({ enabled: true, members: { tech_lead: [], product_manager: [PM], product_marketing: [] }, decisionMaker: 'product_manager' });
  });
});
