import { ManualClock } from '../../src/server/shared/clock';
import { HOUR_MS } from '../../src/server/domain/sla';
import { waitUntil } from '../support/process';
import { startStack, type Stack } from '../support/stack';
import { decideAsReviewer, ESCALATION, REP, REVIEWER, requestReviewAsRep, revertNotes, seedGatedDeal, stageOf } from './world';

/**
 * The SLA clock, driven by a ManualClock shared by the service and the simulator: a pending review
 * gets a task per reviewer due at the SLA; past due it becomes overdue and is escalated once (a
 * task for the escalation reviewer and a note), however many passes and restarts follow.
 */
const SECOND_REVIEWER = '201';
const OWNERS = [
  { email: 'rev.one@example.com', userId: Number(REVIEWER), id: '7001' },
  { email: 'rev.two@example.com', userId: Number(SECOND_REVIEWER), id: '7002' },
  { email: 'margaret.hamilton@example.com', firstName: 'Margaret', lastName: 'Hamilton', userId: Number(ESCALATION), id: '7003' },
];

describe('SLA and escalation', () => {
  let stack: Stack;
  let clock: ManualClock;

  beforeEach(async () => {
    clock = new ManualClock(Date.UTC(2026, 10, 2, 9, 0, 0));
    stack = await startStack({
      clock,
      defaults: { valueThreshold: 50_000, reviewers: [REVIEWER, SECOND_REVIEWER], escalationReviewer: ESCALATION, slaHours: 24 },
      simulator: { owners: OWNERS },
    });
    await stack.provision();
  });
  afterEach(async () => {
    await stack.stop();
  });

  const tasksOf = (dealId: string) => stack.sim.tasksForDeal(dealId).map((t) => t.properties);
  const overdueNotes = (dealId: string) => stack.sim.notesForDeal(dealId).filter((n) => (n.properties.hs_note_body ?? '').includes('is overdue'));

  it('gives each reviewer a task due at the SLA, then escalates once when it passes', async () => {
    const deal = seedGatedDeal(stack);
    const requestedAt = clock.now();
    const reviewId = await requestReviewAsRep(stack, deal.id);
    await stack.settle();

    const dueIso = new Date(requestedAt + 24 * HOUR_MS).toISOString();
    expect(tasksOf(deal.id)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ hubspot_owner_id: '7001', hs_timestamp: dueIso, hs_task_subject: expect.stringContaining(`#${reviewId}`) }),
        expect.objectContaining({ hubspot_owner_id: '7002', hs_timestamp: dueIso }),
      ]),
    );
    expect(tasksOf(deal.id)).toHaveLength(2);
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('pending');

    // Not yet due: passes of the SLA worker change nothing.
    clock.advance(24 * HOUR_MS);
    await new Promise((r) => setTimeout(r, 150));
    await stack.settle();
    expect((await stack.store.reviews.get(stack.sim.portalId, reviewId))?.status).toBe('pending');
    expect(tasksOf(deal.id)).toHaveLength(2);

    clock.advance(60_000);
    await waitUntil(async () => (await stack.store.reviews.get(stack.sim.portalId, reviewId))?.escalatedAt !== null, 5_000, 'the escalation');
    await stack.settle();
    expect(await stack.store.reviews.get(stack.sim.portalId, reviewId)).toEqual(expect.objectContaining({ status: 'overdue', escalatedAt: clock.now() }));
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('overdue');
    const escalation = tasksOf(deal.id).filter((t) => t.hubspot_owner_id === '7003');
    expect(escalation).toEqual([expect.objectContaining({ hs_task_subject: expect.stringContaining(`Overdue technical review #${reviewId}`) })]);
    expect(overdueNotes(deal.id)).toHaveLength(1);
    expect(overdueNotes(deal.id)[0]?.properties.hs_note_body).toContain('escalated to Margaret Hamilton.');

    // Many more passes, a day later, and a restart: nothing is sent twice.
    clock.advance(24 * HOUR_MS);
    await new Promise((r) => setTimeout(r, 200));
    await stack.restart();
    await new Promise((r) => setTimeout(r, 200));
    await stack.settle();
    expect(tasksOf(deal.id)).toHaveLength(3);
    expect(overdueNotes(deal.id)).toHaveLength(1);
    expect((await stack.store.audit.listForDeal(stack.sim.portalId, deal.id)).filter((e) => e.action === 'review_escalated')).toHaveLength(1);

    // The overdue deal is still held before the gate, and the note says why.
    stack.sim.moveDealToStage(deal.id, 'closedwon', { userId: REP });
    await stack.settle();
    expect(stageOf(stack, deal.id)).toBe('contractsent');
    expect(revertNotes(stack, deal.id)[0]?.properties.hs_note_body).toContain('overdue and has been escalated');
  });

  it('does not escalate a review answered in time', async () => {
    const deal = seedGatedDeal(stack);
    const reviewId = await requestReviewAsRep(stack, deal.id);
    clock.advance(23 * HOUR_MS);
    await decideAsReviewer(stack, reviewId, { outcome: 'yes' });
    clock.advance(48 * HOUR_MS);
    await new Promise((r) => setTimeout(r, 200));
    await stack.settle();
    expect(await stack.store.reviews.get(stack.sim.portalId, reviewId)).toEqual(expect.objectContaining({ status: 'approved', escalatedAt: null }));
    expect(tasksOf(deal.id).filter((t) => t.hubspot_owner_id === '7003')).toEqual([]);
    expect(overdueNotes(deal.id)).toEqual([]);
    expect(stack.sim.getDeal(deal.id)?.properties.dealgate_status).toBe('approved');
  });
});
