import type { ApiErrorBody, DashboardResponse, GateResponse, SettingsResponse } from '../../extensions/contract/api';
import { startHarness, baseSettings, ADMIN, REP, REVIEWER, START, type Harness } from './harness';
import { nameOf } from '../support/people';

const HOUR = 60 * 60 * 1000;
const DELEGATE = '500';
const REASON = 'Customer signs Friday; the CTO is travelling';

/** Break-glass through the card API, as the admin, a person named for it, a rep and a reviewer (issue 15). */
describe('card API: break-glass', () => {
  let h: Harness;
  let dealId: string;
  beforeEach(async () => {
    h = await startHarness();
    // The person named for break-glass is a user of the account, as the settings require.
    h.sim.seedOwner({ id: '7500', userId: Number(DELEGATE), firstName: 'Frances', lastName: 'Allen', email: 'frances.allen@example.com' });
    dealId = h.seedDeal({ dealgate_commitment: 'true', dealgate_commitment_summary: 'EU data residency', dealgate_effort_weeks: '6' });
    expect((await h.call(REP, 'POST', `/deals/${dealId}/reviews`, { summary: 'EU data residency', effortWeeks: 6 })).status).toBe(201);
  });
  afterEach(() => h.close());

  const breakGlass = (userId: string, body: unknown, deal = dealId) => h.call<GateResponse & ApiErrorBody>(userId, 'POST', `/deals/${deal}/break-glass`, body);
  const issuePaths = (answer: { json: ApiErrorBody }) => (answer.json.error.details?.issues ?? []).map((i) => i.path);

  it('opens for the admin with a 72-hour box by default: the card shows it, the audit and a note say who, why and until when', async () => {
    const opened = await breakGlass(ADMIN, { reason: REASON });
    expect(opened.status).toBe(201);
    const until = new Date(START + 72 * HOUR).toISOString();
    expect(opened.json.breakGlass).toEqual({
      latest: expect.objectContaining({ openedBy: ADMIN, reason: REASON, until, open: true, closedAs: null, dealName: 'Acme renewal' }),
      canOpen: false,
      denied: `the deal already has an open break-glass, by you until ${until}`,
    });
    expect(opened.json.gate).toMatchObject({ status: 'pending', mayAdvance: true, breakGlassHolds: true });
    const audit = (await h.store.audit.listForDeal(h.sim.portalId, dealId)).filter((e) => e.action === 'break_glass_opened');
    expect(audit).toEqual([expect.objectContaining({ actor: ADMIN, reason: `${nameOf(ADMIN)} let the deal pass the gate without review until ${until}: ${REASON}` })]);
    const notes = (await h.outbox(dealId)).filter((r) => r.kind === 'create_note' && JSON.stringify(r.payload).includes('break-glass'));
    expect(notes).toHaveLength(1);
    expect(JSON.stringify(notes[0]?.payload)).toContain(`until ${until}`);
    expect(JSON.stringify(notes[0]?.payload)).toContain(`${nameOf(ADMIN)} let this deal pass`);
    // The rep sees it too, and may not open one.
    const asRep = (await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.breakGlass;
    expect(asRep.latest?.open).toBe(true);
    expect(asRep.canOpen).toBe(false);
  });

  it('refuses a rep and a reviewer with 403, and lets a person the settings name for it open one', async () => {
    for (const user of [REP, REVIEWER]) {
      const refused = await breakGlass(user, { reason: REASON });
      expect(refused.status).toBe(403);
      expect(refused.json.error.message).toBe('only admins and the people the settings name for it (breakGlassUsers) may let a deal pass without review, and you are neither');
    }
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.breakGlass).toMatchObject({ canOpen: false, denied: expect.stringContaining('breakGlassUsers') });
    expect((await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, breakGlassUsers: [DELEGATE] })).status).toBe(200);
    expect((await h.call(DELEGATE, 'GET', `/deals/${dealId}/gate`)).json.breakGlass.canOpen).toBe(true);
    const opened = await breakGlass(DELEGATE, { reason: REASON, hours: 24 });
    expect(opened.status).toBe(201);
    expect(opened.json.breakGlass.latest).toMatchObject({ openedBy: DELEGATE, until: new Date(START + 24 * HOUR).toISOString() });
  });

  it.each([
    ['no reason', {}, 'reason'],
    ['a blank reason', { reason: '   ' }, 'reason'],
    ['more than 7 days', { reason: REASON, hours: 169 }, 'hours'],
    ['no time at all', { reason: REASON, hours: 0 }, 'hours'],
    ['part hours', { reason: REASON, hours: 1.5 }, 'hours'],
    ['an unknown field', { reason: REASON, days: 2 }, ''],
  ])('answers 400 naming the field for %s', async (_what, body, field) => {
    const refused = await breakGlass(ADMIN, body);
    expect(refused.status).toBe(400);
    if (field !== '') expect(issuePaths(refused)).toContain(field);
    expect(await h.store.breakGlasses.listForDeal(h.sim.portalId, dealId)).toEqual([]);
  });

  it('caps the box at 7 days: 168 hours is accepted', async () => {
    const opened = await breakGlass(ADMIN, { reason: REASON, hours: 168 });
    expect(opened.status).toBe(201);
    expect(opened.json.breakGlass.latest?.until).toBe(new Date(START + 7 * 24 * HOUR).toISOString());
  });

  it('answers 409 for a second one while the first is open, for a deal that needs no review, and for a deal with a decision', async () => {
    expect((await breakGlass(ADMIN, { reason: REASON })).status).toBe(201);
    const again = await breakGlass(ADMIN, { reason: 'again' });
    expect(again.status).toBe(409);
    expect(again.json.error.message).toContain('already has an open break-glass');

    const small = h.seedDeal({ amount: '1000', dealgate_commitment: 'true', dealgate_commitment_summary: 'x', dealgate_effort_weeks: '1' });
    const notNeeded = await breakGlass(ADMIN, { reason: REASON }, small);
    expect(notNeeded.status).toBe(409);
    expect(notNeeded.json.error.message).toContain('needs no review');

    const decided = h.seedDeal({ dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' });
    const reviewId = (await h.call(REP, 'POST', `/deals/${decided}/reviews`, { summary: 'SSO', effortWeeks: 2 })).json.review?.id ?? 0;
    expect((await h.call(REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'no', note: 'not feasible' })).status).toBe(200);
    const afterNo = await breakGlass(ADMIN, { reason: REASON }, decided);
    expect(afterNo.status).toBe(409);
    expect(afterNo.json.error.message).toContain(`already has a decision (review #${reviewId} is rejected)`);
  });

  it('lists the open ones on the home page (who, why, until when) and counts them per person', async () => {
    expect((await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, breakGlassUsers: [DELEGATE] })).status).toBe(200);
    const other = h.seedDeal({ dealname: 'Globex', dealgate_commitment: 'true', dealgate_commitment_summary: 'SCIM', dealgate_effort_weeks: '3' });
    const third = h.seedDeal({ dealname: 'Initech', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '3' });
    expect((await breakGlass(ADMIN, { reason: REASON, hours: 48 })).status).toBe(201);
    expect((await breakGlass(ADMIN, { reason: 'board demo', hours: 12 }, other)).status).toBe(201);
    expect((await breakGlass(DELEGATE, { reason: 'renewal deadline' }, third)).status).toBe(201);
    const home = await h.call<DashboardResponse>(ADMIN, 'GET', '/dashboard');
    expect(home.status).toBe(200);
    expect(home.json.breakGlasses.open.map((g) => [g.dealName, g.openedBy, g.reason, g.until])).toEqual([
      ['Globex', ADMIN, 'board demo', new Date(START + 12 * HOUR).toISOString()],
      ['Acme renewal', ADMIN, REASON, new Date(START + 48 * HOUR).toISOString()],
      ['Initech', DELEGATE, 'renewal deadline', new Date(START + 72 * HOUR).toISOString()],
    ]);
    expect(home.json.breakGlasses.byPerson).toEqual([
      { userId: ADMIN, count: 2 },
      { userId: DELEGATE, count: 1 },
    ]);
  });

  it('says on the card which measure made review required under the effort trigger', async () => {
    const save = await h.call<SettingsResponse & ApiErrorBody>(ADMIN, 'PUT', '/settings', { ...baseSettings, triggerMode: 'both' });
    expect(save.status).toBe(400);
    expect(issuePaths(save)).toEqual(['effortThreshold']);
    expect((await h.call<SettingsResponse>(ADMIN, 'PUT', '/settings', { ...baseSettings, triggerMode: 'either', effortThreshold: 2 })).json.settings).toMatchObject({ triggerMode: 'either', effortThreshold: 2 });
    const small = h.seedDeal({ amount: '1000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SCIM', dealgate_effort_weeks: '6' });
    const gate = (await h.call(REP, 'GET', `/deals/${small}/gate`)).json.gate;
    expect(gate).toMatchObject({ reviewRequired: true, triggeredBy: 'effort', triggerMode: 'either', effortThreshold: 2 });
    expect(gate.reason).toContain('effort 6 engineer-weeks is at or above the 2 engineer-weeks effort threshold');
    expect((await h.call(REP, 'GET', `/deals/${dealId}/gate`)).json.gate.triggeredBy).toBe('both');
  });
});
