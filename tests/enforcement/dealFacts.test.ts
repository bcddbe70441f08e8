import express from 'express';
import { WEBHOOK_PATH } from '../../src/server/http/webhookRoute';
import { listen } from '../support/env';
import { startStack, type Stack } from '../support/stack';
import { decideAsReviewer, REP, REVIEWER, requestReviewAsRep, revertNotes, seedGatedDeal, stageOf } from './world';

/**
 * Every deal event keeps Dealgate's snapshot current, and changes to the commitment or the amount
 * re-evaluate the gate: the requirement appears or disappears, an approval stops covering a
 * changed commitment, and HubSpot's `dealgate_status` follows.
 */
describe('deal facts from webhooks', () => {
  let stack: Stack;

  beforeEach(async () => {
    stack = await startStack({ defaults: { valueThreshold: 50_000, reviewers: [REVIEWER] } });
    await stack.provision();
  });
  afterEach(async () => {
    await stack.stop();
  });

  async function postSigned(events: unknown[]) {
    const response = await stack.postWebhook(JSON.stringify(events));
    expect(response.status).toBe(200);
  }

  const snapshot = async (dealId: string) => await stack.store.deals.get(stack.sim.portalId, dealId);
  const hubspotStatus = (dealId: string) => stack.sim.getDeal(dealId)?.properties.dealgate_status;

  it('follows the amount across the threshold: required above it, not required below', async () => {
    const deal = seedGatedDeal(stack, { amount: '40000' });
    stack.sim.updateDealAsUser(deal.id, { amount: '80000' }, { userId: REP });
    await stack.settle();
    expect(await snapshot(deal.id)).toEqual(expect.objectContaining({ amount: 80_000, commitment: true, stage: 'contractsent' }));
    expect(hubspotStatus(deal.id)).toBe('required');

    stack.sim.updateDealAsUser(deal.id, { amount: '10000' }, { userId: REP });
    await stack.settle();
    expect((await snapshot(deal.id))?.amount).toBe(10_000);
    expect(hubspotStatus(deal.id)).toBe('not_required');
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('closedwon');
  });

  it('follows the commitment checkbox set and cleared in HubSpot', async () => {
    const deal = seedGatedDeal(stack, { dealgate_commitment: 'false' });
    stack.sim.updateDealAsUser(deal.id, { dealgate_commitment: 'true' }, { userId: REP });
    await stack.settle();
    expect((await snapshot(deal.id))?.commitment).toBe(true);
    expect(hubspotStatus(deal.id)).toBe('required');

    stack.sim.updateDealAsUser(deal.id, { dealgate_commitment: 'false' }, { userId: REP });
    await stack.settle();
    expect((await snapshot(deal.id))?.commitment).toBe(false);
    expect(hubspotStatus(deal.id)).toBe('not_required');
  });

  it('withdraws a pending review when the commitment is removed', async () => {
    const deal = seedGatedDeal(stack);
    const reviewId = await requestReviewAsRep(stack, deal.id);
    await stack.settle();
    expect(hubspotStatus(deal.id)).toBe('pending');
    stack.sim.updateDealAsUser(deal.id, { dealgate_commitment: 'false' }, { userId: REP });
    await stack.settle();
    expect((await stack.store.reviews.get(stack.sim.portalId, reviewId))?.status).toBe('withdrawn');
    expect(hubspotStatus(deal.id)).toBe('not_required');
  });

  it('lets an approval go when the approved commitment changes in HubSpot, and blocks the deal again', async () => {
    const deal = seedGatedDeal(stack);
    const reviewId = await requestReviewAsRep(stack, deal.id);
    await decideAsReviewer(stack, reviewId, { outcome: 'yes' });
    await stack.settle();
    expect(hubspotStatus(deal.id)).toBe('approved');
    // No owners are seeded in this account: HubSpot knows no name for the reviewer, so the property says `user <id>`.
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_decided_by).toBe(`user ${REVIEWER}`);

    stack.sim.updateDealAsUser(deal.id, { dealgate_effort_weeks: '12' }, { userId: REP });
    await stack.settle();
    expect((await stack.store.reviews.get(stack.sim.portalId, reviewId))?.status).toBe('superseded');
    expect((await snapshot(deal.id))?.effortWeeks).toBe(12);
    expect(hubspotStatus(deal.id)).toBe('required');
    // HubSpot clears a property written as an empty string.
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_decided_by ?? '').toBe('');
    const notes = stack.sim.notesForDeal(deal.id).map((n) => n.properties.hs_note_body ?? '');
    expect(notes.some((b) => b.includes(`review #${reviewId} no longer covers the deal`))).toBe(true);

    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(revertNotes(stack, deal.id)).toHaveLength(1);
  });

  it('reads the deal again when a commitment change arrives after a later event (HubSpot does not keep order)', async () => {
    const deal = seedGatedDeal(stack, { dealgate_commitment: 'false' });
    stack.sim.updateDealAsUser(deal.id, { amount: '85000' }, { userId: REP });
    await stack.settle();

    // Deliver the two events ourselves, newest first, as HubSpot may.
    const blackhole = await listen(express().post('/', (_req, res) => res.status(200).end()));
    try {
      stack.sim.webhooks.setTargetUrl(blackhole.url + '/');
      stack.sim.updateDealAsUser(deal.id, { dealgate_commitment: 'true' }, { userId: REP });
      stack.sim.moveDealToStage(deal.id, 'decisionmakerboughtin', { userId: REP });
      await stack.sim.webhooks.idle();
    } finally {
      stack.sim.webhooks.setTargetUrl(stack.url + WEBHOOK_PATH);
      await blackhole.close();
    }
    const [commitment, move] = ['dealgate_commitment', 'dealstage'].map((name) => stack.sim.webhooks.events().filter((e) => e.propertyName === name).pop());
    await postSigned([move]);
    await stack.settle();
    expect((await snapshot(deal.id))?.stage).toBe('decisionmakerboughtin');
    await postSigned([commitment]);
    await stack.settle();
    expect(await snapshot(deal.id)).toEqual(expect.objectContaining({ commitment: true, stage: 'decisionmakerboughtin' }));
    expect(hubspotStatus(deal.id)).toBe('required');
  });

  it('learns of deals created in HubSpot and forgets deleted ones', async () => {
    const created = stack.sim.createDealAsUser(
      { dealname: 'New one', dealstage: 'qualifiedtobuy', pipeline: 'default', amount: '120000', dealgate_commitment: 'true' },
      { userId: REP },
    );
    await stack.settle();
    expect(await snapshot(created.id)).toEqual(expect.objectContaining({ name: 'New one', amount: 120_000, stage: 'qualifiedtobuy', deleted: false }));
    expect(hubspotStatus(created.id)).toBe('required');

    stack.sim.deleteDealAsUser(created.id, { userId: REP });
    await stack.settle();
    expect((await snapshot(created.id))?.deleted).toBe(true);
  });

  it('re-reads the pipelines when a deal moves into a pipeline created after install, and enforces its gate', async () => {
    const pipeline = stack.sim.seedPipeline({
      label: 'Enterprise',
      stages: [{ label: 'Discovery' }, { label: 'Contract review' }, { label: 'Signed', isClosed: true, probability: 1 }, { label: 'Lost', isClosed: true, probability: 0 }],
    });
    const [discovery, contract, signed] = pipeline.stages;
    const deal = seedGatedDeal(stack, { pipeline: pipeline.id, dealstage: contract?.id ?? '' });
    expect(discovery).toBeDefined();
    stack.sim.moveDealToStage(deal.id, signed?.id ?? '', { userId: REP });
    await stack.settle();
    expect((await stack.store.pipelines.get(stack.sim.portalId, pipeline.id))?.stages).toHaveLength(4);
    expect(stageOf(stack, deal.id)).toBe(contract?.id);
    expect(revertNotes(stack, deal.id)[0]?.properties.hs_note_body).toContain('back to Contract review');
  });

  it('moves a deal taken past the gate of another pipeline back into the pipeline and stage it came from', async () => {
    const pipeline = stack.sim.seedPipeline({
      label: 'Enterprise',
      stages: [{ label: 'Discovery' }, { label: 'Contract review' }, { label: 'Signed', isClosed: true, probability: 1 }],
    });
    const signed = pipeline.stages[2]?.id ?? '';
    const deal = seedGatedDeal(stack);
    stack.sim.moveDealToStage(deal.id, signed, { userId: REP });
    expect(stack.sim.getDeal(deal.id)?.properties.pipeline).toBe(pipeline.id);
    await stack.settle();
    expect(stack.sim.getDeal(deal.id)?.properties).toEqual(expect.objectContaining({ pipeline: 'default', dealstage: 'contractsent' }));
    expect(revertNotes(stack, deal.id)[0]?.properties.hs_note_body).toContain('back to Contract Sent');
    expect(await stack.store.outbox.list({ status: 'failed', limit: 10 })).toEqual([]);
    expect(await snapshot(deal.id)).toEqual(expect.objectContaining({ pipeline: 'default', stage: 'contractsent' }));
  });
});
