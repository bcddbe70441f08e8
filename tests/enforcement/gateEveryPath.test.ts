import type { DashboardResponse, GateResponse, SettingsInput, SettingsResponse } from '../../extensions/contract/api';
import { cardRequest, type CardResponse } from '../support/cardClient';
import type { Stack } from '../support/stack';
import { ManualClock } from '../../src/server/shared/clock';
import { ADMIN, ESCALATION, REP, REVIEWER, revertNotes, seedGatedDeal, stackPerTest, stageOf, sweepFound } from './world';

/**
 * Issue 11's findings B1-B5, B9 and B11, tried as a user would: deals changed in the simulator as
 * HubSpot users change them, its webhooks reaching the real service, every card call signed as
 * hubspot.fetch signs it, over real HTTP, on SQLite. Each failed on the code before the gate
 * judged every fact (the deal stayed won with no violation).
 */
describe('the gate holds on every path', () => {
  const start = stackPerTest({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)], escalationReviewer: ESCALATION } });

  const card = <T>(stack: Stack, userId: string | number, method: 'GET' | 'POST' | 'PUT', path: string, body?: unknown): Promise<CardResponse<T>> =>
    // Signed at the service's time, as HubSpot's clock and the service's agree.
    cardRequest<T>(stack.url, stack.clientSecret, { method, path: `/api/v1${path}`, userId, portalId: stack.sim.portalId, body, timestamp: stack.clock.now() });

  const violationsOf = async (stack: Stack, dealId: string) => await stack.store.gateViolations.listForDeal(stack.sim.portalId, dealId);

  async function settings(stack: Stack, change: Partial<SettingsInput>): Promise<SettingsResponse> {
    const current = await card<SettingsResponse>(stack, ADMIN, 'GET', '/settings');
    const saved = await card<SettingsResponse>(stack, ADMIN, 'PUT', '/settings', { ...current.json.settings, ...change });
    expect(saved.status).toBe(200);
    return saved.json;
  }

  async function approve(stack: Stack, dealId: string, summary = 'SAML SSO with the customer IdP', effortWeeks = 3): Promise<number> {
    const requested = await card<GateResponse>(stack, REP, 'POST', `/deals/${dealId}/reviews`, { summary, effortWeeks });
    expect(requested.status).toBe(201);
    const reviewId = requested.json.review?.id ?? 0;
    const decided = await card<GateResponse>(stack, REVIEWER, 'POST', `/reviews/${reviewId}/decision`, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    await stack.settle();
    return reviewId;
  }

  /** A won deal (afterClose=flag) whose approved 5-week commitment a rep changed to 7 weeks in HubSpot. */
  async function wonDealWithChangedEffort(engineerWeeksPerQuarter: number) {
    const stack = await start();
    await settings(stack, { afterClose: 'flag', capacity: { engineerWeeksPerQuarter, commitmentShare: 0.2 } });
    const deal = seedGatedDeal(stack, { dealgate_effort_weeks: '5' });
    const first = await approve(stack, deal.id, 'SAML SSO with the customer IdP', 5);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    stack.sim.updateDealAsUser(deal.id, { dealgate_effort_weeks: '7' }, { userId: REP });
    await stack.settle();
    return { stack, deal, first };
  }

  it('B1: a commitment ticked on a deal already won moves it back to the gate stage, recording who ticked it', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack, { dealstage: 'closedwon', dealgate_commitment: 'false', dealgate_commitment_summary: '', dealgate_effort_weeks: '' });
    await card(stack, REP, 'GET', `/deals/${deal.id}/gate`);
    stack.sim.updateDealAsUser(deal.id, { dealgate_commitment: 'true', dealgate_commitment_summary: 'A custom ERP connector', dealgate_effort_weeks: '8' }, { userId: REP });
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(await violationsOf(stack, deal.id)).toEqual([
      expect.objectContaining({ action: 'reverted', cause: 'fact_change', movedByUserId: String(REP), toStage: 'closedwon', fromStage: 'contractsent' }),
    ]);
    const note = revertNotes(stack, deal.id)[0]?.properties.hs_note_body ?? '';
    expect(note).toContain('user 42 changed the custom commitment checkbox');
    const gate = (await card<GateResponse>(stack, REP, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.gate).toMatchObject({ status: 'required', pastGate: false, afterClose: 'revert' });
    expect(gate.history.some((h) => h.kind === 'violation')).toBe(true);
  });

  it("B1: editing an approved commitment's summary while the deal is won ends the approval and moves the deal back", async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack);
    const reviewId = await approve(stack, deal.id);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');

    stack.sim.updateDealAsUser(deal.id, { dealgate_commitment_summary: 'SAML SSO and SCIM provisioning' }, { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(await violationsOf(stack, deal.id)).toEqual([expect.objectContaining({ cause: 'fact_change', changedProperty: 'dealgate_commitment_summary' })]);
    const gate = (await card<GateResponse>(stack, REP, 'GET', `/deals/${deal.id}/gate`)).json;
    // The changed commitment on the won deal opened its own review; the old approval no longer covers it.
    expect(gate.review).toMatchObject({ status: 'pending', summary: 'SAML SSO and SCIM provisioning' });
    expect(gate.review?.id).not.toBe(reviewId);
    expect(gate.gate.mayAdvance).toBe(false);
  });

  it('B2: an amount raised above the threshold after the deal was won under it moves it back', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack, { amount: '49000' });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    stack.sim.updateDealAsUser(deal.id, { amount: '95000' }, { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(await violationsOf(stack, deal.id)).toEqual([expect.objectContaining({ cause: 'fact_change', changedProperty: 'amount', movedByUserId: String(REP) })]);
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
  });

  it('B3: an approval covers its amount plus the tolerance; far above it, review is required again and the move is reverted', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack, { amount: '150000' });
    await approve(stack, deal.id);
    // Within 10%: still covered.
    stack.sim.updateDealAsUser(deal.id, { amount: '160000' }, { userId: REP });
    await stack.settle();
    let gate = (await card<GateResponse>(stack, REP, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.gate).toMatchObject({ status: 'approved', mayAdvance: true });
    expect(gate.review).toMatchObject({ approvedAmount: 150000, coversDeal: true });

    stack.sim.updateDealAsUser(deal.id, { amount: '10000000' }, { userId: REP });
    await stack.settle();
    gate = (await card<GateResponse>(stack, REP, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.gate).toMatchObject({ status: 'required', mayAdvance: false });
    expect(gate.review?.coversDeal).toBe(false);
    expect(gate.permissions.canRequest).toBe(true);

    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('required');
  });

  it('B4: a needed-by date in the past is refused with a 400 that says so', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack);
    const refused = await card<{ error: { code: string; message: string } }>(stack, REP, 'POST', `/deals/${deal.id}/reviews`, {
      summary: 'SSO',
      effortWeeks: 9,
      neededBy: '2020-01-15',
    });
    expect(refused.status).toBe(400);
    expect(refused.json.error.message).toContain('neededBy: 2020-01-15 is in the past');
    expect(await stack.store.reviews.latestForDeal(stack.sim.portalId, deal.id)).toBeUndefined();
  });

  it("B5: a won deal's commitment stays booked when its scope changes, until the changed commitment is decided", async () => {
    const { stack, deal, first } = await wonDealWithChangedEffort(100);
    let gate = (await card<GateResponse>(stack, REVIEWER, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(gate.review).toMatchObject({ status: 'pending', effortWeeks: 7 });
    expect(gate.capacity?.usedWeeks).toBe(5);
    expect(gate.capacity?.commitments.map((c) => c.reviewId)).toEqual([first]);

    const second = gate.review?.id ?? 0;
    expect((await card(stack, REVIEWER, 'POST', `/reviews/${second}/decision`, { outcome: 'yes' })).status).toBe(200);
    gate = (await card<GateResponse>(stack, REVIEWER, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.capacity?.commitments.map((c) => [c.reviewId, c.weeks])).toEqual([[second, 7]]);
    expect(gate.gate.status).toBe('approved');
  });

  it("B5: approving a won deal's changed commitment fits the ledger without the weeks it releases (the old approval's)", async () => {
    // 10 weeks allocated: 5 booked, the changed commitment needs 7, which fits once the 5 are released.
    const { stack, deal, first } = await wonDealWithChangedEffort(50);
    let gate = (await card<GateResponse>(stack, REVIEWER, 'GET', `/deals/${deal.id}/gate`)).json;
    const second = gate.review?.id ?? 0;
    expect(second).not.toBe(first);

    const decided = await card<GateResponse>(stack, REVIEWER, 'POST', `/reviews/${second}/decision`, { outcome: 'yes' });
    expect(decided.status).toBe(200);
    gate = (await card<GateResponse>(stack, REVIEWER, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.capacity).toMatchObject({ usedWeeks: 7, remainingWeeks: 3 });
  });

  it("B5: a won deal's commitment changed a second time, before the first change was decided, opens the review of the latest one by itself", async () => {
    const stack = await start();
    await settings(stack, { afterClose: 'flag', capacity: { engineerWeeksPerQuarter: 100, commitmentShare: 0.2 } });
    const deal = seedGatedDeal(stack, { dealgate_effort_weeks: '5' });
    const first = await approve(stack, deal.id, 'SAML SSO with the customer IdP', 5);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    stack.sim.updateDealAsUser(deal.id, { dealgate_effort_weeks: '7' }, { userId: REP });
    await stack.settle();
    stack.sim.updateDealAsUser(deal.id, { dealgate_effort_weeks: '9' }, { userId: REP });
    await stack.settle();

    const gate = (await card<GateResponse>(stack, REVIEWER, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.review).toMatchObject({ status: 'pending', effortWeeks: 9 });
    expect(gate.capacity?.commitments.map((c) => [c.reviewId, c.weeks])).toEqual([[first, 5]]);
    const pending = (await stack.store.reviews.listForDeal(stack.sim.portalId, deal.id)).filter((r) => r.status === 'pending');
    expect(pending).toHaveLength(1);
  });

  it('afterClose=flag: a won deal without sign-off stays won, with a violation, a note, tasks for its owner and the escalation reviewer, listed until covered', async () => {
    const stack = await start();
    await settings(stack, { afterClose: 'flag' });
    const owner = stack.sim.seedOwner({ email: 'riley@example.com', firstName: 'Riley', userId: REP });
    const deal = seedGatedDeal(stack, { hubspot_owner_id: owner.id });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('required');
    expect(await violationsOf(stack, deal.id)).toEqual([expect.objectContaining({ action: 'flagged', cause: 'stage_move', movedByUserId: String(REP) })]);
    const tasks = stack.sim.tasksForDeal(deal.id).map((t) => t.properties);
    expect(tasks.filter((t) => (t.hs_task_subject ?? '').startsWith('Won without technical sign-off'))).toHaveLength(2);
    expect(tasks.some((t) => t.hubspot_owner_id === owner.id)).toBe(true);
    expect(stack.sim.notesForDeal(deal.id).some((n) => (n.properties.hs_note_body ?? '').includes('flagged this won deal'))).toBe(true);

    const before = (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json;
    expect(before.flags).toEqual([expect.objectContaining({ dealId: deal.id, kind: 'after_close', dealName: 'Acme platform' })]);
    expect(before.flagCounts.after_close).toBe(1);
    const shown = (await card<GateResponse>(stack, REP, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(shown.gate).toMatchObject({ afterClose: 'flag', inWonStage: true, pastGate: true, mayAdvance: false });

    // A second look (a duplicate, a sweep) flags nothing more; the review settles it.
    await approve(stack, deal.id);
    const after = (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json;
    expect(after.flags).toEqual([]);
    expect(await violationsOf(stack, deal.id)).toHaveLength(1);
    // Nobody has to act on the flag any more: the tasks it gave are done.
    const flagTasks = stack.sim.tasksForDeal(deal.id).filter((t) => (t.properties.hs_task_subject ?? '').startsWith('Won without technical sign-off'));
    expect(flagTasks.map((t) => t.properties.hs_task_status)).toEqual(['COMPLETED', 'COMPLETED']);
  });

  it('afterClose=flag: a won deal flagged again after its flag resolved (the amount dropped under the threshold, then rose back) is flagged again', async () => {
    const stack = await start();
    await settings(stack, { afterClose: 'flag' });
    const deal = seedGatedDeal(stack);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    const openFlags = async () => (await stack.store.dealFlags.openForDeal(stack.sim.portalId, deal.id)).map((f) => f.kind);
    expect(await openFlags()).toEqual(['after_close']);

    stack.sim.updateDealAsUser(deal.id, { amount: '40000' }, { userId: REP });
    await stack.settle();
    expect(await openFlags()).toEqual([]);
    // B2 under afterClose=flag: back above the threshold, still won, no review.
    stack.sim.updateDealAsUser(deal.id, { amount: '95000' }, { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await openFlags()).toEqual(['after_close']);
    expect((await violationsOf(stack, deal.id)).map((v) => [v.action, v.cause])).toEqual(
      expect.arrayContaining([
        ['flagged', 'stage_move'],
        ['flagged', 'fact_change'],
      ]),
    );
    expect(await violationsOf(stack, deal.id)).toHaveLength(2);
    // A duplicate look (a sweep of the same state) adds nothing.
    expect(await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'reconcile')], Date.now())).toBe(1);
    await stack.settle();
    expect(await violationsOf(stack, deal.id)).toHaveLength(2);
    expect(await stack.store.dealFlags.listOpen(stack.sim.portalId, { limit: 10 })).toHaveLength(1);
  });

  it('B11: a move under a relaxed threshold is recorded naming who relaxed it, and tightening flags the deal without moving it', async () => {
    const stack = await start();
    const owner = stack.sim.seedOwner({ email: 'riley@example.com', userId: REP });
    const deal = seedGatedDeal(stack, { hubspot_owner_id: owner.id });
    await card(stack, REP, 'GET', `/deals/${deal.id}/gate`);
    await settings(stack, { valueThreshold: 1e12 });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    await settings(stack, { valueThreshold: 50_000 });
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('closedwon');
    const dashboard = (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json;
    const kinds = dashboard.flags.filter((f) => f.dealId === deal.id).map((f) => [f.kind, f.settingsChangedBy]);
    expect(kinds).toEqual(expect.arrayContaining([['relaxed_passage', String(ADMIN)], ['rules_tightened', String(ADMIN)]]));
    expect(dashboard.settingsChanges.map((c) => [c.effect, c.fields.map((f) => [f.field, f.before, f.after])])).toEqual([
      ['tightened', [['valueThreshold', 1e12, 50_000]]],
      ['relaxed', [['valueThreshold', 50_000, 1e12]]],
    ]);
    // The owner is told; nobody is moved.
    expect(stack.sim.tasksForDeal(deal.id).some((t) => (t.properties.hs_task_subject ?? '').startsWith('Technical review needed'))).toBe(true);
    expect(await violationsOf(stack, deal.id)).toEqual([]);
  });

  it('a deal Dealgate never saw, past a gate an admin moved earlier, is flagged (not moved) when the reconciliation finds it', async () => {
    const stack = await start();
    // Sits in Contract Sent, the gate stage, with a commitment: legal. HubSpot sends no webhook for it.
    const deal = seedGatedDeal(stack);
    const current = (await card<SettingsResponse>(stack, ADMIN, 'GET', '/settings')).json.settings;
    await settings(stack, { gateStages: { ...current.gateStages, default: 'decisionmakerboughtin' } });
    // Edited later without a webhook (or its webhook lost): the reconciliation finds it.
    stack.sim.updateDealAsUser(deal.id, { dealname: 'Acme platform (renewal)' }, { userId: REP, silent: true });
    expect(await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'reconcile')], Date.now())).toBe(1);
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(await violationsOf(stack, deal.id)).toEqual([]);
    expect((await stack.store.dealFlags.openForDeal(stack.sim.portalId, deal.id)).map((f) => f.kind)).toEqual(['rules_tightened']);
  });

  it("a move's webhook that arrives after the rules tightened is judged under the rule it was made under: flagged, not moved", async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack);
    await card(stack, REP, 'GET', `/deals/${deal.id}/gate`);
    await settings(stack, { valueThreshold: 1e12 });
    // Moved under the relaxed rule; HubSpot's webhook of it is late.
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP, silent: true });
    const move = stack.sim.dealHistory(deal.id, 'dealstage').find((h) => h.value === 'closedwon');
    await new Promise((resolve) => setTimeout(resolve, 5));
    await settings(stack, { valueThreshold: 50_000 });
    await stack.settle();
    await stack.postWebhook(
      JSON.stringify([
        {
          eventId: 777002, subscriptionId: 1, portalId: stack.sim.portalId, appId: 3141592, occurredAt: Number(move?.timestamp ?? Date.now()),
          subscriptionType: 'deal.propertyChange', attemptNumber: 0, objectId: Number(deal.id), propertyName: 'dealstage', propertyValue: 'closedwon',
          changeSource: 'CRM_UI', sourceId: `userId:${REP}`,
        },
      ]),
    );
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(stack, deal.id)).toEqual([]);
    expect((await stack.store.dealFlags.openForDeal(stack.sim.portalId, deal.id)).map((f) => f.kind)).toContain('rules_tightened');
  });

  it('B9: a pipeline with no gate stage is reported as ungated on the settings and home pages and on its deals', async () => {
    const stack = await start();
    const pipeline = stack.sim.seedPipeline({ label: 'Renewals', stages: [{ label: 'Open' }, { label: 'Renewed', isClosed: true, probability: 1 }] });
    // Created by a rep in HubSpot: its webhook makes Dealgate read the new pipeline.
    const deal = stack.sim.createDealAsUser(
      { dealname: 'Renewal', amount: '90000', pipeline: pipeline.id, dealstage: pipeline.stages[0]?.id ?? '', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' },
      { userId: REP },
    );
    await stack.settle();
    const gate = (await card<GateResponse>(stack, REP, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.gate).toMatchObject({ ungated: true, gateStage: null });
    const shown = (await card<SettingsResponse>(stack, ADMIN, 'GET', '/settings')).json;
    expect(shown.warnings).toEqual([expect.stringContaining('Pipeline "Renewals" has no gate stage')]);
    expect(shown.pipelines.find((p) => p.id === pipeline.id)?.ungated).toBe(true);
    const dashboard = (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json;
    expect(dashboard.ungatedPipelines).toEqual([{ id: pipeline.id, label: 'Renewals' }]);
  });

  it("the deal's owner may not decide its review", async () => {
    const stack = await start();
    const owner = stack.sim.seedOwner({ email: 'lead@example.com', userId: Number(REVIEWER) });
    const deal = seedGatedDeal(stack, { hubspot_owner_id: owner.id });
    const requested = await card<GateResponse>(stack, REP, 'POST', `/deals/${deal.id}/reviews`, { summary: 'SSO', effortWeeks: 3 });
    const seen = (await card<GateResponse>(stack, REVIEWER, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(seen.permissions).toMatchObject({ canDecide: false, denied: { decide: 'you own this deal, so another reviewer must decide its review' } });
    const refused = await card<{ error: { code: string; message: string } }>(stack, REVIEWER, 'POST', `/reviews/${requested.json.review?.id}/decision`, { outcome: 'yes' });
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toBe('you own this deal, so another reviewer must decide its review');
  });

  it("a reviewer the deal was reassigned to in HubSpot (no webhook tells Dealgate) may not decide its review", async () => {
    const stack = await start();
    const repOwner = stack.sim.seedOwner({ email: 'riley@example.com', userId: REP });
    const reviewerOwner = stack.sim.seedOwner({ email: 'lead@example.com', userId: Number(REVIEWER) });
    const deal = seedGatedDeal(stack, { hubspot_owner_id: repOwner.id });
    const requested = await card<GateResponse>(stack, REP, 'POST', `/deals/${deal.id}/reviews`, { summary: 'SSO', effortWeeks: 3 });
    expect(requested.status).toBe(201);
    await stack.settle();
    // The deal changes hands in HubSpot: owner changes send Dealgate no webhook.
    stack.sim.updateDealAsUser(deal.id, { hubspot_owner_id: reviewerOwner.id }, { userId: ADMIN });
    await stack.settle();

    const refused = await card<{ error: { code: string; message: string } }>(stack, REVIEWER, 'POST', `/reviews/${requested.json.review?.id}/decision`, { outcome: 'yes' });
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toBe('you own this deal, so another reviewer must decide its review');
    expect((await stack.store.reviews.latestForDeal(stack.sim.portalId, deal.id))?.status).toBe('pending');
  });

  it("compares the account's currency amount with the threshold and says so", async () => {
    const stack = await start();
    stack.sim.setExchangeRate('JPY', 0.0065);
    // 5,000,000 yen is 32,500 in the account's currency: under the 50,000 threshold.
    const deal = seedGatedDeal(stack, { amount: '5000000', deal_currency_code: 'JPY' });
    const gate = (await card<GateResponse>(stack, REP, 'GET', `/deals/${deal.id}/gate`)).json;
    expect(gate.gate).toMatchObject({ reviewRequired: false, amount: 32_500, amountBasis: 'home_currency' });
    expect(gate.gate.reason).toContain("amount 32,500 in the account's currency (HubSpot's conversion of 5,000,000)");
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
  });

  it('a deal the install sweep found is flagged, not moved, until an admin enforces the ones found', async () => {
    const stack = await start();
    // Won before Dealgate was installed: HubSpot sent no webhook for it.
    const deal = stack.sim.seedDeal({
      properties: { dealname: 'Old win', dealstage: 'closedwon', pipeline: 'default', amount: '90000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' },
      // An hour before Dealgate was installed: its passage predates Dealgate.
      at: stack.clock.now() - 3_600_000,
    });
    await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'backfill')], Date.now());
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(stack, deal.id)).toEqual([]);
    const dashboard = (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json;
    expect(dashboard.flagCounts.backfill).toBe(1);
    expect(dashboard.flags).toEqual([expect.objectContaining({ dealId: deal.id, kind: 'backfill', dealName: 'Old win' })]);

    expect((await card(stack, REP, 'POST', '/flags/backfill/enforce', {})).status).toBe(403);
    const enforced = await card<{ flagged: number; queued: number }>(stack, ADMIN, 'POST', '/flags/backfill/enforce', {});
    expect(enforced).toEqual({ status: 202, json: { flagged: 1, queued: 1, afterClose: 'revert' } });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(await violationsOf(stack, deal.id)).toEqual([expect.objectContaining({ cause: 'enforced_backfill', action: 'reverted' })]);
    expect((await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json.flagCounts.backfill).toBe(0);
    // Enforcing again queues nothing: the flag is resolved.
    expect((await card<{ queued: number }>(stack, ADMIN, 'POST', '/flags/backfill/enforce', {})).json.queued).toBe(0);
  });

  it('a deal the install sweep flagged stays where it is when the reconciliation finds it again (after our own status write) or a rep edits it', async () => {
    const stack = await start();
    const deal = stack.sim.seedDeal({
      properties: { dealname: 'Old win', dealstage: 'closedwon', pipeline: 'default', amount: '90000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' },
      // An hour before Dealgate was installed: its passage predates Dealgate.
      at: stack.clock.now() - 3_600_000,
    });
    await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'backfill')], Date.now());
    await stack.settle();
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('required');

    // Dealgate's own status write modified the deal: the next reconciliation pass finds it.
    expect(await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'reconcile')], Date.now())).toBe(1);
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    // A rep edits its amount: a fact change, but its passage predates Dealgate, as before.
    stack.sim.updateDealAsUser(deal.id, { amount: '91000' }, { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(stack, deal.id)).toEqual([]);
    expect(revertNotes(stack, deal.id)).toEqual([]);
    expect((await stack.store.dealFlags.openForDeal(stack.sim.portalId, deal.id)).map((f) => f.kind)).toEqual(['backfill']);
  });

  it('a deal flagged because the rules tightened is not moved by a later edit or sweep; a new move past the gate is judged', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack);
    await card(stack, REP, 'GET', `/deals/${deal.id}/gate`);
    await settings(stack, { valueThreshold: 1e12 });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    await settings(stack, { valueThreshold: 50_000 });
    await stack.settle();
    expect((await stack.store.dealFlags.openForDeal(stack.sim.portalId, deal.id)).map((f) => f.kind).sort()).toEqual(['relaxed_passage', 'rules_tightened']);

    stack.sim.updateDealAsUser(deal.id, { amount: '85000' }, { userId: REP });
    await stack.settle();
    expect(await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'reconcile')], Date.now())).toBe(1);
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(stack, deal.id)).toEqual([]);

    // Moved back before the gate and past it again: a new passage, under the rule in force.
    stack.sim.moveDealToStage(deal.id, 'contractsent', { userId: REP });
    await stack.settle();
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(await violationsOf(stack, deal.id)).toEqual([expect.objectContaining({ cause: 'stage_move', action: 'reverted' })]);
  });

  it('enforcing a deal found at install that was already flagged won without sign-off resolves its install flag', async () => {
    const stack = await start();
    await settings(stack, { afterClose: 'flag' });
    const deal = stack.sim.seedDeal({
      properties: { dealname: 'Old win', dealstage: 'closedwon', pipeline: 'default', amount: '90000', dealgate_commitment: 'true', dealgate_commitment_summary: 'SSO', dealgate_effort_weeks: '2' },
      // An hour before Dealgate was installed: its passage predates Dealgate.
      at: stack.clock.now() - 3_600_000,
    });
    // The reconciliation reached it before the install sweep did.
    await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'reconcile')], Date.now());
    await stack.settle();
    await stack.store.inbox.insertBatch([sweepFound(stack.sim, deal.id, 'backfill')], Date.now());
    await stack.settle();
    const openKinds = async () => (await stack.store.dealFlags.openForDeal(stack.sim.portalId, deal.id)).map((f) => f.kind).sort();
    expect(await openKinds()).toEqual(['after_close', 'backfill']);

    expect((await card<{ queued: number }>(stack, ADMIN, 'POST', '/flags/backfill/enforce', {})).json.queued).toBe(1);
    await stack.settle();
    expect(await openKinds()).toEqual(['after_close']);
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(stack, deal.id)).toHaveLength(1);
  });

  it("the admin's enforce action takes every deal the install sweep flagged, not only the first 10,000", async () => {
    const stack = await start({ startWorkers: false });
    const flags = 10_050;
    await stack.store.transaction(async () => {
      for (let i = 1; i <= flags; i += 1) {
        await stack.store.dealFlags.record(
          { portalId: stack.sim.portalId, dealId: String(900_000 + i), kind: 'backfill', reason: 'found at install', settingsChangeId: null, dedupeKey: `backfill:${900_000 + i}` },
          Date.now(),
        );
      }
    });
    const enforced = await card<{ flagged: number; queued: number }>(stack, ADMIN, 'POST', '/flags/backfill/enforce', {});
    expect(enforced.status).toBe(202);
    expect(enforced.json).toMatchObject({ flagged: flags, queued: flags });
  });

  it('a reconciliation sweep and the webhook of the same move act once: one revert, one note, one violation', async () => {
    const stack = await start();
    const deal = seedGatedDeal(stack);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP, silent: true });
    const found = sweepFound(stack.sim, deal.id, 'reconcile');
    // The sweep finds the move, and HubSpot's webhook of it arrives too (late): both are in the inbox at once.
    const move = stack.sim.dealHistory(deal.id, 'dealstage').find((h) => h.value === 'closedwon');
    await stack.postWebhook(
      JSON.stringify([
        {
          eventId: 777001, subscriptionId: 1, portalId: stack.sim.portalId, appId: 3141592, occurredAt: Number(move?.timestamp ?? Date.now()),
          subscriptionType: 'deal.propertyChange', attemptNumber: 0, objectId: Number(deal.id), propertyName: 'dealstage', propertyValue: 'closedwon',
          changeSource: 'CRM_UI', sourceId: `userId:${REP}`,
        },
      ]),
    );
    await stack.store.inbox.insertBatch([found], Date.now());
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
    // Whichever of the two was applied first records it (here the webhook: it happened first).
    expect(await violationsOf(stack, deal.id)).toEqual([expect.objectContaining({ cause: expect.stringMatching(/^(stage_move|reconciliation)$/), movedByUserId: String(REP) })]);
    expect(stack.sim.dealHistory(deal.id, 'dealstage').filter((h) => h.value === 'contractsent' && h.sourceType === 'INTEGRATION')).toHaveLength(1);
  });

  it("B7: a decision made through the card completes the reviewer's HubSpot task", async () => {
    const stack = await start({ simulator: { owners: [{ email: 'lead@example.com', userId: Number(REVIEWER), id: '7001' }] } });
    const deal = seedGatedDeal(stack);
    const requested = await card<GateResponse>(stack, REP, 'POST', `/deals/${deal.id}/reviews`, { summary: 'SSO', effortWeeks: 3 });
    await stack.settle();
    const tasks = () => stack.sim.tasksForDeal(deal.id).map((t) => [t.properties.hubspot_owner_id, t.properties.hs_task_status]);
    expect(tasks()).toEqual([['7001', 'NOT_STARTED']]);
    expect((await card(stack, REVIEWER, 'POST', `/reviews/${requested.json.review?.id}/decision`, { outcome: 'yes' })).status).toBe(200);
    await stack.settle();
    expect(tasks()).toEqual([['7001', 'COMPLETED']]);
  });

  it('B8: a review still waiting past its due time is a miss in SLA compliance', async () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    const stack = await start({ clock, defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)], slaHours: 1 } });
    const answered = seedGatedDeal(stack, { dealname: 'answered' });
    await approve(stack, answered.id);
    const waiting = seedGatedDeal(stack, { dealname: 'waiting' });
    expect((await card(stack, REP, 'POST', `/deals/${waiting.id}/reviews`, { summary: 'SSO', effortWeeks: 1 })).status).toBe(201);
    clock.advance(2 * 3_600_000);
    const dashboard = (await card<DashboardResponse>(stack, ADMIN, 'GET', '/dashboard')).json;
    expect(dashboard.overdueCount).toBe(1);
    expect(dashboard.decisionsTotal).toBe(1);
    expect(dashboard.slaCompliance).toBe(0.5);
  });
});
