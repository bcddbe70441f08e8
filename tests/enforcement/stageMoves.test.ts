import { Client } from '@hubspot/api-client';
import { startStack, type Stack } from '../support/stack';
import { waitUntil } from '../support/process';
import { ADMIN, decideAsReviewer, REP, REVIEWER, requestReviewAsRep, revertNotes, seedGatedDeal, stageOf } from './world';

/**
 * The gate enforced end to end: the simulator moves deals as HubSpot users, admins, workflows and
 * other integrations would; its webhooks reach the real service; the service reverts what the
 * gate does not allow, through the real HubSpot client.
 */
describe('moves past the gate', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER], admins: [String(ADMIN)] } });
    await stack.provision();
  });
  afterEach(async () => {
    await stack.stop();
  });

  const violationsOf = async (dealId: string) => await stack.store.gateViolations.listForDeal(stack.sim.portalId, dealId);

  it('moves a gated deal a user pushed to Closed Won back to the stage it came from, with a note, a violation and the status', async () => {
    const deal = seedGatedDeal(stack);
    const before = Date.now();
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('required');
    const notes = revertNotes(stack, deal.id);
    expect(notes).toHaveLength(1);
    const body = notes[0]?.properties.hs_note_body ?? '';
    expect(body).toContain('back to Contract Sent');
    expect(body).toContain('Closed Won by user 42');
    expect(body).toContain('Request a technical review from the Dealgate card');

    const violations = await violationsOf(deal.id);
    expect(violations).toEqual([
      expect.objectContaining({ portalId: stack.sim.portalId, movedByUserId: String(REP), fromStage: 'contractsent', toStage: 'closedwon', sourceType: 'CRM_UI' }),
    ]);
    expect(violations[0]?.occurredAt).toBeGreaterThanOrEqual(before - 1);
    // The audit names Dealgate as the one who moved it back, and the user as the one who moved it there.
    expect((await stack.store.audit.listForDeal(stack.sim.portalId, deal.id)).filter((e) => e.action === 'stage_move_reverted')).toEqual([
      expect.objectContaining({ actor: 'system', reason: expect.stringContaining(`moved back from Closed Won to Contract Sent (moved there by user ${REP} without sign-off)`) }),
    ]);
    // The history: the user's move, then Dealgate's own (as the app) back, and nothing after.
    const history = stack.sim.dealHistory(deal.id, 'dealstage');
    expect(history.slice(0, 3).map((h) => [h.value, h.sourceType])).toEqual([
      ['contractsent', 'INTEGRATION'],
      ['closedwon', 'CRM_UI'],
      ['contractsent', 'CRM_UI'],
    ]);
  });

  it('moves the deal back to the stage it came from, even when that is before the gate', async () => {
    const deal = seedGatedDeal(stack, { dealstage: 'presentationscheduled' });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('presentationscheduled');
    expect(await violationsOf(deal.id)).toEqual([expect.objectContaining({ fromStage: 'presentationscheduled', toStage: 'closedwon' })]);
  });

  it('catches an admin, a workflow and another integration as well', async () => {
    const byAdmin = seedGatedDeal(stack, { dealname: 'by admin' });
    const byWorkflow = seedGatedDeal(stack, { dealname: 'by workflow' });
    const byIntegration = seedGatedDeal(stack, { dealname: 'by integration' });
    stack.sim.moveDealToStage(byAdmin.id, 'closedwon', { userId: ADMIN });
    stack.sim.moveDealToStage(byWorkflow.id, 'closedwon', { userId: 77, changeSource: 'AUTOMATION_PLATFORM' });
    // Another app's token: HubSpot records INTEGRATION with that app's id, not Dealgate's.
    const other = new Client({ accessToken: stack.sim.issueAccessToken({ appId: 555 }), basePath: stack.sim.url, numberOfApiCallRetries: 0 });
    await other.crm.deals.basicApi.update(byIntegration.id, { properties: { dealstage: 'closedwon' } });
    await stack.settle();

    for (const deal of [byAdmin, byWorkflow, byIntegration]) {
      expect(stageOf(stack, deal.id)).toBe('contractsent');
      expect(revertNotes(stack, deal.id)).toHaveLength(1);
    }
    expect(await violationsOf(byAdmin.id)).toEqual([expect.objectContaining({ movedByUserId: String(ADMIN) })]);
    expect(await violationsOf(byWorkflow.id)).toEqual([expect.objectContaining({ sourceType: 'AUTOMATION_PLATFORM' })]);
    expect(await violationsOf(byIntegration.id)).toEqual([expect.objectContaining({ movedByUserId: null, sourceType: 'INTEGRATION', sourceId: '555' })]);
    expect(revertNotes(stack, byIntegration.id)[0]?.properties.hs_note_body).toContain('by an automation or integration');
  });

  it('lets a deal without a commitment, or under the threshold, or moved to Closed Lost, pass', async () => {
    const noCommitment = seedGatedDeal(stack, { dealgate_commitment: 'false' });
    const small = seedGatedDeal(stack, { amount: '49999' });
    const lost = seedGatedDeal(stack);
    stack.sim.moveDealToStage(noCommitment.id, 'closedwon', { userId: REP });
    stack.sim.moveDealToStage(small.id, 'closedwon', { userId: REP });
    stack.sim.moveDealToStage(lost.id, 'closedlost', { userId: REP });
    await stack.settle();

    expect(stageOf(stack, noCommitment.id)).toBe('closedwon');
    expect(stageOf(stack, small.id)).toBe('closedwon');
    expect(stageOf(stack, lost.id)).toBe('closedlost');
    for (const deal of [noCommitment, small, lost]) {
      expect(await violationsOf(deal.id)).toEqual([]);
      expect(revertNotes(stack, deal.id)).toEqual([]);
    }
    // Each one's snapshot is current (the card reads it without calling HubSpot).
    expect(await stack.store.deals.get(stack.sim.portalId, small.id)).toEqual(expect.objectContaining({ stage: 'closedwon', amount: 49_999, commitment: true }));
  });

  it('lets the deal pass after a yes, and after a yes-but', async () => {
    const yes = seedGatedDeal(stack, { dealname: 'yes' });
    const yesBut = seedGatedDeal(stack, { dealname: 'yes-but' });
    await decideAsReviewer(stack, await requestReviewAsRep(stack, yes.id), { outcome: 'yes' });
    await decideAsReviewer(stack, await requestReviewAsRep(stack, yesBut.id), { outcome: 'yes_but', extraWeeks: 2, tradeoff: 'ships after the Q3 release' });
    await stack.settle();
    expect(stack.sim.getDeal(yes.id)?.properties.dealgate_status).toBe('approved');
    expect(stack.sim.getDeal(yesBut.id)?.properties).toEqual(
      expect.objectContaining({ dealgate_status: 'approved_with_conditions', dealgate_decided_by: `user ${REVIEWER}`, dealgate_conditions: expect.stringContaining('Q3') }),
    );

    stack.sim.moveDealToStage(yes.id, 'closedwon', { userId: REP });
    stack.sim.moveDealToStage(yesBut.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, yes.id)).toBe('closedwon');
    expect(stageOf(stack, yesBut.id)).toBe('closedwon');
    expect(await violationsOf(yes.id)).toEqual([]);
    expect(await violationsOf(yesBut.id)).toEqual([]);
  });

  it('keeps the deal blocked after a no until the commitment is removed', async () => {
    const deal = seedGatedDeal(stack);
    await decideAsReviewer(stack, await requestReviewAsRep(stack, deal.id), { outcome: 'no', note: 'not on the roadmap this year' });
    await stack.settle();
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('rejected');

    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(revertNotes(stack, deal.id)[0]?.properties.hs_note_body).toContain('answered no');

    // The rep renegotiates: the custom commitment is dropped from the deal, in HubSpot.
    stack.sim.updateDealAsUser(deal.id, { dealgate_commitment: 'false' }, { userId: REP });
    await stack.settle();
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('not_required');
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect(await violationsOf(deal.id)).toHaveLength(1);
  });

  it('does not revert its own revert: one violation, one note, one move back', async () => {
    const deal = seedGatedDeal(stack);
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    // Give a second (wrong) revert every chance to happen.
    await new Promise((r) => setTimeout(r, 150));
    await stack.settle();

    expect(await violationsOf(deal.id)).toHaveLength(1);
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
    const moves = stack.sim.dealHistory(deal.id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION');
    expect(moves).toHaveLength(1);
    // The webhook of Dealgate's own move was received and processed like any other.
    const ownEvent = (await stack.store.inbox.list({ limit: 50 })).find((e) => e.changeSource === 'INTEGRATION' && e.propertyName === 'dealstage');
    expect(ownEvent?.status).toBe('done');
    expect((await stack.store.outbox.list({ limit: 100, dealId: deal.id })).filter((r) => r.kind === 'revert_stage')).toHaveLength(1);
  });

  it('reverts once when the deal was moved past the gate twice before Dealgate looked', async () => {
    const deal = seedGatedDeal(stack);
    stack.sim.webhooks.pause();
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    stack.sim.moveDealToStage(deal.id, 'contractsent', { userId: REP });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    stack.sim.webhooks.resume();
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
    expect(await violationsOf(deal.id)).toHaveLength(1);
    expect(stack.sim.dealHistory(deal.id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION')).toHaveLength(1);
  });

  it('judges a move past the gate on the deal as it is, not on a snapshot that lacks a commitment ticked just before', async () => {
    const deal = seedGatedDeal(stack, { dealgate_commitment: 'false' });
    // Dealgate knows the deal (no commitment, so nothing to review).
    stack.sim.updateDealAsUser(deal.id, { dealname: 'Acme platform (renewal)' }, { userId: REP });
    stack.sim.updateDealAsUser(deal.id, { amount: '85000' }, { userId: REP });
    await stack.settle();
    expect((await stack.store.deals.get(stack.sim.portalId, deal.id))?.commitment).toBe(false);

    // The rep ticks the commitment and closes the deal at once: both events come in one batch.
    stack.sim.webhooks.pause();
    stack.sim.updateDealAsUser(deal.id, { dealgate_commitment: 'true' }, { userId: REP });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    stack.sim.webhooks.resume();
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(await violationsOf(deal.id)).toHaveLength(1);
  });

  it('does not revert a stale event: the deal has moved on to a legitimate stage since', async () => {
    const deal = seedGatedDeal(stack);
    stack.sim.webhooks.pause();
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    stack.sim.moveDealToStage(deal.id, 'closedlost', { userId: REP });
    stack.sim.webhooks.resume();
    await stack.settle();

    expect(stageOf(stack, deal.id)).toBe('closedlost');
    expect(await violationsOf(deal.id)).toEqual([]);
    expect(revertNotes(stack, deal.id)).toEqual([]);
    expect((await stack.store.deals.get(stack.sim.portalId, deal.id))?.stage).toBe('closedlost');
  });

  it('does not undo a later legitimate move when its revert waited: the deal was approved and moved on again meanwhile', async () => {
    await stack.stop();
    // Retries that go on long enough for the approval and the new move to happen in between.
    stack = await startStack({
      defaults: { valueThreshold: 50_000, reviewers: [REVIEWER] },
      background: { outboxRetry: { baseMs: 30, maxMs: 60, maxAttempts: 1_000 } },
    });
    await stack.provision();
    const deal = seedGatedDeal(stack);
    const revertRow = async () => (await stack.store.outbox.list({ limit: 50, dealId: deal.id })).find((r) => r.kind === 'revert_stage');
    // HubSpot refuses deal writes for now: the revert waits in the outbox.
    stack.sim.faults.failNext(1_000_000, { status: 503, match: 'POST /crm/v3/objects/deals/batch/update' });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await waitUntil(async () => ((await revertRow())?.attempts ?? 0) >= 2, 5_000, 'the revert to be retried');

    // Meanwhile the reviewer says yes and the rep moves the deal to Closed Won again, legitimately.
    await decideAsReviewer(stack, await requestReviewAsRep(stack, deal.id), { outcome: 'yes' });
    stack.sim.moveDealToStage(deal.id, 'contractsent', { userId: REP });
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.sim.webhooks.idle();
    await waitUntil(async () => (await stack.store.inbox.countByStatus()).pending === 0 && await stack.store.inbox.journalBacklog() === 0, 5_000, 'the moves to be processed');

    stack.sim.faults.clear();
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
    expect((await revertRow())?.status).toBe('done');
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('approved');
    expect(stack.sim.dealHistory(deal.id, 'dealstage').filter((h) => h.sourceType === 'INTEGRATION')).toEqual([]);
    expect(await violationsOf(deal.id)).toHaveLength(1);
  });
});
